"""Gradient checking: centered finite differences and the relative error used to compare them.

A backward pass is trusted only once it agrees with these numbers, index by index.
"""

import math
import time
import warnings

import numpy as np

__all__ = ["numerical_gradient", "relative_error"]


MAX_SECONDS = 60.0  # numerical_gradient's default time budget: about a minute, then ask


def _scalar(out):
    """``f``'s result as ``(float, dtype)``; tensors are accepted (detached, moved to the CPU)."""
    if hasattr(out, "detach") and hasattr(out, "cpu"):  # a torch tensor, without importing torch
        out = out.detach().cpu().numpy()
    arr = np.asarray(out)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise TypeError(f"f must return a real number, got {type(out).__name__} of dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"f must return a real number, got a complex {arr.dtype}")
    if arr.size != 1:
        raise ValueError(f"f must return a scalar, got an array of shape {arr.shape}")
    return float(arr.reshape(())), arr.dtype


def numerical_gradient(f, x, eps=1e-6, max_seconds=None, progress=True):
    """numerical_gradient(f, x, eps=1e-6, max_seconds=None,
    progress=True) -> ndarray

    Centered differences of a scalar function at every index of ``x``:
    ``(f(x + eps e_i) - f(x - eps e_i)) / (2 eps)``. The error shrinks like
    ``eps**2`` (a one-sided difference only like ``eps``), which is why this
    is the check the book uses.

    It costs two calls of ``f`` per entry of ``x``: cheap for the small arrays
    a gradient check needs, hours for a photograph. So one call is timed
    first, and the check stops if the whole would take longer than
    ``max_seconds``. A bar (tqdm) shows the progress of runs longer than a
    second.

    Round-off matters too: the difference of two values of ``f`` carries the
    error of ``f``'s own arithmetic, divided by ``2 eps``. In float64 (16
    digits) that is about 1e-10 with the default ``eps``; a function that
    computes in float32 (7 digits) would be off by about 10%, so such a
    result comes with a ``RuntimeWarning`` (compute ``f`` in float64, or
    raise ``eps`` to about 1e-2).

    Args:
        f: a function of one array that returns a scalar (a float, a 0-d or
            size-1 array or tensor).
        x: the point, an array of any shape. Integer arrays are promoted to
            float64. It is not modified.
        eps: the step, a positive float. Default: ``1e-6``.
        max_seconds (float, optional): the time budget. The estimate is
            ``2 * x.size`` calls times the duration of one; above the budget
            a ``ValueError`` names the estimate before any work is done.
            Default: ``None`` (``MAX_SECONDS``, 60 seconds).
        progress (bool): show a progress bar when the run takes more than a
            second. Default: ``True``.

    Returns:
        An array of ``x``'s shape (float64): the estimate of ``df/dx``.

    Example::

        >>> square = lambda v: (v ** 2).sum()
        >>> g = numerical_gradient(square, np.array([1.0, -2.0]))
        >>> np.allclose(g, [2.0, -4.0])
        True
    """
    # float64, so the caller's array is never touched
    point = _private_copy(f, x, eps)
    _check_cost_and_precision(f, point, eps, max_seconds)
    grad = np.zeros_like(point)
    for i in _every_index(point.shape, progress):
        old = point[i]
        point[i] = old + eps
        up = _value(f, point)
        point[i] = old - eps
        down = _value(f, point)
        point[i] = old
        grad[i] = (up - down) / (2 * eps)
    return grad


def _private_copy(f, x, eps):
    """``x`` as a float64 copy, after checking ``f``, ``x`` and ``eps``."""
    if not callable(f):
        raise TypeError(f"f must be a function of one array returning a scalar, got {type(f).__name__}")
    if isinstance(eps, bool) or not (
        isinstance(eps, (int, float, np.integer, np.floating)) and math.isfinite(eps) and eps > 0
    ):
        raise ValueError(f"eps must be a positive float, got {eps!r}")
    if isinstance(x, (str, bytes)):
        raise TypeError(f"x must be a real numeric array, got a {type(x).__name__}")
    x0 = np.asarray(x)
    if not (np.issubdtype(x0.dtype, np.number)) or np.issubdtype(x0.dtype, np.complexfloating):
        raise TypeError(f"x must be a real numeric array, got dtype {x0.dtype}")
    return x0.astype(np.float64, copy=True)


def _value(f, point):
    """``f`` at a copy of ``point`` (so ``f`` cannot change it), as a float."""
    return _scalar(f(point.copy()))[0]


def _every_index(shape, progress):
    """``np.ndindex(shape)``, behind a bar that appears once the loop has run for a second."""
    from tqdm.auto import tqdm

    total = int(np.prod(shape, dtype=np.int64))
    return tqdm(np.ndindex(shape), total=total, desc="numerical_gradient", unit="entry", delay=1.0, disable=not progress)


def _check_cost_and_precision(f, point, eps, max_seconds):
    """Time one call of ``f``: refuse a run estimated above ``max_seconds``; warn when ``f``
    computes in fewer digits than float64 and the round-off would swamp the differences."""
    if max_seconds is None:
        max_seconds = MAX_SECONDS
    if isinstance(max_seconds, bool) or not isinstance(max_seconds, (int, float, np.integer, np.floating)) or not max_seconds > 0:
        raise ValueError(f"max_seconds must be a positive number of seconds, got {max_seconds!r}")
    if point.size == 0:
        return
    start = time.perf_counter()
    f0, dtype = _scalar(f(point.copy()))
    seconds = time.perf_counter() - start
    calls = 2 * point.size
    if calls * seconds > max_seconds:
        start = time.perf_counter()  # the first call may have paid for imports or caches: time again
        _scalar(f(point.copy()))
        seconds = min(seconds, time.perf_counter() - start)
    estimate = calls * seconds
    if estimate > max_seconds:
        raise ValueError(
            f"numerical_gradient: {calls:,} calls of f (two per entry of x, shape {point.shape}) at about "
            f"{seconds:.3g} s each would take about {_duration(estimate)}, more than max_seconds={max_seconds:g}; "
            "check the gradient on a small input (a few channels, 5x5 instead of 224x224) where the same "
            "code runs in a blink, use a faster f (the vectorized op instead of its loop twin), "
            "or pass max_seconds= a larger number to run it anyway"
        )
    if np.issubdtype(dtype, np.floating) and np.finfo(dtype).bits < 64:
        roundoff = np.finfo(dtype).eps * max(abs(f0), 1.0) / eps
        if roundoff > 1e-3:
            warnings.warn(
                f"numerical_gradient: f returns {dtype} ({np.finfo(dtype).precision} digits), so each difference "
                f"quotient carries a round-off error of about {roundoff:.2g} with eps={eps:g}; compute f in "
                "float64 (the result would be badly off otherwise), or raise eps to about 1e-2",
                RuntimeWarning,
                stacklevel=3,
            )


def _duration(seconds):
    for unit, size in (("hours", 3600), ("minutes", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.1f} s"


def relative_error(a, b, elementwise=False):
    """relative_error(a, b, elementwise=False) -> float

    How far apart two arrays are, relative to their size: ``||a - b|| / (||a|| + ||b||)`` with the
    Euclidean norm. It is 0 for equal arrays, about 1e-9 or less for a correct float64 backward pass
    checked by centered differences, and 1 for ``b == -a``.

    The norm form is the default because an entry that is nearly zero (a gradient of 1e-12 whose
    finite-difference estimate carries 1e-10 of round-off) would make a per-entry ratio look bad
    while the gradient as a whole is right. ``elementwise=True`` gives the strict per-entry maximum
    ``max |a - b| / (|a| + |b|)`` when you want it.

    Args:
        a, b: arrays (or scalars) of the same shape.
        elementwise: return the largest per-entry ratio instead. Default: ``False``.

    Returns:
        A Python float in [0, 1]; ``nan`` when either array holds NaN or inf.

    Example::

        >>> relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-9])) < 1e-9
        True
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"relative_error needs arrays of the same shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return float("nan")  # no size to compare against: say so rather than guess
    # Divide by the largest magnitude first: the ratio is unchanged, and norms of values such as
    # 1e200 (whose squares overflow to inf, and inf / inf is nan) stay finite.
    if elementwise:
        m = np.maximum(np.abs(a), np.abs(b))  # per entry; entries that are both 0 agree
        m = np.where(m > 0, m, 1.0)
        a, b = a / m, b / m
        den = np.abs(a) + np.abs(b)
        return float(np.max(np.abs(a - b) / np.where(den > 0, den, 1.0)))
    scale = max(np.abs(a).max(), np.abs(b).max())
    if scale == 0.0:
        return 0.0
    a, b = a / scale, b / scale
    return float(np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b)))
