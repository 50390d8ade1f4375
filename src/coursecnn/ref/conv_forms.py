"""Two other ways to compute a convolution: the convolution theorem and a matrix.

Both give the numbers of :func:`coursecnn.ref.conv2d`; they are here to be read and
compared, and both check what they would cost before they start.
"""

import warnings

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .._checks import _fail, as_array, conv_arrays, memory_budget, pair, positive

__all__ = ["conv2d_fft", "conv2d_as_matrix"]


def conv2d_fft(x, w, b=None, *, max_bytes=None):
    """conv2d_fft(x, w, b=None, *, max_bytes=None) -> ndarray

    :func:`conv2d` with stride 1 and no padding, computed through the
    convolution theorem: a convolution is a product of Fourier transforms.
    ``conv2d`` is a cross-correlation, so the kernel is flipped first to
    turn it into a true convolution. The transforms are ``H x W`` (the
    input's size); their circular wrap-around only spoils the first
    ``F - 1`` rows and columns, exactly the ones a "valid" convolution drops.

    Rounding: every output picks up the rounding of the whole transform, so
    its error is relative to the *largest* input, not to the output itself:
    about ``eps * C * F_h * F_w * max|x| * max|w|`` (``eps`` is 2.2e-16 in
    float64, 1.2e-7 in float32). Outputs much smaller than that, next to
    one very large pixel, would lose all their digits (:func:`conv2d` does
    not). So the result is checked: each window's own scale, ``max|w|``
    times the sum of ``|x|`` over the window, must be large enough that
    that error is below ``sqrt(eps)`` of it. Where it is not (a pixel of
    1e20 among ones), the function warns (``RuntimeWarning``) and returns
    :func:`conv2d`'s result instead: correct, and slower. Windows that
    hold only zeros get exactly ``b`` (the transform would leave a trace
    of rounding there). For the same reason a NaN or an infinity would
    spread to every output, so non-finite input is refused.

    Args:
        x: input of shape ``(N, C, H, W)``, finite.
        w: kernels of shape ``(K, C, F_h, F_w)`` (no groups), finite.
        b: biases of shape ``(K,)`` or ``None``. Default: ``None``.
        max_bytes (int): refuse to run when the transforms would take more
            memory than this. Default: ``None``, meaning 1 GiB.

    Returns:
        An array of shape ``(N, K, H - F_h + 1, W - F_w + 1)``, equal to
        ``conv2d(x, w, b)`` up to the rounding above.

    Example::

        >>> from coursecnn.ref import conv2d
        >>> x = np.random.default_rng(0).normal(size=(2, 3, 8, 8))
        >>> w = np.random.default_rng(1).normal(size=(4, 3, 3, 3))
        >>> np.allclose(conv2d_fft(x, w), conv2d(x, w))
        True
    """
    fname = "conv2d_fft"
    x, w, b, spec = conv_arrays(fname, 2, x, w, b)
    for name, a in (("x", x), ("w", w)):
        if not np.isfinite(a).all():
            raise ValueError(
                f"{fname}: {name} holds NaN or inf, which the Fourier "
                "transform would spread to every output; use conv2d, which "
                "keeps a non-finite value local"
            )
    N, K, C = spec.batch, spec.out_channels, spec.in_channels
    H, W = spec.in_size
    F_h, F_w = spec.kernel_size
    # complex spectra of x, w and y (16 bytes a value; the inverse
    # transform holds y's twice), then y in full and its valid part
    freqs = H * (W // 2 + 1)
    valid = (H - F_h + 1) * (W - F_w + 1)
    nbytes = (16 * freqs * (N * C + K * C + 2 * N * K)
              + 8 * N * K * (H * W + valid))
    memory_budget(fname, nbytes, max_bytes, "the Fourier transforms",
                  "use conv2d")
    # cross-correlation = convolution with the flipped kernel
    flipped = w[:, :, ::-1, ::-1]
    xf = np.fft.rfft2(x, s=(H, W))  # (N, C, H, W//2 + 1)
    # (K, C, H, W//2 + 1): the kernel zero-padded to H x W first
    wf = np.fft.rfft2(flipped, s=(H, W))
    # the theorem, channel by channel, summed over the channels:
    # (N, C, .) x (K, C, .) -> (N, K, .)
    yf = np.einsum("nchw,kchw->nkhw", xf, wf, optimize=True)
    full = np.fft.irfft2(yf, s=(H, W))
    # drop the wrapped-around rows and columns
    y = full[:, :, F_h - 1 :, F_w - 1 :].astype(x.dtype)
    # where the rounding would swamp a window's own values: conv2d
    scale = _window_scale(x, w)
    if _rounding_swamps(fname, x, w, scale, y.dtype):
        from .conv import conv2d  # here: conv imports this module

        return conv2d(x, w, b)
    # a window of zeros sums to exactly 0, not to a trace of rounding
    y[np.broadcast_to(scale == 0, y.shape)] = 0
    if b is not None:
        y += b.reshape(1, K, 1, 1)
    return y


def _window_scale(x, w):
    """Each window's own scale, ``max|w|`` times the sum of ``|x|`` over the window and the
    channels: ``(N, 1, H_out, W_out)``."""
    sums = sliding_window_view(np.abs(x).sum(axis=1), w.shape[2:], axis=(1, 2)).sum(axis=(-2, -1))
    return (np.abs(w).max() * sums)[:, None]


def _rounding_swamps(fname, x, w, scale, dtype):
    """Whether the transform's rounding, about ``eps C F_h F_w max|x| max|w|`` (with a margin of
    4), exceeds ``sqrt(eps)`` of some non-zero window's scale; if so, say so in a warning."""
    if x.size == 0:
        return False  # an empty batch: nothing to round
    eps = np.finfo(dtype).eps
    err = 4 * eps * w[0].size * np.abs(x).max() * np.abs(w).max()
    if not np.any((scale > 0) & (err > np.sqrt(eps) * scale)):
        return False
    warnings.warn(
        f"{fname}: the transform's rounding (up to {err:.3g}, from max|x| = {np.abs(x).max():.3g}) would swamp "
        f"windows whose values are as small as {scale[scale > 0].min():.3g}; computed with conv2d instead "
        "(exact, slower)", RuntimeWarning, stacklevel=3,
    )
    return True


def conv2d_as_matrix(kernel, input_hw, stride=1, padding=0, dilation=1, *, max_bytes=None):
    """conv2d_as_matrix(kernel, input_hw, stride=1, padding=0, dilation=1, *, max_bytes=None) -> ndarray

    The matrix ``M`` of a one-channel convolution: ``(M @ x.ravel()).reshape(out_hw)`` equals
    ``conv2d`` of ``x``. Row ``(i, j)`` holds the kernel at the place its window covers, zeros
    elsewhere, so ``M`` is sparse and each row is the previous one shifted; ``M.T`` is the
    transposed convolution.

    Args:
        kernel: a 2D kernel of shape ``(F_h, F_w)``.
        input_hw (int or pair): the input's ``H`` or ``(H, W)``.
        stride, padding, dilation (int or pair): as in :func:`conv2d` (zero padding: padded
            pixels have no column). Defaults: ``1``, ``0``, ``1``.
        max_bytes (int): refuse to build a matrix larger than this. Default: ``None``, meaning
            1 GiB (a 3x3 kernel on a 224x224 image would need 18 GiB).

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
    kernel = as_array(kernel, f"{fname}: kernel", 2, "(F_h, F_w)")
    try:
        h, wd = positive(pair(input_hw, "input_hw"), "input_hw")
    except (TypeError, ValueError) as exc:
        raise _fail(fname, exc) from None
    # the checks and sizes of a one-channel conv2d
    _, _, _, spec = conv_arrays(fname, 2, np.broadcast_to(0.0, (1, 1, h, wd)), kernel[None, None], None,
                                stride, padding, dilation)
    ho, wo = spec.out_size
    memory_budget(fname, ho * wo * h * wd * kernel.itemsize, max_bytes, "the matrix",
                  "use conv2d, which never builds it")
    (s_h, s_w), (p_h, p_w), (d_h, d_w) = spec.stride, spec.padding, spec.dilation
    m = np.zeros((ho * wo, h * wd), dtype=kernel.dtype)
    for i in range(ho):
        for j in range(wo):
            for u in range(kernel.shape[0]):
                for v in range(kernel.shape[1]):
                    # the pixel tap (u, v) of window (i, j) reads, in unpadded coordinates
                    r = i * s_h + u * d_h - p_h
                    c = j * s_w + v * d_w - p_w
                    if 0 <= r < h and 0 <= c < wd:
                        m[i * wo + j, r * wd + c] = kernel[u, v]
    return m
