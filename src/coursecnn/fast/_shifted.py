"""A stride-1 2D convolution by shifted matrix products: a third of im2col's copying.

im2col copies every pixel ``F_h F_w`` times. Here each image is seen as one long row of pixels
(``H_p W_p`` of them, the padded rows end to end). Moving a window one row down is then a
shift by ``W_p`` along that row, so the ``F_h`` kernel rows need no copies: we copy the input
only ``F_w`` times (once per kernel column, shifted by ``v d_w``), do ONE matrix product for all
kernel rows at once, and add the ``F_h`` partial results shifted by ``u d_h W_p``. Windows that
straddle two image rows produce garbage in columns ``j >= W_out``, which are simply never read.
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided


def worth_it(w, stride):
    """Use this path where it wins: stride 1, a kernel more than one row tall, and enough
    channels times kernel columns to make the matrix products efficient."""
    return tuple(stride) == (1, 1) and w.shape[2] > 1 and w.shape[1] * w.shape[3] >= 32


def conv2d_shifted(xp, w, groups, dilation, out_size):
    """``conv2d`` of the padded input ``xp`` (N, C, H_p, W_p) with ``w`` (K, C/G, F_h, F_w),
    stride 1, no bias; returns a new contiguous (N, K, H_out, W_out) array."""
    xp = np.ascontiguousarray(xp)
    n, c, hp, wp = xp.shape
    k, cg, fh, fw = w.shape
    kg = k // groups
    dh, dw = dilation
    ho, wo = out_size
    isz = xp.itemsize
    # Each image-channel as one row of H_p W_p pixels; kernel column v reads it from v*d_w on.
    # The last (F_w - 1) d_w pixels never start a valid window, so the rows stop short.
    length = hp * wp - (fw - 1) * dw
    cols = as_strided(
        xp, shape=(c, fw, n, length), strides=(xp.strides[1], dw * isz, xp.strides[0], isz), writeable=False
    )
    # (C, F_w, N, L) -> (G, C/G F_w, N L): the only copy of the input, F_w times its size. All
    # images side by side make one wide matrix: one large product is faster than N small ones.
    cols = cols.reshape(groups, cg * fw, n * length)
    # (K, C/G, F_h, F_w) -> (G, F_h K/G, C/G F_w): kernel rows stacked, one product serves all
    a = w.reshape(groups, kg, cg, fh, fw).transpose(0, 3, 1, 2, 4).reshape(groups, fh * kg, cg * fw)
    z = np.matmul(a, cols).reshape(groups, fh, kg, n * length)  # kernel row u's sums at pixel r
    # y_long[.., r] = sum_u z[.., u, .., r + u d_h W_p]: kernel row u reads u*d_h rows further down
    span = n * length - (fh - 1) * dh * wp
    y_long = z[:, 0, :, :span] + z[:, 1, :, dh * wp : dh * wp + span]  # (G, K/G, span)
    for u in range(2, fh):
        y_long += z[:, u, :, u * dh * wp : u * dh * wp + span]
    y_long = y_long.reshape(k, span)  # a view: the sum is a new contiguous array
    # output (n, k, i, j) is pixel r = n L + i W_p + j of row k; pick those, skipping the garbage
    y = as_strided(
        y_long, shape=(n, k, ho, wo), strides=(length * isz, y_long.strides[0], wp * isz, isz), writeable=False
    )
    return y.copy()  # always a copy: the view is read-only, and may happen to be contiguous
