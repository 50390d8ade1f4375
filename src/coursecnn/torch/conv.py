"""Convolutions with the backward pass the book derives (im2col forward, col2im backward).

Forward: ``F.unfold`` lays every receptive field out as a column ("im2col"), and the
convolution becomes one matrix product per group, ``Y = W X_cols``. Backward, with ``dY`` laid
out the same way:

- ``dW = dY X_cols^T`` (each weight collects input times output gradient over every position);
- ``dX = fold(W^T dY)``: each column of ``W^T dY`` is the gradient of one receptive field, and
  ``F.fold`` adds the overlapping fields back into the image ("col2im"). Written as one
  operation this is the convolution of ``dY`` with the flipped kernel;
- ``db = dY`` summed over the batch and every position.

The forward keeps the columns for ``dW``. The backward uses only differentiable tensor
operations, and rebuilds the columns from the input when a second derivative is asked for
(``create_graph=True``), so that works too.
"""

import inspect

import torch
import torch.nn.functional as F
from torch import nn

from .._checks import PADDING_MODES, conv_spec, conv_transpose_spec, pair, positive
from ._tensors import as_tensors, bias

__all__ = ["conv1d", "conv2d", "conv_transpose2d", "Conv1d", "Conv2d", "ConvTranspose2d"]


def _im2col(x, kernel, stride, padding, dilation, groups):
    """Every receptive field of ``x`` as a column, split per group: ``(N, G, C/G * Fh * Fw, L)``.
    Channels of one group are contiguous, and so are their rows in the columns."""
    cols = F.unfold(x, kernel, dilation=dilation, padding=padding, stride=stride)  # (N, C*Fh*Fw, L)
    return cols.view(x.shape[0], groups, cols.shape[1] // groups, cols.shape[-1])


def _conv2d_forward(x, w, b, stride, padding, dilation, groups, out_size):
    n = x.shape[0]
    k, cg, fh, fw = w.shape
    cols = _im2col(x, (fh, fw), stride, padding, dilation, groups)
    wm = w.reshape(groups, k // groups, cg * fh * fw)
    y = wm @ cols  # (G, K/G, P) @ (N, G, P, L) -> (N, G, K/G, L)
    y = y.reshape((n, k) + tuple(out_size))
    return (y if b is None else y + b.view(1, k, 1, 1)), cols


def _conv2d_backward(dy, x, w, cols, stride, padding, dilation, groups, needs):
    n, c, h, wd = x.shape
    k, cg, fh, fw = w.shape
    dyc = dy.reshape(n, groups, k // groups, dy.shape[2] * dy.shape[3])  # (N, G, K/G, L): dY laid out like Y
    dx = dw = db = None
    if needs[0]:
        wm = w.reshape(groups, k // groups, cg * fh * fw)
        dcols = (wm.transpose(1, 2) @ dyc).reshape(n, c * fh * fw, dyc.shape[-1])  # W^T dY, per group
        dx = F.fold(dcols, (h, wd), (fh, fw), dilation=dilation, padding=padding, stride=stride)
    if needs[1]:
        dw = (dyc @ cols.transpose(2, 3)).sum(0).reshape(k, cg, fh, fw)  # dY X_cols^T, summed over N
    if needs[2]:
        db = dy.sum((0, 2, 3))
    return dx, dw, db


class Conv2dFunction(torch.autograd.Function):
    """``conv2d`` as an autograd Function: im2col forward, the book's backward."""

    @staticmethod
    def forward(ctx, x, w, b, stride, padding, dilation, groups, out_size):
        y, cols = _conv2d_forward(x, w, b, stride, padding, dilation, groups, out_size)
        ctx.save_for_backward(x, w, cols)  # the columns again serve dW = dY X_cols^T
        ctx.conf = (stride, padding, dilation, groups)
        return y

    @staticmethod
    def backward(ctx, dy):
        x, w, cols = ctx.saved_tensors
        if torch.is_grad_enabled():
            # create_graph=True (a second derivative): rebuild the columns from x so that the
            # graph of this backward reaches x; the saved ones are cut off from it
            cols = _im2col(x, w.shape[2:], *ctx.conf)
        dx, dw, db = _conv2d_backward(dy, x, w, cols, *ctx.conf, ctx.needs_input_grad[:3])
        return dx, dw, db, None, None, None, None, None


class ConvTranspose2dFunction(torch.autograd.Function):
    """``conv_transpose2d``: the backward of a convolution run forwards, and vice versa."""

    @staticmethod
    def forward(ctx, x, w, b, stride, padding, output_padding, groups, dilation):
        ctx.save_for_backward(x, w)
        ctx.conf = (stride, padding, output_padding, groups, dilation)
        n, c, h, wd = x.shape
        _, kg, fh, fw = w.shape
        full = _full_size((h, wd), (fh, fw), stride, dilation)
        # Every input pixel spreads a weighted copy of the kernel: W^T x gives those copies as
        # columns (per group), and fold adds them where they overlap (a convolution's dX step).
        wm = w.reshape(groups, c // groups, kg * fh * fw)
        cols = wm.transpose(1, 2) @ x.reshape(n, groups, c // groups, h * wd)
        y = F.fold(cols.reshape(n, groups * kg * fh * fw, h * wd), full, (fh, fw), dilation=dilation, stride=stride)
        y = F.pad(y, _crop(padding, output_padding))  # crop `padding`, then add `output_padding` rows
        return y if b is None else y + b.view(1, -1, 1, 1)

    @staticmethod
    def backward(ctx, dy):
        x, w = ctx.saved_tensors
        stride, padding, output_padding, groups, dilation = ctx.conf
        n, c, h, wd = x.shape
        _, kg, fh, fw = w.shape
        # undo the crop: dy back on the uncropped grid (zeros where the forward cropped)
        dyfull = F.pad(dy, [-v for v in _crop(padding, output_padding)])
        dcols = F.unfold(dyfull, (fh, fw), dilation=dilation, stride=stride)  # (N, C_out*Fh*Fw, H*W)
        dcols = dcols.reshape(n, groups, kg * fh * fw, h * wd)
        wm = w.reshape(groups, c // groups, kg * fh * fw)
        dx = (wm @ dcols).reshape(n, c, h, wd) if ctx.needs_input_grad[0] else None
        dw = None
        if ctx.needs_input_grad[1]:
            xg = x.reshape(n, groups, c // groups, h * wd)
            dw = (xg @ dcols.transpose(2, 3)).sum(0).reshape(w.shape)
        db = dy.sum((0, 2, 3)) if ctx.needs_input_grad[2] else None
        return dx, dw, db, None, None, None, None, None


def _full_size(size, kernel, stride, dilation):
    """Size of a transposed convolution's output before any cropping."""
    return tuple((n - 1) * s + d * (f - 1) + 1 for n, f, s, d in zip(size, kernel, stride, dilation))


def _crop(padding, output_padding):
    """``F.pad`` amounts (last axis first) that crop ``padding`` on both sides and then add
    ``output_padding`` at the bottom and right: negative amounts crop, positive ones add zeros."""
    (ph, pw), (oh, ow) = padding, output_padding
    return (-pw, ow - pw, -ph, oh - ph)


def _pad_input(x, spec):
    """Pad ``x`` for a non-zero ``padding_mode`` (the conv then runs with padding 0). Zero
    padding is left to unfold/fold, which never materialise the padded image."""
    if spec.padding_mode == "zeros" or not any(spec.padding):
        return x, spec.padding
    if x.shape[0] == 0:  # F.pad refuses an empty batch; there is nothing to pad
        return x.new_zeros(x.shape[:2] + tuple(n + 2 * p for n, p in zip(x.shape[2:], spec.padding))), (0,) * len(spec.padding)
    amounts = [v for p in reversed(spec.padding) for v in (p, p)]  # F.pad lists the last axis first
    return F.pad(x, amounts, mode=spec.padding_mode), (0,) * len(spec.padding)


def _spec(fname, x, w, b, *args):
    return conv_spec(fname, tuple(x.shape), tuple(w.shape), None if b is None else tuple(b.shape), *args)


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    """conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros") -> Tensor

    2D convolution (cross-correlation, as in PyTorch) of a batch of images, differentiable
    through the backward pass the book derives: ``dW = dY X_cols^T``, ``dX = fold(W^T dY)``.

    Args:
        x: input of shape ``(N, C, H, W)``, a floating tensor on any device. An integer or
            boolean tensor, a NumPy array or a list is converted to ``w``'s dtype (and device)
            when ``w`` is a floating tensor (as torch promotes an integer tensor combined with a
            float one), and to float64 otherwise (as ``coursecnn.ref`` does). Not modified.
        w: kernels of shape ``(K, C // groups, F_h, F_w)``, at least 1 wide on every axis. If
            both ``x`` and ``w`` are floating tensors, they must have the same dtype and device
            (neither is converted to the other's).
        b: bias of shape ``(K,)``, or ``None``. Default: ``None``.
        stride: an int or a pair ``(s_h, s_w)``, at least 1. Default: ``1``.
        padding: pixels added on each side, an int or a pair, at least 0. Default: ``0``.
        dilation: spacing between kernel taps, an int or a pair; ``1`` means none. Default: ``1``.
        groups: split the channels into this many groups convolved separately; ``C`` and ``K``
            must be divisible by it. Default: ``1``.
        padding_mode: what the padding holds: ``"zeros"``, ``"replicate"`` (the border pixel
            repeated), ``"reflect"`` (mirrored, border not repeated) or ``"circular"``
            (wrapped around). Default: ``"zeros"``.

    Returns:
        Tensor of shape ``(N, K, H_out, W_out)`` with
        ``H_out = floor((H + 2 p_h - d_h (F_h - 1) - 1) / s_h) + 1`` (likewise ``W_out``).

    Example::

        >>> import torch, coursecnn.torch as ct
        >>> x, w = torch.randn(2, 3, 8, 8), torch.randn(4, 3, 3, 3)
        >>> ct.conv2d(x, w, stride=2, padding=1).shape
        torch.Size([2, 4, 4, 4])
    """
    x, w = as_tensors(x, w, (4, "(N, C, H, W)"), (4, "(K, C // groups, F_h, F_w)"), "conv2d")
    b = bias(b, x, "conv2d")
    spec = _spec("conv2d", x, w, b, stride, padding, dilation, groups, padding_mode)
    x, padding = _pad_input(x, spec)
    return Conv2dFunction.apply(x, w, b, spec.stride, padding, spec.dilation, spec.groups, spec.out_size)


def conv1d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    """conv1d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros") -> Tensor

    1D convolution: ``conv2d`` on signals one pixel tall, so it shares its forward and backward.

    Args:
        x: input of shape ``(N, C, L)``, converted as in ``conv2d``. Not modified.
        w: kernels of shape ``(K, C // groups, F)``, ``F`` at least 1.
        b: bias of shape ``(K,)``, or ``None``. Default: ``None``.
        stride, padding, dilation: ints (or 1-tuples). Defaults: ``1``, ``0``, ``1``.
        groups, padding_mode: as in ``conv2d``. Defaults: ``1``, ``"zeros"``.

    Returns:
        Tensor of shape ``(N, K, L_out)``, ``L_out = floor((L + 2p - d (F - 1) - 1) / s) + 1``.

    Example::

        >>> import torch, coursecnn.torch as ct
        >>> ct.conv1d(torch.ones(1, 1, 5), torch.ones(1, 1, 3)).tolist()
        [[[3.0, 3.0, 3.0]]]
    """
    x, w = as_tensors(x, w, (3, "(N, C, L)"), (3, "(K, C // groups, F)"), "conv1d")
    b = bias(b, x, "conv1d")
    spec = _spec("conv1d", x, w, b, stride, padding, dilation, groups, padding_mode)
    x, (p,) = _pad_input(x, spec)
    (s,), (d,) = spec.stride, spec.dilation
    y = Conv2dFunction.apply(x.unsqueeze(2), w.unsqueeze(2), b, (1, s), (0, p), (1, d), spec.groups,
                             (1,) + spec.out_size)
    return y.squeeze(2)


def conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1) -> Tensor

    Transposed convolution ("deconvolution"): the gradient-to-input step of ``conv2d`` used
    as a forward op, so it upsamples by ``stride``. Every input value spreads a copy of the
    kernel, scaled by the value, into the output; overlapping copies add up. Its backward is a
    ``conv2d`` (unfold and a matrix product).

    Args:
        x: input of shape ``(N, C_in, H, W)``, converted as in ``conv2d``. Not modified.
        w: kernels of shape ``(C_in, C_out // groups, F_h, F_w)`` (PyTorch's layout for this op),
            at least 1 wide on every axis.
        b: bias of shape ``(C_out,)``, or ``None``. Default: ``None``.
        stride: spacing of the copies, an int or a pair, at least 1. Default: ``1``.
        padding: rows and columns cropped from each side of the result (the padding of the
            convolution it inverts), an int or a pair, at least 0. Default: ``0``.
        output_padding: rows and columns added at the bottom and right, to pick one of the input
            sizes a strided convolution maps to the same size; smaller than ``stride`` or
            ``dilation``. Default: ``0``.
        groups: channel groups; ``C_in`` must be divisible by it. Default: ``1``.
        dilation: spacing of the kernel taps, an int or a pair. Default: ``1``.

    Returns:
        Tensor of shape ``(N, C_out, H_out, W_out)`` with
        ``H_out = (H - 1) s_h - 2 p_h + d_h (F_h - 1) + output_padding_h + 1`` (likewise ``W_out``).

    Example::

        >>> import torch, coursecnn.torch as ct
        >>> ct.conv_transpose2d(torch.randn(1, 4, 3, 3), torch.randn(4, 2, 2, 2), stride=2).shape
        torch.Size([1, 2, 6, 6])
    """
    fname = "conv_transpose2d"
    x, w = as_tensors(x, w, (4, "(N, C_in, H, W)"), (4, "(C_in, C_out // groups, F_h, F_w)"), fname)
    b = bias(b, x, fname)
    spec = conv_transpose_spec(fname, tuple(x.shape), tuple(w.shape), None if b is None else tuple(b.shape),
                               stride, padding, output_padding, groups, dilation)
    return ConvTranspose2dFunction.apply(x, w, b, spec.stride, spec.padding, spec.output_padding, spec.groups,
                                         spec.dilation)


def _kernel_size_arg(cls, args, kwargs, n):
    """Check the ``kernel_size`` a conv module is built with, before ``torch.nn`` allocates
    (and warns about) a zero-size weight. Calls it cannot bind are left to ``torch.nn``'s error."""
    try:
        bound = inspect.signature(cls.__init__).bind(None, *args, **kwargs)
    except TypeError:
        return
    if "kernel_size" in bound.arguments:
        positive(pair(bound.arguments["kernel_size"], "kernel_size", n), "kernel_size")


def _numeric_padding(module, modes=PADDING_MODES):
    if isinstance(module.padding, str) or module.padding_mode not in modes:
        raise ValueError(
            f"coursecnn.torch.{type(module).__name__} supports numeric padding with padding_mode in "
            f"{modes}, got padding={module.padding!r}, padding_mode={module.padding_mode!r}"
        )


class Conv2d(nn.Conv2d):
    """Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True, padding_mode="zeros")

    ``torch.nn.Conv2d`` whose forward is ``coursecnn.torch.conv2d`` (same parameters and
    initialisation, so state_dicts are interchangeable). Padding must be numeric.

    Args:
        as for ``torch.nn.Conv2d``: input ``(N, C_in, H, W)``, weight
        ``(C_out, C_in // groups, k_h, k_w)``, output ``(N, C_out, H_out, W_out)``.

    Example::

        >>> import torch, coursecnn.torch as ct
        >>> ct.Conv2d(1, 6, 5)(torch.zeros(2, 1, 32, 32)).shape
        torch.Size([2, 6, 28, 28])
    """

    def __init__(self, *args, **kwargs):
        _kernel_size_arg(nn.Conv2d, args, kwargs, 2)
        super().__init__(*args, **kwargs)
        _numeric_padding(self)

    def forward(self, x):
        return conv2d(
            x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups, self.padding_mode
        )


class Conv1d(nn.Conv1d):
    """Conv1d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True, padding_mode="zeros")

    ``torch.nn.Conv1d`` whose forward is ``coursecnn.torch.conv1d``. Padding must be numeric.

    Args:
        as for ``torch.nn.Conv1d``: input ``(N, C_in, L)``, weight ``(C_out, C_in // groups, k)``,
        output ``(N, C_out, L_out)``.

    Example::

        >>> import torch, coursecnn.torch as ct
        >>> ct.Conv1d(2, 4, 3)(torch.zeros(1, 2, 10)).shape
        torch.Size([1, 4, 8])
    """

    def __init__(self, *args, **kwargs):
        _kernel_size_arg(nn.Conv1d, args, kwargs, 1)
        super().__init__(*args, **kwargs)
        _numeric_padding(self)

    def forward(self, x):
        return conv1d(
            x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups, self.padding_mode
        )


class ConvTranspose2d(nn.ConvTranspose2d):
    """ConvTranspose2d(in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1, bias=True, dilation=1)

    ``torch.nn.ConvTranspose2d`` whose forward is ``coursecnn.torch.conv_transpose2d`` (zero
    padding; ``output_size`` in the call is not supported, give ``output_padding``).

    Args:
        as for ``torch.nn.ConvTranspose2d``: input ``(N, C_in, H, W)``, weight
        ``(C_in, C_out // groups, k_h, k_w)``, output ``(N, C_out, H_out, W_out)`` with
        ``H_out = (H - 1) * stride - 2 * padding + dilation * (k_h - 1) + output_padding + 1``.

    Example::

        >>> import torch, coursecnn.torch as ct
        >>> ct.ConvTranspose2d(4, 2, 3, stride=2)(torch.zeros(1, 4, 5, 5)).shape
        torch.Size([1, 2, 11, 11])
    """

    def __init__(self, *args, **kwargs):
        _kernel_size_arg(nn.ConvTranspose2d, args, kwargs, 2)
        super().__init__(*args, **kwargs)
        _numeric_padding(self, ("zeros",))

    def forward(self, x, output_size=None):
        if output_size is not None:
            raise ValueError("coursecnn.torch.ConvTranspose2d does not take output_size; set output_padding instead")
        return conv_transpose2d(
            x, self.weight, self.bias, self.stride, self.padding, self.output_padding, self.groups, self.dilation
        )
