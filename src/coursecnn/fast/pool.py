"""Pooling in NumPy: max, average and N-max pooling, their backward passes, and unpooling.

Each operation comes twice: a ``*_naive`` version with explicit loops that reads like the
definition, and a fast version that handles one window *offset* ``(u, v)`` of every window at
once, so its loops run over the ``k_h * k_w`` offsets only. The forward passes reduce strided
views of the input (rows of each window, then columns); the backward passes, the switches and
N-max pooling work on contiguous *phase planes* (``_phases.py``).

Semantics follow ``torch.nn.functional``: layout ``(N, C, H, W)``, ``stride`` defaults to
``kernel_size``, output sizes are floored, ``padding`` is at most half the kernel, max pooling
pads with ``-inf`` and average pooling pads with zeros that count in the mean (PyTorch's
``count_include_pad=True``).
"""

import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .._checks import as_array, non_negative, pair, positive
from . import _phases

__all__ = [
    "pool_output_shape",
    "max_pool2d",
    "max_pool2d_naive",
    "avg_pool2d",
    "avg_pool2d_naive",
    "nmax_pool2d",
    "nmax_pool2d_naive",
    "max_pool2d_backward",
    "max_pool2d_backward_naive",
    "avg_pool2d_backward",
    "avg_pool2d_backward_naive",
    "nmax_pool2d_backward",
    "nmax_pool2d_backward_naive",
    "max_pool2d_with_indices",
    "max_unpool2d",
    "pool_switches_mask",
]

_LAYOUT = "(N, C, H, W)"


# --------------------------------------------------------------------------- argument checks


def _pool_args(x, kernel_size, stride, padding, name):
    """Check the arguments shared by every pooling function.

    Returns ``(x, k, s, p, out_hw)`` with ``x`` a float array and the rest pairs of ints.
    """
    x = as_array(x, "x", 4, _LAYOUT)
    k = positive(pair(kernel_size, "kernel_size"), "kernel_size")
    s = k if stride is None else positive(pair(stride, "stride"), "stride")
    p = non_negative(pair(padding, "padding"), "padding")
    # PyTorch's rule: a window may hang over the border by at most half its size, so every
    # window still holds at least one real input value.
    if any(2 * pi > ki for pi, ki in zip(p, k)):
        raise ValueError(
            f"{name}: padding should be at most half of kernel_size, got padding={p} "
            f"for kernel_size={k}"
        )
    padded = (x.shape[2] + 2 * p[0], x.shape[3] + 2 * p[1])
    if any(ki > hi for ki, hi in zip(k, padded)):
        raise ValueError(
            f"{name}: kernel_size={k} is larger than the padded input {padded} "
            f"(input {x.shape[2:]} with padding={p})"
        )
    out_hw = tuple((hi - ki) // si + 1 for hi, ki, si in zip(padded, k, s))
    return x, k, s, p, out_hw


def _check_dy(dy, x, out_hw, name):
    """``dy`` must have the shape of the forward output."""
    dy = as_array(dy, "dy", 4, _LAYOUT)
    expected = x.shape[:2] + out_hw
    if dy.shape != expected:
        raise ValueError(f"{name}: dy must have the output's shape {expected}, got {dy.shape}")
    return dy


def _check_n(n, k, p, x_hw, s, out_hw):
    """``n`` must be an int from 1 to the window size, and no window may hold fewer real
    (unpadded) values than ``n`` (otherwise the mean would take in ``-inf``)."""
    m = k[0] * k[1]
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral):
        raise TypeError(f"nmax_pool2d: n must be an int from 1 to {m} (the window size), got {n!r}")
    if not 1 <= n <= m:
        raise ValueError(f"nmax_pool2d: n must be from 1 to {m} (the window size k*k), got {n}")
    fewest = 1
    for ki, pi, hi, si, oi in zip(k, p, x_hw, s, out_hw):
        starts = np.arange(oi) * si - pi
        real = np.minimum(starts + ki, hi) - np.maximum(starts, 0)
        fewest *= int(real.min())
    if n > fewest:
        raise ValueError(
            f"nmax_pool2d: n={n} is larger than the {fewest} real input values in a border window "
            f"(padding={p}); use a smaller n or less padding"
        )
    return int(n)


def _pad(x, p, value):
    """A new array: ``x`` with ``p[0]`` rows and ``p[1]`` columns of ``value`` on each side."""
    return np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])), constant_values=value)


def _windows(x, k, s, p, out_hw, value):
    """All pooling windows as an array of shape ``(N, C, H_out, W_out, k_h * k_w)``."""
    xp = _pad(x, p, value)
    # A view of shape (N, C, H_p - k_h + 1, W_p - k_w + 1, k_h, k_w): every window at stride 1.
    view = sliding_window_view(xp, k, axis=(2, 3))
    # Keep every s-th window start, and only the first H_out x W_out (PyTorch floors).
    view = view[:, :, :: s[0], :: s[1]][:, :, : out_hw[0], : out_hw[1]]
    # Flatten each k_h x k_w window in row-major order (this copies): index r = a * k_w + b.
    return view.reshape(view.shape[:4] + (k[0] * k[1],))


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


def _scatter(values, r, x_shape, k, s, p, out_hw):
    """Add ``values`` (shape ``(N, C, H_out, W_out)``) into a zero array of the input's shape at
    the window offsets ``r`` (same shape, row-major index inside each window)."""
    n, c, h, w = x_shape
    dxp = np.zeros((n, c, h + 2 * p[0], w + 2 * p[1]), dtype=values.dtype)
    # Padded coordinates of each chosen entry: window start plus offset inside the window.
    rows = np.arange(out_hw[0])[:, None] * s[0] + r // k[1]
    cols = np.arange(out_hw[1])[None, :] * s[1] + r % k[1]
    nn = np.arange(n)[:, None, None, None]
    cc = np.arange(c)[None, :, None, None]
    # np.add.at accumulates where overlapping windows pick the same entry (stride < kernel).
    np.add.at(dxp, (nn, cc, rows, cols), values)
    return dxp[:, :, p[0] : p[0] + h, p[1] : p[1] + w]


def _check_switches(switches, shape, hw, name, arg):
    """``switches`` must be integers of the given ``shape``, each a flat index ``row * W + col``
    into an ``hw`` plane. Returns them as an integer array."""
    sw = np.asarray(switches)
    if not np.issubdtype(sw.dtype, np.integer):
        raise TypeError(
            f"{name}: {arg} must be an integer array (the switches from max_pool2d_with_indices), "
            f"got dtype {sw.dtype}"
        )
    if sw.shape != tuple(shape):
        raise ValueError(f"{name}: {arg} must have the pooled output's shape {tuple(shape)}, got {sw.shape}")
    plane = hw[0] * hw[1]
    if sw.size and (sw.min() < 0 or sw.max() >= plane):
        raise ValueError(
            f"{name}: {arg} must lie in [0, {plane}) for a plane of size {tuple(hw)}, "
            f"got values from {sw.min()} to {sw.max()}"
        )
    return sw


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


def _topn_offsets(win, n):
    """Offsets of the ``n`` largest entries in each window, ties broken by the earlier entry
    (row-major order), as an array of shape ``win.shape[:-1] + (n,)``."""
    # A stable sort of the negated values keeps equal values in their original order.
    return np.argsort(-win, axis=-1, kind="stable")[..., :n]


# --------------------------------------------------------------------------- forward


def pool_output_shape(x_shape, kernel_size, stride=None, padding=0):
    """pool_output_shape(x_shape, kernel_size, stride=None, padding=0) -> tuple

    The shape ``(N, C, H_out, W_out)`` that pooling gives, with PyTorch's floored sizes
    ``H_out = floor((H + 2 * padding - kernel_size) / stride) + 1``.

    Args:
        x_shape: the input's shape ``(N, C, H, W)``.
        kernel_size, stride, padding: as for :func:`max_pool2d`.

    Returns:
        A tuple of 4 ints.

    Example::

        >>> pool_output_shape((1, 3, 7, 7), 2)
        (1, 3, 3, 3)
    """
    if isinstance(x_shape, (str, bytes)) or not hasattr(x_shape, "__len__"):
        raise TypeError(f"pool_output_shape: x_shape must be a tuple of 4 ints {_LAYOUT}, got {x_shape!r}")
    x_shape = tuple(x_shape)
    if len(x_shape) != 4:
        raise ValueError(f"pool_output_shape: x_shape must be a tuple of 4 ints {_LAYOUT}, got {x_shape}")
    if not all(isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_)) and v >= 0 for v in x_shape):
        raise ValueError(
            f"pool_output_shape: x_shape must hold 4 non-negative ints {_LAYOUT}, got {x_shape}"
        )
    x_shape = tuple(int(v) for v in x_shape)
    # A zero-stride view of that shape: the checks see the shape without allocating the array.
    x = np.broadcast_to(np.zeros((), dtype=np.float64), x_shape)
    _, _, _, _, out_hw = _pool_args(x, kernel_size, stride, padding, "pool_output_shape")
    return x_shape[:2] + out_hw


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """max_pool2d(x, kernel_size, stride=None, padding=0) -> ndarray

    The largest value of each ``k_h x k_w`` window, channel by channel (vectorized).

    Args:
        x: input of shape ``(N, C, H, W)``.
        kernel_size: the window, an int or a pair ``(k_h, k_w)``.
        stride: step between windows, an int or a pair. Default: ``kernel_size``.
        padding: implicit ``-inf`` added on each side, an int or a pair, at most half the
            kernel. Default: ``0``.

    Returns:
        An array of shape ``(N, C, H_out, W_out)``,
        ``H_out = floor((H + 2 * padding[0] - k_h) / stride[0]) + 1`` (likewise ``W_out``).

    Example::

        >>> x = np.array([[[[12, 20, 30, 0], [8, 12, 2, 0],
        ...                 [34, 70, 37, 4], [112, 100, 25, 12]]]])
        >>> max_pool2d(x, 2)[0, 0]
        array([[ 20.,  30.],
               [112.,  37.]])
    """
    x, k, s, p, out_hw = _pool_args(x, kernel_size, stride, padding, "max_pool2d")
    xp = _pad(x, p, -np.inf) if any(p) else x
    return _reduce_windows(xp, k, s, out_hw, np.maximum)


def max_pool2d_naive(x, kernel_size, stride=None, padding=0):
    """max_pool2d_naive(x, kernel_size, stride=None, padding=0) -> ndarray

    :func:`max_pool2d` written with loops over every output entry.

    Args:
        x: input of shape ``(N, C, H, W)``.
        kernel_size, stride, padding: as for :func:`max_pool2d`.

    Returns:
        An array of shape ``(N, C, H_out, W_out)``.

    Example::

        >>> max_pool2d_naive(np.arange(16.0).reshape(1, 1, 4, 4), 2)[0, 0]
        array([[ 5.,  7.],
               [13., 15.]])
    """
    x, k, s, p, out_hw = _pool_args(x, kernel_size, stride, padding, "max_pool2d_naive")
    xp = _pad(x, p, -np.inf)
    y = np.empty(x.shape[:2] + out_hw, dtype=x.dtype)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(out_hw[0]):
                for j in range(out_hw[1]):
                    top, left = i * s[0], j * s[1]
                    y[n, c, i, j] = xp[n, c, top : top + k[0], left : left + k[1]].max()
    return y


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """avg_pool2d(x, kernel_size, stride=None, padding=0) -> ndarray

    The mean of each ``k_h x k_w`` window (vectorized). Padded zeros count in the mean, so each
    window is divided by ``k_h * k_w`` (PyTorch's default ``count_include_pad=True``).

    Args:
        x: input of shape ``(N, C, H, W)``.
        kernel_size: the window, an int or a pair ``(k_h, k_w)``.
        stride: step between windows, an int or a pair. Default: ``kernel_size``.
        padding: implicit zeros on each side, an int or a pair, at most half the kernel.
            Default: ``0``.

    Returns:
        An array of shape ``(N, C, H_out, W_out)`` (sizes as in :func:`max_pool2d`).

    Example::

        >>> avg_pool2d(np.arange(16.0).reshape(1, 1, 4, 4), 2)[0, 0]
        array([[ 2.5,  4.5],
               [10.5, 12.5]])
    """
    x, k, s, p, out_hw = _pool_args(x, kernel_size, stride, padding, "avg_pool2d")
    xp = _pad(x, p, 0.0) if any(p) else x
    y = _reduce_windows(xp, k, s, out_hw, np.add)
    y /= k[0] * k[1]  # in place: float32 stays float32
    return y


def avg_pool2d_naive(x, kernel_size, stride=None, padding=0):
    """avg_pool2d_naive(x, kernel_size, stride=None, padding=0) -> ndarray

    :func:`avg_pool2d` written with loops over every output entry.

    Args:
        x: input of shape ``(N, C, H, W)``.
        kernel_size, stride, padding: as for :func:`avg_pool2d`.

    Returns:
        An array of shape ``(N, C, H_out, W_out)``.

    Example::

        >>> avg_pool2d_naive(np.ones((1, 1, 2, 2)), 2)[0, 0]
        array([[1.]])
    """
    x, k, s, p, out_hw = _pool_args(x, kernel_size, stride, padding, "avg_pool2d_naive")
    xp = _pad(x, p, 0.0)
    m = k[0] * k[1]
    y = np.empty(x.shape[:2] + out_hw, dtype=x.dtype)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(out_hw[0]):
                for j in range(out_hw[1]):
                    top, left = i * s[0], j * s[1]
                    y[n, c, i, j] = xp[n, c, top : top + k[0], left : left + k[1]].sum() / m
    return y


def nmax_pool2d(x, kernel_size, n, stride=None, padding=0):
    """nmax_pool2d(x, kernel_size, n, stride=None, padding=0) -> ndarray

    N-max pooling: the mean of the ``n`` largest values of each window (vectorized).
    ``n = 1`` is max pooling; ``n = k_h * k_w`` is average pooling (without padding).

    Args:
        x: input of shape ``(N, C, H, W)``.
        kernel_size: the window, an int or a pair ``(k_h, k_w)``.
        n: how many of the largest values to average, an int from 1 to ``k_h * k_w``.
        stride: step between windows, an int or a pair. Default: ``kernel_size``.
        padding: implicit ``-inf`` on each side (never chosen), an int or a pair, at most half
            the kernel; every window must still hold at least ``n`` real values. Default: ``0``.

    Returns:
        An array of shape ``(N, C, H_out, W_out)`` (sizes as in :func:`max_pool2d`).

    Example::

        >>> x = np.array([[[[0.5, 0.2, 0, 0.2], [0, 0, 0.6, 0],
        ...                 [0, 0.4, 0, 0.2], [0, 0, 0.6, 0]]]])
        >>> nmax_pool2d(x, 2, n=2)[0, 0]
        array([[0.35, 0.4 ],
               [0.2 , 0.4 ]])
    """
    x, k, s, p, out_hw = _pool_args(x, kernel_size, stride, padding, "nmax_pool2d")
    n = _check_n(n, k, p, x.shape[2:], s, out_hw)
    if np.isfinite(x).all():
        # Rank the entries of every window by pairwise comparisons: see _phases.py.
        return _phases.nmax_pool_forward(_pad(x, p, -np.inf) if any(p) else x, k, s, out_hw, n)
    # Infinities or NaN: sorting each window ascending puts the n largest last.
    win = _windows(x, k, s, p, out_hw, -np.inf)
    return np.sort(win, axis=-1)[..., -n:].mean(axis=-1)


def nmax_pool2d_naive(x, kernel_size, n, stride=None, padding=0):
    """nmax_pool2d_naive(x, kernel_size, n, stride=None, padding=0) -> ndarray

    :func:`nmax_pool2d` written with loops over every output entry.

    Args:
        x: input of shape ``(N, C, H, W)``.
        kernel_size, n, stride, padding: as for :func:`nmax_pool2d`.

    Returns:
        An array of shape ``(N, C, H_out, W_out)``.

    Example::

        >>> nmax_pool2d_naive(np.array([[[[4.0, 1.0], [3.0, 2.0]]]]), 2, n=2)[0, 0]
        array([[3.5]])
    """
    x, k, s, p, out_hw = _pool_args(x, kernel_size, stride, padding, "nmax_pool2d_naive")
    n_top = _check_n(n, k, p, x.shape[2:], s, out_hw)
    xp = _pad(x, p, -np.inf)
    y = np.empty(x.shape[:2] + out_hw, dtype=x.dtype)
    for b in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(out_hw[0]):
                for j in range(out_hw[1]):
                    top, left = i * s[0], j * s[1]
                    values = sorted(xp[b, c, top : top + k[0], left : left + k[1]].ravel())
                    y[b, c, i, j] = sum(values[-n_top:]) / n_top
    return y


# --------------------------------------------------------------------------- backward


def max_pool2d_backward(dy, x, kernel_size, stride=None, padding=0, indices=None):
    """max_pool2d_backward(dy, x, kernel_size, stride=None, padding=0, indices=None) -> ndarray

    Gradient of :func:`max_pool2d` with respect to ``x``: each ``dy`` entry goes to the position
    of its window's maximum (the "switch"); every other entry gets 0. On a tie the first maximum
    in row-major window order wins, as in PyTorch. Where windows overlap, gradients add up.

    Args:
        dy: gradient of the output, shape ``(N, C, H_out, W_out)``.
        x: the forward input, shape ``(N, C, H, W)``.
        kernel_size, stride, padding: as in the forward call.
        indices: the switches saved by the forward pass, as returned by
            :func:`max_pool2d_with_indices` (an integer array of ``dy``'s shape). Default:
            ``None``, meaning find the maxima in ``x`` again. With them the backward pass only
            scatters ``dy``, as PyTorch's does, which is several times faster.

    Returns:
        ``dx``, an array of shape ``(N, C, H, W)``.

    Example::

        >>> x = np.array([[[[1.0, 3.0], [2.0, 0.0]]]])
        >>> max_pool2d_backward(np.ones((1, 1, 1, 1)), x, 2)[0, 0]
        array([[0., 1.],
               [0., 0.]])
    """
    x, k, s, p, out_hw = _pool_args(x, kernel_size, stride, padding, "max_pool2d_backward")
    dy = _check_dy(dy, x, out_hw, "max_pool2d_backward")
    dy = dy.astype(np.result_type(dy, x), copy=False)
    if indices is not None:
        sw = _check_switches(indices, dy.shape, x.shape[2:], "max_pool2d_backward", "indices")
        _check_in_windows(sw, x.shape[3], k, s, p)
        return _scatter_switches(dy, sw, x.shape)
    xp = _pad(x, p, -np.inf) if any(p) else x
    # Offset by offset over the window, first to last: see _phases.py.
    dxp = _phases.max_pool_backward(dy, xp, k, s, out_hw)
    return dxp[:, :, p[0] : p[0] + x.shape[2], p[1] : p[1] + x.shape[3]]


def max_pool2d_backward_naive(dy, x, kernel_size, stride=None, padding=0):
    """max_pool2d_backward_naive(dy, x, kernel_size, stride=None, padding=0) -> ndarray

    :func:`max_pool2d_backward` written with loops over every output entry.

    Args:
        dy: gradient of the output, shape ``(N, C, H_out, W_out)``.
        x: input of shape ``(N, C, H, W)``.
        kernel_size, stride, padding: as for :func:`max_pool2d_backward`.

    Returns:
        ``dx``, an array of shape ``(N, C, H, W)``.

    Example::

        >>> x = np.array([[[[1.0, 3.0], [2.0, 0.0]]]])
        >>> max_pool2d_backward_naive(np.full((1, 1, 1, 1), 5.0), x, 2)[0, 0]
        array([[0., 5.],
               [0., 0.]])
    """
    x, k, s, p, out_hw = _pool_args(x, kernel_size, stride, padding, "max_pool2d_backward_naive")
    dy = _check_dy(dy, x, out_hw, "max_pool2d_backward_naive")
    xp = _pad(x, p, -np.inf)
    dxp = np.zeros(xp.shape, dtype=np.result_type(dy, x))
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(out_hw[0]):
                for j in range(out_hw[1]):
                    top, left = i * s[0], j * s[1]
                    window = xp[n, c, top : top + k[0], left : left + k[1]]
                    # The first maximum in row-major order.
                    a, b = np.unravel_index(np.argmax(window), window.shape)
                    dxp[n, c, top + a, left + b] += dy[n, c, i, j]
    return dxp[:, :, p[0] : p[0] + x.shape[2], p[1] : p[1] + x.shape[3]]


def avg_pool2d_backward(dy, x, kernel_size, stride=None, padding=0):
    """avg_pool2d_backward(dy, x, kernel_size, stride=None, padding=0) -> ndarray

    Gradient of :func:`avg_pool2d` with respect to ``x``: every entry of a window gets
    ``1 / m`` of the window's ``dy`` (``m = k_h * k_w``); overlapping windows add up.
    Only ``x``'s shape is used (the mean is linear).

    Args:
        dy: gradient of the output, shape ``(N, C, H_out, W_out)``.
        x: the forward input (or any array of its shape), ``(N, C, H, W)``.
        kernel_size, stride, padding: as in the forward call.

    Returns:
        ``dx``, an array of shape ``(N, C, H, W)``.

    Example::

        >>> avg_pool2d_backward(np.ones((1, 1, 1, 1)), np.zeros((1, 1, 2, 2)), 2)[0, 0]
        array([[0.25, 0.25],
               [0.25, 0.25]])
    """
    x, k, s, p, out_hw = _pool_args(x, kernel_size, stride, padding, "avg_pool2d_backward")
    dy = _check_dy(dy, x, out_hw, "avg_pool2d_backward")
    h, w = x.shape[2:]
    dy = dy.astype(np.result_type(dy, x), copy=False)
    # One vectorized step per offset in the window, that offset of every window at once (on
    # contiguous phase planes: see _phases.py).
    dxp = _phases.avg_pool_backward(dy, x.shape[:2] + (h + 2 * p[0], w + 2 * p[1]), k, s, out_hw)
    return dxp[:, :, p[0] : p[0] + h, p[1] : p[1] + w]


def avg_pool2d_backward_naive(dy, x, kernel_size, stride=None, padding=0):
    """avg_pool2d_backward_naive(dy, x, kernel_size, stride=None, padding=0) -> ndarray

    :func:`avg_pool2d_backward` written with loops over every output entry.

    Args:
        dy: gradient of the output, shape ``(N, C, H_out, W_out)``.
        x: input of shape ``(N, C, H, W)``.
        kernel_size, stride, padding: as for :func:`avg_pool2d_backward`.

    Returns:
        ``dx``, an array of shape ``(N, C, H, W)``.

    Example::

        >>> avg_pool2d_backward_naive(np.ones((1, 1, 1, 1)), np.zeros((1, 1, 1, 2)), (1, 2))[0, 0]
        array([[0.5, 0.5]])
    """
    x, k, s, p, out_hw = _pool_args(x, kernel_size, stride, padding, "avg_pool2d_backward_naive")
    dy = _check_dy(dy, x, out_hw, "avg_pool2d_backward_naive")
    h, w = x.shape[2:]
    dxp = np.zeros(x.shape[:2] + (h + 2 * p[0], w + 2 * p[1]), dtype=np.result_type(dy, x))
    m = k[0] * k[1]
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(out_hw[0]):
                for j in range(out_hw[1]):
                    top, left = i * s[0], j * s[1]
                    dxp[n, c, top : top + k[0], left : left + k[1]] += dy[n, c, i, j] / m
    return dxp[:, :, p[0] : p[0] + h, p[1] : p[1] + w]


def nmax_pool2d_backward(dy, x, kernel_size, n, stride=None, padding=0):
    """nmax_pool2d_backward(dy, x, kernel_size, n, stride=None, padding=0) -> ndarray

    Gradient of :func:`nmax_pool2d` with respect to ``x``: each of a window's ``n`` largest
    entries gets ``1 / n`` of its ``dy``. Ties are broken by row-major order (the earlier entry is
    taken first), so ``n = 1`` gives :func:`max_pool2d_backward`.

    Args:
        dy: gradient of the output, shape ``(N, C, H_out, W_out)``.
        x: the forward input, shape ``(N, C, H, W)``.
        kernel_size, n, stride, padding: as in the forward call.

    Returns:
        ``dx``, an array of shape ``(N, C, H, W)``.

    Example::

        >>> x = np.array([[[[4.0, 1.0], [3.0, 2.0]]]])
        >>> nmax_pool2d_backward(np.ones((1, 1, 1, 1)), x, 2, n=2)[0, 0]
        array([[0.5, 0. ],
               [0.5, 0. ]])
    """
    x, k, s, p, out_hw = _pool_args(x, kernel_size, stride, padding, "nmax_pool2d_backward")
    n = _check_n(n, k, p, x.shape[2:], s, out_hw)
    dy = _check_dy(dy, x, out_hw, "nmax_pool2d_backward")
    if np.isfinite(x).all():
        dy = dy.astype(np.result_type(dy, x), copy=False)
        dxp = _phases.nmax_pool_backward(dy, _pad(x, p, -np.inf) if any(p) else x, k, s, out_hw, n)
        return dxp[:, :, p[0] : p[0] + x.shape[2], p[1] : p[1] + x.shape[3]]
    # Infinities or NaN: a stable sort of each window, then one scatter per rank.
    top = _topn_offsets(_windows(x, k, s, p, out_hw, -np.inf), n)
    share = (dy / n).astype(np.result_type(dy, x))
    dx = np.zeros(x.shape, dtype=share.dtype)
    for rank in range(n):
        dx += _scatter(share, top[..., rank], x.shape, k, s, p, out_hw)
    return dx


def nmax_pool2d_backward_naive(dy, x, kernel_size, n, stride=None, padding=0):
    """nmax_pool2d_backward_naive(dy, x, kernel_size, n, stride=None, padding=0) -> ndarray

    :func:`nmax_pool2d_backward` written with loops over every output entry.

    Args:
        dy: gradient of the output, shape ``(N, C, H_out, W_out)``.
        x: input of shape ``(N, C, H, W)``.
        kernel_size, n, stride, padding: as for :func:`nmax_pool2d_backward`.

    Returns:
        ``dx``, an array of shape ``(N, C, H, W)``.

    Example::

        >>> x = np.array([[[[4.0, 1.0], [3.0, 2.0]]]])
        >>> nmax_pool2d_backward_naive(np.ones((1, 1, 1, 1)), x, 2, n=3)[0, 0].round(3)
        array([[0.333, 0.   ],
               [0.333, 0.333]])
    """
    x, k, s, p, out_hw = _pool_args(x, kernel_size, stride, padding, "nmax_pool2d_backward_naive")
    n_top = _check_n(n, k, p, x.shape[2:], s, out_hw)
    dy = _check_dy(dy, x, out_hw, "nmax_pool2d_backward_naive")
    xp = _pad(x, p, -np.inf)
    dxp = np.zeros(xp.shape, dtype=np.result_type(dy, x))
    for b in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(out_hw[0]):
                for j in range(out_hw[1]):
                    top, left = i * s[0], j * s[1]
                    window = xp[b, c, top : top + k[0], left : left + k[1]]
                    offsets = [(u, v) for u in range(k[0]) for v in range(k[1])]
                    # Largest first; Python's sort is stable, so equal values keep row-major order.
                    offsets.sort(key=lambda uv: -window[uv])
                    for u, v in offsets[:n_top]:
                        dxp[b, c, top + u, left + v] += dy[b, c, i, j] / n_top
    return dxp[:, :, p[0] : p[0] + x.shape[2], p[1] : p[1] + x.shape[3]]


# --------------------------------------------------------------------------- switches and unpooling


def max_pool2d_with_indices(x, kernel_size, stride=None, padding=0):
    """max_pool2d_with_indices(x, kernel_size, stride=None, padding=0) -> (ndarray, ndarray)

    Max pooling that also returns the *switches*: where each maximum came from, as a flat index
    ``row * W + col`` into its input plane (PyTorch's ``return_indices=True``).

    Args:
        x: input of shape ``(N, C, H, W)``.
        kernel_size, stride, padding: as for :func:`max_pool2d`.

    Returns:
        ``(y, switches)``: ``y`` as from :func:`max_pool2d`, ``switches`` an int64 array of
        the same shape.

    Example::

        >>> y, sw = max_pool2d_with_indices(np.array([[[[1.0, 3.0], [2.0, 0.0]]]]), 2)
        >>> y[0, 0, 0, 0], sw[0, 0, 0, 0]
        (np.float64(3.0), np.int64(1))
    """
    x, k, s, p, out_hw = _pool_args(x, kernel_size, stride, padding, "max_pool2d_with_indices")
    # The first maximum in row-major window order, r = a * k_w + b (see _phases.py).
    y, r = _phases.max_pool_with_offsets(_pad(x, p, -np.inf) if any(p) else x, k, s, out_hw)
    # From the offset inside the window to row and column in the unpadded input.
    rows = np.arange(out_hw[0])[:, None] * s[0] + r // k[1] - p[0]
    cols = np.arange(out_hw[1])[None, :] * s[1] + r % k[1] - p[1]
    return y, (rows * x.shape[3] + cols).astype(np.int64)


def _unpool_size(output_size, in_hw, k, s, p):
    """The ``(H, W)`` that :func:`max_unpool2d` writes into, checked as PyTorch checks it
    (``torch.nn.functional._unpool_output_size``): the default is ``(H_in - 1) * stride - 2 *
    padding + kernel_size`` per axis, and a given size must lie strictly within ``stride`` of it,
    i.e. in ``[default - stride + 1, default + stride - 1]`` (the input sizes that pooling maps to
    ``H_in``, with or without ``ceil_mode``)."""
    default = tuple((n - 1) * si - 2 * pi + ki for n, si, pi, ki in zip(in_hw, s, p, k))
    if output_size is None:
        return default
    if isinstance(output_size, np.ndarray) and output_size.ndim == 1:
        output_size = output_size.tolist()
    if not isinstance(output_size, (tuple, list)):  # torch.Size is a tuple
        got = repr(output_size) if isinstance(output_size, numbers.Number) else f"a {type(output_size).__name__}"
        raise TypeError(f"max_unpool2d: output_size must be a tuple (H, W) or (N, C, H, W), got {got}")
    size = tuple(output_size)
    if len(size) not in (2, 4):
        raise ValueError(f"max_unpool2d: output_size must be (H, W) or (N, C, H, W), got {size}")
    if not all(isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_)) for v in size[-2:]):
        raise TypeError(f"max_unpool2d: output_size must hold ints (H, W) or (N, C, H, W), got {size}")
    hw = tuple(int(v) for v in size[-2:])
    for axis, v, d, si in zip("HW", hw, default, s):
        lo, hi = max(d - si + 1, 1), d + si - 1
        if not lo <= v <= hi:
            raise ValueError(
                f"max_unpool2d: output_size {size} does not fit this pooling: its {axis} must be in "
                f"[{lo}, {hi}] (the default {d} = ({axis}_in - 1) * stride - 2 * padding + kernel_size, "
                f"give or take stride - 1 = {si - 1}), got {v}"
            )
    return hw


def max_unpool2d(y, switches, kernel_size, stride=None, padding=0, output_size=None):
    """max_unpool2d(y, switches, kernel_size, stride=None, padding=0, output_size=None) -> ndarray

    A partial inverse of max pooling: each value of ``y`` goes back to the position its switch
    records; every other entry is 0 (``torch.nn.functional.max_unpool2d``).

    Args:
        y: pooled values, shape ``(N, C, H_in, W_in)``.
        switches: flat indices into each output plane, the shape of ``y`` (as returned by
            :func:`max_pool2d_with_indices`).
        kernel_size, stride, padding: as in the pooling call; ``stride`` defaults to
            ``kernel_size``.
        output_size: ``(H, W)`` (or a 4-tuple ending in them), to pick the size of the map that
            was pooled when several sizes pool to ``H_in``. Default: ``None``, meaning
            ``H = (H_in - 1) * stride - 2 * padding + kernel_size`` (likewise ``W``). As in
            PyTorch, a given ``H`` must be within ``stride - 1`` of that default (likewise ``W``).

    Returns:
        An array of shape ``(N, C, H, W)``.

    Example::

        >>> y, sw = max_pool2d_with_indices(np.array([[[[1.0, 3.0], [2.0, 0.0]]]]), 2)
        >>> max_unpool2d(y, sw, 2)[0, 0]
        array([[0., 3.],
               [0., 0.]])
    """
    y = as_array(y, "y", 4, _LAYOUT)
    k = positive(pair(kernel_size, "kernel_size"), "kernel_size")
    s = k if stride is None else positive(pair(stride, "stride"), "stride")
    p = non_negative(pair(padding, "padding"), "padding")
    hw = _unpool_size(output_size, y.shape[2:], k, s, p)
    if any(v < 1 for v in hw):
        raise ValueError(f"max_unpool2d: the output size must be positive, got {hw}")
    sw = _check_switches(switches, y.shape, hw, "max_unpool2d", "switches")
    plane = hw[0] * hw[1]
    n, c = y.shape[:2]
    out = np.zeros((n, c, plane), dtype=y.dtype)
    # Write every pooled value into its own plane at its switch (a plane is a flat row here).
    np.put_along_axis(out, sw.reshape(n, c, -1), y.reshape(n, c, -1), axis=-1)
    return out.reshape(n, c, hw[0], hw[1])


def pool_switches_mask(x, kernel_size, stride=None, padding=0):
    """pool_switches_mask(x, kernel_size, stride=None, padding=0) -> ndarray

    A boolean array of ``x``'s shape that is ``True`` where max pooling picked a value (the
    entries its backward pass sends gradient to). Handy for drawing the switches.

    Args:
        x: input of shape ``(N, C, H, W)``.
        kernel_size, stride, padding: as for :func:`max_pool2d`.

    Returns:
        A boolean array of shape ``(N, C, H, W)``.

    Example::

        >>> pool_switches_mask(np.array([[[[1.0, 3.0], [2.0, 0.0]]]]), 2)[0, 0]
        array([[False,  True],
               [False, False]])
    """
    x, k, s, p, out_hw = _pool_args(x, kernel_size, stride, padding, "pool_switches_mask")
    _, sw = max_pool2d_with_indices(x, k, s, p)
    mask = np.zeros(x.shape[:2] + (x.shape[2] * x.shape[3],), dtype=bool)
    np.put_along_axis(mask, sw.reshape(x.shape[0], x.shape[1], -1), True, axis=-1)
    return mask.reshape(x.shape)
