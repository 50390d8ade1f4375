"""Gradient checking: centered finite differences and the relative error used to compare them.

A backward pass is trusted only once it agrees with these numbers, index by index.
"""

import numpy as np

__all__ = ["numerical_gradient", "relative_error"]


def numerical_gradient(f, x, eps=1e-6):
    """numerical_gradient(f, x, eps=1e-6) -> ndarray

    Centered differences of a scalar function at every index of ``x``:
    ``(f(x + eps e_i) - f(x - eps e_i)) / (2 eps)``. The error shrinks like ``eps**2`` (a
    one-sided difference only like ``eps``), which is why this is the check the book uses.

    Args:
        f: a function of one array that returns a scalar (a float or a 0-d/size-1 array).
        x: the point, an array of any shape. Integer arrays are promoted to float64.
            It is not modified.
        eps: the step, a positive float. Default: ``1e-6``.

    Returns:
        An array of ``x``'s shape (float64): the estimate of ``df/dx``.

    Example::

        >>> g = numerical_gradient(lambda v: (v ** 2).sum(), np.array([1.0, -2.0]))
        >>> np.allclose(g, [2.0, -4.0])
        True
    """
    if not callable(f):
        raise TypeError(f"f must be a function of one array returning a scalar, got {type(f).__name__}")
    if not (isinstance(eps, (int, float, np.floating)) and eps > 0):
        raise ValueError(f"eps must be a positive float, got {eps!r}")
    x0 = np.asarray(x)
    if not (np.issubdtype(x0.dtype, np.number)) or np.issubdtype(x0.dtype, np.complexfloating):
        raise TypeError(f"x must be a real numeric array, got dtype {x0.dtype}")
    # Work on a private float64 copy so the caller's array is never touched.
    point = x0.astype(np.float64, copy=True)
    grad = np.zeros_like(point)

    def value(p):
        out = np.asarray(f(p), dtype=np.float64)
        if out.size != 1:
            raise ValueError(f"f must return a scalar, got an array of shape {out.shape}")
        return float(out.reshape(()))

    for i in np.ndindex(point.shape):
        old = point[i]
        point[i] = old + eps
        up = value(point.copy())
        point[i] = old - eps
        down = value(point.copy())
        point[i] = old
        grad[i] = (up - down) / (2 * eps)
    return grad


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
        A Python float.

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
    if elementwise:
        den = np.maximum(np.abs(a) + np.abs(b), 1e-300)
        return float(np.max(np.abs(a - b) / den))
    den = np.linalg.norm(a) + np.linalg.norm(b)
    if den == 0.0:
        return 0.0
    return float(np.linalg.norm(a - b) / den)
