"""The ``impl`` switch: the same layer classes from ``torch.nn`` or from ``coursecnn.torch``.

The ``coursecnn.torch`` layers subclass their ``torch.nn`` twins and only swap the forward for
the book's own op, so parameter names, shapes and initialisation agree and a state_dict moves
between the two implementations unchanged.
"""

from types import SimpleNamespace

from torch import nn

IMPLS = ("torch", "coursecnn")


def layers(impl):
    """layers(impl) -> namespace with ``Conv2d``, ``MaxPool2d``, ``AvgPool2d``, ``Linear``, ``ReLU``.

    Args:
        impl (str): ``"torch"`` (``torch.nn``) or ``"coursecnn"`` (``coursecnn.torch``).
    """
    if impl == "torch":
        src = nn
    elif impl == "coursecnn":
        from .. import torch as src  # imported lazily: models work even while ct is being edited
    else:
        raise ValueError(f"impl must be one of {IMPLS}, got {impl!r}")
    return SimpleNamespace(
        Conv2d=src.Conv2d, MaxPool2d=src.MaxPool2d, AvgPool2d=src.AvgPool2d, Linear=src.Linear, ReLU=src.ReLU
    )


def activation(name, impl):
    """A fresh activation module: ``"relu"`` (from ``impl``) or ``"tanh"`` (``torch.nn.Tanh``)."""
    if name == "relu":
        return layers(impl).ReLU()
    if name == "tanh":
        return nn.Tanh()
    raise ValueError(f"activation must be 'relu' or 'tanh', got {name!r}")
