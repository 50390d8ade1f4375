"""Input checks shared by ``coursecnn.ref`` and ``coursecnn.torch``.

Every public function checks its arguments before computing, so a student gets a message that
names the problem and the expected form instead of a shape error from deep inside NumPy.
"""

import numbers

import numpy as np


def pair(value, name, n=2):
    """Return ``value`` as an ``n``-tuple of ints (an int is repeated), checking its type."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an int or a tuple of {n} ints, got {value!r}")
    if isinstance(value, numbers.Integral):
        return (int(value),) * n
    if isinstance(value, (tuple, list)) and len(value) == n and all(
        isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_)) for v in value
    ):
        return tuple(int(v) for v in value)
    raise TypeError(f"{name} must be an int or a tuple of {n} ints, got {value!r}")


def positive(values, name):
    """Check that every entry of ``values`` (a tuple) is at least 1."""
    for v in values:
        if v < 1:
            raise ValueError(f"{name} must be positive (1 or more), got {v}")
    return values


def non_negative(values, name):
    """Check that every entry of ``values`` (a tuple) is at least 0."""
    for v in values:
        if v < 0:
            raise ValueError(f"{name} must be non-negative, got {v}")
    return values


def numeric_array(x, name, what):
    """Return ``x`` as a real numeric NumPy array (any dtype but complex and object), or raise an
    error saying that ``name`` must be ``what`` (e.g. "a numeric array shaped (N, C, H, W)")."""
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must be {what}, got a {type(x).__name__}")
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name} must be {what}: {exc}") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise TypeError(f"{name} must be {what}, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{name} must be real-valued, got dtype {arr.dtype}")
    return arr


def as_array(x, name, ndim, layout, dtype=None):
    """Return ``x`` as a float NumPy array of rank ``ndim``; ``layout`` (e.g. "(N, C, H, W)")
    is shown in the error when the rank is wrong. Integer input becomes float64; the caller's
    array is never modified (functions work on the returned array without writing to it)."""
    arr = numeric_array(x, name, f"a numeric array shaped {layout}")
    if arr.ndim != ndim:
        raise ValueError(
            f"{name} must have {ndim} dimensions {layout}, got {arr.ndim} dimensions with shape {arr.shape}"
        )
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    elif not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    return arr


def channels_match(c_in, w_channels, groups, what="kernel"):
    """Check the input's channels against a kernel of ``w_channels`` input channels per group."""
    if c_in % groups != 0:
        raise ValueError(f"input channels ({c_in}) must be divisible by groups ({groups})")
    if c_in // groups != w_channels:
        raise ValueError(
            f"channel mismatch: the input has {c_in} channels, so with groups={groups} the "
            f"{what} must have {c_in // groups} input channels per group, but it has {w_channels}"
        )
