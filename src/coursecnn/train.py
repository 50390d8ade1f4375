"""A small, reproducible training loop for classification networks, with checkpoints.

``train(model, data, epochs)`` runs mini-batch training with cross-entropy on the logits the model
returns, evaluates on the test set after every epoch, and records a :class:`History`. Everything
random (the shuffling, dropout) is drawn from a seed derived from ``(seed, epoch)``, so

- two runs with the same seed and the same initial weights end with identical weights, and
- a run interrupted and resumed from its checkpoint ends exactly where an uninterrupted one does.
"""

import math
import numbers
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["History", "train", "evaluate", "plot_history", "save_checkpoint", "load_checkpoint", "make_optimizer"]

_OPTIMIZERS = ("sgd", "adam")
_SCHEDULES = ("constant", "cosine")


@dataclass
class History:
    """Per-epoch record of a training run.

    Attributes:
        train_loss, train_acc (list of float): mean cross-entropy and accuracy over each epoch's
            training batches (measured while training, in ``train()`` mode).
        test_loss, test_acc (list of float): the same on the test set after each epoch (empty when
            there is no test set).
        time (list of float): wall-clock seconds of each epoch (training and testing).
    """

    train_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    test_loss: list = field(default_factory=list)
    test_acc: list = field(default_factory=list)
    time: list = field(default_factory=list)

    def __len__(self):
        return len(self.train_loss)

    @property
    def epochs(self):
        """Number of completed epochs."""
        return len(self)

    @property
    def total_time(self):
        """Seconds spent in all epochs together."""
        return float(sum(self.time))

    def to_dict(self):
        """Plain lists of floats, for checkpoints and JSON."""
        return {name: [float(v) for v in getattr(self, name)] for name in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, d):
        return cls(**{name: list(d.get(name, [])) for name in cls.__dataclass_fields__})

    def _append(self, **values):
        for name, value in values.items():
            if value is not None:
                getattr(self, name).append(float(value))


# --- arguments ----------------------------------------------------------------------------------


def _check_int(value, name, minimum=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def _check_float(value, name, positive=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise TypeError(f"{name} must be a finite number, got {value!r}")
    if value < 0 or (positive and value == 0):
        raise ValueError(f"{name} must be {'positive' if positive else 'non-negative'}, got {value}")
    return float(value)


def _writable(a):
    """``a`` as an array torch can share: a read-only one (``np.load(mmap_mode="r")``, a frozen
    array) is copied, as torch would otherwise warn about it."""
    a = np.asarray(a)
    return a if a.flags.writeable else a.copy()


def _as_xy(x, y, what):
    """Tensors (float32 images, int64 labels) with matching N, checked."""
    try:
        x = x.detach() if isinstance(x, torch.Tensor) else torch.as_tensor(_writable(x))
        y = y.detach() if isinstance(y, torch.Tensor) else torch.as_tensor(_writable(y))
    except (TypeError, ValueError, RuntimeError) as exc:
        raise TypeError(f"{what}: images and labels must be numeric arrays or tensors ({exc})") from None
    if x.ndim == 3:
        raise ValueError(
            f"{what}: images must be (N, C, H, W), got shape {tuple(x.shape)}; add a channel axis with x[:, None]"
        )
    if x.ndim not in (2, 4):
        raise ValueError(f"{what}: images must be shaped (N, C, H, W) (or (N, features)), got shape {tuple(x.shape)}")
    if y.ndim != 1:
        raise ValueError(f"{what}: labels must be shaped (N,), got shape {tuple(y.shape)}")
    if len(x) != len(y):
        raise ValueError(f"{what}: {len(x)} images but {len(y)} labels; they must match")
    if len(x) == 0:
        raise ValueError(f"{what}: no examples (N = 0)")
    if y.dtype.is_floating_point or y.dtype == torch.bool or y.dtype.is_complex:
        raise TypeError(f"{what}: labels must be integer class indices, got dtype {y.dtype}")
    if not (x.dtype.is_floating_point or x.dtype in (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)):
        raise TypeError(f"{what}: images must be numeric, got dtype {x.dtype}")
    return x.to(torch.float32), y.to(torch.int64)


def _n_outputs(logits, what):
    """``K``, the number of classes, from the first logits a model returns."""
    if not isinstance(logits, torch.Tensor) or logits.ndim != 2:
        got = f"shape {tuple(logits.shape)}" if isinstance(logits, torch.Tensor) else f"a {type(logits).__name__}"
        raise ValueError(f"{what}: the model must return logits shaped (N, K), got {got}")
    return logits.shape[1]


def _check_labels(y, k, what):
    """Labels must be class indices in ``[0, K)``; torch would fail with an IndexError (or, for
    -100, silently skip the example)."""
    if y.numel() == 0 or y.dtype.is_floating_point or y.dtype.is_complex or y.dtype == torch.bool:
        return  # an empty batch, or a loader's odd labels: left to torch
    # one transfer for both ends (a device sync per call); no random draws, so seeded runs stay bit-identical
    low, high = torch.stack(torch.aminmax(y)).tolist()
    if low < 0 or high >= k:
        raise ValueError(
            f"{what}: labels must be in [0, {k}) for a model with {k} outputs, got {low if low < 0 else high}"
        )


def _split_data(data):
    """Return ``(train, test)``: each a pair of tensors or a DataLoader (test may be None)."""
    from torch.utils.data import DataLoader

    if isinstance(data, DataLoader):
        return data, None
    if not isinstance(data, (tuple, list)):
        raise TypeError(
            "data must be (x_train, y_train, x_test, y_test), (x_train, y_train), "
            f"((x_train, y_train), (x_test, y_test)) or (train_loader, test_loader), got a {type(data).__name__}"
        )
    if len(data) == 2 and all(isinstance(d, DataLoader) or d is None for d in data):
        return data[0], data[1]
    if len(data) == 2 and all(isinstance(d, (tuple, list)) and len(d) == 2 for d in data):
        return _as_xy(*data[0], "training data"), _as_xy(*data[1], "test data")
    if len(data) == 4:
        return _as_xy(data[0], data[1], "training data"), _as_xy(data[2], data[3], "test data")
    if len(data) == 2:
        return _as_xy(data[0], data[1], "training data"), None
    raise ValueError(
        "data must be (x_train, y_train, x_test, y_test), (x_train, y_train), "
        f"((x_train, y_train), (x_test, y_test)) or (train_loader, test_loader), got a sequence of {len(data)} items"
    )


def make_optimizer(model, optimizer="adam", lr=1e-3, momentum=0.9, weight_decay=0.0):
    """make_optimizer(model, optimizer="adam", lr=1e-3, momentum=0.9, weight_decay=0.0) -> torch.optim.Optimizer

    The optimizer :func:`train` uses: ``"sgd"`` (with ``momentum``), ``"adam"``, or a factory
    called as ``factory(model.parameters())``.

    Example::

        >>> opt = make_optimizer(torch.nn.Linear(2, 2), "sgd", lr=0.1)
        >>> type(opt).__name__, opt.defaults["momentum"]
        ('SGD', 0.9)
    """
    if callable(optimizer) and not isinstance(optimizer, str):
        opt = optimizer(model.parameters())
        if not isinstance(opt, torch.optim.Optimizer):
            raise TypeError(f"the optimizer factory must return a torch.optim.Optimizer, got {type(opt).__name__}")
        return opt
    if optimizer not in _OPTIMIZERS:
        raise ValueError(f"optimizer must be 'sgd', 'adam' or a factory taking the parameters, got {optimizer!r}")
    lr = _check_float(lr, "lr", positive=True)
    weight_decay = _check_float(weight_decay, "weight_decay")
    if optimizer == "sgd":
        momentum = _check_float(momentum, "momentum")
        return torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    return torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)


# --- devices, inputs and finiteness --------------------------------------------------------------


def _available_devices():
    """The device names this machine can train on, e.g. ``["cpu"]`` or ``["cpu", "cuda", "cuda:0"]``."""
    names = ["cpu"]
    if torch.cuda.is_available():
        names += ["cuda"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        names.append("mps")
    return names


def _resolve_device(device):
    """``device`` (``None``, ``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"mps"`` or a ``torch.device``) as
    an available ``torch.device``; otherwise an error naming what this machine has."""
    import coursecnn

    if device is None:
        return coursecnn.device()
    available = _available_devices()
    shown = ", ".join(repr(name) for name in available)
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"device must be a string such as 'cpu' or 'cuda', or a torch.device, got {device!r}")
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError):
        dev = None
    if dev is None or dev.type not in ("cpu", "cuda", "mps"):
        raise ValueError(
            f"device must be 'cpu', 'cuda', 'cuda:N' or 'mps', got {str(device)!r}; available here: {shown}"
        )
    if dev.type == "cpu":
        return dev
    if dev.type == "cuda" and torch.cuda.is_available():
        count = torch.cuda.device_count()
        if dev.index is None or dev.index < count:
            return dev
        raise ValueError(f"device={str(device)!r}: this machine has {count} CUDA device(s); available here: {shown}")
    if dev.type == "mps" and "mps" in available:
        return dev
    why = "no CUDA GPU (or a torch built without CUDA)" if dev.type == "cuda" else "no Apple MPS backend"
    raise ValueError(f"device={str(device)!r} is not available: this machine has {why}; available here: {shown}")


def _check_input_fits(model, x, what, who="train"):
    """Run one zero sample shaped like the images ``x`` through ``model`` (as ``summary`` does),
    so a size or layout mistake is named before the first step rather than deep inside torch."""
    from .models.summary import _expected_shape, _probe

    sample = tuple(x.shape[1:])
    try:
        _probe(model, sample, who)
    except ValueError as exc:
        hints = []
        if len(sample) == 3 and sample[-1] in (1, 3) and sample[0] not in (1, 3):
            hints.append(
                f"the {what} images look channels-last, (H, W, C) = {sample}; torch wants (N, C, H, W): "
                "use x.transpose(0, 3, 1, 2) (NumPy) or x.permute(0, 3, 1, 2) (torch)"
            )
        expected = _expected_shape(model)  # the message already shows it
        if expected is not None and sample[-2:] == (28, 28) and expected[-2:] == (32, 32):
            hints.append(f"the {what} images are 28x28: load the digits with pad_to=32")
        raise ValueError("; ".join([str(exc), *hints])) from exc.__cause__


def _first_non_finite(named):
    """Name of the first ``(name, tensor)`` holding NaN or inf (one device sync in all), or None."""
    named = [(n, t) for n, t in named if t.is_floating_point() or t.is_complex()]
    if not named:
        return None
    finite = torch.stack([torch.isfinite(t).all() for _, t in named]).tolist()
    for (name, _), ok in zip(named, finite):
        if not ok:
            return name
    return None


def _check_finite_images(x, what):
    if x.is_floating_point() and not torch.isfinite(x).all():
        bad = ~torch.isfinite(x)
        first = int(bad.reshape(len(x), -1).any(1).nonzero()[0, 0])
        raise ValueError(
            f"{what}: the images hold {int(bad.sum())} NaN or inf values (the first in image {first}); "
            "clean or drop them, or every loss and weight they touch becomes NaN"
        )


# Cross-entropy starts near ln(K) (2.3 for 10 classes) and falls: a batch loss this large is
# no longer learning, it is blowing up (Adam with lr=1e6 reaches about 3e36 before any NaN).
_DIVERGED = 1e6


def _diverged(model, xb, loss, epoch, step):
    """The error for a non-finite (or exploded) loss at ``epoch``/``step`` (both 0-based), naming
    the likely cause: the images, the weights as they were, or a step size that is too large."""
    where = f"the training loss is {loss:.3g} at epoch {epoch + 1}, batch {step + 1}"
    if not torch.isfinite(xb).all():
        return ValueError(f"train: {where}: that batch's images hold NaN or inf values; clean the data")
    bad = _first_non_finite(model.named_parameters())
    if bad is not None and epoch == 0 and step == 0:
        return ValueError(f"train: {where}: the model's weights hold NaN or inf before training ({bad!r})")
    return ValueError(
        f"train: {where}: the training diverged"
        + (f" (the weights of {bad!r} are no longer finite)" if bad is not None else "")
        + "; try a smaller learning rate (lr=...), e.g. a tenth of this one"
    )


# --- batches ------------------------------------------------------------------------------------


def _batches(data, batch_size, generator=None):
    """Yield (x, y) batches from a pair of tensors (shuffled with ``generator``) or a DataLoader."""
    if not isinstance(data, tuple):
        yield from data
        return
    x, y = data
    n = len(x)
    order = torch.randperm(n, generator=generator) if generator is not None else None
    for start in range(0, n, batch_size):
        if order is None:
            yield x[start : start + batch_size], y[start : start + batch_size]
        else:
            idx = order[start : start + batch_size].to(x.device)
            yield x[idx], y[idx]


def _n_batches(data, batch_size):
    if isinstance(data, tuple):
        return math.ceil(len(data[0]) / batch_size)
    try:
        return len(data)
    except TypeError:
        return None


def _run_epoch(
    model, data, optimizer, device, batch_size, generator, bar, set_lr=None, shown=None, check=None, epoch=0,
    dtype=torch.float32, probe=None,
):
    model.train()
    total_loss, correct, count = 0.0, 0, 0
    for step, (xb, yb) in enumerate(_batches(data, batch_size, generator)):
        if set_lr is not None:
            set_lr(step)
        xb, yb = xb.to(device, dtype, non_blocking=True), yb.to(device, non_blocking=True)
        if probe is not None and step == 0:
            probe(xb)  # the first batch's size and layout, before its forward pass
        logits = model(xb)
        if check is not None:
            check(logits, yb)  # before the loss and the step: a bad label leaves the weights as they were
        loss = F.cross_entropy(logits, yb)
        # One sync per step, as before, but ahead of the step: a NaN (or exploded) loss stops
        # here, before its gradient reaches the weights. `not <=` also catches NaN.
        value = loss.item()
        if not value <= _DIVERGED:
            raise _diverged(model, xb, value, epoch, step)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        n = len(yb)
        total_loss += value * n
        correct += (logits.argmax(1) == yb).sum().item()
        count += n
        if bar is not None:
            bar.update(1)
            bar.set_postfix(
                loss=f"{total_loss / count:.4f}", acc=f"{correct / count:.3f}", **(shown or {}), refresh=False
            )
    return total_loss / count, correct / count


@torch.no_grad()
def evaluate(model, x, y=None, batch_size=1000, device=None):
    """evaluate(model, x, y=None, batch_size=1000, device=None) -> (loss, accuracy)

    Mean cross-entropy and accuracy of ``model`` (which returns logits) on a labelled set, in
    ``eval()`` mode and without gradients; the model's mode is restored afterwards.

    Args:
        model (nn.Module): maps :math:`(N, C, H, W)` to logits :math:`(N, K)`.
        x (array, Tensor or DataLoader): images :math:`(N, C, H, W)` (or features
            :math:`(N, F)`), or a loader of ``(x, y)`` batches (then ``y`` stays ``None``).
        y (array or Tensor): labels :math:`(N,)`, ints in ``[0, K)`` for a model with ``K``
            outputs (checked against the first logits).
        batch_size (int): examples per forward pass. Default: ``1000``
        device (torch.device, optional): where to compute. Default: the model's device.

    Returns:
        ``(loss, accuracy)`` as Python floats, accuracy in [0, 1].

    Example::

        >>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 3))
        >>> loss, acc = evaluate(model, torch.zeros(5, 1, 2, 2), torch.zeros(5, dtype=torch.long))
        >>> round(loss, 4) > 0 and 0 <= acc <= 1
        True
    """
    from torch.utils.data import DataLoader

    batch_size = _check_int(batch_size, "batch_size")
    data = x if isinstance(x, DataLoader) else _as_xy(x, y, "evaluate")
    if isinstance(data, tuple):
        _check_input_fits(model, data[0][:1], "evaluation", who="evaluate")
    if device is None:
        param = next(model.parameters(), None)
        device = param.device if param is not None else torch.device("cpu")
    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)
    was_training = model.training
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    try:
        for step, (xb, yb) in enumerate(_batches(data, batch_size)):
            xb, yb = xb.to(device, dtype), yb.to(device)
            logits = model(xb)
            k = _n_outputs(logits, "evaluate")
            if isinstance(data, tuple):
                if step == 0:
                    _check_labels(data[1], k, "evaluate")  # all of them, once
            else:
                _check_labels(yb, k, "evaluate")
            total_loss += F.cross_entropy(logits, yb, reduction="sum").item()
            correct += (logits.argmax(1) == yb).sum().item()
            count += len(yb)
    finally:
        model.train(was_training)
    return total_loss / count, correct / count


# --- checkpoints --------------------------------------------------------------------------------


def _checkpoint_path(path, fname="checkpoint"):
    """``path`` as a Path where a checkpoint file can be written, checked without writing
    anything: not a folder, and the nearest existing folder above it really is one."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{fname} must be a file path (str or pathlib.Path), got {path!r}")
    path = Path(path).expanduser()
    if path.is_dir():
        raise ValueError(f"{fname} must name a file, got the folder {path}; name a file in it, e.g. {path / 'model.pt'}")
    above = path.parent
    while not above.exists() and above != above.parent:
        above = above.parent
    if not above.is_dir():
        raise ValueError(f"{fname} {path} cannot be written: {above} is a file, not a folder; choose another path")
    if not os.access(above, os.W_OK | os.X_OK):
        raise ValueError(f"{fname} {path} cannot be written: no permission to write in {above}; choose another path")
    return path


def save_checkpoint(path, model, optimizer, epoch, history, **extra):
    """save_checkpoint(path, model, optimizer, epoch, history, **extra) -> Path

    Save the model's and the optimizer's state, the number of completed epochs and the history.
    The file is written next to ``path`` first and then renamed, so an interruption while saving
    leaves the previous checkpoint intact.

    Args:
        path (str or Path): the checkpoint file (``.pt``).
        model (nn.Module): its ``state_dict()`` is saved.
        optimizer (torch.optim.Optimizer or None): its ``state_dict()`` and its class name are
            saved (momenta, Adam's moments), so that training resumes exactly.
        epoch (int): epochs completed so far.
        history (History): the record so far.
        **extra: plain values stored alongside (e.g. ``seed=0``).

    Raises:
        ValueError: if a weight or buffer of the model holds NaN or inf (nothing is written).

    Example::

        >>> save_checkpoint("/tmp/lenet.pt", model, opt, 3, history)  # doctest: +SKIP
    """
    path = _checkpoint_path(path, "save_checkpoint: path")
    _check_int(epoch, "epoch", minimum=0)
    bad = _first_non_finite(model.state_dict().items())
    if bad is not None:
        raise ValueError(f"save_checkpoint: the model's {bad!r} holds NaN or inf; a checkpoint of it could not resume")
    state = {
        "format": 1,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "optimizer_type": type(optimizer).__name__ if optimizer is not None else None,
        "epoch": int(epoch),
        "history": (history if history is not None else History()).to_dict(),
        "extra": dict(extra),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a failed save leaves no half-written file behind
        raise
    return path


def load_checkpoint(path, model, optimizer=None):
    """load_checkpoint(path, model, optimizer=None) -> dict

    Restore ``model`` (and ``optimizer`` if given) in place from a file written by
    :func:`save_checkpoint` or by :func:`train` with ``checkpoint=``.

    Args:
        path (str or Path): the checkpoint file.
        model (nn.Module): receives the saved weights (the architecture must match).
        optimizer (torch.optim.Optimizer, optional): receives the saved optimizer state.

    Returns:
        a dict with ``"epoch"`` (int, completed epochs), ``"history"`` (:class:`History`) and
        ``"extra"`` (the extra values saved).

    Raises:
        FileNotFoundError: no such file.
        ValueError: a truncated or foreign file; weights whose names or shapes differ from
            ``model``'s (the message lists them); an optimizer state of another kind (an SGD
            checkpoint given an Adam optimizer), of other groups or shapes; NaN or inf weights.
            Everything is checked before anything is loaded, so on an error ``model`` and
            ``optimizer`` are exactly as they were.

    Example::

        >>> import tempfile
        >>> from coursecnn.models import LeNet5
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = save_checkpoint(Path(tmp) / "lenet.pt", LeNet5(), None, 3, History(test_acc=[0.9825]))
        ...     info = load_checkpoint(path, LeNet5())
        >>> info["epoch"], info["history"].test_acc[-1]
        (3, 0.9825)
    """
    return _load_checkpoint(path, model, optimizer)


def _load_checkpoint(path, model, optimizer=None, check_extra=None):
    """:func:`load_checkpoint`; ``check_extra(extra)`` may refuse the file before anything changes."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated or foreign files
        size = path.stat().st_size
        raise ValueError(
            f"{path} is not a readable coursecnn checkpoint: torch.load could not read its {size} bytes, so it is "
            f"truncated (an interrupted copy or download?) or not a file written by save_checkpoint "
            f"({type(exc).__name__}: {str(exc).split('. ')[0]})"
        ) from None
    if not isinstance(state, dict) or state.get("format") != 1 or not isinstance(state.get("model"), dict):
        raise ValueError(f"{path} is not a coursecnn checkpoint (no 'format': 1 entry with a model state)")
    # Everything is checked before anything is loaded: resume completely, or refuse and change nothing.
    if check_extra is not None:
        check_extra(state.get("extra") or {})
    _check_model_state(path, state["model"], model)
    if optimizer is not None:
        _check_optimizer_state(path, state, optimizer, model)
    try:
        epoch = _check_int(state.get("epoch"), "the checkpoint's epoch", minimum=0)
        history = History.from_dict(state.get("history") or {})
    except (TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"{path} is a damaged coursecnn checkpoint: {exc}") from None
    backup = {name: t.detach().clone() for name, t in model.state_dict().items()}
    try:
        model.load_state_dict(state["model"])
        if optimizer is not None:
            optimizer.load_state_dict(state["optimizer"])
    except Exception as exc:  # not expected after the checks above; never leave a half-loaded model
        model.load_state_dict(backup)
        raise ValueError(f"the checkpoint {path} does not fit: {exc}") from None
    return {"epoch": epoch, "history": history, "extra": state.get("extra", {})}


def _shape(t):
    return tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__


def _check_model_state(path, saved, model):
    """Compare a saved ``state_dict`` with ``model``'s: names, shapes and finiteness."""
    own = model.state_dict()
    missing = [k for k in own if k not in saved]
    unexpected = [k for k in saved if k not in own]
    wrong = [f"{k}: saved {_shape(saved[k])}, model {tuple(own[k].shape)}" for k in own if k in saved and _shape(saved[k]) != tuple(own[k].shape)]
    problems = []
    if missing:
        problems.append(f"missing from the checkpoint: {', '.join(missing[:5])}" + (" ..." if len(missing) > 5 else ""))
    if unexpected:
        problems.append(f"not in this model: {', '.join(unexpected[:5])}" + (" ..." if len(unexpected) > 5 else ""))
    if wrong:
        problems.append("shapes differ: " + "; ".join(wrong[:5]) + (" ..." if len(wrong) > 5 else ""))
    if problems:
        raise ValueError(
            f"the checkpoint {path} does not fit this model ({type(model).__name__}): " + "; ".join(problems)
            + "; build the model with the same architecture and arguments as the one that was saved"
        )
    bad = _first_non_finite((k, v) for k, v in saved.items() if isinstance(v, torch.Tensor))
    if bad is not None:
        raise ValueError(f"the checkpoint {path} holds NaN or inf in {bad!r}; it cannot be resumed")


def _group_options(groups):
    return {k for g in groups for k in g if k != "params"}


def _check_optimizer_state(path, state, optimizer, model):
    """Compare a saved optimizer state with ``optimizer``: kind, groups and the shapes of its buffers."""
    saved = state.get("optimizer")
    if saved is None:
        raise ValueError(f"the checkpoint {path} holds no optimizer state")
    if not isinstance(saved, dict) or not isinstance(saved.get("param_groups"), list) or not isinstance(saved.get("state"), dict):
        raise ValueError(f"the checkpoint {path} has a damaged optimizer state")
    kind, ours = state.get("optimizer_type"), type(optimizer).__name__
    if kind is not None and kind != ours:
        raise ValueError(
            f"the checkpoint {path} was written by the optimizer {kind}, this run uses {ours}; resume with the "
            f"optimizer it was trained with (optimizer={kind.lower()!r}) or start afresh without resume"
        )
    current = optimizer.state_dict()
    if kind is None and _group_options(saved["param_groups"]) != _group_options(current["param_groups"]):
        raise ValueError(
            f"the checkpoint {path} was written by another kind of optimizer than this {ours} (its settings are "
            f"{sorted(_group_options(saved['param_groups']))}); resume with the optimizer it was trained with"
        )
    sizes = [len(g["params"]) for g in saved["param_groups"]]
    ours_sizes = [len(g["params"]) for g in current["param_groups"]]
    if sizes != ours_sizes:
        raise ValueError(
            f"the checkpoint {path} has optimizer groups of {sizes} parameters, this optimizer {ours_sizes}"
        )
    # each saved buffer (momentum, Adam's moments) must have its parameter's shape
    params = [p for g in optimizer.param_groups for p in g["params"]]
    ids = [i for g in current["param_groups"] for i in g["params"]]
    by_id = dict(zip(ids, params))
    saved_ids = [i for g in saved["param_groups"] for i in g["params"]]
    for saved_id, own_id in zip(saved_ids, ids):
        buffers = saved["state"].get(saved_id, {})
        for name, value in buffers.items():
            if isinstance(value, torch.Tensor) and value.ndim > 0 and tuple(value.shape) != tuple(by_id[own_id].shape):
                raise ValueError(
                    f"the checkpoint {path}: the optimizer's {name!r} of parameter {own_id} has shape "
                    f"{tuple(value.shape)}, the parameter {tuple(by_id[own_id].shape)}"
                )


# --- the loop -----------------------------------------------------------------------------------


def _epoch_seed(seed, epoch):
    # distinct, reproducible streams per epoch, so a resumed epoch draws what the original would
    return (int(seed) * 1_000_003 + epoch) % (2**63)


def _fork_rng(device):
    devices = []
    if device.type == "cuda":
        devices = [device.index if device.index is not None else torch.cuda.current_device()]
    return torch.random.fork_rng(devices=devices)


def train(
    model,
    data,
    epochs,
    *,
    lr=1e-3,
    optimizer="adam",
    batch_size=64,
    device=None,
    seed=0,
    progress=True,
    checkpoint=None,
    resume=False,
    weight_decay=0.0,
    momentum=0.9,
    schedule="constant",
):
    """train(model, data, epochs, *, lr=1e-3, optimizer="adam", batch_size=64, device=None, seed=0, progress=True, checkpoint=None, resume=False, weight_decay=0.0, momentum=0.9, schedule="constant") -> History

    Train a classifier with mini-batches and cross-entropy, testing after every epoch.

    The model is moved to ``device`` and trained in place. The shuffling and every random draw of
    an epoch (dropout) come from a seed made of ``seed`` and the epoch number, inside a forked
    random state (the caller's global RNG is left as it was). So equal seeds and equal initial
    weights give equal final weights, and resuming from a checkpoint reproduces the uninterrupted
    run. (On CUDA, bit-for-bit equality also needs deterministic kernels:
    ``torch.use_deterministic_algorithms(True)``.)

    Args:
        model (nn.Module): maps images :math:`(N, C, H, W)` to logits :math:`(N, K)`.
        data: the examples, one of
            ``(x_train, y_train, x_test, y_test)``; ``((x_train, y_train), (x_test, y_test))``;
            ``(x_train, y_train)`` (no testing); or ``(train_loader, test_loader)`` (PyTorch
            ``DataLoader`` s; their own sampler decides the order, ``batch_size`` is then unused).
            Images are arrays or tensors :math:`(N, C, H, W)` (cast to float32; a single-channel
            stack :math:`(N, H, W)` needs its channel axis, ``x[:, None]``) or features
            :math:`(N, F)`; labels :math:`(N,)` are integers in ``[0, K)`` for a model with ``K``
            outputs (checked once the first logits exist, before any step), e.g.
            ``(*load_digits("train", pad_to=32), *load_digits("test", pad_to=32))`` or
            :func:`coursecnn.data.load_digit_split`.
        epochs (int): total number of passes over the training set (including those a resumed
            checkpoint already did). At least 1.
        lr (float): learning rate. Default: ``1e-3``
        optimizer (str or callable): ``"adam"``, ``"sgd"`` (with ``momentum``) or a factory
            ``f(parameters) -> torch.optim.Optimizer`` (then ``lr``, ``momentum`` and
            ``weight_decay`` are the factory's business). Default: ``"adam"``
        batch_size (int): training examples per step. Default: ``64``
        device (str or torch.device, optional): ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``; a
            device this machine lacks is an error that lists the ones it has. Default:
            ``coursecnn.device()`` (CUDA, MPS or CPU).
        seed (int): seed of the shuffling and dropout. Default: ``0``
        progress (bool): show a tqdm bar (``tqdm.auto``: a widget in notebooks) over all the
            batches of all the epochs, with the epoch, the running training loss and accuracy and
            the last test accuracy. Default: ``True``
        checkpoint (str or Path, optional): save a checkpoint there after every epoch.
            Default: ``None``
        resume (bool): continue from ``checkpoint`` if that file exists (weights, optimizer state,
            history, epoch count); start afresh otherwise. Default: ``False``
        weight_decay (float): L2 penalty of the built-in optimizers. Default: ``0.0``
        momentum (float): momentum of ``"sgd"``. Default: ``0.9``
        schedule (str): ``"constant"`` keeps the learning rate; ``"cosine"`` lowers it after
            every step along half a cosine, from ``lr`` to 0 at the end of the last epoch (large
            steps early, fine ones late; it usually buys a few tenths of a percent of accuracy).
            The rate is a function of the step number, so resuming keeps it. Default: ``"constant"``

    Returns:
        :class:`History`: per-epoch train/test loss and accuracy and seconds.

    Raises:
        ValueError: before the first step, when the images do not fit the model (the message names
            the layer that fails, as :func:`coursecnn.models.summary` does, and hints at a
            forgotten ``pad_to=32`` or channels-last ``(N, H, W, C)`` images), when images or
            weights hold NaN or inf, when ``device`` is unknown or not available, or when
            ``checkpoint`` names a folder or a path that cannot be written; during
            training, at the first batch whose loss is NaN, inf or above ``1e6`` (the run
            diverged: the message names the epoch and the batch and suggests a smaller ``lr``),
            and when an epoch ends with non-finite weights. A diverged run writes no checkpoint:
            the file keeps the last good epoch.

    Example::

        >>> from coursecnn.data import load_digit_split
        >>> from coursecnn.models import LeNet5
        >>> torch.manual_seed(0)  # doctest: +SKIP
        >>> history = train(LeNet5(), load_digit_split(pad_to=32), epochs=3)  # doctest: +SKIP
        >>> history.test_acc[-1] > 0.97  # doctest: +SKIP
        True
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    epochs = _check_int(epochs, "epochs")
    batch_size = _check_int(batch_size, "batch_size")
    seed = _check_int(seed, "seed", minimum=0)
    if schedule not in _SCHEDULES:
        raise ValueError(f"schedule must be one of {_SCHEDULES}, got {schedule!r}")
    if resume and checkpoint is None:
        raise ValueError("resume=True needs a checkpoint path (checkpoint=...) to resume from")
    if checkpoint is not None:
        checkpoint = _checkpoint_path(checkpoint)  # before the first step, not after an epoch
    train_data, test_data = _split_data(data)
    device = _resolve_device(device)
    for part, what in ((train_data, "training data"), (test_data, "test data")):
        if isinstance(part, tuple):
            _check_finite_images(part[0], what)

    if isinstance(train_data, tuple) and device.type != "cpu":
        # the digits fit in any accelerator's memory: copy them once, not every batch
        train_data = tuple(t.to(device) for t in train_data)
        if isinstance(test_data, tuple):
            test_data = tuple(t.to(device) for t in test_data)
    model.to(device)
    opt = make_optimizer(model, optimizer, lr=lr, momentum=momentum, weight_decay=weight_decay)
    base_lrs = [group["lr"] for group in opt.param_groups]  # before a checkpoint's decayed rates
    history, start = History(), 0
    if resume and Path(checkpoint).is_file():

        def same_seed(extra):
            saved_seed = extra.get("seed", seed)
            if saved_seed != seed:
                raise ValueError(
                    f"the checkpoint {checkpoint} was written with seed={saved_seed}, this run has seed={seed}"
                )

        info = _load_checkpoint(checkpoint, model, opt, check_extra=same_seed)
        history, start = info["history"], info["epoch"]
        model.to(device)  # load_state_dict keeps the device, but be explicit after a CPU load
    bad = _first_non_finite(model.named_parameters())
    if bad is not None:
        raise ValueError(f"train: the model's weights hold NaN or inf before training ({bad!r}); re-create the model")
    # the images as the model will see them: float32, or the model's own float type (e.g. .double())
    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)
    probed = []

    def probe(xb):
        # size and layout against the model, once per run, before the first forward pass
        if not probed:
            _check_input_fits(model, xb, "training")
            probed.append(True)

    if isinstance(train_data, tuple):
        probe(train_data[0][:1])
    if isinstance(test_data, tuple) and test_data[0].shape[1:] != train_data[0].shape[1:]:
        _check_input_fits(model, test_data[0][:1], "test")

    per_epoch = _n_batches(train_data, batch_size)
    set_lr = None
    if schedule == "cosine":
        if per_epoch is None:
            raise ValueError("schedule='cosine' needs a training set whose length is known (len(loader))")

        def set_lr(step):  # reads the loop's current `epoch`
            fraction = (epoch * per_epoch + step) / (epochs * per_epoch)
            for group, lr0 in zip(opt.param_groups, base_lrs):
                group["lr"] = lr0 * 0.5 * (1 + math.cos(math.pi * fraction))

    from tqdm.auto import tqdm

    bar = tqdm(
        total=per_epoch * epochs if per_epoch else None,
        initial=per_epoch * start if per_epoch else 0,
        unit="batch",
        disable=not progress,
        # In a notebook: a full-width widget whose text wraps instead of ending in "…"; in a
        # terminal: as wide as the terminal.
        dynamic_ncols=True,
    )
    shown = {}  # the last test accuracy, kept on the bar during the next epoch
    checked = False

    def check(logits, yb):
        # K is known once the model has returned logits: check the labels then, before any step
        nonlocal checked
        k = _n_outputs(logits, "train")
        if not isinstance(train_data, tuple):
            _check_labels(yb, k, "training data")  # a loader: batch by batch
        elif not checked:
            _check_labels(train_data[1], k, "training data")
        if not checked and isinstance(test_data, tuple):
            _check_labels(test_data[1], k, "test data")
        checked = True

    try:
        for epoch in range(start, epochs):
            t0 = time.perf_counter()
            bar.set_description(f"epoch {epoch + 1}/{epochs}", refresh=False)
            with _fork_rng(device):
                epoch_seed = _epoch_seed(seed, epoch)
                torch.manual_seed(epoch_seed)
                generator = torch.Generator().manual_seed(epoch_seed)
                train_loss, train_acc = _run_epoch(
                    model, train_data, opt, device, batch_size, generator, bar, set_lr, shown, check, epoch, dtype, probe
                )
            bad = _first_non_finite(model.named_parameters())  # the epoch's last step, unchecked by its loss
            if bad is not None:
                raise ValueError(
                    f"train: the weights of {bad!r} became NaN or inf at the end of epoch {epoch + 1}: the training "
                    "diverged; try a smaller learning rate (lr=...), e.g. a tenth of this one"
                )
            test_loss = test_acc = None
            if test_data is not None:
                if isinstance(test_data, tuple):
                    test_loss, test_acc = evaluate(model, *test_data, device=device)
                else:
                    test_loss, test_acc = evaluate(model, test_data, device=device)
            history._append(
                train_loss=train_loss,
                train_acc=train_acc,
                test_loss=test_loss,
                test_acc=test_acc,
                time=time.perf_counter() - t0,
            )
            if checkpoint is not None:
                save_checkpoint(checkpoint, model, opt, epoch + 1, history, seed=seed)
            if test_acc is not None:
                shown["test_acc"] = f"{test_acc:.3f}"
            bar.set_postfix(loss=f"{train_loss:.4f}", acc=f"{train_acc:.3f}", **shown)
    finally:
        bar.close()
    return history


def plot_history(history, ax=None):
    """plot_history(history, ax=None) -> matplotlib.figure.Figure

    Draw the loss (left) and the accuracy (right) per epoch, training and test.

    Args:
        history (History): what :func:`train` returned.
        ax (pair of Axes, optional): two axes to draw on. Default: ``None`` (a new 8x3 figure).

    Returns:
        the figure.

    Example::

        >>> fig = plot_history(History([0.5, 0.2], [0.8, 0.9], [0.4, 0.3], [0.85, 0.9], [1.0, 1.0]))
        >>> len(fig.axes)
        2
    """
    import matplotlib.pyplot as plt

    if not isinstance(history, History):
        raise TypeError(f"plot_history expects a History (what train returns), got {type(history).__name__}")
    if ax is None:
        fig, ax = plt.subplots(1, 2, figsize=(8, 3), layout="constrained")
    else:
        if len(ax) != 2:
            raise ValueError(f"ax must be a pair of matplotlib Axes (loss, accuracy), got {len(ax)} axes")
        fig = ax[0].figure
    epochs = np.arange(1, len(history) + 1)
    for axis, key, label in ((ax[0], "loss", "cross-entropy loss"), (ax[1], "acc", "accuracy")):
        axis.plot(epochs, getattr(history, f"train_{key}"), "o-", label="train")
        test = getattr(history, f"test_{key}")
        if test:
            axis.plot(epochs[: len(test)], test, "s--", label="test")
        axis.set_xlabel("epoch")
        axis.set_ylabel(label)
        axis.set_xticks(epochs)
        axis.grid(alpha=0.3)
        axis.legend()
    return fig
