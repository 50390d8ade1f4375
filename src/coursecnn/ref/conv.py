"""Convolution in NumPy: 1D, 2D and 3D, its backward pass and the transposed convolution.

Like PyTorch (and the lectures), "convolution" here is a cross-correlation: the kernel is not
flipped. For one output value

    y[n, k, i, j] = b[k] + sum_{c, u, v} x_p[n, c, i*s + u, j*s + v] * w[k, c, u, v]

with ``x_p`` the padded input. Each operation comes twice. The ``*_naive`` version is the
formula as loops over the outputs (padding and stride in the loops; dilation and groups as
short steps before them). The other is the same sum as one matrix product per group: im2col
lays every window out as a column (``columns.py``), and the kernels, one per row, multiply
all windows at once. ``coursecnn.fast`` holds faster versions of the same functions.
"""

import numpy as np

from .._checks import conv_arrays, conv_budget, conv_transpose_budget, grad_like, loop_budget, memory_budget, x_layout
from .columns import col2im, im2col
from .conv_forms import conv2d_as_matrix, conv2d_fft  # exported from here too
from .padding import pad2d, pad_spatial, pad_spatial_backward

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
    "dilate_kernel",
    "pad2d",
    "im2col",
    "col2im",
]

_VECTORIZED = "use conv2d (the vectorized version)"
_UNBOUNDED = float("inf")  # a dilated kernel fits in the padded input: the callers' checks cover it


def dilate_kernel(w, dilation, *, max_bytes=None):
    """dilate_kernel(w, dilation, *, max_bytes=None) -> ndarray

    The kernel with ``d - 1`` zeros between its taps: a convolution with
    dilation ``d`` equals a plain one with this wider kernel.

    Args:
        w: kernels of shape ``(K, C, F_h, F_w)``.
        dilation: ``(d_h, d_w)``.
        max_bytes (int): refuse to build kernels larger than this. Default: ``None``,
            meaning 1 GiB (the convolutions' own budgets cover the calls they make).

    Returns:
        A new array of shape ``(K, C, d_h (F_h - 1) + 1, d_w (F_w - 1) + 1)``.

    Example::

        >>> dilate_kernel(np.ones((1, 1, 1, 3)), (1, 2))[0, 0]
        array([[1., 0., 1., 0., 1.]])
    """
    (d_h, d_w), (f_h, f_w) = dilation, w.shape[2:]
    memory_budget("dilate_kernel", w.shape[0] * w.shape[1] * (d_h * (f_h - 1) + 1) * (d_w * (f_w - 1) + 1)
                  * w.itemsize, max_bytes, "the dilated kernels", "use a smaller dilation")
    wide = np.zeros(w.shape[:2] + (d_h * (f_h - 1) + 1, d_w * (f_w - 1) + 1), w.dtype)
    wide[:, :, ::d_h, ::d_w] = w
    return wide


# ----------------------------------------------------------------------------- loops


def conv2d_naive(x, w, b=None, stride=1, padding=0, dilation=1, groups=1,
                 padding_mode="zeros", *, max_steps=None):
    """conv2d_naive(x, w, b=None, stride=1, padding=0, dilation=1, groups=1,
    padding_mode="zeros", *, max_steps=None) -> ndarray

    :func:`conv2d` as loops over the outputs: each output is the sum of a
    window of the padded input times the kernel. Same arguments, result and
    errors as :func:`conv2d`; slow.

    Args:
        x, w, b, stride, padding, dilation, groups, padding_mode: as in
            :func:`conv2d`.
        max_steps (int): refuse to run more loop iterations than this (one per
            output value). Default: ``None``, meaning 10**6 (a few seconds).

    Returns:
        An array of shape ``(N, K, H_out, W_out)``.

    Example::

        >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
        >>> conv2d_naive(x, np.ones((1, 1, 2, 2)))[0, 0].tolist()
        [[8.0, 12.0], [20.0, 24.0]]
    """
    x, w, b, spec = conv_arrays("conv2d_naive", 2, x, w, b, stride, padding,
                                dilation, groups, padding_mode)
    N, K, (H_out, W_out) = spec.batch, spec.out_channels, spec.out_size
    loop_budget("conv2d_naive", N * K * H_out * W_out, max_steps, _VECTORIZED)
    xp = pad2d(x, spec.padding, spec.padding_mode)
    # dilation: zeros between the taps
    w = dilate_kernel(w, spec.dilation, max_bytes=_UNBOUNDED)
    C_g, F_h, F_w = w.shape[1:]  # channels per group, (dilated) kernel size
    K_g = K // spec.groups  # kernels per group
    s_h, s_w = spec.stride
    y = np.zeros((N, K, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for k in range(K):
            # groups: kernel k sees channels c0 ... c0 + C_g - 1
            c0 = (k // K_g) * C_g
            for i in range(H_out):
                for j in range(W_out):
                    rows = slice(i * s_h, i * s_h + F_h)
                    cols = slice(j * s_w, j * s_w + F_w)
                    window = xp[n, c0 : c0 + C_g, rows, cols]
                    y[n, k, i, j] = np.sum(window * w[k])
    if b is not None:
        y += b.reshape(1, K, 1, 1)
    return y


def conv2d_backward_naive(dy, x, w, stride=1, padding=0, dilation=1, groups=1,
                          padding_mode="zeros", *, max_steps=None):
    """conv2d_backward_naive(dy, x, w, stride=1, padding=0, dilation=1,
    groups=1, padding_mode="zeros", *, max_steps=None) -> (dx, dw, db)

    :func:`conv2d_backward` as the loops of :func:`conv2d_naive` run again:
    where the forward pass added ``window * w[k]`` into ``y[n, k, i, j]``, the
    backward pass adds ``dy[n, k, i, j] * w[k]`` onto the window's pixels
    (``dx``) and ``dy[n, k, i, j] * window`` onto the kernel (``dw``): the
    chain rule, term by term.

    Args:
        dy: gradient of the output, shape ``(N, K, H_out, W_out)``.
        x, w, stride, padding, dilation, groups, padding_mode: as given to
            :func:`conv2d`.
        max_steps (int): as in :func:`conv2d_naive`. Default: ``None``.

    Returns:
        ``(dx, dw, db)`` shaped like ``x``, ``w`` and ``(K,)``.

    Example::

        >>> x, w = np.ones((1, 1, 2, 2)), np.full((1, 1, 2, 2), 3.0)
        >>> dx, dw, db = conv2d_backward_naive(np.ones((1, 1, 1, 1)), x, w)
        >>> dx[0, 0].tolist(), db.tolist()
        ([[3.0, 3.0], [3.0, 3.0]], [1.0])
    """
    fname = "conv2d_backward_naive"
    x, w, _, spec = conv_arrays(fname, 2, x, w, None, stride, padding,
                                dilation, groups, padding_mode)
    dy = grad_like(fname, dy, spec.out_shape, "(N, K, H_out, W_out)")
    x, w, dy = _one_dtype(x, w, dy)
    N, K, (H_out, W_out) = spec.batch, spec.out_channels, spec.out_size
    loop_budget(fname, N * K * H_out * W_out, max_steps, "use conv2d_backward")
    xp = pad2d(x, spec.padding, spec.padding_mode)
    # dilation: zeros between the taps
    wd = dilate_kernel(w, spec.dilation, max_bytes=_UNBOUNDED)
    C_g, F_h, F_w = wd.shape[1:]
    K_g = K // spec.groups
    s_h, s_w = spec.stride
    dxp = np.zeros(xp.shape, dtype=xp.dtype)
    dwd = np.zeros(wd.shape, dtype=xp.dtype)
    for n in range(N):
        for k in range(K):
            c0 = (k // K_g) * C_g
            for i in range(H_out):
                for j in range(W_out):
                    top, left = i * s_h, j * s_w
                    rows = slice(top, top + F_h)
                    cols = slice(left, left + F_w)
                    window = xp[n, c0 : c0 + C_g, rows, cols]
                    dxp[n, c0 : c0 + C_g, rows, cols] += dy[n, k, i, j] * wd[k]
                    dwd[k] += dy[n, k, i, j] * window
    d_h, d_w = spec.dilation
    dw = dwd[:, :, ::d_h, ::d_w]  # only the real taps have weights
    db = dy.sum(axis=(0, 2, 3))
    # padded pixels were copies (or zeros): their gradient goes to their source
    dx = pad_spatial_backward(dxp, spec.padding, spec.padding_mode)
    return dx, dw, db


def conv_transpose2d_naive(x, w, b=None, stride=1, padding=0, output_padding=0,
                           groups=1, dilation=1, *, max_steps=None, max_bytes=None):
    """conv_transpose2d_naive(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1, *, max_steps=None, max_bytes=None) -> ndarray

    :func:`conv_transpose2d` as loops: every input value ``x[n, c, i, j]``
    adds a copy of its kernel, scaled by the value, onto the output at
    ``(i s, j s)``; then ``padding`` rows and columns are cropped from each
    side.

    Args:
        x: input of shape ``(N, C_in, H, W)``.
        w: kernels of shape ``(C_in, C_out // groups, F_h, F_w)``.
        b, stride, padding, output_padding, groups, dilation: as in
            :func:`conv_transpose2d`.
        max_steps (int): as in :func:`conv2d_naive`. Default: ``None``.
        max_bytes (int): as in :func:`conv_transpose2d` (few loop steps may still fill a
            huge output when the stride is large). Default: ``None``.

    Returns:
        An array of shape ``(N, C_out, H_out, W_out)``.

    Example::

        >>> x, w = np.ones((1, 1, 1, 2)), np.ones((1, 1, 1, 2))
        >>> conv_transpose2d_naive(x, w)[0, 0].tolist()
        [[1.0, 2.0, 1.0]]
    """
    fname = "conv_transpose2d_naive"
    x, w, b, spec = conv_arrays(fname, 2, x, w, b, stride, padding, dilation,
                                groups, transposed=True,
                                output_padding=output_padding)
    N, C_in, (H, W) = spec.batch, spec.in_channels, spec.in_size
    loop_budget(fname, N * C_in * H * W, max_steps, "use conv_transpose2d")
    conv_transpose_budget(fname, spec, x.itemsize, max_bytes)
    w = dilate_kernel(w, spec.dilation, max_bytes=_UNBOUNDED)
    C_og, F_h, F_w = w.shape[1:]  # output channels per group, kernel size
    C_ig = C_in // spec.groups  # input channels per group
    (s_h, s_w), (p_h, p_w) = spec.stride, spec.padding
    H_out, W_out = spec.out_size
    # the uncropped output: every copy of the kernel fits in it
    y = np.zeros((N, spec.out_channels, H_out + 2 * p_h, W_out + 2 * p_w), x.dtype)
    for n in range(N):
        for c in range(C_in):
            o0 = (c // C_ig) * C_og  # groups: channel c writes o0 ... o0 + C_og - 1
            for i in range(H):
                for j in range(W):
                    rows = slice(i * s_h, i * s_h + F_h)
                    cols = slice(j * s_w, j * s_w + F_w)
                    y[n, o0 : o0 + C_og, rows, cols] += x[n, c, i, j] * w[c]
    y = y[:, :, p_h : p_h + H_out, p_w : p_w + W_out]  # padding crops
    if b is not None:
        y = y + b.reshape(1, -1, 1, 1)
    return y


# ----------------------------------------------------------------- im2col: vectorized


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1,
           padding_mode="zeros", *, max_bytes=None):
    """conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1,
    padding_mode="zeros", *, max_bytes=None) -> ndarray

    Applies a 2D convolution (a cross-correlation, as in PyTorch) over a
    batch of images, as im2col and one matrix product per group:
    ``y[n, k, i, j] = b[k] + sum_{c,u,v} x_p[n, c', i s + u d, j s + v d]
    w[k, c, u, v]``, with ``c'`` channel ``c`` of kernel ``k``'s group.

    Args:
        x: input of shape ``(N, C, H, W)``, float32 or float64 (integers
            become float64).
        w: kernels of shape ``(K, C // groups, F_h, F_w)``.
        b: biases of shape ``(K,)``, or ``None`` for none. Default: ``None``.
        stride (int or pair): step between windows, ``s`` or ``(s_h, s_w)``.
            Default: ``1``.
        padding (int or pair): pixels added on each side, ``p`` or
            ``(p_h, p_w)``. Default: ``0``.
        dilation (int or pair): spacing between kernel taps; ``1`` means
            none. Default: ``1``.
        groups (int): split the channels into this many groups, each
            convolved with its own ``K // groups`` kernels (``groups=C`` is a
            depthwise convolution). Default: ``1``.
        padding_mode (str): ``"zeros"``, ``"replicate"`` (repeat the border
            pixel), ``"reflect"`` or ``"circular"``. Default: ``"zeros"``.
        max_bytes (int): refuse to build an im2col matrix larger than this.
            Default: ``None``, meaning 1 GiB.

    Returns:
        An array of shape ``(N, K, H_out, W_out)``, with
        ``H_out = floor((H + 2 p_h - d_h (F_h - 1) - 1) / s_h) + 1``
        (likewise ``W_out``); float32 when ``x``, ``w`` (and ``b``) are
        float32, float64 otherwise. An empty batch (``N = 0``) gives an
        empty result.

    Example::

        >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
        >>> w = np.ones((1, 1, 2, 2))
        >>> conv2d(x, w, stride=2)[0, 0].tolist()
        [[10.0, 18.0], [42.0, 50.0]]
        >>> conv2d(x, w, padding=1).shape
        (1, 1, 5, 5)
    """
    x, w, b, spec = conv_arrays("conv2d", 2, x, w, b, stride, padding,
                                dilation, groups, padding_mode)
    _im2col_budget("conv2d", spec, x.itemsize, max_bytes)
    N, K, G = spec.batch, spec.out_channels, spec.groups
    C_g, F_h, F_w = w.shape[1:]
    H_out, W_out = spec.out_size
    xp = pad_spatial(x, spec.padding, spec.padding_mode)
    # (N, C * F_h * F_w, H_out * W_out): one column per window
    cols = im2col(xp, spec.kernel_size, spec.stride, spec.dilation)
    # -> (N, G, C_g * F_h * F_w, H_out * W_out): the rows of group g are
    # its channels' taps, which come one after the other
    cols = cols.reshape(N, G, C_g * F_h * F_w, H_out * W_out)
    # (K, C_g, F_h, F_w) -> (G, K_g, C_g * F_h * F_w): one kernel per row
    kernels = w.reshape(G, K // G, C_g * F_h * F_w)
    # (G, K_g, C_g F_h F_w) @ (N, G, C_g F_h F_w, H_out W_out)
    # -> (N, G, K_g, H_out W_out): every kernel times every window
    y = kernels @ cols
    # -> (N, K, H_out, W_out): group g's kernels are kernels g K_g, ...
    y = y.reshape(N, K, H_out, W_out)
    if b is not None:
        y += b.reshape(1, K, 1, 1)
    return y


def _im2col_budget(fname, spec, itemsize, max_bytes):
    """The columns (every input pixel once per kernel tap that reads it), the padded input and
    the output, or in a backward pass the columns' gradient too: see ``conv_budget``."""
    conv_budget(fname, spec, itemsize, max_bytes, backward=fname.endswith("_backward"))


def conv1d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros",
           *, max_bytes=None):
    """conv1d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros", *, max_bytes=None) -> ndarray

    Applies a 1D convolution (cross-correlation) over a batch of sequences:
    ``y[n, k, i] = b[k] + sum_{c,u} x[n, g C_g + c, i s + u d] w[k, c, u]``, computed as
    :func:`conv2d` on images one pixel tall.

    Args:
        x: input of shape ``(N, C, L)``.
        w: kernels of shape ``(K, C // groups, F_l)``.
        b: biases of shape ``(K,)`` or ``None``. Default: ``None``.
        stride, padding, dilation (int or 1-tuple): as in :func:`conv2d`. Defaults: ``1``, ``0``, ``1``.
        groups (int): channel groups. Default: ``1``.
        padding_mode (str): ``"zeros"``, ``"replicate"``, ``"reflect"`` or ``"circular"``.
            Default: ``"zeros"``.
        max_bytes (int): as in :func:`conv2d`. Default: ``None``.

    Returns:
        An array of shape ``(N, K, L_out)``, ``L_out = floor((L + 2p - d(F_l - 1) - 1)/s) + 1``.

    Example::

        >>> conv1d(np.array([[[1.0, 2.0, 3.0, 4.0]]]), np.array([[[1.0, -1.0]]]))[0, 0].tolist()
        [-1.0, -1.0, -1.0]
    """
    x, w, b, spec = conv_arrays("conv1d", 1, x, w, b, stride, padding, dilation, groups, padding_mode)
    _im2col_budget("conv1d", spec, x.itemsize, max_bytes)
    xp = pad_spatial(x, spec.padding, spec.padding_mode)
    # (N, C, L) -> (N, C, 1, L): a sequence is an image one pixel tall
    y = conv2d(xp[:, :, None, :], w[:, :, None, :], b, (1,) + spec.stride, 0, (1,) + spec.dilation, groups)
    return y[:, :, 0, :]


def conv3d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros",
           *, max_bytes=None):
    """conv3d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros", *, max_bytes=None) -> ndarray

    Applies a 3D convolution (cross-correlation) over a batch of volumes (or video clips):
    ``y[n, k, t, i, j] = b[k] + sum_{c,r,u,v} x[n, g C_g + c, t s + r d, i s + u d, j s + v d] w[k, c, r, u, v]``.
    Computed as a sum of 2D convolutions: output slice ``t`` adds up :func:`conv2d` of input
    slice ``t s + r d`` with kernel slice ``r``, for every kernel depth ``r``.

    Args:
        x: input of shape ``(N, C, D, H, W)``.
        w: kernels of shape ``(K, C // groups, F_d, F_h, F_w)``.
        b: biases of shape ``(K,)`` or ``None``. Default: ``None``.
        stride, padding, dilation (int or triple): as in :func:`conv2d`. Defaults: ``1``, ``0``, ``1``.
        groups (int): channel groups. Default: ``1``.
        padding_mode (str): ``"zeros"``, ``"replicate"``, ``"reflect"`` or ``"circular"``.
            Default: ``"zeros"``.
        max_bytes (int): as in :func:`conv2d`. Default: ``None``.

    Returns:
        An array of shape ``(N, K, D_out, H_out, W_out)``.

    Example::

        >>> conv3d(np.ones((1, 2, 3, 3, 3)), np.ones((4, 2, 2, 2, 2))).shape
        (1, 4, 2, 2, 2)
    """
    x, w, b, spec = conv_arrays("conv3d", 3, x, w, b, stride, padding, dilation, groups, padding_mode)
    _im2col_budget("conv3d", spec, x.itemsize, max_bytes)
    xp = pad_spatial(x, spec.padding, spec.padding_mode)
    s_d, d_d = spec.stride[0], spec.dilation[0]
    y = np.zeros(spec.out_shape, dtype=x.dtype)
    for t in range(spec.out_size[0]):
        for r in range(spec.kernel_size[0]):
            y[:, :, t] += conv2d(xp[:, :, t * s_d + r * d_d], w[:, :, r], None, spec.stride[1:], 0,
                                 spec.dilation[1:], groups)
    if b is not None:
        y += b.reshape(1, -1, 1, 1, 1)
    return y


# -------------------------------------------------------------------------- backward


def conv2d_backward(dy, x, w, stride=1, padding=0, dilation=1, groups=1,
                    padding_mode="zeros", *, max_bytes=None):
    """conv2d_backward(dy, x, w, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros", *, max_bytes=None) -> (dx, dw, db)

    The gradients of :func:`conv2d` with respect to its input, kernels and biases, given the
    gradient ``dy`` of a loss with respect to its output.

    ``db`` sums ``dy`` over the batch and positions; ``dw`` multiplies ``dy`` with the same
    im2col columns as the forward pass (each weight met one pixel per output position); ``dx``
    is the forward pass run backwards: ``w^T dy`` gives each window's gradient as a column, and
    col2im adds the columns back onto the pixels they were read from. With stride 1 and no
    padding that is a full convolution of ``dy`` with the flipped kernel (channels swapped),
    and in general it is ``conv_transpose2d(dy, w, stride, padding)``.

    Args:
        dy: gradient of the output, shape ``(N, K, H_out, W_out)``.
        x: the forward input, shape ``(N, C, H, W)``.
        w: the kernels, shape ``(K, C // groups, F_h, F_w)``.
        stride, padding, dilation, groups, padding_mode, max_bytes: as given to :func:`conv2d`.

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
    fname = "conv2d_backward"
    x, w, _, spec = conv_arrays(fname, 2, x, w, None, stride, padding, dilation,
                                groups, padding_mode)
    dy = grad_like(fname, dy, spec.out_shape, "(N, K, H_out, W_out)")
    x, w, dy = _one_dtype(x, w, dy)
    _im2col_budget(fname, spec, x.itemsize, max_bytes)
    N, K, G = spec.batch, spec.out_channels, spec.groups
    C_g, F_h, F_w = w.shape[1:]
    H_out, W_out = spec.out_size
    xp = pad_spatial(x, spec.padding, spec.padding_mode)
    # the forward pass's columns, (N, G, C_g * F_h * F_w, H_out * W_out)
    cols = im2col(xp, spec.kernel_size, spec.stride, spec.dilation)
    cols = cols.reshape(N, G, C_g * F_h * F_w, H_out * W_out)
    # dy laid out like the forward product: (N, G, K_g, H_out * W_out)
    dy_g = dy.reshape(N, G, K // G, H_out * W_out)
    db = dy.sum(axis=(0, 2, 3))
    # dw = dy @ cols^T, summed over the images: (G, K_g, C_g * F_h * F_w)
    dw = (dy_g @ cols.transpose(0, 1, 3, 2)).sum(axis=0)
    dw = dw.reshape(w.shape)
    # dx: w^T @ dy gives each window's gradient, (N, G, C_g F_h F_w, H_out W_out)
    kernels = w.reshape(G, K // G, C_g * F_h * F_w)
    dcols = kernels.transpose(0, 2, 1) @ dy_g
    # -> (N, C * F_h * F_w, H_out * W_out), im2col's layout; col2im adds the
    # windows' gradients back onto the pixels they read
    dcols = dcols.reshape(N, G * C_g * F_h * F_w, H_out * W_out)
    dxp = col2im(dcols, xp.shape[2:], spec.kernel_size, spec.stride, spec.dilation, spec.out_size)
    dx = pad_spatial_backward(dxp, spec.padding, spec.padding_mode)
    return dx, dw, db


def _one_dtype(*arrays):
    dtype = np.result_type(*arrays)
    return tuple(a.astype(dtype, copy=False) for a in arrays)


def conv1d_backward(dy, x, w, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros",
                    *, max_bytes=None):
    """conv1d_backward(dy, x, w, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros", *, max_bytes=None) -> (dx, dw, db)

    The gradients of :func:`conv1d`: :func:`conv2d_backward` on images one pixel tall.

    Args:
        dy: shape ``(N, K, L_out)``. x: shape ``(N, C, L)``. w: shape ``(K, C // groups, F_l)``.
        stride, padding, dilation, groups, padding_mode, max_bytes: as given to :func:`conv1d`.

    Returns:
        ``(dx, dw, db)`` shaped like ``x``, ``w`` and ``(K,)``.

    Example::

        >>> dx, dw, db = conv1d_backward(np.ones((1, 1, 3)), np.arange(4.0).reshape(1, 1, 4), np.ones((1, 1, 2)))
        >>> dx[0, 0].tolist(), dw[0, 0].tolist()
        ([1.0, 2.0, 2.0, 1.0], [3.0, 6.0])
    """
    fname = "conv1d_backward"
    x, w, _, spec = conv_arrays(fname, 1, x, w, None, stride, padding, dilation, groups, padding_mode)
    dy = grad_like(fname, dy, spec.out_shape, "(N, K, L_out)")
    _im2col_budget(fname, spec, x.itemsize, max_bytes)
    xp = pad_spatial(x, spec.padding, spec.padding_mode)
    dxp, dw, db = conv2d_backward(dy[:, :, None, :], xp[:, :, None, :], w[:, :, None, :],
                                  (1,) + spec.stride, 0, (1,) + spec.dilation, groups)
    dx = pad_spatial_backward(dxp[:, :, 0, :], spec.padding, spec.padding_mode)
    return dx, dw[:, :, 0, :], db


def conv3d_backward(dy, x, w, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros",
                    *, max_bytes=None):
    """conv3d_backward(dy, x, w, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros", *, max_bytes=None) -> (dx, dw, db)

    The gradients of :func:`conv3d`: the backward pass of each of its 2D convolutions, added up.

    Args:
        dy: shape ``(N, K, D_out, H_out, W_out)``. x: shape ``(N, C, D, H, W)``.
        w: shape ``(K, C // groups, F_d, F_h, F_w)``.
        stride, padding, dilation, groups, padding_mode, max_bytes: as given to :func:`conv3d`.

    Returns:
        ``(dx, dw, db)`` shaped like ``x``, ``w`` and ``(K,)``.

    Example::

        >>> dx, dw, db = conv3d_backward(np.ones((1, 1, 1, 1, 1)), np.ones((1, 1, 2, 2, 2)), np.ones((1, 1, 2, 2, 2)))
        >>> float(dx.sum()), float(dw.sum()), db.tolist()
        (8.0, 8.0, [1.0])
    """
    fname = "conv3d_backward"
    x, w, _, spec = conv_arrays(fname, 3, x, w, None, stride, padding, dilation, groups, padding_mode)
    dy = grad_like(fname, dy, spec.out_shape, "(N, K, D_out, H_out, W_out)")
    x, w, dy = _one_dtype(x, w, dy)
    _im2col_budget(fname, spec, x.itemsize, max_bytes)
    xp = pad_spatial(x, spec.padding, spec.padding_mode)
    s_d, d_d = spec.stride[0], spec.dilation[0]
    dxp, dw = np.zeros(xp.shape, x.dtype), np.zeros(w.shape, x.dtype)
    for t in range(spec.out_size[0]):
        for r in range(spec.kernel_size[0]):
            z = t * s_d + r * d_d  # the input slice that kernel slice r read for output slice t
            dx_z, dw_r, _ = conv2d_backward(dy[:, :, t], xp[:, :, z], w[:, :, r], spec.stride[1:], 0,
                                            spec.dilation[1:], groups)
            dxp[:, :, z] += dx_z
            dw[:, :, r] += dw_r
    dx = pad_spatial_backward(dxp, spec.padding, spec.padding_mode)
    return dx, dw, dy.sum(axis=(0, 2, 3, 4))


# -------------------------------------------------------------------- transposed convolution


def conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1, *,
                     max_bytes=None):
    """conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1, *, max_bytes=None) -> ndarray

    Applies a 2D transposed convolution (sometimes called a "deconvolution"): every input value
    scatters a copy of the kernel, scaled by the value, into the output, the copies ``stride``
    pixels apart, and overlapping copies add up. It is the backward pass (``dx``) of
    :func:`conv2d` with the same ``w``, ``stride`` and ``padding``, which is why ``w`` has the
    conv's layout with in and out swapped, and why it is computed the same way: ``w^T x`` then
    col2im.

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
        max_bytes (int): refuse to run when the columns and the output would take more
            memory than this. Default: ``None``, meaning 1 GiB.

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
    x, w, b, spec = conv_arrays("conv_transpose2d", 2, x, w, b, stride, padding, dilation, groups,
                                transposed=True, output_padding=output_padding)
    conv_transpose_budget("conv_transpose2d", spec, x.itemsize, max_bytes)
    N, C_in, G = spec.batch, spec.in_channels, spec.groups
    C_og, F_h, F_w = w.shape[1:]
    H, W = spec.in_size
    (p_h, p_w), (H_out, W_out) = spec.padding, spec.out_size
    # (C_in, C_og, F_h, F_w) -> (G, C_in / G, C_og * F_h * F_w): one input channel per row
    kernels = w.reshape(G, C_in // G, C_og * F_h * F_w)
    # (N, C_in, H, W) -> (N, G, C_in / G, H * W)
    x_g = x.reshape(N, G, C_in // G, H * W)
    # w^T x: the scaled copy of the kernel each input pixel spreads, as a column
    cols = (kernels.transpose(0, 2, 1) @ x_g).reshape(N, G * C_og * F_h * F_w, H * W)
    # col2im adds the copies up on the uncropped output, then padding crops it
    full = (H_out + 2 * p_h, W_out + 2 * p_w)
    y = col2im(cols, full, spec.kernel_size, spec.stride, spec.dilation, (H, W))
    y = y[:, :, p_h : p_h + H_out, p_w : p_w + W_out]
    if b is not None:
        y = y + b.reshape(1, -1, 1, 1)
    return y
