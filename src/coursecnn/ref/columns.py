"""im2col and col2im: a convolution's windows laid out as the columns of a matrix, and back.

``im2col`` copies every window of the (padded) input into one column, so that a convolution
becomes a single matrix product: kernels as rows times windows as columns. ``col2im`` is its
adjoint: it adds every column entry back onto the pixel it was read from, which is what the
backward pass of a convolution (and a transposed convolution) needs. Both work for any
number of spatial axes (1, 2 or 3).
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["im2col", "col2im"]


def im2col(xp, kernel_size, stride, dilation):
    """im2col(xp, kernel_size, stride, dilation) -> ndarray

    Every window of ``xp`` as one column: column ``(i, j)`` holds the
    ``C * F_h * F_w`` pixels that kernel taps ``(c, u, v)`` see at output
    position ``(i, j)``, i.e. ``xp[n, c, i*s + u*d, j*s + v*d]``.

    Args:
        xp: the padded input, shape ``(N, C, H_p, W_p)`` (or with 1 or 3
            spatial axes).
        kernel_size: ``(F_h, F_w)``, one entry per spatial axis.
        stride: ``(s_h, s_w)``, the step between windows.
        dilation: ``(d_h, d_w)``, the step between kernel taps.

    Returns:
        A new array of shape ``(N, C * F_h * F_w, H_out * W_out)``.

    Example::

        >>> xp = np.arange(9.0).reshape(1, 1, 3, 3)
        >>> im2col(xp, (2, 2), (1, 1), (1, 1))[0]
        array([[0., 1., 3., 4.],
               [1., 2., 4., 5.],
               [3., 4., 6., 7.],
               [4., 5., 7., 8.]])
    """
    nd = len(kernel_size)
    n, c = xp.shape[:2]
    # a dilated kernel spans d * (F - 1) + 1 pixels; it reads every d-th
    span = tuple(d * (f - 1) + 1 for f, d in zip(kernel_size, dilation))
    # (N, C, H_p, W_p) -> (N, C, positions_h, positions_w, span_h, span_w):
    # every window at every position (stride 1), a view: nothing is copied
    view = sliding_window_view(xp, span, axis=tuple(range(2, 2 + nd)))
    # keep every s-th position and every d-th pixel of a window:
    # -> (N, C, H_out, W_out, F_h, F_w), still a view
    every_s = tuple(slice(None, None, s) for s in stride)
    every_d = tuple(slice(None, None, d) for d in dilation)
    view = view[(slice(None), slice(None)) + every_s + every_d]
    out_size = view.shape[2 : 2 + nd]
    # -> (N, C, F_h, F_w, H_out, W_out): taps next to the channel, a view
    positions = tuple(range(2, 2 + nd))
    taps = tuple(range(2 + nd, 2 + 2 * nd))
    view = view.transpose((0, 1) + taps + positions)
    # -> (N, C * F_h * F_w, H_out * W_out): rows (c, u, v), columns (i, j);
    # the one copy im2col makes
    rows = c * int(np.prod(kernel_size))
    return view.reshape(n, rows, int(np.prod(out_size)))


def col2im(cols, padded_size, kernel_size, stride, dilation, out_size):
    """col2im(cols, padded_size, kernel_size, stride, dilation, out_size)
    -> ndarray

    The adjoint of :func:`im2col`: every entry of ``cols`` is added onto the
    pixel it would have been read from, so pixels that several windows share
    collect the sum of their entries.

    Args:
        cols: shape ``(N, C * F_h * F_w, H_out * W_out)``, laid out as
            :func:`im2col` returns it.
        padded_size: ``(H_p, W_p)``, the size of the padded input.
        kernel_size, stride, dilation: as for :func:`im2col`.
        out_size: ``(H_out, W_out)``, the grid of window positions.

    Returns:
        A new array of shape ``(N, C, H_p, W_p)``.

    Example::

        >>> cols = np.ones((1, 4, 4))  # a 2x2 kernel's windows on a 3x3 image
        >>> col2im(cols, (3, 3), (2, 2), (1, 1), (1, 1), (2, 2))[0, 0]
        array([[1., 2., 1.],
               [2., 4., 2.],
               [1., 2., 1.]])
    """
    n = cols.shape[0]
    c = cols.shape[1] // int(np.prod(kernel_size))
    # (N, C * F_h * F_w, H_out * W_out) -> (N, C, F_h, F_w, H_out, W_out)
    cols = cols.reshape((n, c) + tuple(kernel_size) + tuple(out_size))
    image = np.zeros((n, c) + tuple(padded_size), dtype=cols.dtype)
    for tap in np.ndindex(*kernel_size):
        # tap (u, v) read pixel (i*s + u*d, j*s + v*d) at position (i, j):
        # rows u*d, u*d + s, ..., one slice per axis
        reached = tuple(
            slice(t * d, t * d + s * (o - 1) + 1, s)
            for t, d, s, o in zip(tap, dilation, stride, out_size)
        )
        every = (slice(None), slice(None))  # all images and channels
        image[every + reached] += cols[every + tap]
    return image
