"""Batch normalization with the backward pass the book derives (``coursecnn.ref.batchnorm``).

The forward normalizes each channel over ``(N, H, W)``; the backward is written out rather than
left to autograd: ``dx = s * (g - mean(g) - x_hat * mean(g * x_hat))`` in training mode (the
batch statistics depend on ``x``) and ``dx = s * g`` in evaluation mode, with ``g = dy * gamma``
and ``s = 1 / sqrt(var + eps)``.
"""

import numbers

import torch
from torch import nn

from ._tensors import as_tensor, same_kind

__all__ = ["batch_norm2d", "batch_norm_running_stats", "BatchNorm2d"]

_AXES = (0, 2, 3)


def _map(v):
    return v.view(1, -1, 1, 1)


class BatchNorm2dFunction(torch.autograd.Function):
    """``batch_norm2d`` as an autograd Function: the statistics, then the book's backward."""

    @staticmethod
    def forward(ctx, x, weight, bias, mean, var, training, eps):
        s = torch.rsqrt(var + eps)  # 1 / standard deviation, per channel
        x_hat = (x - _map(mean)) * _map(s)
        ctx.save_for_backward(x_hat, s, weight)
        ctx.training = training
        y = x_hat if weight is None else x_hat * _map(weight)
        return y if bias is None else y + _map(bias)

    @staticmethod
    def backward(ctx, dy):
        x_hat, s, weight = ctx.saved_tensors
        g = dy if weight is None else dy * _map(weight)
        dx = dweight = dbias = None
        if ctx.needs_input_grad[0]:
            if ctx.training:  # the mean and variance of the batch pass on their share too
                g_mean = g.mean(_AXES, keepdim=True)
                gx_mean = (g * x_hat).mean(_AXES, keepdim=True)
                dx = _map(s) * (g - g_mean - x_hat * gx_mean)
            else:
                dx = _map(s) * g
        if ctx.needs_input_grad[1]:
            dweight = (dy * x_hat).sum(_AXES)
        if ctx.needs_input_grad[2]:
            dbias = dy.sum(_AXES)
        return dx, dweight, dbias, None, None, None, None


def _per_channel(v, name, x):
    if v is None:
        return None
    v = as_tensor(v, name, 1, "(C,)", like=x)
    same_kind(x, v, name)
    if v.shape[0] != x.shape[1]:
        raise ValueError(
            f"{name} must have shape (C,) = ({x.shape[1]},) to match the input's channels, got {tuple(v.shape)}"
        )
    return v


def _number(value, name, low, high=None):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != value:
        raise ValueError(f"{name} must be a number, got {value!r}")
    if value < low or (high is not None and value > high):
        raise ValueError(f"{name} must be in [{low}, {'inf' if high is None else high}], got {value!r}")
    return float(value)


def _values_per_channel(x, fname):
    m = x.shape[0] * x.shape[2] * x.shape[3]
    if m < 2:
        raise ValueError(
            f"{fname}: in training mode every channel needs more than 1 value to have a variance; "
            f"x has shape {tuple(x.shape)}, so each channel has {m} (use a larger batch, or training=False)"
        )
    return m


def batch_norm2d(x, running_mean=None, running_var=None, weight=None, bias=None, training=True, eps=1e-5):
    """batch_norm2d(x, running_mean=None, running_var=None, weight=None, bias=None, training=True, eps=1e-5) -> Tensor

    Batch normalization of each channel of ``(N, C, H, W)``, then ``weight * x_hat + bias``
    (``torch.nn.functional.batch_norm`` without its in-place update of the running statistics;
    :func:`batch_norm_running_stats` returns the updated ones).

    Args:
        x: input of shape ``(N, C, H, W)``. Not modified.
        running_mean, running_var: shape ``(C,)``; required when ``training=False``.
            Default: ``None``.
        weight, bias: the scale and shift, shape ``(C,)``; ``None`` for ones and zeros.
            Default: ``None``.
        training (bool): use the batch's statistics (``True``) or the running ones.
            Default: ``True``.
        eps (float): added to the variance: positive in training mode (PyTorch's rule; a constant
            channel would give 0 / 0), ``>= 0`` in evaluation mode. Default: ``1e-5``.

    Returns:
        Tensor of shape ``(N, C, H, W)``.

    Example::

        >>> import torch, coursecnn.torch as ct
        >>> x = torch.tensor([[[[1.0, 3.0]]], [[[5.0, 7.0]]]], dtype=torch.float64)
        >>> (ct.batch_norm2d(x, eps=1e-300) * 5 ** 0.5).flatten().tolist()
        [-3.0, -1.0, 1.0, 3.0]
    """
    x = as_tensor(x, "x", 4, "(N, C, H, W)")
    running_mean = _per_channel(running_mean, "running_mean", x)
    running_var = _per_channel(running_var, "running_var", x)
    weight, bias = _per_channel(weight, "weight", x), _per_channel(bias, "bias", x)
    for name, v in (("weight", weight), ("bias", bias)):
        if v is not None and torch.isinf(v).any():
            # the result would depend on the arithmetic's order (torch gives NaN where this
            # formula gives +-inf): coursecnn.ref refuses it with the same words
            raise ValueError(f"batch_norm2d: {name} holds an infinity, which makes the normalized values inf or "
                             f"NaN depending on the order of the arithmetic; give a finite {name}")
    if not isinstance(training, bool):
        raise TypeError(f"batch_norm2d: training must be True or False, got {training!r}")
    eps = _number(eps, "eps", 0.0)
    if training and eps == 0:
        # a constant channel has variance 0, and 0 / sqrt(0) is NaN: PyTorch refuses eps <= 0 here
        raise ValueError(
            "batch_norm2d: eps must be positive in training mode (a constant channel has variance 0, and "
            f"(x - mean) / sqrt(0 + eps) would be NaN), got {eps!r}; use the default 1e-5"
        )
    if training and x.shape[0] * x.shape[2] * x.shape[3] == 0:
        # an empty batch (or map) normalizes to an empty result, as in torch (and coursecnn.ref)
        mean, var = x.new_zeros(x.shape[1]), x.new_ones(x.shape[1])
    elif training:
        _values_per_channel(x, "batch_norm2d")
        with torch.no_grad():  # the Function's backward accounts for how they depend on x
            mean, var = x.mean(_AXES), x.var(_AXES, unbiased=False)
    else:
        if running_mean is None or running_var is None:
            raise ValueError(
                "batch_norm2d: evaluation mode (training=False) normalizes with the running statistics, "
                "so running_mean and running_var (shape (C,)) are required"
            )
        mean, var = running_mean.detach(), running_var.detach()
    return BatchNorm2dFunction.apply(x, weight, bias, mean, var, training, eps)


def batch_norm_running_stats(x, running_mean, running_var, momentum=0.1):
    """batch_norm_running_stats(x, running_mean, running_var, momentum=0.1) -> (Tensor, Tensor)

    The running statistics after a training step on ``x``: ``(1 - momentum) * running +
    momentum * batch``, with the unbiased batch variance, as ``nn.BatchNorm2d`` keeps them.
    Computed without gradients; the arguments are not modified.

    Args:
        x: the batch ``(N, C, H, W)``, at least 2 values per channel.
        running_mean, running_var: shape ``(C,)``.
        momentum (float): weight of the batch, in ``[0, 1]``. Default: ``0.1``.

    Returns:
        ``(new_running_mean, new_running_var)``, each of shape ``(C,)``.

    Example::

        >>> import torch, coursecnn.torch as ct
        >>> x = torch.tensor([[[[1.0, 3.0]]], [[[5.0, 7.0]]]])
        >>> m, v = ct.batch_norm_running_stats(x, torch.zeros(1), torch.ones(1), 0.5)
        >>> m.tolist(), round(v.item(), 4)
        ([2.0], 3.8333)
    """
    x = as_tensor(x, "x", 4, "(N, C, H, W)")
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm_running_stats: running_mean and running_var (shape (C,)) are required")
    running_mean = _per_channel(running_mean, "running_mean", x)
    running_var = _per_channel(running_var, "running_var", x)
    momentum = _number(momentum, "momentum", 0.0, 1.0)
    _values_per_channel(x, "batch_norm_running_stats")
    with torch.no_grad():
        mean, var = x.mean(_AXES), x.var(_AXES, unbiased=True)
        return (1 - momentum) * running_mean + momentum * mean, (1 - momentum) * running_var + momentum * var


class BatchNorm2d(nn.BatchNorm2d):
    """BatchNorm2d(num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True)

    ``torch.nn.BatchNorm2d`` whose forward is :func:`batch_norm2d` (the book's backward); same
    parameters, buffers and state_dict. In training mode it normalizes with the batch's
    statistics and replaces its running ones by :func:`batch_norm_running_stats`; in
    evaluation mode it uses the running ones. ``momentum=None`` (a cumulative average) is not
    supported.

    Args:
        as for ``torch.nn.BatchNorm2d``; input and output ``(N, C, H, W)``.

    Example::

        >>> import torch, coursecnn.torch as ct
        >>> bn = ct.BatchNorm2d(3)
        >>> bn(torch.randn(4, 3, 5, 5)).shape, int(bn.num_batches_tracked)
        (torch.Size([4, 3, 5, 5]), 1)
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.momentum is None:
            raise ValueError("coursecnn.torch.BatchNorm2d needs a number for momentum (None is not supported)")

    def forward(self, x):
        use_batch = self.training or not self.track_running_stats
        if self.training and self.track_running_stats:
            with torch.no_grad():
                if x.dim() != 4 or x.shape[0] * x.shape[2] * x.shape[3] > 0:  # an empty batch: torch.nn keeps them
                    mean, var = batch_norm_running_stats(x, self.running_mean, self.running_var, self.momentum)
                    self.running_mean.copy_(mean)  # the layer's own state, as in torch.nn
                    self.running_var.copy_(var)
                self.num_batches_tracked.add_(1)
        return batch_norm2d(
            x, self.running_mean, self.running_var, self.weight, self.bias, training=use_batch, eps=self.eps
        )
