"""Linear layer, ReLU and the softmax cross-entropy, with the backward passes of the book.

- ``linear``: ``Y = X W^T + b``, so ``dX = dY W``, ``dW = dY^T X``, ``db`` = column sums of ``dY``.
- ``relu``: the gradient passes where the input was positive (the mask) and stops elsewhere.
- ``cross_entropy``: mean over the batch of ``-log softmax(z)[target]``; its gradient with
  respect to the scores is ``(softmax(z) - onehot(target)) / N``.
"""


import numpy as np
import torch
from torch import nn

from ._tensors import as_tensor, as_tensors, same_kind

__all__ = ["linear", "relu", "cross_entropy", "Linear", "ReLU", "CrossEntropyLoss"]


class LinearFunction(torch.autograd.Function):
    """``linear`` on a 2D batch ``(N, in_features)``."""

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        y = x @ w.t()
        return y if b is None else y + b

    @staticmethod
    def backward(ctx, dy):
        x, w = ctx.saved_tensors
        dx = dy @ w if ctx.needs_input_grad[0] else None
        dw = dy.t() @ x if ctx.needs_input_grad[1] else None
        db = dy.sum(0) if ctx.needs_input_grad[2] else None
        return dx, dw, db


class ReLUFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        # 1 where the input was not <= 0 (positive, or NaN as in torch); a float mask multiplies fastest
        mask = (~(x <= 0)).to(x.dtype)
        ctx.save_for_backward(mask)
        return x.clamp_min(0)  # NaN stays NaN, as in torch.relu

    @staticmethod
    def backward(ctx, dy):
        (mask,) = ctx.saved_tensors
        return dy * mask


class CrossEntropyFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z, target):
        ctx.save_for_backward(z, target)
        shifted = z - z.max(dim=1, keepdim=True).values  # exp of large scores would overflow
        log_norm = shifted.exp().sum(dim=1).log()
        return (log_norm - shifted.gather(1, target.unsqueeze(1)).squeeze(1)).mean()

    @staticmethod
    def backward(ctx, dloss):
        z, target = ctx.saved_tensors
        onehot = torch.zeros_like(z).scatter(1, target.unsqueeze(1), 1.0)
        return dloss * (torch.softmax(z, dim=1) - onehot) / z.shape[0], None


def linear(x, w, b=None):
    """linear(x, w, b=None) -> Tensor

    Fully connected layer ``y = x w^T + b``, with the backward ``dX = dY W``, ``dW = dY^T X``.

    Args:
        x: input of shape ``(N, in_features)`` (or ``(*, in_features)``: leading axes are
            flattened into the batch and restored). An integer or boolean tensor, a NumPy array
            or a list is converted to ``w``'s dtype (and device) when ``w`` is a floating tensor,
            and to float64 otherwise. Not modified.
        w: weights of shape ``(out_features, in_features)``; if both ``x`` and ``w`` are
            floating tensors, they must have the same dtype and device.
        b: bias of shape ``(out_features,)``, or ``None``. Default: ``None``.

    Returns:
        Tensor of shape ``(N, out_features)`` (``(*, out_features)``).

    Example::

        >>> import torch, coursecnn.torch as ct
        >>> ct.linear(torch.ones(2, 3), torch.ones(4, 3), torch.zeros(4)).tolist()[0]
        [3.0, 3.0, 3.0, 3.0]
    """
    x, w = as_tensors(x, w, (tuple(range(1, 9)), "(N, in_features)"), (2, "(out_features, in_features)"), "linear")
    if x.shape[-1] != w.shape[1]:
        raise ValueError(
            f"size mismatch: x has {x.shape[-1]} features (last axis of shape {tuple(x.shape)}) "
            f"but w expects {w.shape[1]} (w is shaped (out_features, in_features) = {tuple(w.shape)})"
        )
    if b is not None:
        b = as_tensor(b, "b", 1, "(out_features,)", like=x)
        same_kind(x, b, "b")
        if b.shape[0] != w.shape[0]:
            raise ValueError(f"b must have one entry per output ({w.shape[0]}), got shape {tuple(b.shape)}")
    lead = x.shape[:-1]
    y = LinearFunction.apply(x.reshape(-1, x.shape[-1]), w, b)
    return y.reshape(*lead, w.shape[0])


def relu(x):
    """relu(x) -> Tensor

    ``max(x, 0)`` elementwise. Backward multiplies the gradient by the mask ``x > 0`` (the
    gradient at exactly 0 is taken as 0, as PyTorch does).

    Args:
        x: a tensor of any shape. Not modified.

    Returns:
        Tensor of ``x``'s shape.

    Example::

        >>> import torch, coursecnn.torch as ct
        >>> ct.relu(torch.tensor([-1.0, 0.0, 2.0])).tolist()
        [0.0, 0.0, 2.0]
    """
    x = as_tensor(x, "x", tuple(range(0, 9)), "(any shape)")
    return ReLUFunction.apply(x)


def cross_entropy(logits, target):
    """cross_entropy(logits, target) -> Tensor

    Softmax cross-entropy averaged over the batch: ``mean_n(-log softmax(z_n)[t_n])``, computed
    stably (scores shifted by their maximum). Its gradient with respect to the scores is
    ``(softmax(z) - onehot(t)) / N``.

    Args:
        logits: scores of shape ``(N, C)`` (before softmax). Not modified.
        target: class indices of shape ``(N,)``, integers in ``[0, C)``.

    Returns:
        A 0-dimensional tensor, the mean loss.

    Example::

        >>> import torch, coursecnn.torch as ct
        >>> round(ct.cross_entropy(torch.zeros(2, 4), torch.tensor([0, 3])).item(), 4)  # log 4
        1.3863
    """
    z = as_tensor(logits, "logits", 2, "(N, C)")
    if isinstance(target, (str, bytes)):
        raise TypeError(f"target must be integer class indices shaped (N,), got a {type(target).__name__}")
    if not isinstance(target, torch.Tensor):
        arr = np.asarray(target)
        if not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(f"target must be integer class indices shaped (N,), got dtype {arr.dtype}")
        target = torch.as_tensor(arr)
    if target.is_floating_point() or target.is_complex() or target.dtype == torch.bool:
        raise TypeError(f"target must be integer class indices shaped (N,), got dtype {target.dtype}")
    if target.dim() != 1 or target.shape[0] != z.shape[0]:
        raise ValueError(
            f"target must have shape (N,) = ({z.shape[0]},) to match logits {tuple(z.shape)}, "
            f"got shape {tuple(target.shape)}"
        )
    target = target.to(device=z.device, dtype=torch.long)
    if target.numel():
        low, high = int(target.min()), int(target.max())
        bad = low if low < 0 else high
        if low < 0 or high >= z.shape[1]:
            raise ValueError(f"target holds class {bad}, but the classes are 0 to {z.shape[1] - 1}")
    if z.shape[0] == 0:
        raise ValueError("cross_entropy needs at least one sample, got logits of shape (0, C)")
    return CrossEntropyFunction.apply(z, target)


class Linear(nn.Linear):
    """Linear(in_features, out_features, bias=True)

    ``torch.nn.Linear`` whose forward is ``coursecnn.torch.linear`` (same parameters).

    Args:
        as for ``torch.nn.Linear``: input ``(N, in_features)``, weight
        ``(out_features, in_features)``, output ``(N, out_features)``.

    Example::

        >>> import torch, coursecnn.torch as ct
        >>> ct.Linear(400, 120)(torch.zeros(2, 400)).shape
        torch.Size([2, 120])
    """

    def forward(self, x):
        return linear(x, self.weight, self.bias)


class ReLU(nn.ReLU):
    """ReLU(inplace=False)

    ``torch.nn.ReLU`` whose forward is ``coursecnn.torch.relu``; never in place.

    Args:
        inplace (bool): only ``False`` is supported (the input is never modified).

    Example::

        >>> import torch, coursecnn.torch as ct
        >>> ct.ReLU()(torch.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """

    def __init__(self, inplace=False):
        if inplace:
            raise ValueError("coursecnn.torch.ReLU never works in place; inplace must be False, got True")
        super().__init__(inplace=False)

    def forward(self, x):
        return relu(x)


class CrossEntropyLoss(nn.CrossEntropyLoss):
    """CrossEntropyLoss()

    ``torch.nn.CrossEntropyLoss`` whose forward is ``coursecnn.torch.cross_entropy``: the
    mean over the batch of ``-log softmax(z)[target]``. Only the defaults are supported (no
    ``weight``, ``ignore_index``, ``label_smoothing``, and ``reduction="mean"``); any other
    option raises a ``ValueError`` naming it.

    Shapes: logits ``z`` ``(N, K)``, targets ``(N,)`` class indices in ``[0, K)``; the result
    is a scalar.

    Example::

        >>> import torch, coursecnn.torch as ct
        >>> round(ct.CrossEntropyLoss()(torch.zeros(2, 4), torch.tensor([0, 3])).item(), 4)  # log 4
        1.3863
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        unsupported = []
        if self.weight is not None:
            unsupported.append(f"weight=<tensor of shape {tuple(self.weight.shape)}>")
        if self.ignore_index != -100:
            unsupported.append(f"ignore_index={self.ignore_index!r}")
        if self.reduction != "mean":  # also what size_average=False or reduce=False turn into
            unsupported.append(f"reduction={self.reduction!r}")
        if self.label_smoothing != 0.0:
            unsupported.append(f"label_smoothing={self.label_smoothing!r}")
        if unsupported:
            raise ValueError(
                "coursecnn.torch.CrossEntropyLoss supports the defaults only (the mean over the batch, "
                f"no weight, ignore_index or label_smoothing), got {', '.join(unsupported)}"
            )

    def forward(self, logits, target):
        return cross_entropy(logits, target)
