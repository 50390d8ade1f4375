"""The convolution written as loops that read like its formula (slow; for reading and testing).

The fast functions of ``coursecnn.ref.conv`` must agree with these on every input.
"""

import numpy as np

from . import _conv_checks as chk
from ._padding import pad_spatial, pad_spatial_backward


def conv2d_naive(x, w, b=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    """conv2d_naive(x, w, b=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros") -> ndarray

    :func:`conv2d` as seven nested loops over the formula
    ``y[n, k, i, j] = b[k] + sum_{c,u,v} x[n, g C_g + c, i s + u d, j s + v d] w[k, c, u, v]``
    (``x`` already padded). Same arguments, result and errors as :func:`conv2d`; slow.

    Args:
        x: input of shape ``(N, C, H, W)``.
        w: kernels of shape ``(K, C // groups, F_h, F_w)``.
        b: biases of shape ``(K,)`` or ``None``. Default: ``None``.
        stride, padding, dilation, groups, padding_mode: as in :func:`conv2d`.

    Returns:
        An array of shape ``(N, K, H_out, W_out)``.

    Example::

        >>> conv2d_naive(np.arange(9.0).reshape(1, 1, 3, 3), np.ones((1, 1, 2, 2)))[0, 0].tolist()
        [[8.0, 12.0], [20.0, 24.0]]
    """
    x, w, b, (sh, sw), pads, (dh, dw), groups, (ho, wo) = chk.conv_args(
        "conv2d_naive", x, w, b, stride, padding, dilation, groups, padding_mode, 2
    )
    xp = pad_spatial(x, pads, padding_mode)
    n_batch, k_out = x.shape[0], w.shape[0]
    c_g, fh, fw = w.shape[1:]
    k_g = k_out // groups  # kernels per group
    y = np.zeros((n_batch, k_out, ho, wo), dtype=x.dtype)
    for n in range(n_batch):
        for k in range(k_out):
            g = k // k_g  # the group kernel k belongs to sees channels g*C_g ... g*C_g + C_g - 1
            for i in range(ho):
                for j in range(wo):
                    total = b[k] if b is not None else 0.0
                    for c in range(c_g):
                        for u in range(fh):
                            for v in range(fw):
                                total += xp[n, g * c_g + c, i * sh + u * dh, j * sw + v * dw] * w[k, c, u, v]
                    y[n, k, i, j] = total
    return y


def conv2d_backward_naive(dy, x, w, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    """conv2d_backward_naive(dy, x, w, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros") -> (dx, dw, db)

    :func:`conv2d_backward` as loops: the forward loops run again, and where the forward pass
    added ``x[...] * w[...]`` into ``y[n, k, i, j]``, the backward pass adds
    ``dy[n, k, i, j] * w[...]`` into ``dx`` and ``dy[n, k, i, j] * x[...]`` into ``dw`` (the
    chain rule, term by term). Same arguments and results as :func:`conv2d_backward`; slow.

    Args:
        dy: shape ``(N, K, H_out, W_out)``. x: shape ``(N, C, H, W)``.
        w: shape ``(K, C // groups, F_h, F_w)``.
        stride, padding, dilation, groups, padding_mode: as given to :func:`conv2d`.

    Returns:
        ``(dx, dw, db)`` shaped like ``x``, ``w`` and ``(K,)``.

    Example::

        >>> dx, dw, db = conv2d_backward_naive(np.ones((1, 1, 1, 1)), np.ones((1, 1, 2, 2)), np.full((1, 1, 2, 2), 3.0))
        >>> dx[0, 0].tolist(), db.tolist()
        ([[3.0, 3.0], [3.0, 3.0]], [1.0])
    """
    fname = "conv2d_backward_naive"
    x, w, _, (sh, sw), pads, (dh, dw_), groups, (ho, wo) = chk.conv_args(
        fname, x, w, None, stride, padding, dilation, groups, padding_mode, 2
    )
    dy = chk.check_grad(fname, dy, (x.shape[0], w.shape[0], ho, wo), "(N, K, H_out, W_out)")
    dtype = chk.common_dtype(x, w, dy)
    x, w, dy = x.astype(dtype, copy=False), w.astype(dtype, copy=False), dy.astype(dtype, copy=False)
    xp = pad_spatial(x, pads, padding_mode)
    dxp = np.zeros(xp.shape, dtype=dtype)
    dw = np.zeros(w.shape, dtype=dtype)
    n_batch, k_out = x.shape[0], w.shape[0]
    c_g, fh, fw = w.shape[1:]
    k_g = k_out // groups
    for n in range(n_batch):
        for k in range(k_out):
            g = k // k_g
            for i in range(ho):
                for j in range(wo):
                    for c in range(c_g):
                        for u in range(fh):
                            for v in range(fw):
                                r, s = i * sh + u * dh, j * sw + v * dw_
                                dxp[n, g * c_g + c, r, s] += dy[n, k, i, j] * w[k, c, u, v]
                                dw[k, c, u, v] += dy[n, k, i, j] * xp[n, g * c_g + c, r, s]
    db = dy.sum(axis=(0, 2, 3))
    # padded pixels were copies (or zeros): their gradient goes to the pixel they copied
    dx = pad_spatial_backward(dxp, pads, padding_mode)
    return dx, dw, db


def conv_transpose2d_naive(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """conv_transpose2d_naive(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1) -> ndarray

    :func:`conv_transpose2d` as loops: input value ``x[n, c, i, j]`` adds
    ``x[n, c, i, j] * w[c, o, u, v]`` into output pixel ``(i s + u d - p, j s + v d - p)`` of
    channel ``o`` (of its group), for every tap ``(u, v)`` that lands inside the output.

    Args:
        x: input of shape ``(N, C_in, H, W)``.
        w: kernels of shape ``(C_in, C_out // groups, F_h, F_w)``.
        b, stride, padding, output_padding, groups, dilation: as in :func:`conv_transpose2d`.

    Returns:
        An array of shape ``(N, C_out, H_out, W_out)``.

    Example::

        >>> conv_transpose2d_naive(np.ones((1, 1, 1, 2)), np.ones((1, 1, 1, 2)))[0, 0].tolist()
        [[1.0, 2.0, 1.0]]
    """
    from .conv import conv_transpose2d

    # the fast version checks the arguments and gives the output's shape and dtype
    shape_giver = conv_transpose2d(x, w, b, stride, padding, output_padding, groups, dilation)
    x = np.asarray(x, dtype=shape_giver.dtype)
    w = np.asarray(w, dtype=shape_giver.dtype)
    sh, sw = chk.as_tuple("conv_transpose2d_naive", stride, "stride", 2, 1)
    ph, pw = chk.as_tuple("conv_transpose2d_naive", padding, "padding", 2, 0)
    dh, dw = chk.as_tuple("conv_transpose2d_naive", dilation, "dilation", 2, 1)
    n_batch, c_in, h, wd = x.shape
    c_ig = c_in // groups
    c_og, fh, fw = w.shape[1:]
    y = np.zeros(shape_giver.shape, dtype=shape_giver.dtype)
    ho, wo = y.shape[2:]
    for n in range(n_batch):
        for c in range(c_in):
            g = c // c_ig
            for i in range(h):
                for j in range(wd):
                    for o in range(c_og):
                        for u in range(fh):
                            for v in range(fw):
                                r, s = i * sh + u * dh - ph, j * sw + v * dw - pw
                                if 0 <= r < ho and 0 <= s < wo:
                                    y[n, g * c_og + o, r, s] += x[n, c, i, j] * w[c, o, u, v]
    if b is not None:
        y += np.asarray(b, dtype=y.dtype)[None, :, None, None]
    return y
