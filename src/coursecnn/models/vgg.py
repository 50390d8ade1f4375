"""VGG-16 (Simonyan and Zisserman, 2014): only 3x3 convolutions, stacked."""

from collections import OrderedDict

from torch import nn

from ._layers import layers

__all__ = ["VGG16", "VGG16_STAGES"]

# Output channels of the 3x3 convolutions of each stage; a 2x2 max pool ends every stage.
VGG16_STAGES = ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512))


class VGG16(nn.Module):
    """VGG16(num_classes=1000, in_channels=3, impl="torch")

    VGG-16, configuration D of the paper: 13 convolutions 3x3 (stride 1, padding 1, so they
    keep the size) in five stages of 2, 2, 3, 3 and 3, each stage ending in a 2x2 max pool that
    halves the map, then fully connected layers of 4096, 4096 and ``num_classes`` units with
    dropout. On a 224x224x3 image the maps are 224, 112, 56, 28, 14 and finally 7 pixels wide,
    and the network has 138,357,544 parameters. Built here to be counted with
    :func:`coursecnn.models.summary` (build it under ``with torch.device("meta"):`` to count
    without allocating the 550 MB of weights), not to be trained on a laptop.

    Args:
        num_classes (int): outputs. Default: ``1000``.
        in_channels (int): input channels. Default: ``3``.
        impl (str): ``"torch"`` or ``"coursecnn"``. Default: ``"torch"``.

    Shape:
        Input ``(N, in_channels, 224, 224)``, output ``(N, num_classes)``.

    Example::

        >>> import torch
        >>> from coursecnn.models import VGG16, summary
        >>> with torch.device("meta"):
        ...     net = VGG16()
        >>> summary(net, net.input_shape).total_params
        138357544
    """

    def __init__(self, num_classes=1000, in_channels=3, impl="torch"):
        super().__init__()
        L = layers(impl)
        self.impl = impl
        self.input_shape = (in_channels, 224, 224)
        body, c_in = [], in_channels
        for stage, widths in enumerate(VGG16_STAGES, start=1):
            for k, width in enumerate(widths, start=1):
                body.append((f"conv{stage}_{k}", L.Conv2d(c_in, width, 3, padding=1)))
                body.append((f"relu{stage}_{k}", L.ReLU()))
                c_in = width
            body.append((f"pool{stage}", L.MaxPool2d(2)))
        self.features = nn.Sequential(OrderedDict(body))
        self.classifier = nn.Sequential(
            OrderedDict(
                flatten=nn.Flatten(),
                fc6=L.Linear(512 * 7 * 7, 4096),
                relu6=L.ReLU(),
                drop6=nn.Dropout(0.5),
                fc7=L.Linear(4096, 4096),
                relu7=L.ReLU(),
                drop7=nn.Dropout(0.5),
                fc8=L.Linear(4096, num_classes),
            )
        )

    def forward(self, x):
        return self.classifier(self.features(x))
