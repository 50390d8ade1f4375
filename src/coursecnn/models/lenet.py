"""LeNet-5 (LeCun et al., 1998) in today's idiom."""

from collections import OrderedDict

from torch import nn

from ._layers import activation as make_activation, layers

__all__ = ["LeNet5"]


class LeNet5(nn.Module):
    """LeNet5(num_classes=10, impl="torch", activation="relu", pool="max")

    LeNet-5 for ``(N, 1, 32, 32)`` images: C1 (6 5x5 filters, 28x28x6), S2 (2x2 pooling,
    14x14x6), C3 (16 5x5 filters, 10x10x16), S4 (5x5x16), C5 (120 5x5 filters, 1x1x120), F6 (84
    units) and the output layer. With the defaults it has 61,706 parameters.

    Two deliberate departures from the 1998 paper, both the modern reading of it:

    - S2 and S4 are plain max pools. The paper's subsampling layers averaged each 2x2 window and
      then scaled it by a trained coefficient and added a trained bias (12 and 32 extra
      parameters) before a squashing function; ``pool="avg"`` gives the averaging without
      the trained scale.
    - The activation is ReLU; the paper used a scaled tanh (``activation="tanh"`` gives plain
      tanh). C3 here sees all six S2 maps, where the paper wired each C3 map to a subset of
      them, and the output is a linear layer (softmax is left to the loss), not RBF units.

    Args:
        num_classes (int): outputs of the last layer. Default: ``10``.
        impl (str): ``"torch"`` builds from ``torch.nn``, ``"coursecnn"`` from
            ``coursecnn.torch`` (the book's own backward). Same weights give the same outputs.
            Default: ``"torch"``.
        activation (str): ``"relu"`` or ``"tanh"``. Default: ``"relu"``.
        pool (str): ``"max"`` or ``"avg"``. Default: ``"max"``.

    Shape:
        Input ``(N, 1, 32, 32)``, output ``(N, num_classes)`` (scores, before softmax).

    Attributes:
        input_shape (tuple): ``(1, 32, 32)``, one sample as the network expects it (what
            :func:`coursecnn.models.summary` takes).

    Example::

        >>> import torch
        >>> net = LeNet5()
        >>> net(torch.zeros(2, 1, 32, 32)).shape
        torch.Size([2, 10])
    """

    def __init__(self, num_classes=10, impl="torch", activation="relu", pool="max"):
        super().__init__()
        L = layers(impl)
        if pool not in ("max", "avg"):
            raise ValueError(f"pool must be 'max' or 'avg', got {pool!r}")
        Pool = L.MaxPool2d if pool == "max" else L.AvgPool2d
        make_activation(activation, impl)  # validate now, not at the first forward
        act = lambda: make_activation(activation, impl)  # noqa: E731
        self.impl = impl
        self.input_shape = (1, 32, 32)
        self.features = nn.Sequential(
            OrderedDict(
                c1=L.Conv2d(1, 6, 5),
                act1=act(),
                s2=Pool(2),
                c3=L.Conv2d(6, 16, 5),
                act3=act(),
                s4=Pool(2),
                c5=L.Conv2d(16, 120, 5),  # 5x5 on a 5x5 map: the paper's "convolution" to 1x1
                act5=act(),
            )
        )
        self.classifier = nn.Sequential(
            OrderedDict(
                flatten=nn.Flatten(),
                f6=L.Linear(120, 84),
                act6=act(),
                output=L.Linear(84, num_classes),
            )
        )

    def forward(self, x):
        return self.classifier(self.features(x))

