"""Pooling in NumPy: max, average and N-max pooling, their backward passes, and unpooling.

Each operation comes twice: a ``*_naive`` version with loops over the outputs that reads like
the definition, and a vectorized one that lays every window out along a last axis (a
``sliding_window_view`` and one reshape) and reduces it. Max pooling's backward pass goes
through the *switches*: the forward pass notes where each maximum came from, and the backward
pass sends each gradient there. ``coursecnn.fast`` holds faster versions of these functions.

Semantics follow ``torch.nn.functional``: layout ``(N, C, H, W)``, ``stride`` defaults to
``kernel_size``, output sizes are floored, ``padding`` is at most half the kernel. Max pooling
never picks the padding; a NaN in a window wins it (the last NaN, as PyTorch scans the window),
otherwise the first maximum does. Average pooling pads with zeros that count in the mean
(PyTorch's ``count_include_pad=True``).
"""

import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .._checks import as_array, memory_budget, pool_array, pool_budget, pool_spec

__all__ = [
    "pool_output_shape",
    "pool_windows",
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


# --------------------------------------------------------------------------- helpers


def pool_windows(x, kernel_size, stride=None, padding=0, fill=0.0, *,
                 max_bytes=None):
    """pool_windows(x, kernel_size, stride=None, padding=0, fill=0.0, *,
    max_bytes=None) -> ndarray

    Every pooling window of ``x`` as one row of numbers: the last axis of the
    result runs over a window's ``k_h * k_w`` entries in row-major order.

    Args:
        x: input of shape ``(N, C, H, W)``.
        kernel_size, stride, padding: as for :func:`max_pool2d`.
        fill: the value of the padding. Default: ``0.0``.
        max_bytes (int): refuse to run when the windows, the padded input
            and the output would take more memory than this. Default:
            ``None``, meaning 1 GiB.

    Returns:
        A new array of shape ``(N, C, H_out, W_out, k_h * k_w)``.

    Example::

        >>> pool_windows(np.arange(16.0).reshape(1, 1, 4, 4), 2)[0, 0, 0]
        array([[0., 1., 4., 5.],
               [2., 3., 6., 7.]])
    """
    x, spec = pool_array("pool_windows", x, kernel_size, stride, padding)
    _budget("pool_windows", x, spec, max_bytes, x.itemsize)
    (k_h, k_w), (s_h, s_w) = spec.kernel_size, spec.stride
    (p_h, p_w), (H_out, W_out) = spec.padding, spec.out_size
    pads = ((0, 0), (0, 0), (p_h, p_h), (p_w, p_w))
    xp = np.pad(x, pads, constant_values=fill)
    # (N, C, H_p - k_h + 1, W_p - k_w + 1, k_h, k_w): a window at every
    # pixel, a view (nothing is copied)
    view = sliding_window_view(xp, (k_h, k_w), axis=(2, 3))
    # every s-th window, as many as fit: (N, C, H_out, W_out, k_h, k_w)
    view = view[:, :, ::s_h, ::s_w][:, :, :H_out, :W_out]
    # -> (N, C, H_out, W_out, k_h * k_w): entry a * k_w + b of a row is the
    # window's pixel (a, b); this reshape copies
    return view.reshape(x.shape[:2] + (H_out, W_out, k_h * k_w))


def _budget(fname, x, spec, max_bytes, window_bytes, outputs=1):
    """The pooling budget: each window laid out costs ``window_bytes`` per entry (a copy of the
    values, and the masks and indices of the function); ``coursecnn.fast`` copies none."""
    pool_budget(fname, x.shape, spec, x.itemsize, max_bytes, window_bytes, 1,
                f"use coursecnn.fast.{fname}, which copies no window, a smaller kernel_size or padding, "
                "a larger stride or a smaller batch" if window_bytes else None, outputs=outputs)


def _windows(x, spec, fill):
    """:func:`pool_windows` for a caller that has checked its own budget."""
    return pool_windows(x, spec.kernel_size, spec.stride, spec.padding, fill, max_bytes=float("inf"))


def _real(x, spec):
    """The windows of a mask: True where an entry is a real pixel, False on padding."""
    return _windows(np.ones((1, 1) + x.shape[2:]), spec, 0.0) > 0


def _switch_search_bytes(x):
    """Bytes per window entry of the switches' search: the windows, two boolean masks, and one
    plane's mask of real entries (float, then bool) shared by the ``N C`` planes."""
    return x.itemsize + 2 + 9 / max(1, x.shape[0] * x.shape[1])


def _clip(spec, i, j, h, w):
    """The rows and columns of window ``(i, j)`` that lie inside an ``h x w`` input (the
    padding cut off)."""
    top, left = i * spec.stride[0] - spec.padding[0], j * spec.stride[1] - spec.padding[1]
    rows = slice(max(top, 0), min(top + spec.kernel_size[0], h))
    cols = slice(max(left, 0), min(left + spec.kernel_size[1], w))
    return rows, cols


def _torch_argmax(window):
    """Where PyTorch finds a window's maximum: the last NaN if there is one (a NaN beats
    everything it meets), otherwise the first largest value."""
    flat = window.ravel()
    nans = np.flatnonzero(np.isnan(flat))
    r = nans[-1] if nans.size else np.argmax(flat)
    return np.unravel_index(r, window.shape)


def _check_n(n, spec, x_hw):
    """``n`` must be an int from 1 to the window size, and no window may hold fewer real
    (unpadded) values than ``n`` (otherwise the mean would take in padding)."""
    (k_h, k_w) = spec.kernel_size
    m = k_h * k_w
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral):
        raise TypeError(f"nmax_pool2d: n must be an int from 1 to {m} (the window size), got {n!r}")
    if not 1 <= n <= m:
        raise ValueError(f"nmax_pool2d: n must be from 1 to {m} (the window size k*k), got {n}")
    fewest = 1
    for k, s, p, size, out in zip(spec.kernel_size, spec.stride, spec.padding, x_hw, spec.out_size):
        starts = np.arange(out) * s - p
        real = np.minimum(starts + k, size) - np.maximum(starts, 0)
        fewest *= int(real.min())
    if n > fewest:
        raise ValueError(
            f"nmax_pool2d: n={n} is larger than the {fewest} real input values in a border window "
            f"(padding={spec.padding}); use a smaller n or less padding"
        )
    return int(n)


def _check_dy(fname, dy, x, spec):
    """``dy`` must have the shape of the forward output; the result has one dtype with ``x``."""
    dy = as_array(dy, f"{fname}: dy", 4, _LAYOUT)
    expected = x.shape[:2] + spec.out_size
    if dy.shape != expected:
        raise ValueError(f"{fname}: dy must have the output's shape {expected}, got {dy.shape}")
    return dy.astype(np.result_type(dy, x), copy=False)


def _to_plane(spec, r, x_w):
    """Offsets ``r = a * k_w + b`` inside the windows -> flat indices ``row * W + col`` into
    the (unpadded) input plane."""
    H_out, W_out = spec.out_size
    k_w = spec.kernel_size[1]
    rows = np.arange(H_out)[:, None] * spec.stride[0] - spec.padding[0] + r // k_w
    cols = np.arange(W_out)[None, :] * spec.stride[1] - spec.padding[1] + r % k_w
    return rows * x_w + cols


def _scatter(dy, flat_index, x_shape):
    """A zero array of ``x_shape`` (``(N, C, H, W)``) with each ``dy`` entry added at its
    plane's ``flat_index``; where windows share an entry, their gradients add up."""
    N, C, H, W = x_shape
    dx = np.zeros((N, C, H * W), dtype=dy.dtype)
    # np.add.at, not dx[...] += dy: a repeated index must add every time
    n = np.arange(N)[:, None, None, None]
    c = np.arange(C)[None, :, None, None]
    np.add.at(dx, (n, c, flat_index), dy)
    return dx.reshape(x_shape)


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
    if len(x_shape) != 4 or not all(
        isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_)) and v >= 0 for v in x_shape
    ):
        raise ValueError(f"pool_output_shape: x_shape must hold 4 non-negative ints {_LAYOUT}, got {x_shape}")
    spec = pool_spec("pool_output_shape", x_shape, kernel_size, stride, padding)
    return tuple(int(v) for v in x_shape[:2]) + spec.out_size


def max_pool2d(x, kernel_size, stride=None, padding=0, *,
               max_bytes=None):
    """max_pool2d(x, kernel_size, stride=None, padding=0, *,
    max_bytes=None) -> ndarray

    The largest value of each ``k_h x k_w`` window, channel by channel
    (vectorized: every window laid out as a row, then one maximum per row).

    Args:
        x: input of shape ``(N, C, H, W)``.
        kernel_size: the window, an int or a pair ``(k_h, k_w)``.
        stride: step between windows, an int or a pair.
            Default: ``kernel_size``.
        padding: implicit ``-inf`` added on each side, an int or a pair, at
            most half the kernel. Default: ``0``.
        max_bytes (int): refuse to run when the windows laid out, the
            padded input and the output would take more memory than this.
            Default: ``None``, meaning 1 GiB.

    Returns:
        An array of shape ``(N, C, H_out, W_out)``, with
        ``H_out = floor((H + 2 p_h - k_h) / s_h) + 1`` (likewise ``W_out``).

    Example::

        >>> x = np.array([[[[12, 20, 30, 0], [8, 12, 2, 0],
        ...                 [34, 70, 37, 4], [112, 100, 25, 12]]]])
        >>> max_pool2d(x, 2)[0, 0]
        array([[ 20.,  30.],
               [112.,  37.]])
    """
    x, spec = pool_array("max_pool2d", x, kernel_size, stride, padding)
    # memory first: the windows are copied (fast.max_pool2d copies none)
    _budget("max_pool2d", x, spec, max_bytes, x.itemsize)
    windows = pool_windows(x, kernel_size, stride, padding, fill=-np.inf,
                           max_bytes=np.inf)
    # -inf padding never wins; np.max lets a NaN win, as PyTorch does
    return windows.max(axis=-1)



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
    x, spec = pool_array("max_pool2d_naive", x, kernel_size, stride, padding)
    N, C, H, W = x.shape
    H_out, W_out = spec.out_size
    y = np.empty((N, C, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    # the window, with the padding cut off
                    rows, cols = _clip(spec, i, j, H, W)
                    y[n, c, i, j] = x[n, c, rows, cols].max()
    return y


def avg_pool2d(x, kernel_size, stride=None, padding=0, *, max_bytes=None):
    """avg_pool2d(x, kernel_size, stride=None, padding=0, *, max_bytes=None) -> ndarray

    The mean of each ``k_h x k_w`` window (vectorized). Padded zeros count in the mean, so each
    window is divided by ``k_h * k_w`` (PyTorch's default ``count_include_pad=True``).

    Args:
        x: input of shape ``(N, C, H, W)``.
        kernel_size: the window, an int or a pair ``(k_h, k_w)``.
        stride: step between windows, an int or a pair. Default: ``kernel_size``.
        padding: implicit zeros on each side, an int or a pair, at most half the kernel.
            Default: ``0``.
        max_bytes (int): as for :func:`max_pool2d`. Default: ``None``.

    Returns:
        An array of shape ``(N, C, H_out, W_out)`` (sizes as in :func:`max_pool2d`).

    Example::

        >>> avg_pool2d(np.arange(16.0).reshape(1, 1, 4, 4), 2)[0, 0]
        array([[ 2.5,  4.5],
               [10.5, 12.5]])
    """
    x, spec = pool_array("avg_pool2d", x, kernel_size, stride, padding)
    _budget("avg_pool2d", x, spec, max_bytes, x.itemsize)
    return _windows(x, spec, 0.0).mean(axis=-1)


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
    x, spec = pool_array("avg_pool2d_naive", x, kernel_size, stride, padding)
    N, C, H, W = x.shape
    H_out, W_out = spec.out_size
    m = spec.kernel_size[0] * spec.kernel_size[1]  # padded zeros count in the mean
    y = np.empty((N, C, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    rows, cols = _clip(spec, i, j, H, W)
                    y[n, c, i, j] = x[n, c, rows, cols].sum() / m
    return y


def nmax_pool2d(x, kernel_size, n, stride=None, padding=0, *, max_bytes=None):
    """nmax_pool2d(x, kernel_size, n, stride=None, padding=0, *, max_bytes=None) -> ndarray

    N-max pooling: the mean of the ``n`` largest values of each window (vectorized).
    ``n = 1`` is max pooling; ``n = k_h * k_w`` is average pooling (without padding).

    Args:
        x: input of shape ``(N, C, H, W)``.
        kernel_size: the window, an int or a pair ``(k_h, k_w)``.
        n: how many of the largest values to average, an int from 1 to ``k_h * k_w``.
        stride: step between windows, an int or a pair. Default: ``kernel_size``.
        padding: implicit ``-inf`` on each side (never chosen), an int or a pair, at most half
            the kernel; every window must still hold at least ``n`` real values. Default: ``0``.
        max_bytes (int): as for :func:`max_pool2d`. Default: ``None``.

    Returns:
        An array of shape ``(N, C, H_out, W_out)`` (sizes as in :func:`max_pool2d`).

    Example::

        >>> x = np.array([[[[0.5, 0.2, 0, 0.2], [0, 0, 0.6, 0],
        ...                 [0, 0.4, 0, 0.2], [0, 0, 0.6, 0]]]])
        >>> nmax_pool2d(x, 2, n=2)[0, 0]
        array([[0.35, 0.4 ],
               [0.2 , 0.4 ]])
    """
    x, spec = pool_array("nmax_pool2d", x, kernel_size, stride, padding)
    n = _check_n(n, spec, x.shape[2:])
    _budget("nmax_pool2d", x, spec, max_bytes, 2 * x.itemsize)  # the windows and their sorted copy
    # sorted ascending, -inf padding first and NaN last: the n largest are the last n
    return np.sort(_windows(x, spec, -np.inf), axis=-1)[..., -n:].mean(axis=-1)


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
    x, spec = pool_array("nmax_pool2d_naive", x, kernel_size, stride, padding)
    n_top = _check_n(n, spec, x.shape[2:])
    N, C, H, W = x.shape
    H_out, W_out = spec.out_size
    y = np.empty((N, C, H_out, W_out), dtype=x.dtype)
    for b in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    rows, cols = _clip(spec, i, j, H, W)
                    values = np.sort(x[b, c, rows, cols], axis=None)
                    y[b, c, i, j] = values[-n_top:].mean()
    return y


# --------------------------------------------------------------------------- switches


def max_pool2d_with_indices(x, kernel_size, stride=None, padding=0, *,
                            max_bytes=None):
    """max_pool2d_with_indices(x, kernel_size, stride=None, padding=0, *,
    max_bytes=None) -> (ndarray, ndarray)

    Max pooling that also returns the *switches*: where each maximum came
    from, as a flat index ``row * W + col`` into its input plane (PyTorch's
    ``return_indices=True``). A tie goes to the first maximum in row-major
    order, a NaN beats any number (the last NaN wins), and the padding
    never wins, as in PyTorch.

    Args:
        x: input of shape ``(N, C, H, W)``.
        kernel_size, stride, padding: as for :func:`max_pool2d`.
        max_bytes (int): as for :func:`max_pool2d`. Default: ``None``.

    Returns:
        ``(y, switches)``: ``y`` as from :func:`max_pool2d`, ``switches`` an
        int64 array of the same shape.

    Example::

        >>> x = np.array([[[[1.0, 3.0], [2.0, 0.0]]]])
        >>> y, sw = max_pool2d_with_indices(x, 2)
        >>> y[0, 0, 0, 0], sw[0, 0, 0, 0]
        (np.float64(3.0), np.int64(1))
    """
    fname = "max_pool2d_with_indices"
    x, spec = pool_array(fname, x, kernel_size, stride, padding)
    # the windows, y, the offsets and the indices
    _budget(fname, x, spec, max_bytes, _switch_search_bytes(x), outputs=4)
    windows = _windows(x, spec, -np.inf)  # (N, C, H_out, W_out, k_h * k_w)
    real = _real(x, spec)  # True for the entries that are pixels, not padding
    # the maximum of each window; a NaN wins (np.max passes it on)
    y = windows.max(axis=-1, keepdims=True)
    y = y[..., 0]
    # where: the first real entry equal to the maximum ...
    r = np.argmax(real & (windows == y[..., None]), axis=-1)
    # ... or, in a window holding NaN (its maximum is NaN), its last NaN
    has_nan = np.isnan(y)
    if has_nan.any():
        nan = np.isnan(windows[has_nan])
        r[has_nan] = nan.shape[-1] - 1 - np.argmax(nan[..., ::-1], axis=-1)
    # from the place r inside the window to the flat index in the plane
    return y, _to_plane(spec, r, x.shape[3]).astype(np.int64)



# --------------------------------------------------------------------------- backward


def max_pool2d_backward(dy, x, kernel_size, stride=None, padding=0,
                        indices=None, *, max_bytes=None):
    """max_pool2d_backward(dy, x, kernel_size, stride=None, padding=0,
    indices=None, *, max_bytes=None) -> ndarray

    Gradient of :func:`max_pool2d` with respect to ``x``: each ``dy`` entry
    goes to the position of its window's maximum (the *switch*, as
    :func:`max_pool2d_with_indices` finds it); every other entry gets 0.
    Where windows overlap, gradients add up.

    Args:
        dy: gradient of the output, shape ``(N, C, H_out, W_out)``.
        x: the forward input, shape ``(N, C, H, W)``.
        kernel_size, stride, padding: as in the forward call.
        indices: the switches saved by the forward pass, as
            :func:`max_pool2d_with_indices` returns them. Default: ``None``,
            meaning find them in ``x`` again.
        max_bytes (int): as for :func:`max_pool2d`. Default: ``None``.

    Returns:
        ``dx``, an array of shape ``(N, C, H, W)``.

    Example::

        >>> x = np.array([[[[1.0, 3.0], [2.0, 0.0]]]])
        >>> max_pool2d_backward(np.ones((1, 1, 1, 1)), x, 2)[0, 0]
        array([[0., 1.],
               [0., 0.]])
    """
    fname = "max_pool2d_backward"
    x, spec = pool_array(fname, x, kernel_size, stride, padding)
    dy = _check_dy(fname, dy, x, spec)
    if indices is None:
        # the switches: where each window's maximum came from
        _budget(fname, x, spec, max_bytes, _switch_search_bytes(x), outputs=4)
        _, indices = max_pool2d_with_indices(x, kernel_size, stride, padding,
                                             max_bytes=float("inf"))
    else:
        indices = _check_switches(indices, dy.shape, x.shape[2:], fname)
        _check_in_windows(indices, x.shape[3], spec)
    # each gradient goes to its window's switch; the other entries get 0
    return _scatter(dy, indices, x.shape)



def max_pool2d_backward_naive(dy, x, kernel_size, stride=None, padding=0):
    """max_pool2d_backward_naive(dy, x, kernel_size, stride=None, padding=0)
    -> ndarray

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
    fname = "max_pool2d_backward_naive"
    x, spec = pool_array(fname, x, kernel_size, stride, padding)
    dy = _check_dy(fname, dy, x, spec)
    N, C, H, W = x.shape
    H_out, W_out = spec.out_size
    dx = np.zeros(x.shape, dtype=dy.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    rows, cols = _clip(spec, i, j, H, W)
                    a, b = _torch_argmax(x[n, c, rows, cols])
                    dx[n, c, rows.start + a, cols.start + b] += dy[n, c, i, j]
    return dx


def avg_pool2d_backward(dy, x, kernel_size, stride=None, padding=0, *, max_bytes=None):
    """avg_pool2d_backward(dy, x, kernel_size, stride=None, padding=0, *, max_bytes=None) -> ndarray

    Gradient of :func:`avg_pool2d` with respect to ``x``: every entry of a window gets
    ``1 / m`` of the window's ``dy`` (``m = k_h * k_w``); overlapping windows add up.
    Only ``x``'s shape is used (the mean is linear).

    Args:
        dy: gradient of the output, shape ``(N, C, H_out, W_out)``.
        x: the forward input (or any array of its shape), ``(N, C, H, W)``.
        kernel_size, stride, padding: as in the forward call.
        max_bytes (int): as for :func:`max_pool2d`. Default: ``None``.

    Returns:
        ``dx``, an array of shape ``(N, C, H, W)``.

    Example::

        >>> avg_pool2d_backward(np.ones((1, 1, 1, 1)), np.zeros((1, 1, 2, 2)), 2)[0, 0]
        array([[0.25, 0.25],
               [0.25, 0.25]])
    """
    fname = "avg_pool2d_backward"
    x, spec = pool_array(fname, x, kernel_size, stride, padding)
    dy = _check_dy(fname, dy, x, spec)
    _budget(fname, x, spec, max_bytes, 0, outputs=2)  # the padded gradient, dy and its share
    (k_h, k_w), (s_h, s_w), (p_h, p_w) = spec.kernel_size, spec.stride, spec.padding
    N, C, H, W = x.shape
    H_out, W_out = spec.out_size
    share = dy / (k_h * k_w)
    dxp = np.zeros((N, C, H + 2 * p_h, W + 2 * p_w), dtype=dy.dtype)
    for a in range(k_h):
        for b in range(k_w):
            # entry (a, b) of window (i, j) is padded pixel (i s_h + a, j s_w + b)
            dxp[:, :, a : a + s_h * (H_out - 1) + 1 : s_h, b : b + s_w * (W_out - 1) + 1 : s_w] += share
    return dxp[:, :, p_h : p_h + H, p_w : p_w + W]  # the padding's share is dropped


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
    fname = "avg_pool2d_backward_naive"
    x, spec = pool_array(fname, x, kernel_size, stride, padding)
    dy = _check_dy(fname, dy, x, spec)
    N, C, H, W = x.shape
    H_out, W_out = spec.out_size
    m = spec.kernel_size[0] * spec.kernel_size[1]
    dx = np.zeros(x.shape, dtype=dy.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    rows, cols = _clip(spec, i, j, H, W)
                    dx[n, c, rows, cols] += dy[n, c, i, j] / m
    return dx


def nmax_pool2d_backward(dy, x, kernel_size, n, stride=None, padding=0, *, max_bytes=None):
    """nmax_pool2d_backward(dy, x, kernel_size, n, stride=None, padding=0, *, max_bytes=None) -> ndarray

    Gradient of :func:`nmax_pool2d` with respect to ``x``: each of a window's ``n`` largest
    entries gets ``1 / n`` of its ``dy``. Ties are broken by row-major order (the earlier entry is
    taken first), so ``n = 1`` gives :func:`max_pool2d_backward`.

    Args:
        dy: gradient of the output, shape ``(N, C, H_out, W_out)``.
        x: the forward input, shape ``(N, C, H, W)``.
        kernel_size, n, stride, padding: as in the forward call.
        max_bytes (int): as for :func:`max_pool2d`. Default: ``None``.

    Returns:
        ``dx``, an array of shape ``(N, C, H, W)``.

    Example::

        >>> x = np.array([[[[4.0, 1.0], [3.0, 2.0]]]])
        >>> nmax_pool2d_backward(np.ones((1, 1, 1, 1)), x, 2, n=2)[0, 0]
        array([[0.5, 0. ],
               [0.5, 0. ]])
    """
    fname = "nmax_pool2d_backward"
    x, spec = pool_array(fname, x, kernel_size, stride, padding)
    n = _check_n(n, spec, x.shape[2:])
    dy = _check_dy(fname, dy, x, spec)
    # the windows, where NaN is, the key and its negation, and the int64 ranks
    _budget(fname, x, spec, max_bytes, 3 * x.itemsize + 9)
    windows = _windows(x, spec, -np.inf)
    # rank by value, NaN as the largest; a stable sort keeps equal values in
    # row-major order, so the earlier of two equal entries ranks first
    key = np.where(np.isnan(windows), np.inf, windows)
    top = np.argsort(-key, axis=-1, kind="stable")[..., :n]
    dx = np.zeros(x.shape, dtype=dy.dtype)
    for rank in range(n):
        dx += _scatter(dy / n, _to_plane(spec, top[..., rank], x.shape[3]), x.shape)
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
    fname = "nmax_pool2d_backward_naive"
    x, spec = pool_array(fname, x, kernel_size, stride, padding)
    n_top = _check_n(n, spec, x.shape[2:])
    dy = _check_dy(fname, dy, x, spec)
    N, C, H, W = x.shape
    H_out, W_out = spec.out_size
    dx = np.zeros(x.shape, dtype=dy.dtype)
    for b in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    rows, cols = _clip(spec, i, j, H, W)
                    window = x[b, c, rows, cols]
                    where = [(u, v) for u in range(window.shape[0]) for v in range(window.shape[1])]
                    # largest first, NaN as the largest; Python's sort is stable, so equal
                    # values keep row-major order
                    where.sort(key=lambda uv: -np.inf if np.isnan(window[uv]) else -window[uv])
                    for u, v in where[:n_top]:
                        dx[b, c, rows.start + u, cols.start + v] += dy[b, c, i, j] / n_top
    return dx


# --------------------------------------------------------------------------- unpooling


def _check_switches(switches, shape, hw, name, arg="indices"):
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


def _check_in_windows(sw, w, spec):
    """Every switch must point into its own window: switches saved for another kernel, stride
    or padding would send gradient to the wrong place without a word."""
    H_out, W_out = spec.out_size
    row, col = sw // w, sw % w
    top = np.arange(H_out)[:, None] * spec.stride[0] - spec.padding[0]
    left = np.arange(W_out)[None, :] * spec.stride[1] - spec.padding[1]
    inside = (top <= row) & (row < top + spec.kernel_size[0])
    inside &= (left <= col) & (col < left + spec.kernel_size[1])
    if not inside.all():
        where = tuple(int(i) for i in np.argwhere(~inside)[0])
        k_h, k_w = spec.kernel_size
        raise ValueError(
            f"max_pool2d_backward: indices{list(where)} = {sw[where]} lies outside its "
            f"{k_h}x{k_w} window (stride {spec.stride}, padding {spec.padding}); pass the indices that "
            "max_pool2d_with_indices returned for the same x, kernel_size, stride and padding"
        )


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


def max_unpool2d(y, switches, kernel_size, stride=None, padding=0, output_size=None, *, max_bytes=None):
    """max_unpool2d(y, switches, kernel_size, stride=None, padding=0, output_size=None, *, max_bytes=None) -> ndarray

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
        max_bytes (int): as for :func:`max_pool2d`. Default: ``None``.

    Returns:
        An array of shape ``(N, C, H, W)``.

    Example::

        >>> y, sw = max_pool2d_with_indices(np.array([[[[1.0, 3.0], [2.0, 0.0]]]]), 2)
        >>> max_unpool2d(y, sw, 2)[0, 0]
        array([[0., 3.],
               [0., 0.]])
    """
    y = as_array(y, "max_unpool2d: y", 4, _LAYOUT)
    # kernel_size, stride and padding checked as pooling checks them, on an input
    # large enough for any window (the size that was pooled is checked below)
    spec = pool_spec("max_unpool2d", (1, 1, 2**31, 2**31), kernel_size, stride, padding)
    k, s, p = spec.kernel_size, spec.stride, spec.padding
    hw = _unpool_size(output_size, y.shape[2:], k, s, p)
    if any(v < 1 for v in hw):
        raise ValueError(f"max_unpool2d: the output size must be positive, got {hw}")
    n, c = y.shape[:2]
    memory_budget("max_unpool2d", n * c * hw[0] * hw[1] * y.itemsize, max_bytes, "the unpooled output",
                  "use a smaller stride or output_size, or unpool fewer maps at a time")
    sw = _check_switches(switches, y.shape, hw, "max_unpool2d", "switches")
    out = np.zeros((n, c, hw[0] * hw[1]), dtype=y.dtype)
    # every pooled value back into its own plane at its switch (a plane is a flat row here)
    np.put_along_axis(out, sw.reshape(n, c, -1), y.reshape(n, c, -1), axis=-1)
    return out.reshape(n, c, hw[0], hw[1])


def pool_switches_mask(x, kernel_size, stride=None, padding=0, *, max_bytes=None):
    """pool_switches_mask(x, kernel_size, stride=None, padding=0, *, max_bytes=None) -> ndarray

    A boolean array of ``x``'s shape that is ``True`` where max pooling picked a value (the
    entries its backward pass sends gradient to). Handy for drawing the switches.

    Args:
        x: input of shape ``(N, C, H, W)``.
        kernel_size, stride, padding: as for :func:`max_pool2d`.
        max_bytes (int): as for :func:`max_pool2d`. Default: ``None``.

    Returns:
        A boolean array of shape ``(N, C, H, W)``.

    Example::

        >>> pool_switches_mask(np.array([[[[1.0, 3.0], [2.0, 0.0]]]]), 2)[0, 0]
        array([[False,  True],
               [False, False]])
    """
    x, spec = pool_array("pool_switches_mask", x, kernel_size, stride, padding)
    _budget("pool_switches_mask", x, spec, max_bytes, _switch_search_bytes(x), outputs=4)
    _, sw = max_pool2d_with_indices(x, kernel_size, stride, padding, max_bytes=float("inf"))
    N, C, H, W = x.shape
    mask = np.zeros((N, C, H * W), dtype=bool)
    np.put_along_axis(mask, sw.reshape(N, C, -1), True, axis=-1)
    return mask.reshape(x.shape)
