"""Upsampling by interpolation (nearest, bilinear, bicubic) with its own backward.

Where each output samples the input comes from ``coursecnn.ref`` (one home for the rule): the
*taps* of each axis, an index and a weight per neighbour read. The method is ``y = A x B^T`` per
map with two interpolation matrices, but a dense product would spread one NaN or inf over whole
rows and columns (``0 * NaN`` is NaN), so the forward gathers the taps (``index_select``) and
the backward adds each output's gradient back at the same taps (``index_add``): a NaN or inf
reaches exactly the values it reaches in ``torch.nn.functional.interpolate``.
"""

import numpy as np
import torch

from ..ref import upsample as _ref
from ._tensors import as_tensor

__all__ = ["interpolate"]


def _on(taps, like):
    """The ``(index, weight)`` pairs of one axis as tensors on ``like``'s device and dtype."""
    return [(torch.as_tensor(i, device=like.device), torch.as_tensor(w, device=like.device).to(like.dtype))
            for i, w in taps]


def _gather(v, taps, dim):
    """``sum_k weight_k * v.index_select(dim, index_k)``: resample ``v`` along ``dim`` (2 or 3)."""
    out = None
    for index, weight in taps:
        term = v.index_select(dim, index) * (weight.view(-1, 1) if dim == 2 else weight)
        out = term if out is None else out.add_(term)
    return out


def _spread(dv, taps, dim, n_in):
    """The adjoint of :func:`_gather`: add ``weight_k * dv`` back at ``index_k`` along ``dim``."""
    shape = list(dv.shape)
    shape[dim] = n_in
    out = dv.new_zeros(shape)
    for index, weight in taps:
        out.index_add_(dim, index, dv * (weight.view(-1, 1) if dim == 2 else weight))
    return out


class InterpolateFunction(torch.autograd.Function):
    """``interpolate`` as an autograd Function: rows then columns forward, columns then rows back."""

    @staticmethod
    def forward(ctx, x, rows, cols, copy_back):
        ctx.rows, ctx.cols, ctx.in_hw, ctx.copy_back = rows, cols, tuple(x.shape[2:]), copy_back
        return _gather(_gather(x, rows, 2), cols, 3)

    @staticmethod
    def backward(ctx, dy):
        if ctx.copy_back:
            return dy.clone(), None, None, None  # torch's bicubic backward copies dy at the same size
        return _spread(_spread(dy, ctx.cols, 3, ctx.in_hw[1]), ctx.rows, 2, ctx.in_hw[0]), None, None, None


def interpolate(x, size=None, scale_factor=None, mode="nearest", align_corners=None, *, max_bytes=None):
    """interpolate(x, size=None, scale_factor=None, mode="nearest", align_corners=None, *, max_bytes=None) -> Tensor

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
        max_bytes (int): refuse to run when the result and the temporary tensors would take
            more memory than this (``coursecnn.ref.interpolate``'s estimate). Default: ``None``,
            meaning 1 GiB; ``float("inf")`` for no limit.

    Returns:
        Tensor of shape ``(N, C, H_out, W_out)`` and ``x``'s dtype. A NaN or inf in ``x`` (or in
        the gradient) reaches only the values that read it, as in torch.

    Example::

        >>> import torch, coursecnn.torch as ct
        >>> x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
        >>> ct.interpolate(x, scale_factor=2, mode="bilinear")[0, 0, 0].tolist()
        [1.0, 1.25, 1.75, 2.0]
    """
    x = as_tensor(x, "x", 4, "(N, C, H, W)")
    # only the batch may be empty (torch's rule): there is nothing to sample from otherwise
    if x.shape[1] == 0:
        raise ValueError(f"x has no channels: shape {tuple(x.shape)}, expected (N, C, H, W) with C >= 1")
    if 0 in x.shape[2:]:
        raise ValueError(f"x has an empty height or width: shape {tuple(x.shape)}; both must be at least 1")
    align = _ref._check_mode(mode, align_corners)
    out, scales = _ref._sizes(tuple(x.shape[2:]), size, scale_factor)
    in_hw = tuple(x.shape[2:])
    _ref._budget("interpolate", tuple(x.shape), in_hw, out, x.element_size(), max_bytes)
    # the taps' positions in x's precision, as torch computes them (float32 for float32)
    kind = np.float32 if x.dtype == torch.float32 else np.float64
    rows, cols = (_on(_ref._taps(n, o, mode, align, sc, kind), x) for n, o, sc in zip(in_hw, out, scales))
    return InterpolateFunction.apply(x, rows, cols, mode == "bicubic" and in_hw == out)
