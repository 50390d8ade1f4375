"""Weight penalties: L1 (lasso) and L2 (ridge, "weight decay") and their gradients.

A penalty is added to the data loss, ``J = loss + penalty(weights)``, and its gradient to the
weights' gradients before the optimizer's step. Conventions used here:

- ``l1_penalty = lam * sum |w|``, gradient ``lam * sign(w)`` (0 at ``w = 0``, the subgradient
  PyTorch's ``sign`` picks). It pushes every weight towards 0 by the same amount, so many end
  exactly at 0: sparse weights.
- ``l2_penalty = lam / 2 * sum w**2`` (the 1/2 cancels the 2 of the derivative), gradient
  ``lam * w``. It shrinks each weight in proportion to its size. ``torch.optim.SGD(...,
  weight_decay=lam)`` adds exactly ``lam * w`` to the gradient, so it is this penalty with the
  1/2 (without the 1/2 the same decay needs ``weight_decay = 2 * lam``). (For Adam the match is
  the same, since ``torch.optim.Adam`` also adds ``lam * w`` to the gradient; ``AdamW`` is different.)

``weights`` is one array or a list of arrays (for example ``[layer.params["weight"] for ...]``;
biases are usually not penalized). The gradients then come back as a list in the same order.
"""

import numpy as np

from .._checks import as_array

__all__ = ["l1_penalty", "l2_penalty", "l1_grad", "l2_grad"]


def _arrays(weights):
    """Return (list of float arrays, was_a_list). The caller's arrays are not modified."""
    # A list of arrays is several weight tensors; a nested list of numbers is one array.
    if isinstance(weights, (list, tuple)) and weights and all(isinstance(w, np.ndarray) for w in weights):
        return [as_array(w, f"weights[{i}]", np.ndim(w), "(any shape)") for i, w in enumerate(weights)], True
    try:
        nd = np.ndim(weights)
    except Exception:
        nd = -1
    return [as_array(weights, "weights", nd, "(any shape) or a list of arrays")], False


def _lam(lam):
    if isinstance(lam, bool) or not isinstance(lam, (int, float, np.integer, np.floating)):
        raise TypeError(f"lam must be a non-negative number, got {lam!r}")
    if lam < 0:
        raise ValueError(f"lam must be non-negative, got {lam}")
    return float(lam)


def l1_penalty(weights, lam):
    """l1_penalty(weights, lam) -> float

    ``lam * sum(|w|)`` over every entry of every array in ``weights``.

    Args:
        weights: an array of any shape, or a list of arrays.
        lam (float): the strength, ``>= 0``.

    Returns:
        A Python float.

    Example::

        >>> l1_penalty([np.array([1.0, -2.0]), np.array([[3.0]])], 0.1)
        0.6000000000000001
    """
    lam = _lam(lam)
    arrays, _ = _arrays(weights)
    return lam * float(sum(np.abs(w).sum() for w in arrays))


def l2_penalty(weights, lam):
    """l2_penalty(weights, lam) -> float

    ``lam / 2 * sum(w**2)`` over every entry of every array in ``weights`` (note the 1/2, so that
    the gradient is ``lam * w``, what ``torch.optim.SGD(weight_decay=lam)`` adds).

    Args:
        weights: an array of any shape, or a list of arrays.
        lam (float): the strength, ``>= 0``.

    Returns:
        A Python float.

    Example::

        >>> l2_penalty(np.array([3.0, 4.0]), 0.1)
        1.25
    """
    lam = _lam(lam)
    arrays, _ = _arrays(weights)
    return 0.5 * lam * float(sum((w * w).sum() for w in arrays))


def l1_grad(weights, lam):
    """l1_grad(weights, lam) -> ndarray or list of ndarrays

    The gradient of ``l1_penalty``: ``lam * sign(w)``, with 0 where ``w == 0`` (a subgradient;
    ``|w|`` has no derivative there).

    Args:
        weights: an array of any shape, or a list of arrays.
        lam (float): the strength, ``>= 0``.

    Returns:
        An array shaped like ``weights`` (a list of them if ``weights`` is a
        list).

    Example::

        >>> l1_grad(np.array([-2.0, 0.0, 0.5]), 0.1)
        array([-0.1,  0. ,  0.1])
    """
    lam = _lam(lam)
    arrays, many = _arrays(weights)
    grads = [lam * np.sign(w) for w in arrays]
    return grads if many else grads[0]


def l2_grad(weights, lam):
    """l2_grad(weights, lam) -> ndarray or list of ndarrays

    The gradient of ``l2_penalty``: ``lam * w``.

    Args:
        weights: an array of any shape, or a list of arrays.
        lam (float): the strength, ``>= 0``.

    Returns:
        An array shaped like ``weights`` (a list of them if ``weights`` is a
        list).

    Example::

        >>> l2_grad(np.array([3.0, -4.0]), 0.1)
        array([ 0.3, -0.4])
    """
    lam = _lam(lam)
    arrays, many = _arrays(weights)
    grads = [lam * w for w in arrays]
    return grads if many else grads[0]
