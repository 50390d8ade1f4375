"""Pooling with the backward passes the book derives.

Each channel of each image is pooled on its own, so the ops view the input as ``N * C``
one-channel images and lay every window out as a column with ``F.unfold``.

- Max pooling keeps, for every window, the index of its largest entry (the "switch").
  Backward routes each output gradient to that one position (a scatter into the columns) and
  ``F.fold`` adds up positions shared by overlapping windows. Padding counts as ``-inf``, so it
  is never chosen.
- Average pooling spreads each output gradient evenly, ``1/m`` to each of the ``m`` entries of
  its window. Padding zeros count in the average (PyTorch's ``count_include_pad=True``).
"""

import torch
import torch.nn.functional as F
from torch import nn

from .._checks import pool_spec
from ._tensors import as_tensor

__all__ = ["max_pool2d", "avg_pool2d", "MaxPool2d", "AvgPool2d"]


def _pool_args(fname, x, kernel_size, stride, padding):
    x = as_tensor(x, f"{fname}: x", 4, "(N, C, H, W)")
    return x, pool_spec(fname, tuple(x.shape), kernel_size, stride, padding)


def _exact_switches(cols, y, hw, kernel, stride, padding):
    """The switches by PyTorch's rule, for columns ``cols`` ``(N*C, m, L)`` with maxima ``y``:
    the first real (unpadded) entry equal to the maximum, or the last NaN of a window holding one."""
    (h, w), (ph, pw), m = hw, padding, kernel[0] * kernel[1]
    real = F.unfold(F.pad(cols.new_ones(1, 1, h, w), (pw, pw, ph, ph)), kernel, stride=stride) > 0
    first = ((cols == y.unsqueeze(1)) & real).to(torch.uint8).argmax(dim=1)
    nan = torch.isnan(cols)
    last_nan = (m - 1) - nan.flip(1).to(torch.uint8).argmax(dim=1)
    return torch.where(nan.any(dim=1), last_nan, first)


class MaxPool2dFunction(torch.autograd.Function):
    """``max_pool2d``: forward keeps the argmax switches, backward scatters through them."""

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, out_size):
        n, c, h, w = x.shape
        ph, pw = padding
        length = out_size[0] * out_size[1]
        xp = F.pad(x, (pw, pw, ph, ph), value=float("-inf")) if ph or pw else x
        cols = F.unfold(xp.reshape(n * c, 1, h + 2 * ph, w + 2 * pw), kernel, stride=stride)  # (N*C, m, L)
        y, switches = cols.max(dim=1)  # (N*C, L): each window's largest entry and where it is
        # PyTorch's rule for the rare windows where that is not yet right: a window holding NaN
        # goes to its last NaN, and one whose real entries are all -inf to its first real entry,
        # never to the padding.
        if bool((torch.isnan(y) | torch.isneginf(y)).any()):
            switches = _exact_switches(cols, y, (h, w), kernel, stride, padding)
        ctx.save_for_backward(switches)
        ctx.conf = (x.shape, kernel, stride, padding, length)
        return y.reshape((n, c) + tuple(out_size))

    @staticmethod
    def backward(ctx, dy):
        (switches,) = ctx.saved_tensors
        (n, c, h, w), kernel, stride, (ph, pw), length = ctx.conf
        dy = dy.reshape(n * c, 1, length)
        dcols = dy.new_zeros(n * c, kernel[0] * kernel[1], length)
        dcols = dcols.scatter(1, switches.unsqueeze(1), dy)  # the whole gradient to the winner
        dxp = F.fold(dcols, (h + 2 * ph, w + 2 * pw), kernel, stride=stride)  # overlaps add up
        return dxp[:, :, ph : ph + h, pw : pw + w].reshape(n, c, h, w), None, None, None, None


class AvgPool2dFunction(torch.autograd.Function):
    """``avg_pool2d``: forward averages each window, backward spreads ``1/m`` of the gradient."""

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, out_size):
        n, c, h, w = x.shape
        cols = F.unfold(x.reshape(n * c, 1, h, w), kernel, padding=padding, stride=stride)
        ctx.conf = (x.shape, kernel, stride, padding, out_size[0] * out_size[1])
        return cols.mean(dim=1).reshape((n, c) + tuple(out_size))

    @staticmethod
    def backward(ctx, dy):
        (n, c, h, w), kernel, stride, padding, length = ctx.conf
        m = kernel[0] * kernel[1]
        dy = dy.reshape(n * c, 1, length)
        dcols = (dy / m).expand(n * c, m, length)
        dx = F.fold(dcols, (h, w), kernel, padding=padding, stride=stride)  # fold drops the padding
        return dx.reshape(n, c, h, w), None, None, None, None


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """max_pool2d(x, kernel_size, stride=None, padding=0) -> Tensor

    2D max pooling: the largest value in each window, channel by channel. Backward sends each
    output's gradient to the one input that won its window.

    Args:
        x: input of shape ``(N, C, H, W)``. Not modified.
        kernel_size: window size, an int or a pair ``(k_h, k_w)``.
        stride: an int or a pair; ``None`` means ``kernel_size`` (windows that tile). Default: ``None``.
        padding: ``-inf`` added on each side, an int or a pair, at most half the window.
            Default: ``0``.

    Returns:
        Tensor of shape ``(N, C, H_out, W_out)``, ``H_out = floor((H + 2p - k) / s) + 1``.

    Example::

        >>> import torch, coursecnn.torch as ct
        >>> x = torch.tensor([[[[1., 2., 5., 6.], [3., 4., 7., 8.]]]])
        >>> ct.max_pool2d(x, 2).tolist()
        [[[[4.0, 8.0]]]]
    """
    x, spec = _pool_args("max_pool2d", x, kernel_size, stride, padding)
    return MaxPool2dFunction.apply(x, spec.kernel_size, spec.stride, spec.padding, spec.out_size)


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """avg_pool2d(x, kernel_size, stride=None, padding=0) -> Tensor

    2D average pooling: the mean of each window, channel by channel; padding zeros count in
    the mean. Backward gives each of a window's ``m`` inputs ``1/m`` of its output's gradient.

    Args:
        x: input of shape ``(N, C, H, W)``. Not modified.
        kernel_size: window size, an int or a pair.
        stride: an int or a pair; ``None`` means ``kernel_size``. Default: ``None``.
        padding: zeros added on each side, an int or a pair, at most half the window.
            Default: ``0``.

    Returns:
        Tensor of shape ``(N, C, H_out, W_out)``, ``H_out = floor((H + 2p - k) / s) + 1``.

    Example::

        >>> import torch, coursecnn.torch as ct
        >>> x = torch.tensor([[[[1., 2., 5., 6.], [3., 4., 7., 8.]]]])
        >>> ct.avg_pool2d(x, 2).tolist()
        [[[[2.5, 6.5]]]]
    """
    x, spec = _pool_args("avg_pool2d", x, kernel_size, stride, padding)
    return AvgPool2dFunction.apply(x, spec.kernel_size, spec.stride, spec.padding, spec.out_size)


class MaxPool2d(nn.MaxPool2d):
    """MaxPool2d(kernel_size, stride=None, padding=0)

    ``torch.nn.MaxPool2d`` whose forward is ``coursecnn.torch.max_pool2d`` (no dilation,
    ``ceil_mode`` or ``return_indices``).

    Args:
        as for ``torch.nn.MaxPool2d``: input ``(N, C, H, W)``, output ``(N, C, H_out, W_out)``;
        ``stride`` defaults to ``kernel_size``.

    Example::

        >>> import torch, coursecnn.torch as ct
        >>> ct.MaxPool2d(3, stride=2)(torch.zeros(1, 96, 55, 55)).shape
        torch.Size([1, 96, 27, 27])
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.dilation not in (1, (1, 1)) or self.ceil_mode or self.return_indices:
            raise ValueError(
                "coursecnn.torch.MaxPool2d supports kernel_size, stride and padding only, got "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}, return_indices={self.return_indices}"
            )

    def forward(self, x):
        return max_pool2d(x, self.kernel_size, self.stride, self.padding)


class AvgPool2d(nn.AvgPool2d):
    """AvgPool2d(kernel_size, stride=None, padding=0)

    ``torch.nn.AvgPool2d`` whose forward is ``coursecnn.torch.avg_pool2d`` (padding counts
    in the average; no ``ceil_mode`` or ``divisor_override``).

    Args:
        as for ``torch.nn.AvgPool2d``: input ``(N, C, H, W)``, output ``(N, C, H_out, W_out)``;
        ``stride`` defaults to ``kernel_size``.

    Example::

        >>> import torch, coursecnn.torch as ct
        >>> ct.AvgPool2d(2)(torch.ones(1, 1, 4, 4))
        tensor([[[[1., 1.],
                  [1., 1.]]]])
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.ceil_mode or not self.count_include_pad or self.divisor_override is not None:
            raise ValueError(
                "coursecnn.torch.AvgPool2d supports kernel_size, stride and padding only, got "
                f"ceil_mode={self.ceil_mode}, count_include_pad={self.count_include_pad}, "
                f"divisor_override={self.divisor_override}"
            )

    def forward(self, x):
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding)
