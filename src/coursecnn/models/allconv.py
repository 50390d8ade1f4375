"""The all-convolutional net (Springenberg et al., 2015), sized for digits."""

from collections import OrderedDict

from torch import nn

from ._layers import layers

__all__ = ["AllConvNet"]


class AllConvNet(nn.Module):
    """AllConvNet(num_classes=10, in_channels=1, impl="torch", width=16)

    "Striving for simplicity": every pooling layer is replaced by a 3x3 convolution with stride
    2, which downsamples just like a pool but learns how. For a 32x32 (or 28x28) digit::

        conv 3x3, width      -> 32x32     conv 3x3 / 2, width    -> 16x16 (was a pool)
        conv 3x3, 2 width    -> 16x16     conv 3x3 / 2, 2 width  -> 8x8   (was a pool)
        conv 3x3, 2 width    -> 8x8       conv 1x1, num_classes  -> 8x8
        global average over the 8x8 map  -> num_classes scores

    There is no fully connected layer: the last 1x1 convolution gives one map per class and
    the network averages each map (that average has no weights). With the default ``width=16``
    it has 25,946 parameters; two epochs over the 8,000 bundled training digits (batches of 64,
    Adam at lr 3e-3) took 10-25 s on one busy CPU core and reached about 91% test accuracy.

    Args:
        num_classes (int): number of classes. Default: ``10``.
        in_channels (int): channels of the input image. Default: ``1``.
        impl (str): ``"torch"`` or ``"coursecnn"``. Default: ``"torch"``.
        width (int): filters in the first block (the second has twice as many). Default: ``16``.

    Shape:
        Input ``(N, in_channels, H, W)`` with H, W at least 5 (32 or 28 for digits), output
        ``(N, num_classes)``.

    Example::

        >>> import torch
        >>> AllConvNet()(torch.zeros(2, 1, 28, 28)).shape
        torch.Size([2, 10])
    """

    def __init__(self, num_classes=10, in_channels=1, impl="torch", width=16):
        super().__init__()
        L = layers(impl)
        self.impl = impl
        w1, w2 = width, 2 * width
        self.features = nn.Sequential(
            OrderedDict(
                conv1=L.Conv2d(in_channels, w1, 3, padding=1),
                relu1=L.ReLU(),
                down1=L.Conv2d(w1, w1, 3, stride=2, padding=1),
                relu2=L.ReLU(),
                conv2=L.Conv2d(w1, w2, 3, padding=1),
                relu3=L.ReLU(),
                down2=L.Conv2d(w2, w2, 3, stride=2, padding=1),
                relu4=L.ReLU(),
                conv3=L.Conv2d(w2, w2, 3, padding=1),
                relu5=L.ReLU(),
                classes=L.Conv2d(w2, num_classes, 1),
            )
        )
        self.average = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()

    def forward(self, x):
        return self.flatten(self.average(self.features(x)))
