"""LeNet-5 with batch normalization after each convolution."""

from collections import OrderedDict

from torch import nn

from ._layers import activation as make_activation, layers
from .lenet import LeNet5
from .resnet import _batch_norm

__all__ = ["LeNet5BN"]


class LeNet5BN(LeNet5):
    """LeNet5BN(num_classes=10, impl="torch", activation="relu")

    :class:`LeNet5` with a batch normalization between each convolution (C1, C3, C5) and its
    activation. The convolutions lose their biases: batch norm subtracts each channel's mean
    right after them, which would cancel a bias, and its own ``bias`` (beta) takes the role.
    Same layer names as ``LeNet5`` plus ``bn1``, ``bn3`` and ``bn5``; 61,848 parameters
    (61,706 - 6 - 16 - 120 biases + 2 x (6 + 16 + 120) scales and shifts).

    Args:
        num_classes (int): outputs. Default: ``10``.
        impl (str): ``"torch"`` or ``"coursecnn"`` (every layer, batch norm included, from
            ``coursecnn.torch``). Default: ``"torch"``.
        activation (str): ``"relu"`` or ``"tanh"``. Default: ``"relu"``.

    Shape:
        Input ``(N, 1, 32, 32)``, output ``(N, num_classes)``.

    Example::

        >>> import torch
        >>> from coursecnn.models import summary
        >>> net = LeNet5BN()
        >>> net(torch.zeros(2, 1, 32, 32)).shape, summary(net, (1, 32, 32)).total_params
        (torch.Size([2, 10]), 61848)
    """

    def __init__(self, num_classes=10, impl="torch", activation="relu"):
        super().__init__(num_classes=num_classes, impl=impl, activation=activation)
        L, BatchNorm = layers(impl), _batch_norm(impl)
        act = lambda: make_activation(activation, impl)  # noqa: E731
        self.features = nn.Sequential(
            OrderedDict(
                c1=L.Conv2d(1, 6, 5, bias=False),
                bn1=BatchNorm(6),
                act1=act(),
                s2=L.MaxPool2d(2),
                c3=L.Conv2d(6, 16, 5, bias=False),
                bn3=BatchNorm(16),
                act3=act(),
                s4=L.MaxPool2d(2),
                c5=L.Conv2d(16, 120, 5, bias=False),
                bn5=BatchNorm(120),
                act5=act(),
            )
        )
