"""Faster versions of ``coursecnn.ref``'s convolutions: the same signatures, results and errors.

The reference computes every convolution as im2col and one matrix product per group. Here
the same products are arranged to move less memory:

- im2col builds the columns image by image and group by group (``_windows.py``), so each
  matrix product is small enough to stay in the CPU's cache, and its result is already laid
  out as ``(N, K, H_out, W_out)``;
- with stride 1 a 2D convolution copies the input ``F_w`` times instead of ``F_h F_w`` times
  (``_shifted.py``);
- both passes work a few images at a time (``CHUNK_BYTES`` of columns), in buffers allocated
  once, so the columns stay in cache and no fresh memory is paged in for every image;
- with stride 1 the backward pass computes ``dw`` by the same shifted products, and ``dx`` as a
  forward convolution of ``dy`` with the flipped kernel, which takes the shifted path too.

Every function here is tested against its ``coursecnn.ref`` twin.
"""

import numpy as np

from .._checks import conv_arrays, conv_budget, conv_transpose_budget, grad_like, x_layout
from ..ref.padding import pad_spatial_backward
from ._scratch import scratch
from ._shifted import conv2d_shifted, conv2d_shifted_dw, worth_it
from ._windows import col2im, im2col, pad_spatial

__all__ = [
    "conv1d",
    "conv2d",
    "conv3d",
    "conv1d_backward",
    "conv2d_backward",
    "conv3d_backward",
    "conv_transpose2d",
]


# ------------------------------------------------------------------------------ shared kernels

CHUNK_BYTES = 1 << 22  # columns of the images worked on at once: small enough to stay in cache


def _images_per_chunk(xp, w, groups, out_size, shifted):
    """How many images' columns fill ``CHUNK_BYTES``: the shifted path copies each image's
    ``C`` planes ``F_w`` times, im2col makes ``G`` matrices of ``C/G prod(F)`` rows by
    ``prod(O)`` columns."""
    if shifted:
        # from the shape, not xp[0, 0]: an empty batch has no first image
        per_image = groups * w.shape[1] * w.shape[3] * int(np.prod(xp.shape[2:]))
    else:
        per_image = groups * w[0].size * int(np.prod(out_size))
    return max(1, min(len(xp), CHUNK_BYTES // max(1, xp.itemsize * per_image)))


def _column_chunks(xp, w, groups, stride, dilation, out_size):
    """``(i, cols)`` for each chunk of images ``i:i + m``: their im2col columns,
    ``(m, G, C/G * prod(F), prod(O))``, in scratch that the next chunk overwrites."""
    images = _images_per_chunk(xp, w, groups, out_size, shifted=False)
    cols = scratch("columns", (images, groups, w[0].size, int(np.prod(out_size))), xp.dtype)
    for i in range(0, len(xp), images):
        m = min(images, len(xp) - i)
        yield i, im2col(xp[i : i + m], groups, w.shape[2:], stride, dilation, out_size, out=cols[:m])


def _forward(x, w, b, stride, pads, dilation, groups, mode, out_size):
    n, k = x.shape[0], w.shape[0]
    xp = pad_spatial(x, pads, mode)
    o = int(np.prod(out_size))
    if len(out_size) == 2 and worth_it(w, stride):
        images = _images_per_chunk(xp, w, groups, out_size, shifted=True)
        y = conv2d_shifted(xp, w, groups, dilation, out_size, images)  # same numbers, less copying
    else:
        y = np.empty((n, k) + tuple(out_size), np.result_type(xp, w))
        wmat = w.reshape(groups, k // groups, w[0].size)  # (K, C/G, *F) -> (G, K/G, C/G * F), a view
        for i, cols in _column_chunks(xp, w, groups, stride, dilation, out_size):
            # one product per image and group, (K/G, C/G * F) @ (C/G * F, O), written straight
            # into y: (m, G, K/G, O) is (m, K, *O) in memory
            m = len(cols)
            np.matmul(wmat, cols, out=y[i : i + m].reshape(m, groups, k // groups, o))
    if b is not None:
        y += b.reshape((1, k) + (1,) * len(out_size))
    return y


def _spread(wmat, src, kernel, stride, dilation, in_size, full_size):
    """Every input value scatters ``value * kernel`` into the output positions its window
    covers: the transposed convolution, and a convolution's ``dx``.

    ``wmat`` is ``(G, Cin/G, Cout/G * prod(F))``, ``src`` is ``(N, G, Cin/G, prod(I))``;
    returns ``(N, Cout, *full_size)``.
    """
    n, groups = src.shape[:2]
    cols = np.matmul(wmat.transpose(0, 2, 1), src)  # (N, G, Cout/G * F, I)
    cout = cols.shape[1] * cols.shape[2] // int(np.prod(kernel))
    cols = cols.reshape((n, cout) + tuple(kernel) + tuple(in_size))  # (N, Cout, *F, *I), a view
    return col2im(cols, full_size, kernel, stride, dilation, in_size)


def _flipped_kernel(w, groups):
    """(K, C/G, *F) -> (C, K/G, *F) with every kernel turned by 180 degrees: the kernel of the
    convolution that carries dy back to dx."""
    k, cg = w.shape[:2]
    nd = w.ndim - 2
    g = w.reshape((groups, k // groups, cg) + w.shape[2:])  # (G, K/G, C/G, *F), a view
    g = g.transpose((0, 2, 1) + tuple(range(3, 3 + nd)))  # (G, C/G, K/G, *F), a view
    g = g[(Ellipsis,) + (slice(None, None, -1),) * nd]  # flipped along every spatial axis
    return g.reshape((groups * cg, k // groups) + w.shape[2:])


def _backward(dy, x, w, stride, pads, dilation, groups, mode, out_size):
    n, k = x.shape[0], w.shape[0]
    nd = len(out_size)
    o = int(np.prod(out_size))
    xp = pad_spatial(x, pads, mode)
    dyg = dy.reshape(n, groups, k // groups, o)  # (N, K, *O) -> (N, G, K/G, O)
    db = dy.sum(axis=(0,) + tuple(range(2, 2 + nd)))
    # dw: each weight met one pixel per output position, weighted by that position's dy
    # The shifted products also multiply x at the places no window reaches (by a dy of 0): a NaN
    # or inf there would become NaN in dw, where torch keeps it out. Such input takes im2col.
    if nd == 2 and worth_it(w, stride) and np.isfinite(xp).all():
        images = _images_per_chunk(xp, w, groups, out_size, shifted=True)
        dw = conv2d_shifted_dw(dy, xp, w.shape[2:], groups, dilation, images)
    else:
        # one product per image, (K/G, O) @ (O, C/G * F), summed over the batch chunk by chunk
        dw = np.zeros((groups, k // groups, w[0].size), dtype=w.dtype)
        for i, cols in _column_chunks(xp, w, groups, stride, dilation, out_size):
            dw += np.matmul(dyg[i : i + len(cols)], cols.transpose(0, 1, 3, 2)).sum(axis=0)
        dw = dw.reshape(w.shape)
    # dx: each dy spreads back through the kernel onto the pixels it read (a transposed conv)
    flipped = _flipped_kernel(w, groups)  # (C, K/G, *F)
    if nd == 2 and worth_it(flipped, stride):
        # with stride 1 that is the full convolution of dy with the flipped kernel, channels
        # swapped: pad dy by d(F - 1) so every pixel sees every tap, and reuse the forward path
        full = tuple(d * (f - 1) for d, f in zip(dilation, w.shape[2:]))
        dxp = _forward(dy, flipped, None, stride, full, dilation, groups, "zeros", xp.shape[2:])
    else:
        wmat = w.reshape(groups, k // groups, w[0].size)  # (G, K/G, C/G * F)
        dxp = _spread(wmat, dyg, w.shape[2:], stride, dilation, out_size, xp.shape[2:])
    dx = pad_spatial_backward(dxp, pads, mode)
    return dx, dw, db


# --------------------------------------------------------------------------------- forward


def _budget(fname, spec, itemsize, max_bytes):
    # the same estimate as coursecnn.ref (columns, padded input, output), so both refuse alike
    conv_budget(fname, spec, itemsize, max_bytes, backward=fname.endswith("_backward"))


def _conv(fname, nd, x, w, b, stride, padding, dilation, groups, padding_mode, max_bytes):
    x, w, b, spec = conv_arrays(fname, nd, x, w, b, stride, padding, dilation, groups, padding_mode)
    _budget(fname, spec, x.itemsize, max_bytes)
    return _forward(x, w, b, spec.stride, spec.padding, spec.dilation, spec.groups, spec.padding_mode,
                    spec.out_size)


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros", *, max_bytes=None):
    """conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros", *, max_bytes=None) -> ndarray

    :func:`coursecnn.ref.conv2d`, faster: same arguments, result and errors.

    Example::

        >>> conv2d(np.arange(16.0).reshape(1, 1, 4, 4), np.ones((1, 1, 2, 2)), stride=2)[0, 0].tolist()
        [[10.0, 18.0], [42.0, 50.0]]
    """
    return _conv("conv2d", 2, x, w, b, stride, padding, dilation, groups, padding_mode, max_bytes)


def conv1d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros", *, max_bytes=None):
    """conv1d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros", *, max_bytes=None) -> ndarray

    :func:`coursecnn.ref.conv1d`, faster: same arguments, result and errors.

    Example::

        >>> conv1d(np.array([[[1.0, 2.0, 3.0, 4.0]]]), np.array([[[1.0, -1.0]]]))[0, 0].tolist()
        [-1.0, -1.0, -1.0]
    """
    return _conv("conv1d", 1, x, w, b, stride, padding, dilation, groups, padding_mode, max_bytes)


def conv3d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros", *, max_bytes=None):
    """conv3d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros", *, max_bytes=None) -> ndarray

    :func:`coursecnn.ref.conv3d`, faster: same arguments, result and errors.

    Example::

        >>> conv3d(np.ones((1, 2, 3, 3, 3)), np.ones((4, 2, 2, 2, 2))).shape
        (1, 4, 2, 2, 2)
    """
    return _conv("conv3d", 3, x, w, b, stride, padding, dilation, groups, padding_mode, max_bytes)


# -------------------------------------------------------------------------------- backward


def _conv_backward(fname, nd, dy, x, w, stride, padding, dilation, groups, padding_mode, max_bytes):
    x, w, _, spec = conv_arrays(fname, nd, x, w, None, stride, padding, dilation, groups, padding_mode)
    dy = grad_like(fname, dy, spec.out_shape, "(N, K" + x_layout(nd)[5:])
    dtype = np.result_type(x, w, dy)
    x, w, dy = x.astype(dtype, copy=False), w.astype(dtype, copy=False), dy.astype(dtype, copy=False)
    _budget(fname, spec, x.itemsize, max_bytes)
    return _backward(dy, x, w, spec.stride, spec.padding, spec.dilation, spec.groups, spec.padding_mode,
                     spec.out_size)


def conv2d_backward(dy, x, w, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros", *, max_bytes=None):
    """conv2d_backward(dy, x, w, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros", *, max_bytes=None) -> (dx, dw, db)

    :func:`coursecnn.ref.conv2d_backward`, faster: same arguments, results and errors.

    Example::

        >>> dx, dw, db = conv2d_backward(np.ones((1, 1, 2, 2)), np.arange(9.0).reshape(1, 1, 3, 3), np.ones((1, 1, 2, 2)))
        >>> dw[0, 0].tolist(), db.tolist()
        ([[8.0, 12.0], [20.0, 24.0]], [4.0])
    """
    return _conv_backward("conv2d_backward", 2, dy, x, w, stride, padding, dilation, groups, padding_mode, max_bytes)


def conv1d_backward(dy, x, w, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros", *, max_bytes=None):
    """conv1d_backward(dy, x, w, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros", *, max_bytes=None) -> (dx, dw, db)

    :func:`coursecnn.ref.conv1d_backward`, faster: same arguments, results and errors.

    Example::

        >>> dx, dw, db = conv1d_backward(np.ones((1, 1, 3)), np.arange(4.0).reshape(1, 1, 4), np.ones((1, 1, 2)))
        >>> dx[0, 0].tolist()
        [1.0, 2.0, 2.0, 1.0]
    """
    return _conv_backward("conv1d_backward", 1, dy, x, w, stride, padding, dilation, groups, padding_mode, max_bytes)


def conv3d_backward(dy, x, w, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros", *, max_bytes=None):
    """conv3d_backward(dy, x, w, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros", *, max_bytes=None) -> (dx, dw, db)

    :func:`coursecnn.ref.conv3d_backward`, faster: same arguments, results and errors.

    Example::

        >>> dx, dw, db = conv3d_backward(np.ones((1, 1, 1, 1, 1)), np.ones((1, 1, 2, 2, 2)), np.ones((1, 1, 2, 2, 2)))
        >>> float(dx.sum()), db.tolist()
        (8.0, [1.0])
    """
    return _conv_backward("conv3d_backward", 3, dy, x, w, stride, padding, dilation, groups, padding_mode, max_bytes)


# ---------------------------------------------------------------------- transposed convolution


def conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1, *, max_bytes=None):
    """conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1, *, max_bytes=None) -> ndarray

    :func:`coursecnn.ref.conv_transpose2d`, faster: same arguments, result and errors.

    Example::

        >>> conv_transpose2d(np.ones((1, 1, 3, 3)), np.ones((1, 2, 3, 3)), stride=2).shape
        (1, 2, 7, 7)
    """
    x, w, b, spec = conv_arrays("conv_transpose2d", 2, x, w, b, stride, padding, dilation, groups,
                                transposed=True, output_padding=output_padding)
    conv_transpose_budget("conv_transpose2d", spec, x.itemsize, max_bytes)
    n, c_in, groups = spec.batch, spec.in_channels, spec.groups
    full = tuple(o + 2 * p for o, p in zip(spec.out_size, spec.padding))
    wmat = w.reshape(groups, c_in // groups, w[0].size)  # (C_in, C_out/G, *F) -> (G, C_in/G, C_out/G * F)
    xg = x.reshape(n, groups, c_in // groups, int(np.prod(spec.in_size)))  # (N, C_in, *I) -> (N, G, C_in/G, I)
    y = _spread(wmat, xg, w.shape[2:], spec.stride, spec.dilation, spec.in_size, full)
    y = pad_spatial_backward(y, spec.padding, "zeros")  # crop: padding removes rows and columns here
    if b is not None:
        y += b.reshape((1, spec.out_channels) + (1,) * 2)
    return y
