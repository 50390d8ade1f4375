"""Tensors for ``coursecnn.torch``: inputs converted and checked for rank, dtype and device.

Shapes and hyperparameters are checked by ``coursecnn._checks`` (``conv_spec``, ``pool_spec``),
the same checks, with the same words, as ``coursecnn.ref`` and ``coursecnn.fast``.
"""

import numpy as np
import torch

from .._checks import numeric_array


def as_tensor(x, name, ndim, layout, like=None):
    """Return ``x`` as a floating tensor of rank ``ndim`` (``layout`` names the axes in the error).

    Floating tensors pass through untouched (no copy). Integer or boolean tensors and NumPy
    arrays or nested lists are converted: to float64, or, when ``like`` (a floating tensor, the
    op's weights) is given, to ``like``'s dtype, and non-tensors also to ``like``'s device. The
    ops never write to the result.
    """
    if isinstance(ndim, int):
        ndim = (ndim,)
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be a numeric tensor shaped {layout}, got {type(x).__name__}")
    was_tensor = isinstance(x, torch.Tensor)
    if not was_tensor:
        arr = numeric_array(x, name, f"a numeric tensor shaped {layout}")
        x = torch.as_tensor(arr if np.issubdtype(arr.dtype, np.floating) else arr.astype(np.float64))
    if x.is_complex():
        raise TypeError(f"{name} must be real-valued, got dtype {x.dtype}")
    if like is not None and (not was_tensor or not x.is_floating_point()):
        x = x.to(dtype=like.dtype) if was_tensor else x.to(dtype=like.dtype, device=like.device)
    elif not x.is_floating_point():
        x = x.to(torch.float64)
    if x.dim() not in ndim:
        raise ValueError(
            f"{name} must have {' or '.join(map(str, ndim))} dimensions {layout}, got {x.dim()} "
            f"dimensions with shape {tuple(x.shape)}"
        )
    return x


def is_float_tensor(x):
    return isinstance(x, torch.Tensor) and x.is_floating_point()


def as_tensors(x, w, x_spec, w_spec, fname):
    """``x`` and ``w`` as tensors of one floating dtype on one device, with the rank checks of
    :func:`as_tensor` (``x_spec``, ``w_spec`` are ``(ndim, layout)``).

    When exactly one of them is a floating tensor, the other (an integer or boolean tensor, a
    NumPy array or a list) takes its dtype (and, unless it is a tensor, its device), as torch's
    type promotion gives an integer tensor combined with a float one the float's dtype. When
    neither is, both become float64 (as in ``coursecnn.ref``). Two floating tensors must agree.
    """
    if is_float_tensor(w) and not is_float_tensor(x):
        w = as_tensor(w, f"{fname}: w", *w_spec)
        x = as_tensor(x, f"{fname}: x", *x_spec, like=w)
    else:
        x = as_tensor(x, f"{fname}: x", *x_spec)
        w = as_tensor(w, f"{fname}: w", *w_spec, like=x if is_float_tensor(x) else None)
    same_kind(x, w, "w", fname)
    return x, w


def same_kind(x, w, name="w", fname=""):
    """Check that ``w`` has ``x``'s dtype and device (autograd Functions mix neither)."""
    if w.dtype != x.dtype or w.device != x.device:
        raise TypeError(
            f"{fname + ': ' if fname else ''}{name} is {w.dtype} on {w.device} but x is {x.dtype} on {x.device}; the ops do not mix "
            f"floating dtypes or devices: convert one of them with .to(...), e.g. x.to({name}) or {name}.to(x)"
        )


def bias(b, like, fname):
    """An optional bias as a tensor of ``like``'s dtype and device (its shape is checked with
    the others by ``conv_spec``)."""
    if b is None:
        return None
    b = as_tensor(b, f"{fname}: b", 1, "(K,)", like=like)
    same_kind(like, b, "b", fname)
    return b
