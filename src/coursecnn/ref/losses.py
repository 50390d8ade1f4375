"""Loss functions in NumPy, each with its gradient with respect to the prediction.

Reductions follow ``torch.nn.functional`` (``reduction="mean"``): :func:`mse` is ``mse_loss``,
:func:`binary_cross_entropy` and :func:`cross_entropy` average over the batch. The lecture's
quadratic loss ``J = 1/2 (y - y*)^2`` (summed, no mean; its derivative is just ``y - y*``) is
:func:`quadratic_loss`. The lecture writes the cross-entropy as the log-likelihood
``y* log y + (1 - y*) log(1 - y)``; a loss to *minimize* is its negative, which is what
:func:`binary_cross_entropy` returns.
"""

import numpy as np

from .._checks import memory_budget
from .activations import _as_float, log_softmax, softmax

__all__ = [
    "mse",
    "mse_grad",
    "quadratic_loss",
    "quadratic_loss_grad",
    "binary_cross_entropy",
    "binary_cross_entropy_grad",
    "cross_entropy",
    "cross_entropy_grad",
    "one_hot",
]


def _pair_of(y_pred, y_true, name, a="y_pred", b="y_true"):
    y_pred, y_true = _as_float(y_pred, a), _as_float(y_true, b)
    if y_pred.shape != y_true.shape:
        raise ValueError(f"{name}: {a} and {b} must have the same shape, got {y_pred.shape} and {y_true.shape}")
    if y_pred.size == 0:
        raise ValueError(f"{name}: {a} is empty")
    return y_pred, y_true


def mse(y_pred, y_true):
    """mse(y_pred, y_true) -> float

    Mean squared error, ``mean((y_pred - y_true) ** 2)`` over every entry (PyTorch's
    ``mse_loss`` with ``reduction="mean"``).

    Args:
        y_pred: predictions, any shape.
        y_true: targets, the same shape.

    Returns:
        A Python float.

    Example::

        >>> mse(np.array([1.0, 2.0]), np.array([0.0, 0.0]))
        2.5
    """
    y_pred, y_true = _pair_of(y_pred, y_true, "mse")
    return float(np.mean((y_pred - y_true) ** 2))


def mse_grad(y_pred, y_true):
    """mse_grad(y_pred, y_true) -> ndarray

    Gradient of :func:`mse` with respect to ``y_pred``: ``2 (y_pred - y_true) / size``.

    Args:
        y_pred: predictions, an array of any shape.
        y_true: targets, the same shape.

    Returns:
        An array of ``y_pred``'s shape.

    Example::

        >>> mse_grad(np.array([1.0, 2.0]), np.array([0.0, 0.0]))
        array([1., 2.])
    """
    y_pred, y_true = _pair_of(y_pred, y_true, "mse_grad")
    return 2.0 * (y_pred - y_true) / y_pred.size


def quadratic_loss(y_pred, y_true):
    """quadratic_loss(y_pred, y_true) -> float

    The lecture's quadratic loss, ``1/2 * sum((y_pred - y_true) ** 2)`` (summed, not averaged;
    the 1/2 cancels the 2 of the derivative). For ``n`` entries it is ``n / 2 * mse``.

    Args:
        y_pred: predictions, any shape.
        y_true: targets, the same shape.

    Returns:
        A Python float.

    Example::

        >>> quadratic_loss(np.array([1.0, 2.0]), np.array([0.0, 0.0]))
        2.5
    """
    y_pred, y_true = _pair_of(y_pred, y_true, "quadratic_loss")
    return float(0.5 * np.sum((y_pred - y_true) ** 2))


def quadratic_loss_grad(y_pred, y_true):
    """quadratic_loss_grad(y_pred, y_true) -> ndarray

    Gradient of :func:`quadratic_loss`: ``y_pred - y_true``.

    Args:
        y_pred: predictions, an array of any shape.
        y_true: targets, the same shape.

    Returns:
        An array of ``y_pred``'s shape.

    Example::

        >>> quadratic_loss_grad(np.array([1.0, 2.0]), np.array([0.0, 0.0]))
        array([1., 2.])
    """
    y_pred, y_true = _pair_of(y_pred, y_true, "quadratic_loss_grad")
    return y_pred - y_true


def _probabilities(p, y, name):
    p, y = _pair_of(p, y, name, "p", "y")
    if np.any((p < 0) | (p > 1)) or np.any(np.isnan(p)):
        bad = p[(p < 0) | (p > 1) | np.isnan(p)].ravel()[0]
        raise ValueError(f"{name}: p must hold probabilities in [0, 1], got {bad}")
    if np.any((y < 0) | (y > 1)):
        bad = y[(y < 0) | (y > 1)].ravel()[0]
        raise ValueError(f"{name}: y must hold targets in [0, 1], got {bad}")
    return p, y


def binary_cross_entropy(p, y):
    """binary_cross_entropy(p, y) -> float

    ``-mean(y log p + (1 - y) log(1 - p))``: the negative log-likelihood of targets ``y`` under
    predicted probabilities ``p``. As in PyTorch, each log is clamped at -100, so ``p = 0`` or
    ``p = 1`` gives a large finite loss instead of infinity.

    Args:
        p: predicted probabilities in ``[0, 1]`` (e.g. a sigmoid's output), any shape.
        y: targets in ``[0, 1]`` (usually 0 or 1), the same shape.

    Returns:
        A Python float.

    Example::

        >>> round(binary_cross_entropy(np.array([0.5, 0.5]), np.array([1.0, 0.0])), 6)
        0.693147
    """
    p, y = _probabilities(p, y, "binary_cross_entropy")
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(p), -100.0)
        log_q = np.maximum(np.log1p(-p), -100.0)
    return float(-np.mean(y * log_p + (1.0 - y) * log_q))


def binary_cross_entropy_grad(p, y):
    """binary_cross_entropy_grad(p, y) -> ndarray

    Gradient of :func:`binary_cross_entropy` with respect to ``p``:
    ``(p - y) / (p (1 - p)) / size``, the denominator kept above ``1e-12`` (as in PyTorch).
    After a sigmoid, the chain rule turns this into the simple ``(p - y) / size``.

    Args:
        p: predicted probabilities in ``[0, 1]``, an array of any shape.
        y: targets in ``[0, 1]``, the same shape.

    Returns:
        An array of ``p``'s shape.

    Example::

        >>> binary_cross_entropy_grad(np.array([0.5, 0.5]), np.array([1.0, 0.0]))
        array([-1.,  1.])
    """
    p, y = _probabilities(p, y, "binary_cross_entropy_grad")
    return (p - y) / np.maximum(p * (1.0 - p), 1e-12) / p.size


def _logits_target(logits, target, name):
    logits = _as_float(logits, "logits")
    if logits.ndim != 2:
        raise ValueError(f"{name} expects logits of shape (N, C), got an array of shape {logits.shape}")
    t = np.asarray(target)
    if not np.issubdtype(t.dtype, np.integer):
        raise TypeError(f"{name}: target must hold integer class indices, got dtype {t.dtype}")
    if t.shape != logits.shape[:1]:
        raise ValueError(
            f"{name}: target must have shape (N,) = {logits.shape[:1]} to match logits {logits.shape}, got {t.shape}"
        )
    if logits.shape[0] == 0 and name != "one_hot":
        raise ValueError(f"{name}: the batch is empty")
    c = logits.shape[1]
    if np.any((t < 0) | (t >= c)):
        bad = t[(t < 0) | (t >= c)][0]
        raise ValueError(f"{name}: target class indices must be in [0, {c}), got {bad}")
    return logits, t.astype(np.int64)


def one_hot(target, num_classes, *, max_bytes=None):
    """one_hot(target, num_classes, *, max_bytes=None) -> ndarray

    Rows of the identity: ``out[i, target[i]] = 1``.

    Args:
        target: class indices of shape ``(N,)``, each in ``[0, num_classes)``.
        num_classes: ``C``.
        max_bytes (int): refuse to run when the result would take more memory than this.
            Default: ``None``, meaning 1 GiB.

    Returns:
        A float64 array of shape ``(N, C)``.

    Example::

        >>> one_hot(np.array([2, 0]), 3)
        array([[0., 0., 1.],
               [1., 0., 0.]])
    """
    if isinstance(num_classes, (bool, np.bool_)) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"one_hot: num_classes must be a positive int, got {num_classes!r}")
    t = np.asarray(target)
    if t.ndim != 1:
        raise ValueError(f"one_hot expects target of shape (N,), got shape {t.shape}")
    c = int(num_classes)
    memory_budget("one_hot", 8 * len(t) * c, max_bytes, "the one-hot rows",
                  "use fewer classes, or index with the targets instead of multiplying by one-hot rows")
    # Reuse the cross-entropy checks (integer dtype, range) with stand-in logits of shape (N, C)
    # (a broadcast zero: nothing allocated)
    _, t = _logits_target(np.broadcast_to(0.0, (len(t), c)), t, "one_hot")
    out = np.zeros((len(t), c))  # not np.eye(C)[t]: that builds C x C values first
    out[np.arange(len(t)), t] = 1.0
    return out


def cross_entropy(logits, target):
    """cross_entropy(logits, target) -> float

    Softmax cross-entropy from raw scores, averaged over the batch (PyTorch's
    ``cross_entropy``): ``-mean_n log softmax(logits[n])[target[n]]``.

    Args:
        logits: unnormalized class scores of shape ``(N, C)``.
        target: class indices of shape ``(N,)``, integers in ``[0, C)``.

    Returns:
        A Python float.

    Example::

        >>> round(cross_entropy(np.zeros((2, 4)), np.array([0, 3])), 6)  # log 4
        1.386294
    """
    logits, t = _logits_target(logits, target, "cross_entropy")
    logp = log_softmax(logits, dim=1)
    return float(-np.mean(logp[np.arange(len(t)), t]))


def cross_entropy_grad(logits, target):
    """cross_entropy_grad(logits, target) -> ndarray

    Gradient of :func:`cross_entropy` with respect to the logits:
    ``(softmax(logits) - one_hot(target)) / N``.

    Args:
        logits: ``(N, C)``; target: ``(N,)``, as for :func:`cross_entropy`.

    Returns:
        ``dlogits``, an array of shape ``(N, C)`` whose rows sum to 0.

    Example::

        >>> cross_entropy_grad(np.zeros((1, 2)), np.array([1]))
        array([[ 0.5, -0.5]])
    """
    logits, t = _logits_target(logits, target, "cross_entropy_grad")
    g = softmax(logits, dim=1)
    g[np.arange(len(t)), t] -= 1.0  # g is a new array, so this writes nothing of the caller's
    return g / len(t)
