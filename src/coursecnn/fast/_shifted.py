"""A stride-1 2D convolution by shifted matrix products: a third of im2col's copying.

im2col copies every pixel ``F_h F_w`` times. Here each image is seen as one long row of pixels
(``H_p W_p`` of them, the padded rows end to end). Moving a window one row down is then a
shift by ``W_p`` along that row, so the ``F_h`` kernel rows need no copies: we copy the input
only ``F_w`` times (once per kernel column, shifted by ``v d_w``), do ONE matrix product for all
kernel rows at once, and add the ``F_h`` partial results shifted by ``u d_h W_p``. Windows that
straddle two image rows produce garbage in columns ``j >= W_out``, which are simply never read.

The weight gradient runs the same correspondence the other way: ``dy`` is written into the long
rows ``F_h`` times (once per kernel row, shifted by ``u d_h W_p``, zeros at the garbage places),
and ONE product with the same copied input gives every tap's ``dw``.

Both work a few images at a time, in buffers allocated once: each chunk's columns and products
stay in the CPU's cache, and no fresh memory has to be paged in for every image.
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ._scratch import scratch


def worth_it(w, stride):
    """Use this path where it wins: stride 1, a kernel more than one row tall, and enough
    channels times kernel columns to make the matrix products efficient."""
    return tuple(stride) == (1, 1) and w.shape[2] > 1 and w.shape[1] * w.shape[3] >= 32


def _long_rows(xp, fw, dw):
    """``(C, F_w, N, L)`` read-only view: kernel column ``v`` of channel ``c`` reads image ``n``'s
    long row from pixel ``v d_w`` on. The last ``(F_w - 1) d_w`` pixels never start a valid
    window, so every row stops short at ``L = H_p W_p - (F_w - 1) d_w``."""
    n, c, hp, wp = xp.shape
    isz = xp.itemsize
    length = hp * wp - (fw - 1) * dw
    return as_strided(xp, shape=(c, fw, n, length), strides=(xp.strides[1], dw * isz, xp.strides[0], isz),
                      writeable=False)


def _outputs(long, m, length, wp, out_size):
    """``(m, G, K/G, H_out, W_out)`` view of the long rows ``long`` ``(G, K/G, >= m L)``: output
    ``(n, i, j)`` sits at pixel ``n L + i W_p + j``; the garbage columns are skipped."""
    isz = long.itemsize
    return as_strided(long, shape=(m,) + long.shape[:2] + tuple(out_size),
                      strides=(length * isz,) + long.strides[:2] + (wp * isz, isz))


def conv2d_shifted(xp, w, groups, dilation, out_size, images):
    """``conv2d`` of the padded input ``xp`` (N, C, H_p, W_p) with ``w`` (K, C/G, F_h, F_w),
    stride 1, no bias, ``images`` images at a time; returns a new (N, K, H_out, W_out) array."""
    xp = np.ascontiguousarray(xp)
    n, c, hp, wp = xp.shape
    k, cg, fh, fw = w.shape
    kg = k // groups
    dh, dw = dilation
    dtype = np.result_type(xp, w)
    src = _long_rows(xp, fw, dw)  # (C, F_w, N, L)
    length = src.shape[3]
    # (K, C/G, F_h, F_w) -> (G, F_h K/G, C/G F_w): kernel rows stacked, one product serves all
    a = w.reshape(groups, kg, cg, fh, fw).transpose(0, 3, 1, 2, 4).reshape(groups, fh * kg, cg * fw)
    y = np.empty((n, k) + tuple(out_size), dtype)
    cols = scratch("columns", (groups, cg * fw, images * length), dtype)
    z = scratch("products", (groups, fh * kg, images * length), dtype)
    for i in range(0, n, images):
        m = min(images, n - i)
        # the only copy of the input: (C, F_w, m, L) -> (G, C/G F_w, m L), F_w times its size
        cols.reshape(c, fw, images, length)[:, :, :m] = src[:, :, i : i + m]
        zm = z[:, :, : m * length]
        np.matmul(a, cols[:, :, : m * length], out=zm)  # kernel row u's sums at every pixel
        zu = zm.reshape(groups, fh, kg, m * length)
        # y[n, i, j] = sum_u z_u[n L + (i + u d_h) W_p + j]: kernel row u reads u d_h rows lower
        out = y[i : i + m].reshape((m, groups, kg) + tuple(out_size))
        np.add(_outputs(zu[:, 0], m, length, wp, out_size),
               _outputs(zu[:, 1, :, dh * wp :], m, length, wp, out_size), out=out)
        for u in range(2, fh):
            out += _outputs(zu[:, u, :, u * dh * wp :], m, length, wp, out_size)
    return y


def conv2d_shifted_dw(dy, xp, kernel_size, groups, dilation, images):
    """The weight gradient of ``conv2d_shifted``: ``dw`` (K, C/G, F_h, F_w) from ``dy``
    (N, K, H_out, W_out) and the padded input ``xp`` (N, C, H_p, W_p), ``images`` at a time."""
    xp = np.ascontiguousarray(xp)
    n, c, hp, wp = xp.shape
    k, out_size = dy.shape[1], dy.shape[2:]
    fh, fw = kernel_size
    cg, kg = c // groups, k // groups
    dh, dw = dilation
    dtype = np.result_type(dy, xp)
    src = _long_rows(xp, fw, dw)  # (C, F_w, N, L)
    length = src.shape[3]
    cols = scratch("columns", (groups, cg * fw, images * length), dtype)
    # dy in long rows, once per kernel row u, moved u d_h rows down; zeros stay at the garbage
    # places, which every chunk leaves untouched
    dys = scratch("products", (groups, fh, kg, images * length), dtype)
    dys[...] = 0
    acc = np.zeros((groups, fh * kg, cg * fw), dtype)
    for i in range(0, n, images):
        m = min(images, n - i)
        cols.reshape(c, fw, images, length)[:, :, :m] = src[:, :, i : i + m]
        dyg = dy[i : i + m].reshape((m, groups, kg) + tuple(out_size))
        for u in range(fh):
            _outputs(dys[:, u, :, u * dh * wp :], m, length, wp, out_size)[...] = dyg
        # dw_u[k, (c, v)] = sum over pixels r of dy_u[k, r] x_v[c, r]: all taps in one product
        lhs = dys.reshape(groups, fh * kg, images * length)[:, :, : m * length]
        acc += np.matmul(lhs, cols[:, :, : m * length].transpose(0, 2, 1))
    # (G, F_h, K/G, C/G, F_w) -> (G, K/G, C/G, F_h, F_w) -> (K, C/G, F_h, F_w)
    return acc.reshape(groups, fh, kg, cg, fw).transpose(0, 2, 3, 1, 4).reshape(k, cg, fh, fw)
