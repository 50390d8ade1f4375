"""Upsampling by interpolation (nearest, bilinear, bicubic) with the transposed-product backward.

The two interpolation matrices come from ``coursecnn.ref.interpolation_matrix`` (one home for
the rule of where each sample lies); forward is ``y = A x B^T`` per map and backward
``dx = A^T dy B``.
"""

import torch

from ..ref import upsample as _ref
from ._tensors import as_tensor

__all__ = ["interpolate"]


class InterpolateFunction(torch.autograd.Function):
    """``interpolate`` as an autograd Function: two matrix products each way."""

    @staticmethod
    def forward(ctx, x, a, b):
        ctx.save_for_backward(a, b)
        return torch.einsum("ih,nchw,jw->ncij", a, x, b)

    @staticmethod
    def backward(ctx, dy):
        a, b = ctx.saved_tensors
        return torch.einsum("ih,ncij,jw->nchw", a, dy, b), None, None


def interpolate(x, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """interpolate(x, size=None, scale_factor=None, mode="nearest", align_corners=None) -> Tensor

    Resize every map of ``x`` by nearest-neighbour or bilinear interpolation
    (``torch.nn.functional.interpolate`` on a 4D input); the backward sends each output's
    gradient to the pixels it was read from, weighted as in the forward.

    Args:
        x: input of shape ``(N, C, H, W)``. Not modified.
        size (int or pair): the output ``(H_out, W_out)``. Give this or ``scale_factor``.
        scale_factor (float or pair): ``H_out = floor(H * scale_factor)`` (likewise W).
        mode (str): ``"nearest"``, ``"bilinear"`` or ``"bicubic"``. Default: ``"nearest"``.
        align_corners (bool, optional): bilinear and bicubic, as in PyTorch. Default: ``None``
            (False).

    Returns:
        Tensor of shape ``(N, C, H_out, W_out)``.

    Example::

        >>> import torch, coursecnn.torch as ct
        >>> x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
        >>> ct.interpolate(x, scale_factor=2, mode="bilinear")[0, 0, 0].tolist()
        [1.0, 1.25, 1.75, 2.0]
    """
    x = as_tensor(x, "x", 4, "(N, C, H, W)")
    align = _ref._check_mode(mode, align_corners)
    out, scales = _ref._sizes(tuple(x.shape[2:]), size, scale_factor)
    a, b = (torch.as_tensor(m, dtype=x.dtype, device=x.device) for m in _ref._matrices(x.shape[2:], out, scales, mode, align))
    return InterpolateFunction.apply(x, a, b)
