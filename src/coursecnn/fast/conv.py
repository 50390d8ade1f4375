"""Convolution in NumPy: 1D, 2D and 3D, its backward pass, the transposed convolution, and two
other ways to compute the same thing (the convolution theorem and a matrix product).

Like PyTorch (and the lectures), "convolution" here is a cross-correlation: the kernel is not
flipped. For one output value

    y[n, k, i, j] = b[k] + sum_{c, u, v} x[n, g*C_g + c, i*s + u*d, j*s + v*d] * w[k, c, u, v]

where ``g = k // (K / groups)`` is the kernel's group and ``C_g = C / groups``. The ``*_naive``
functions are these loops written out. The fast ones turn the loops into BLAS calls: they
gather every window of an image into a matrix (one copy, "im2col") and do one matrix product
per image and group; with stride 1 they copy less (see ``_shifted.py``). The backward pass
reuses both: ``dw`` is a product of ``dy`` with the same windows, and ``dx`` is a convolution
of ``dy`` with the flipped kernel (stride 1) or ``dy`` spread back through the kernel.
"""

import numpy as np

from . import _conv_checks as chk
from ._conv_loops import conv2d_backward_naive, conv2d_naive, conv_transpose2d_naive
from ._padding import pad2d, pad_spatial, pad_spatial_backward
from ._shifted import conv2d_shifted, worth_it
from ._windows import col2im, im2col

__all__ = [
    "conv1d",
    "conv2d",
    "conv3d",
    "conv2d_naive",
    "conv1d_backward",
    "conv2d_backward",
    "conv3d_backward",
    "conv2d_backward_naive",
    "conv_transpose2d",
    "conv_transpose2d_naive",
    "conv2d_fft",
    "conv2d_as_matrix",
    "pad2d",
]


# ------------------------------------------------------------------------------ shared kernels

_DW_TEMP_LIMIT = 2**22  # elements of the per-image dw products held at once (chunk * w.size)


def _forward(x, w, b, stride, pads, dilation, groups, mode, out_size):
    n, k = x.shape[0], w.shape[0]
    xp = pad_spatial(x, pads, mode)
    if len(out_size) == 2 and worth_it(w, stride):
        y = conv2d_shifted(xp, w, groups, dilation, out_size)  # same numbers, a third of the copying
    else:
        cols = im2col(xp, groups, w.shape[2:], stride, dilation, out_size)  # (N, G, C/G * F, O)
        wmat = w.reshape(groups, k // groups, -1)  # (K, C/G, *F) -> (G, K/G, C/G * F), a view
        # one product per image and group, (K/G, C/G * F) @ (C/G * F, O), small enough to stay
        # in cache; the result (N, G, K/G, O) is already (N, K, *O) in memory
        y = np.matmul(wmat, cols).reshape((n, k) + out_size)
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
    cols = cols.reshape((n, -1) + tuple(kernel) + tuple(in_size))  # (N, Cout, *F, *I), a view
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
    xp = pad_spatial(x, pads, mode)
    dyg = dy.reshape(n, groups, k // groups, -1)  # (N, K, *O) -> (N, G, K/G, O)
    db = dy.sum(axis=(0,) + tuple(range(2, 2 + nd)))
    # dw: each weight met one pixel per output position, weighted by that position's dy;
    # one product per image, (K/G, O) @ (O, C/G * F), then the sum over the batch
    cols = im2col(xp, groups, w.shape[2:], stride, dilation, out_size)  # (N, G, C/G * F, O)
    cols_t = cols.transpose(0, 1, 3, 2)  # (N, G, O, C/G * F), a view
    chunk = max(1, _DW_TEMP_LIMIT // w.size)  # images per product: bounds the temporary
    dw = np.zeros((groups, k // groups, cols.shape[2]), dtype=w.dtype)
    for i in range(0, n, chunk):
        dw += np.matmul(dyg[i : i + chunk], cols_t[i : i + chunk]).sum(axis=0)
    dw = dw.reshape(w.shape)
    del cols, cols_t
    # dx: each dy spreads back through the kernel onto the pixels it read (a transposed conv)
    flipped = _flipped_kernel(w, groups)  # (C, K/G, *F)
    if nd == 2 and worth_it(flipped, stride):
        # with stride 1 that is the full convolution of dy with the flipped kernel, channels
        # swapped: pad dy by d(F - 1) so every pixel sees every tap, and reuse the forward path
        full = tuple(d * (f - 1) for d, f in zip(dilation, w.shape[2:]))
        dxp = _forward(dy, flipped, None, stride, full, dilation, groups, "zeros", xp.shape[2:])
    else:
        wmat = w.reshape(groups, k // groups, -1)  # (G, K/G, C/G * F)
        dxp = _spread(wmat, dyg, w.shape[2:], stride, dilation, out_size, xp.shape[2:])
    dx = pad_spatial_backward(dxp, pads, mode)
    return dx, dw, db


# --------------------------------------------------------------------------------- forward


def _conv(fname, nd, x, w, b, stride, padding, dilation, groups, padding_mode):
    x, w, b, stride, pads, dilation, groups, out = chk.conv_args(
        fname, x, w, b, stride, padding, dilation, groups, padding_mode, nd
    )
    return _forward(x, w, b, stride, pads, dilation, groups, padding_mode, out)


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    """conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros") -> ndarray

    Applies a 2D convolution (a cross-correlation, as in PyTorch) over a batch of images:
    ``y[n, k, i, j] = b[k] + sum_{c,u,v} x[n, g C_g + c, i s + u d, j s + v d] w[k, c, u, v]``.

    Args:
        x: input of shape ``(N, C, H, W)``, float32 or float64 (integers become float64).
        w: kernels of shape ``(K, C // groups, F_h, F_w)``.
        b: biases of shape ``(K,)``, or ``None`` for none. Default: ``None``.
        stride (int or pair): step between windows, ``s`` or ``(s_h, s_w)``. Default: ``1``.
        padding (int or pair): pixels added on each side, ``p`` or ``(p_h, p_w)``. Default: ``0``.
        dilation (int or pair): spacing between kernel taps; ``1`` means none. Default: ``1``.
        groups (int): split channels into this many groups, each convolved with its own
            ``K // groups`` kernels (``groups=C`` is a depthwise convolution). Default: ``1``.
        padding_mode (str): ``"zeros"``, ``"replicate"`` (repeat the border pixel),
            ``"reflect"`` or ``"circular"``. Default: ``"zeros"``.

    Returns:
        An array of shape ``(N, K, H_out, W_out)`` with
        ``H_out = floor((H + 2 p_h - d_h (F_h - 1) - 1) / s_h) + 1`` (likewise ``W_out``); float32
        when ``x``, ``w`` (and ``b``) are float32, float64 otherwise.

    Example::

        >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
        >>> w = np.ones((1, 1, 2, 2))
        >>> conv2d(x, w, stride=2)[0, 0].tolist()
        [[10.0, 18.0], [42.0, 50.0]]
        >>> conv2d(x, w, padding=1).shape
        (1, 1, 5, 5)
    """
    return _conv("conv2d", 2, x, w, b, stride, padding, dilation, groups, padding_mode)


def conv1d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    """conv1d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros") -> ndarray

    Applies a 1D convolution (cross-correlation) over a batch of sequences:
    ``y[n, k, i] = b[k] + sum_{c,u} x[n, g C_g + c, i s + u d] w[k, c, u]``.

    Args:
        x: input of shape ``(N, C, L)``.
        w: kernels of shape ``(K, C // groups, F_l)``.
        b: biases of shape ``(K,)`` or ``None``. Default: ``None``.
        stride, padding, dilation (int or 1-tuple): as in :func:`conv2d`. Defaults: ``1``, ``0``, ``1``.
        groups (int): channel groups. Default: ``1``.
        padding_mode (str): ``"zeros"``, ``"replicate"``, ``"reflect"`` or ``"circular"``.
            Default: ``"zeros"``.

    Returns:
        An array of shape ``(N, K, L_out)``, ``L_out = floor((L + 2p - d(F_l - 1) - 1)/s) + 1``.

    Example::

        >>> conv1d(np.array([[[1.0, 2.0, 3.0, 4.0]]]), np.array([[[1.0, -1.0]]]))[0, 0].tolist()
        [-1.0, -1.0, -1.0]
    """
    return _conv("conv1d", 1, x, w, b, stride, padding, dilation, groups, padding_mode)


def conv3d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    """conv3d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros") -> ndarray

    Applies a 3D convolution (cross-correlation) over a batch of volumes (or video clips):
    ``y[n, k, t, i, j] = b[k] + sum_{c,r,u,v} x[n, g C_g + c, t s + r d, i s + u d, j s + v d] w[k, c, r, u, v]``.

    Args:
        x: input of shape ``(N, C, D, H, W)``.
        w: kernels of shape ``(K, C // groups, F_d, F_h, F_w)``.
        b: biases of shape ``(K,)`` or ``None``. Default: ``None``.
        stride, padding, dilation (int or triple): as in :func:`conv2d`. Defaults: ``1``, ``0``, ``1``.
        groups (int): channel groups. Default: ``1``.
        padding_mode (str): ``"zeros"``, ``"replicate"``, ``"reflect"`` or ``"circular"``.
            Default: ``"zeros"``.

    Returns:
        An array of shape ``(N, K, D_out, H_out, W_out)``.

    Example::

        >>> conv3d(np.ones((1, 2, 3, 3, 3)), np.ones((4, 2, 2, 2, 2))).shape
        (1, 4, 2, 2, 2)
    """
    return _conv("conv3d", 3, x, w, b, stride, padding, dilation, groups, padding_mode)


# -------------------------------------------------------------------------------- backward


def _conv_backward(fname, nd, dy, x, w, stride, padding, dilation, groups, padding_mode):
    x, w, _, stride, pads, dilation, groups, out = chk.conv_args(
        fname, x, w, None, stride, padding, dilation, groups, padding_mode, nd
    )
    dy = chk.check_grad(fname, dy, (x.shape[0], w.shape[0]) + out, "(N, K" + chk.x_layout(nd)[5:])
    dtype = chk.common_dtype(x, w, dy)
    x, w, dy = x.astype(dtype, copy=False), w.astype(dtype, copy=False), dy.astype(dtype, copy=False)
    return _backward(dy, x, w, stride, pads, dilation, groups, padding_mode, out)


def conv2d_backward(dy, x, w, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    """conv2d_backward(dy, x, w, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros") -> (dx, dw, db)

    The gradients of :func:`conv2d` with respect to its input, kernels and biases, given the
    gradient ``dy`` of a loss with respect to its output.

    ``db`` sums ``dy`` over the batch and positions; ``dw`` correlates the input with ``dy``
    (each weight met one pixel per output position); ``dx`` is the convolution done backwards:
    every ``dy`` value spreads back through the kernel onto the pixels its window read. With
    stride 1 and no padding that is a full convolution of ``dy`` with the flipped kernel
    (channels swapped), and in general it is ``conv_transpose2d(dy, w, stride, padding)``.

    Args:
        dy: gradient of the output, shape ``(N, K, H_out, W_out)``.
        x: the forward input, shape ``(N, C, H, W)``.
        w: the kernels, shape ``(K, C // groups, F_h, F_w)``.
        stride, padding, dilation, groups, padding_mode: as given to :func:`conv2d`.

    Returns:
        ``(dx, dw, db)`` of shapes ``(N, C, H, W)``, ``(K, C // groups, F_h, F_w)`` and ``(K,)``.
        Rows or columns that no window reached (when the windows do not tile the input) get 0.

    Example::

        >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
        >>> w = np.ones((1, 1, 2, 2))
        >>> dx, dw, db = conv2d_backward(np.ones((1, 1, 2, 2)), x, w)
        >>> dx[0, 0].tolist()
        [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
        >>> dw[0, 0].tolist(), db.tolist()
        ([[8.0, 12.0], [20.0, 24.0]], [4.0])
    """
    return _conv_backward("conv2d_backward", 2, dy, x, w, stride, padding, dilation, groups, padding_mode)


def conv1d_backward(dy, x, w, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    """conv1d_backward(dy, x, w, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros") -> (dx, dw, db)

    The gradients of :func:`conv1d`; see :func:`conv2d_backward`.

    Args:
        dy: shape ``(N, K, L_out)``. x: shape ``(N, C, L)``. w: shape ``(K, C // groups, F_l)``.
        stride, padding, dilation, groups, padding_mode: as given to :func:`conv1d`.

    Returns:
        ``(dx, dw, db)`` shaped like ``x``, ``w`` and ``(K,)``.

    Example::

        >>> dx, dw, db = conv1d_backward(np.ones((1, 1, 3)), np.arange(4.0).reshape(1, 1, 4), np.ones((1, 1, 2)))
        >>> dx[0, 0].tolist(), dw[0, 0].tolist()
        ([1.0, 2.0, 2.0, 1.0], [3.0, 6.0])
    """
    return _conv_backward("conv1d_backward", 1, dy, x, w, stride, padding, dilation, groups, padding_mode)


def conv3d_backward(dy, x, w, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    """conv3d_backward(dy, x, w, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros") -> (dx, dw, db)

    The gradients of :func:`conv3d`; see :func:`conv2d_backward`.

    Args:
        dy: shape ``(N, K, D_out, H_out, W_out)``. x: shape ``(N, C, D, H, W)``.
        w: shape ``(K, C // groups, F_d, F_h, F_w)``.
        stride, padding, dilation, groups, padding_mode: as given to :func:`conv3d`.

    Returns:
        ``(dx, dw, db)`` shaped like ``x``, ``w`` and ``(K,)``.

    Example::

        >>> dx, dw, db = conv3d_backward(np.ones((1, 1, 1, 1, 1)), np.ones((1, 1, 2, 2, 2)), np.ones((1, 1, 2, 2, 2)))
        >>> float(dx.sum()), float(dw.sum()), db.tolist()
        (8.0, 8.0, [1.0])
    """
    return _conv_backward("conv3d_backward", 3, dy, x, w, stride, padding, dilation, groups, padding_mode)


# ---------------------------------------------------------------------- transposed convolution


def conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1) -> ndarray

    Applies a 2D transposed convolution (sometimes called a "deconvolution"): every input value
    scatters a copy of the kernel, scaled by the value, into the output, the copies ``stride``
    pixels apart, and overlapping copies add up. It is the backward pass (``dx``) of
    :func:`conv2d` with the same ``w``, ``stride`` and ``padding``, which is why ``w`` has the
    conv's layout with in and out swapped.

    Args:
        x: input of shape ``(N, C_in, H, W)``.
        w: kernels of shape ``(C_in, C_out // groups, F_h, F_w)``.
        b: biases of shape ``(C_out,)`` or ``None``. Default: ``None``.
        stride (int or pair): spacing of the scattered copies. Default: ``1``.
        padding (int or pair): rows and columns cropped from each side of the result (the
            padding of the convolution it inverts). Default: ``0``.
        output_padding (int or pair): extra rows/columns on the bottom/right, to pick one of
            the input sizes a strided convolution maps to the same size; smaller than
            ``stride`` or ``dilation``. Default: ``0``.
        groups (int): channel groups. Default: ``1``.
        dilation (int or pair): spacing of the kernel taps. Default: ``1``.

    Returns:
        An array of shape ``(N, C_out, H_out, W_out)`` with
        ``H_out = (H - 1) s_h - 2 p_h + d_h (F_h - 1) + output_padding_h + 1``.

    Example::

        >>> y = conv_transpose2d(np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2)), stride=1)
        >>> y[0, 0].tolist()
        [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
        >>> conv_transpose2d(np.ones((1, 1, 3, 3)), np.ones((1, 2, 3, 3)), stride=2).shape
        (1, 2, 7, 7)
    """
    fname, nd = "conv_transpose2d", 2
    x = chk.as_input(fname, x, "x", nd + 2, chk.x_layout(nd))
    w = chk.as_input(fname, w, "w", nd + 2, chk.w_layout(nd, transposed=True))
    stride = chk.as_tuple(fname, stride, "stride", nd, 1)
    pads = chk.as_tuple(fname, padding, "padding", nd, 0)
    out_pads = chk.as_tuple(fname, output_padding, "output_padding", nd, 0)
    dilation = chk.as_tuple(fname, dilation, "dilation", nd, 1)
    groups = chk.as_groups(fname, groups)
    c_in = x.shape[1]
    if c_in % groups:
        raise ValueError(f"{fname}: the input's {c_in} channels must be divisible by groups ({groups})")
    if w.shape[0] != c_in:
        raise ValueError(
            f"{fname}: channel mismatch: x has {c_in} channels but w (C_in, C_out // groups, F_h, F_w) "
            f"expects {w.shape[0]}"
        )
    if 0 in w.shape[1:]:
        raise ValueError(f"{fname}: w must have at least one output channel and tap, got shape {w.shape}")
    cout = w.shape[1] * groups
    b = chk.check_bias(fname, b, cout)
    full, out = [], []
    for op, s, d, n, f, p in zip(out_pads, stride, dilation, x.shape[2:], w.shape[2:], pads):
        if op >= max(s, d):
            raise ValueError(
                f"{fname}: output_padding {op} must be smaller than stride ({s}) or dilation ({d})"
            )
        full.append((n - 1) * s + d * (f - 1) + 1 + op)
        if full[-1] - 2 * p < 1:
            raise ValueError(f"{fname}: padding {p} crops the whole output (size {full[-1]} before cropping)")
        out.append(full[-1] - 2 * p)
    dtype = chk.common_dtype(x, w, b)
    x, w = x.astype(dtype, copy=False), w.astype(dtype, copy=False)
    wmat = w.reshape(groups, c_in // groups, -1)  # (C_in, C_out/G, *F) -> (G, C_in/G, C_out/G * F)
    xg = x.reshape(x.shape[0], groups, c_in // groups, -1)  # (N, C_in, *I) -> (N, G, C_in/G, I)
    y = _spread(wmat, xg, w.shape[2:], stride, dilation, x.shape[2:], full)
    y = pad_spatial_backward(y, pads, "zeros")  # crop: padding removes rows and columns here
    if b is not None:
        y += b.astype(dtype, copy=False).reshape((1, cout) + (1,) * nd)
    return y


# ------------------------------------------------------------------- other forms of the same op


def conv2d_fft(x, w, b=None):
    """conv2d_fft(x, w, b=None) -> ndarray

    :func:`conv2d` with stride 1 and no padding, computed through the convolution theorem:
    a convolution is a product of Fourier transforms. ``conv2d`` is a cross-correlation, so the
    kernel is flipped first to turn it into a true convolution; the transforms are
    ``H x W`` (the input's size), and the circular wrap-around only spoils the first
    ``F - 1`` rows and columns, which are exactly the ones a "valid" convolution drops.

    Args:
        x: input of shape ``(N, C, H, W)``.
        w: kernels of shape ``(K, C, F_h, F_w)`` (no groups).
        b: biases of shape ``(K,)`` or ``None``. Default: ``None``.

    Returns:
        An array of shape ``(N, K, H - F_h + 1, W - F_w + 1)``, equal to ``conv2d(x, w, b)``
        up to rounding (about 1e-12 relative in float64).

    Example::

        >>> x = np.random.default_rng(0).normal(size=(2, 3, 8, 8))
        >>> w = np.random.default_rng(1).normal(size=(4, 3, 3, 3))
        >>> np.allclose(conv2d_fft(x, w), conv2d(x, w))
        True
    """
    fname = "conv2d_fft"
    x, w, b, _, _, _, _, out = chk.conv_args(fname, x, w, b, 1, 0, 1, 1, "zeros", 2)
    h, wd = x.shape[2:]
    fh, fw = w.shape[2:]
    flipped = w[:, :, ::-1, ::-1]  # cross-correlation = convolution with the flipped kernel
    xf = np.fft.rfft2(x, s=(h, wd))  # (N, C, H, W//2 + 1)
    wf = np.fft.rfft2(flipped, s=(h, wd))  # (K, C, H, W//2 + 1): the kernel zero-padded to H x W
    # the theorem, channel by channel, summed over channels: (N, C, .) x (K, C, .) -> (N, K, .)
    yf = np.einsum("nchw,kchw->nkhw", xf, wf, optimize=True)
    full = np.fft.irfft2(yf, s=(h, wd))
    y = full[:, :, fh - 1 :, fw - 1 :].astype(x.dtype, copy=False)  # drop the wrapped-around part
    y = np.ascontiguousarray(y)
    if b is not None:
        y += b[None, :, None, None]
    return y


def conv2d_as_matrix(kernel, input_hw, stride=1, padding=0, dilation=1):
    """conv2d_as_matrix(kernel, input_hw, stride=1, padding=0, dilation=1) -> ndarray

    The matrix ``M`` of a one-channel convolution: ``(M @ x.ravel()).reshape(out_hw)`` equals
    ``conv2d`` of ``x``. Row ``(i, j)`` holds the kernel at the place its window covers, zeros
    elsewhere, so ``M`` is sparse and each row is the previous one shifted; ``M.T`` is the
    transposed convolution.

    Args:
        kernel: a 2D kernel of shape ``(F_h, F_w)``.
        input_hw (int or pair): the input's ``H`` or ``(H, W)``.
        stride, padding, dilation (int or pair): as in :func:`conv2d` (zero padding: padded
            pixels have no column). Defaults: ``1``, ``0``, ``1``.

    Returns:
        An array of shape ``(H_out * W_out, H * W)``, the kernel's dtype.

    Example::

        >>> conv2d_as_matrix(np.array([[1.0, 2.0], [3.0, 4.0]]), 3)
        array([[1., 2., 0., 3., 4., 0., 0., 0., 0.],
               [0., 1., 2., 0., 3., 4., 0., 0., 0.],
               [0., 0., 0., 1., 2., 0., 3., 4., 0.],
               [0., 0., 0., 0., 1., 2., 0., 3., 4.]])
    """
    fname = "conv2d_as_matrix"
    kernel = chk.as_input(fname, kernel, "kernel", 2, "(F_h, F_w)")
    h, wd = chk.as_tuple(fname, input_hw, "input_hw", 2, 1)
    stride = chk.as_tuple(fname, stride, "stride", 2, 1)
    pads = chk.as_tuple(fname, padding, "padding", 2, 0)
    dilation = chk.as_tuple(fname, dilation, "dilation", 2, 1)
    if 0 in kernel.shape:
        raise ValueError(f"{fname}: kernel must be at least 1x1, got shape {kernel.shape}")
    ho, wo = chk.output_size(fname, (h, wd), pads, kernel.shape, stride, dilation, 2)
    m = np.zeros((ho * wo, h * wd), dtype=kernel.dtype)
    for i in range(ho):
        for j in range(wo):
            for u in range(kernel.shape[0]):
                for v in range(kernel.shape[1]):
                    # the pixel tap (u, v) of window (i, j) reads, in unpadded coordinates
                    r = i * stride[0] + u * dilation[0] - pads[0]
                    c = j * stride[1] + v * dilation[1] - pads[1]
                    if 0 <= r < h and 0 <= c < wd:
                        m[i * wo + j, r * wd + c] = kernel[u, v]
    return m
