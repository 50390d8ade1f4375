"""Sliding windows as strided views, and the two copies a convolution needs (im2col, col2im),
laid out per group for ``coursecnn.fast.conv``.

Everything here works for any number of spatial axes ``S`` (1, 2 or 3), so ``conv1d``,
``conv2d`` and ``conv3d`` share it.
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..ref.padding import pad_spatial as ref_pad_spatial


def window_view(xp, kernel_size, stride, dilation, out_size):
    """A read-only view of shape ``(N, C, *out_size, *kernel_size)`` of the padded input ``xp``
    ``(N, C, *S)``: ``view[n, c, i, j, u, v] = xp[n, c, i*s + u*d, j*s + v*d]``.

    No data moves: moving one output position steps ``stride`` elements along an axis, moving
    one kernel tap steps ``dilation`` elements, so the view just has those strides.
    """
    lead = xp.strides[:2]
    spatial = xp.strides[2:]
    strides = lead + tuple(st * s for st, s in zip(spatial, stride)) + tuple(st * d for st, d in zip(spatial, dilation))
    shape = xp.shape[:2] + tuple(out_size) + tuple(kernel_size)
    return as_strided(xp, shape=shape, strides=strides, writeable=False)


def im2col(xp, groups, kernel_size, stride, dilation, out_size, out=None):
    """The columns of a grouped convolution, image by image: shape ``(N, G, C/G * prod(F), prod(O))``,
    written into ``out`` (a contiguous array of that shape) where one is given.

    Row ``(c, u, v)`` of image ``n``, group ``g`` holds the pixel that kernel tap ``(u, v)`` of
    channel ``c`` sees at every output position ``(i, j)``, so each image's convolution becomes
    one matrix product per group, whose result is already laid out as ``(K, H_out, W_out)``.
    This is the one copy the forward pass makes; its innermost axis runs over output positions,
    which for stride 1 are neighbouring pixels, so the copy streams.
    """
    nd = len(kernel_size)
    n, c = xp.shape[:2]
    view = window_view(xp, kernel_size, stride, dilation, out_size)  # (N, C, *O, *F)
    # -> (N, C, *F, *O): kernel taps before positions, still a view
    view = view.transpose((0, 1) + tuple(range(2 + nd, 2 + 2 * nd)) + tuple(range(2, 2 + nd)))
    # -> (N, G, C/G * prod(F), prod(O)): this reshape is the copy (the view is not contiguous)
    rows = (c // groups) * int(np.prod(kernel_size))
    if out is None:
        return view.reshape(n, groups, rows, int(np.prod(out_size)))
    out.reshape(view.shape)[...] = view  # the same copy, into a buffer that is used again
    return out


def col2im(cols, padded_size, kernel_size, stride, dilation, out_size):
    """The adjoint of ``im2col``: add every column entry back onto the pixel it was read from.

    ``cols`` has shape ``(N, C, *F, *O)``; returns the padded input's gradient
    ``(N, C, *padded_size)``. One strided slice-add per kernel tap: tap ``(u, v)`` touched the
    pixels ``u*d + i*s``, ``v*d + j*s``.
    """
    n, c = cols.shape[:2]
    acc = np.zeros((n, c) + tuple(padded_size), dtype=cols.dtype)
    for tap in np.ndindex(*kernel_size):
        target = tuple(
            slice(t * d, t * d + s * (o - 1) + 1, s) for t, d, s, o in zip(tap, dilation, stride, out_size)
        )
        acc[(slice(None), slice(None)) + target] += cols[(slice(None), slice(None)) + tap]
    return acc


def pad_spatial(x, pads, mode="zeros"):
    """``coursecnn.ref.padding.pad_spatial``, with zero padding as one allocation and one slice
    assignment (several times faster than ``np.pad``)."""
    if mode != "zeros" or not any(pads):
        return ref_pad_spatial(x, pads, mode)
    nd = len(pads)
    out = np.zeros(x.shape[:-nd] + tuple(n + 2 * p for n, p in zip(x.shape[-nd:], pads)), x.dtype)
    out[(Ellipsis,) + tuple(slice(p, p + n) for n, p in zip(x.shape[-nd:], pads))] = x
    return out
