"""Trusted routines that need a student's function, run beside it in the worker.

A check that must *use* what a student built (train their model, say) cannot take the model into
the grading kernel: nothing a student wrote is ever loaded or run there. Instead the check asks
the worker to run one of these routines on the student's function, and only numbers come back,
which the kernel scores against data it kept to itself (the test labels never leave it).

In the student's own notebook (no grading) the same call runs the routine right there, so a test
cell reads the same in both places::

    n_params, scores = fit_and_predict(make_small_lenet, x, y, x_eval, epochs=2, seed=0)
"""

__all__ = ["fit_and_predict", "TASKS"]


def _fit_and_predict(make_model, x_train, y_train, x_eval, epochs=2, lr=3e-3, batch_size=64, seed=0):
    import numpy as np
    import torch

    from coursecnn.train import train

    torch.manual_seed(int(seed))
    model = make_model()
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"make_model() returned a {type(model).__name__}, not a torch.nn.Module")
    n_params = int(sum(p.numel() for p in model.parameters()))
    x_train = torch.as_tensor(np.asarray(x_train), dtype=torch.float32)
    y_train = torch.as_tensor(np.asarray(y_train), dtype=torch.long)
    train(model, (x_train, y_train, x_train[:1], y_train[:1]), epochs=int(epochs), lr=float(lr),
          batch_size=int(batch_size), schedule="cosine", seed=int(seed), progress=False)
    model.eval()
    with torch.no_grad():
        scores = model(torch.as_tensor(np.asarray(x_eval), dtype=torch.float32))
    return n_params, scores.detach().cpu().double().numpy()


TASKS = {"fit_and_predict": _fit_and_predict}


def fit_and_predict(make_model, x_train, y_train, x_eval, epochs=2, lr=3e-3, batch_size=64, seed=0):
    """fit_and_predict(make_model, x_train, y_train, x_eval, epochs=2, lr=3e-3, batch_size=64, seed=0) -> (int, ndarray)

    Build a model with ``make_model()``, train it with ``coursecnn.train.train`` (Adam, cosine
    schedule), and score ``x_eval``.

    Args:
        make_model (callable): returns a new ``torch.nn.Module``; during grading, the student's
            function (the routine then runs in their worker).
        x_train (array or tensor): ``(N, C, H, W)`` training images.
        y_train (array or tensor): ``(N,)`` class labels.
        x_eval (array or tensor): ``(M, C, H, W)`` images to score.
        epochs (int): passes over the training set. Default: ``2``.
        lr (float): Adam's learning rate. Default: ``3e-3``.
        batch_size (int): Default: ``64``.
        seed (int): seeds the model's initialization and the batches. Default: ``0``.

    Returns:
        tuple: ``(n_params, scores)``, the model's parameter count and its ``(M, classes)`` scores
        as a float64 array.
    """
    task = getattr(type(make_model), "_task", None)
    if task is not None and type(make_model).__module__ == "coursecnn.grader.kernel":
        return make_model._task("fit_and_predict", x_train, y_train, x_eval, epochs=epochs, lr=lr,
                                batch_size=batch_size, seed=seed)
    return _fit_and_predict(make_model, x_train, y_train, x_eval, epochs, lr, batch_size, seed)
