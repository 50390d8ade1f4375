"""AlexNet (Krizhevsky, Sutskever and Hinton, 2012), single tower, as in the lecture's table."""

from collections import OrderedDict

from torch import nn

from ._layers import layers

__all__ = ["AlexNet"]


class AlexNet(nn.Module):
    """AlexNet(num_classes=1000, impl="torch", dropout=0.5)

    The "full (simplified)" AlexNet of the lecture for ``(N, 3, 227, 227)`` images::

        [55x55x96]  CONV1  96 11x11 filters, stride 4, pad 0     34,944 params
        [27x27x96]  POOL1  3x3 max pool, stride 2
        [27x27x96]  NORM1  local response normalisation
        [27x27x256] CONV2  256 5x5, stride 1, pad 2
        [13x13x256] POOL2, NORM2
        [13x13x384] CONV3  384 3x3, pad 1
        [13x13x384] CONV4  384 3x3, pad 1
        [13x13x256] CONV5  256 3x3, pad 1
        [6x6x256]   POOL3
        [4096] FC6, [4096] FC7, [1000] FC8 (class scores)

    That is 62,378,344 parameters. The lecture (and the paper) say "60M": the original network
    was split over two GPUs, so CONV2, CONV4 and CONV5 each saw only the half of the previous
    layer's maps held on their own GPU (``groups=2`` in PyTorch terms), which halves their
    weights and gives 60,965,224. This single tower lets every filter see every map.

    NORM1/NORM2 use the paper's constants (n=5, k=2, alpha=1e-4, beta=0.75). PyTorch's
    ``LocalResponseNorm`` divides ``alpha`` by the window size, so it gets ``alpha=5e-4``.
    Dropout (``dropout``, 0.5 in the paper) sits before FC6 and FC7.

    Args:
        num_classes (int): outputs of FC8. Default: ``1000``.
        impl (str): ``"torch"`` or ``"coursecnn"`` (the convolutions, pools, ReLUs and linear
            layers from ``coursecnn.torch``). Default: ``"torch"``.
        dropout (float): drop probability before FC6 and FC7; ``0`` for none. Default: ``0.5``.

    Shape:
        Input ``(N, 3, 227, 227)``, output ``(N, num_classes)``.

    Attributes:
        input_shape (tuple): ``(3, 227, 227)``, one sample as the network expects it.

    Example::

        >>> import torch
        >>> net = AlexNet(num_classes=10).eval()
        >>> net(torch.zeros(1, 3, 227, 227)).shape
        torch.Size([1, 10])
    """

    def __init__(self, num_classes=1000, impl="torch", dropout=0.5):
        super().__init__()
        L = layers(impl)
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be a probability in [0, 1), got {dropout!r}")
        self.impl = impl
        self.input_shape = (3, 227, 227)

        def norm():
            return nn.LocalResponseNorm(size=5, alpha=5e-4, beta=0.75, k=2.0)

        self.features = nn.Sequential(
            OrderedDict(
                conv1=L.Conv2d(3, 96, 11, stride=4),
                relu1=L.ReLU(),
                pool1=L.MaxPool2d(3, stride=2),
                norm1=norm(),
                conv2=L.Conv2d(96, 256, 5, padding=2),
                relu2=L.ReLU(),
                pool2=L.MaxPool2d(3, stride=2),
                norm2=norm(),
                conv3=L.Conv2d(256, 384, 3, padding=1),
                relu3=L.ReLU(),
                conv4=L.Conv2d(384, 384, 3, padding=1),
                relu4=L.ReLU(),
                conv5=L.Conv2d(384, 256, 3, padding=1),
                relu5=L.ReLU(),
                pool3=L.MaxPool2d(3, stride=2),
            )
        )
        self.classifier = nn.Sequential(
            OrderedDict(
                flatten=nn.Flatten(),
                drop6=nn.Dropout(dropout),
                fc6=L.Linear(6 * 6 * 256, 4096),
                relu6=L.ReLU(),
                drop7=nn.Dropout(dropout),
                fc7=L.Linear(4096, 4096),
                relu7=L.ReLU(),
                fc8=L.Linear(4096, num_classes),
            )
        )

    def forward(self, x):
        return self.classifier(self.features(x))
