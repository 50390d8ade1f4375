"""Faster versions of ``coursecnn.ref``'s pooling: the same signatures, results and errors.

The reference lays every window out along a new axis (a copy ``k_h k_w`` times the input's
size) and reduces it. Here:

- forward passes reduce strided views of the input, a window's columns first and then its
  rows: ``k_h + k_w - 2`` passes over the data and no copy of the windows (``_reduce_windows``);
- backward passes, the switches and N-max pooling work on contiguous *phase planes*, in
  cache-sized blocks (``_phases.py``), and rank N-max entries by pairwise comparisons instead
  of sorting;
- the switches are checked with one unsigned comparison per bound.

Inputs holding NaN or infinities take the reference's path for the switches, so PyTorch's
rules (a NaN wins its window; the padding never does) hold here as well. Every function is
tested against its ``coursecnn.ref`` twin.
"""

import numpy as np

from .. import ref
from .._checks import as_array, pool_array, pool_budget
from . import _phases

__all__ = [
    "max_pool2d",
    "avg_pool2d",
    "nmax_pool2d",
    "max_pool2d_backward",
    "avg_pool2d_backward",
    "nmax_pool2d_backward",
    "max_pool2d_with_indices",
]


# N-max pooling ranks a window's entries by comparing every pair: k_h k_w (k_h k_w - 1) / 2 passes.
# Above this many taps, the reference's sort is faster (a 24x24 window: 1 ms against 0.3 s).
_PAIRWISE_TAPS = 16


def _pad(x, p, value):
    """A new array: ``x`` with ``p[0]`` rows and ``p[1]`` columns of ``value`` on each side."""
    return np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])), constant_values=value)


def _check_dy(fname, dy, x, out_hw):
    dy = as_array(dy, f"{fname}: dy", 4, "(N, C, H, W)")
    expected = x.shape[:2] + out_hw
    if dy.shape != expected:
        raise ValueError(f"{fname}: dy must have the output's shape {expected}, got {dy.shape}")
    return dy.astype(np.result_type(dy, x), copy=False)


def _reduce_windows(xp, k, s, out_hw, combine):
    """Combine each window of the padded input ``xp`` with the ufunc ``combine`` (``np.maximum``
    or ``np.add``), as a new ``(N, C, H_out, W_out)`` array.

    A window reduces row by row: first the ``k_w`` columns of every window row (``k_w - 1``
    vectorized calls over strided views), then the ``k_h`` rows of those partial results. That is
    ``k_h + k_w - 2`` passes over the data instead of ``k_h * k_w - 1``, and no window is copied.
    """
    ho, wo = out_hw
    # Column v of every window, for every padded row: views of shape (N, C, H_p, W_out).
    cols = [xp[:, :, :, v : v + s[1] * (wo - 1) + 1 : s[1]] for v in range(k[1])]
    rows = cols[0].copy()
    for col in cols[1:]:
        combine(rows, col, out=rows)
    # Row u of every window, now one value per window row: views of shape (N, C, H_out, W_out).
    row_views = [rows[:, :, u : u + s[0] * (ho - 1) + 1 : s[0]] for u in range(k[0])]
    out = row_views[0].copy()
    for row in row_views[1:]:
        combine(out, row, out=out)
    return out


def _check_in_windows(sw, w, k, s, p):
    """Every switch must point into its own window: switches saved for another kernel, stride
    or padding would send gradient to the wrong place without a word."""
    ho, wo = sw.shape[2:]
    # int32 halves the memory traffic of these passes (a plane has far fewer than 2**31 entries).
    it = np.int32 if sw.max(initial=0) < 2**31 else np.int64
    row = sw.astype(it) // it(w)
    col = sw.astype(it) - row * it(w)
    # How far each switch lies from its window's top-left corner, in padded coordinates.
    row -= (np.arange(ho, dtype=it) * s[0] - p[0])[:, None]
    col -= np.arange(wo, dtype=it) * s[1] - p[1]
    # Seen as unsigned, a negative distance is huge: one comparison tests both ends.
    unsigned = np.uint32 if it is np.int32 else np.uint64
    outside = row.view(unsigned) >= k[0]
    outside |= col.view(unsigned) >= k[1]
    if outside.any():
        where = tuple(int(i) for i in np.argwhere(outside)[0])
        raise ValueError(
            f"max_pool2d_backward: indices{list(where)} = {sw[where]} lies outside its "
            f"{k[0]}x{k[1]} window (stride {s}, padding {p}); pass the indices that "
            "max_pool2d_with_indices returned for the same x, kernel_size, stride and padding"
        )


def _scatter_switches(dy, sw, shape):
    """A new array of ``shape`` (``(N, C, H, W)``) that holds each ``dy`` entry at its switch;
    where overlapping windows share a switch, their entries add up."""
    n, c, h, w = shape
    # Plane q of the N C planes starts at q H W in the flat result: (N, C, 1, 1) offsets.
    starts = (np.arange(n * c) * (h * w)).reshape(n, c, 1, 1)
    dx = np.zeros(n * c * h * w, dtype=dy.dtype)
    # np.add.at, not dx[...] += dy: a repeated index must add every time, not once.
    np.add.at(dx, (sw + starts).ravel(), dy.ravel())
    return dx.reshape(shape)


def _budget(fname, x, spec, max_bytes, padded_copies, phases=True, outputs=2, window_bytes=0):
    """The padded input ``padded_copies`` times (its phase planes, their gradient, the merged
    result) and ``outputs`` arrays of the output's size; no window is copied here (N-max pooling's
    ranks take ``window_bytes`` bytes per window entry)."""
    pool_budget(fname, x.shape, spec, x.itemsize, max_bytes, window_bytes, padded_copies, phases=phases,
                outputs=outputs)


def _steps(spec):
    """The stride, 1 along an axis with a single window: any stride reads the same window there,
    and a huge one would make huge phase planes (``_phases.py`` rounds the input up to it)."""
    return tuple(s if o > 1 else 1 for s, o in zip(spec.stride, spec.out_size))


def _unpad(dxp, p, hw):
    return dxp[:, :, p[0] : p[0] + hw[0], p[1] : p[1] + hw[1]]


def max_pool2d(x, kernel_size, stride=None, padding=0, *, max_bytes=None):
    """max_pool2d(x, kernel_size, stride=None, padding=0, *, max_bytes=None) -> ndarray

    :func:`coursecnn.ref.max_pool2d`, faster: same arguments, result and errors.

    Example::

        >>> max_pool2d(np.arange(16.0).reshape(1, 1, 4, 4), 2)[0, 0].tolist()
        [[5.0, 7.0], [13.0, 15.0]]
    """
    x, spec = pool_array("max_pool2d", x, kernel_size, stride, padding)
    _budget("max_pool2d", x, spec, max_bytes, 2, phases=False, outputs=1)  # the padded input and its window rows
    p = spec.padding
    xp = _pad(x, p, -np.inf) if any(p) else x
    return _reduce_windows(xp, spec.kernel_size, spec.stride, spec.out_size, np.maximum)


def avg_pool2d(x, kernel_size, stride=None, padding=0, *, max_bytes=None):
    """avg_pool2d(x, kernel_size, stride=None, padding=0, *, max_bytes=None) -> ndarray

    :func:`coursecnn.ref.avg_pool2d`, faster: same arguments, result and errors.

    Example::

        >>> avg_pool2d(np.arange(16.0).reshape(1, 1, 4, 4), 2)[0, 0].tolist()
        [[2.5, 4.5], [10.5, 12.5]]
    """
    x, spec = pool_array("avg_pool2d", x, kernel_size, stride, padding)
    _budget("avg_pool2d", x, spec, max_bytes, 2, phases=False, outputs=1)
    k, p = spec.kernel_size, spec.padding
    xp = _pad(x, p, 0.0) if any(p) else x
    y = _reduce_windows(xp, k, spec.stride, spec.out_size, np.add)
    y /= k[0] * k[1]  # in place: float32 stays float32
    return y


def nmax_pool2d(x, kernel_size, n, stride=None, padding=0, *, max_bytes=None):
    """nmax_pool2d(x, kernel_size, n, stride=None, padding=0, *, max_bytes=None) -> ndarray

    :func:`coursecnn.ref.nmax_pool2d`, faster: same arguments, result and errors.

    Example::

        >>> nmax_pool2d(np.array([[[[4.0, 1.0], [3.0, 2.0]]]]), 2, n=2)[0, 0].tolist()
        [[3.5]]
    """
    x, spec = pool_array("nmax_pool2d", x, kernel_size, stride, padding)
    taps = spec.kernel_size[0] * spec.kernel_size[1]
    if x.size == 0 or taps > _PAIRWISE_TAPS or not np.isfinite(x).all():
        return ref.nmax_pool2d(x, kernel_size, n, stride, padding, max_bytes=max_bytes)
    n = ref.pool._check_n(n, spec, x.shape[2:])
    _budget("nmax_pool2d", x, spec, max_bytes, 3, window_bytes=3)  # each entry's rank counts
    p = spec.padding
    return _phases.nmax_pool_forward(_pad(x, p, -np.inf) if any(p) else x, spec.kernel_size, _steps(spec),
                                     spec.out_size, n)


def max_pool2d_with_indices(x, kernel_size, stride=None, padding=0, *, max_bytes=None):
    """max_pool2d_with_indices(x, kernel_size, stride=None, padding=0, *, max_bytes=None) -> (ndarray, ndarray)

    :func:`coursecnn.ref.max_pool2d_with_indices`, faster: same arguments, results and errors.

    Example::

        >>> y, sw = max_pool2d_with_indices(np.array([[[[1.0, 3.0], [2.0, 0.0]]]]), 2)
        >>> sw.tolist()
        [[[[1]]]]
    """
    x, spec = pool_array("max_pool2d_with_indices", x, kernel_size, stride, padding)
    if x.size == 0 or not np.isfinite(x).all():
        return ref.max_pool2d_with_indices(x, kernel_size, stride, padding, max_bytes=max_bytes)
    _budget("max_pool2d_with_indices", x, spec, max_bytes, 3, outputs=4)
    k, s, p, out_hw = spec.kernel_size, _steps(spec), spec.padding, spec.out_size
    # the first maximum in row-major window order, r = a * k_w + b (see _phases.py)
    y, r = _phases.max_pool_with_offsets(_pad(x, p, -np.inf) if any(p) else x, k, s, out_hw)
    # from the offset inside the window to row and column in the unpadded input
    rows = np.arange(out_hw[0])[:, None] * s[0] + r // k[1] - p[0]
    cols = np.arange(out_hw[1])[None, :] * s[1] + r % k[1] - p[1]
    return y, (rows * x.shape[3] + cols).astype(np.int64)


def max_pool2d_backward(dy, x, kernel_size, stride=None, padding=0, indices=None, *, max_bytes=None):
    """max_pool2d_backward(dy, x, kernel_size, stride=None, padding=0, indices=None, *, max_bytes=None) -> ndarray

    :func:`coursecnn.ref.max_pool2d_backward`, faster: same arguments, result and errors.

    Example::

        >>> max_pool2d_backward(np.ones((1, 1, 1, 1)), np.array([[[[1.0, 3.0], [2.0, 0.0]]]]), 2)[0, 0].tolist()
        [[0.0, 1.0], [0.0, 0.0]]
    """
    fname = "max_pool2d_backward"
    x, spec = pool_array(fname, x, kernel_size, stride, padding)
    dy = _check_dy(fname, dy, x, spec.out_size)
    k, s, p, out_hw = spec.kernel_size, spec.stride, spec.padding, spec.out_size
    if indices is not None:  # dx alone: no budget (ref has none here either)
        sw = ref.pool._check_switches(indices, dy.shape, x.shape[2:], fname, "indices")
        _check_in_windows(sw, x.shape[3], k, s, p)
        return _scatter_switches(dy, sw, x.shape)
    _budget(fname, x, spec, max_bytes, 4)
    # the phase planes multiply dy by 0/1 masks: a NaN or inf in dy must take the reference's path
    if x.size == 0 or not np.isfinite(x).all() or not np.isfinite(dy).all():
        return ref.max_pool2d_backward(dy, x, kernel_size, stride, padding, max_bytes=max_bytes)
    xp, s = _pad(x, p, -np.inf) if any(p) else x, _steps(spec)
    # offset by offset over the window, first to last: see _phases.py
    return _unpad(_phases.max_pool_backward(dy, xp, k, s, out_hw), p, x.shape[2:])


def avg_pool2d_backward(dy, x, kernel_size, stride=None, padding=0, *, max_bytes=None):
    """avg_pool2d_backward(dy, x, kernel_size, stride=None, padding=0, *, max_bytes=None) -> ndarray

    :func:`coursecnn.ref.avg_pool2d_backward`, faster: same arguments, result and errors.

    Example::

        >>> avg_pool2d_backward(np.ones((1, 1, 1, 1)), np.zeros((1, 1, 2, 2)), 2)[0, 0].tolist()
        [[0.25, 0.25], [0.25, 0.25]]
    """
    fname = "avg_pool2d_backward"
    x, spec = pool_array(fname, x, kernel_size, stride, padding)
    dy = _check_dy(fname, dy, x, spec.out_size)
    _budget(fname, x, spec, max_bytes, 3)
    if x.size == 0:
        return np.zeros(x.shape, dy.dtype)
    k, s, p = spec.kernel_size, _steps(spec), spec.padding
    h, w = x.shape[2:]
    # one step per offset in the window, that offset of every window at once (on contiguous
    # phase planes: see _phases.py)
    dxp = _phases.avg_pool_backward(dy, x.shape[:2] + (h + 2 * p[0], w + 2 * p[1]), k, s, spec.out_size)
    return _unpad(dxp, p, (h, w))


def nmax_pool2d_backward(dy, x, kernel_size, n, stride=None, padding=0, *, max_bytes=None):
    """nmax_pool2d_backward(dy, x, kernel_size, n, stride=None, padding=0, *, max_bytes=None) -> ndarray

    :func:`coursecnn.ref.nmax_pool2d_backward`, faster: same arguments, result and errors.

    Example::

        >>> nmax_pool2d_backward(np.ones((1, 1, 1, 1)), np.array([[[[4.0, 1.0], [3.0, 2.0]]]]), 2, n=2)[0, 0].tolist()
        [[0.5, 0.0], [0.5, 0.0]]
    """
    fname = "nmax_pool2d_backward"
    x, spec = pool_array(fname, x, kernel_size, stride, padding)
    n = ref.pool._check_n(n, spec, x.shape[2:])
    dy = _check_dy(fname, dy, x, spec.out_size)
    taps = spec.kernel_size[0] * spec.kernel_size[1]
    if x.size == 0 or taps > _PAIRWISE_TAPS or not np.isfinite(x).all() or not np.isfinite(dy).all():
        return ref.nmax_pool2d_backward(dy, x, kernel_size, n, stride, padding, max_bytes=max_bytes)
    _budget(fname, x, spec, max_bytes, 4, window_bytes=3)
    k, s, p = spec.kernel_size, _steps(spec), spec.padding
    dxp = _phases.nmax_pool_backward(dy, _pad(x, p, -np.inf) if any(p) else x, k, s, spec.out_size, n)
    return _unpad(dxp, p, x.shape[2:])
