"""Residual networks (He, Zhang, Ren and Sun, 2015): blocks that learn a change to their input."""

from collections import OrderedDict

from torch import nn

from ._layers import layers

__all__ = ["ResidualBlock", "ResNet18", "ConvStack"]


def _batch_norm(impl):
    if impl == "coursecnn":
        from ..torch import BatchNorm2d  # the book's own batch norm
        return BatchNorm2d
    layers(impl)  # checks impl
    return nn.BatchNorm2d


class ResidualBlock(nn.Module):
    """ResidualBlock(in_channels, out_channels, stride=1, impl="torch")

    The "basic block" of ResNet-18 and ResNet-34: two 3x3 convolutions,
    each followed by batch normalization, whose result ``F(x)`` is *added*
    to the block's input before the last ReLU: ``y = relu(F(x) + s(x))``.
    The shortcut ``s`` is the identity when the shapes agree; when the block
    changes the width or the stride it is a 1x1 convolution with that stride
    and a batch norm (the paper's "projection shortcut").

    Args:
        in_channels (int): channels of the input.
        out_channels (int): channels of the output.
        stride (int): stride of the first convolution and of the shortcut.
            Default: ``1``.
        impl (str): ``"torch"`` or ``"coursecnn"`` (convolutions, ReLUs and
            batch norms from ``coursecnn.torch``). Default: ``"torch"``.

    Shape:
        Input ``(N, in_channels, H, W)``, output
        ``(N, out_channels, ceil(H / stride), ceil(W / stride))``.

    Example::

        >>> import torch
        >>> block = ResidualBlock(64, 128, stride=2)
        >>> block(torch.zeros(1, 64, 56, 56)).shape
        torch.Size([1, 128, 28, 28])
    """

    def __init__(self, in_channels, out_channels, stride=1, impl="torch"):
        super().__init__()
        L, BatchNorm = layers(impl), _batch_norm(impl)

        def conv(c_in, size, stride=1):  # no bias: a batch norm follows
            return L.Conv2d(c_in, out_channels, size, stride=stride,
                            padding=size // 2, bias=False)

        self.branch = nn.Sequential(OrderedDict(
            conv1=conv(in_channels, 3, stride),
            bn1=BatchNorm(out_channels),
            relu1=L.ReLU(),
            conv2=conv(out_channels, 3),
            bn2=BatchNorm(out_channels),
        ))
        if stride == 1 and in_channels == out_channels:
            self.shortcut = nn.Identity()
        else:
            self.shortcut = nn.Sequential(OrderedDict(
                conv=conv(in_channels, 1, stride),
                bn=BatchNorm(out_channels),
            ))
        self.relu = L.ReLU()

    def forward(self, x):
        return self.relu(self.branch(x) + self.shortcut(x))


class ResNet18(nn.Module):
    """ResNet18(num_classes=1000, in_channels=3, impl="torch")

    ResNet-18: a 7x7 convolution with stride 2 and a 3x3 max pool with stride 2 (224 -> 56),
    then four stages of two :class:`ResidualBlock` s with 64, 128, 256 and 512 channels (the
    last three start with stride 2: 56 -> 28 -> 14 -> 7), a global average pool and one fully
    connected layer. 11,689,512 parameters; built to be counted with
    :func:`coursecnn.models.summary`, not trained here.

    Args:
        num_classes (int): outputs. Default: ``1000``.
        in_channels (int): input channels. Default: ``3``.
        impl (str): ``"torch"`` or ``"coursecnn"``. Default: ``"torch"``.

    Shape:
        Input ``(N, in_channels, H, W)`` (224x224 in the paper; the global pool accepts other
        sizes from 32 up), output ``(N, num_classes)``.

    Example::

        >>> import torch
        >>> from coursecnn.models import summary
        >>> with torch.device("meta"):  # count without allocating the weights
        ...     net = ResNet18()
        >>> summary(net, net.input_shape).total_params
        11689512
    """

    def __init__(self, num_classes=1000, in_channels=3, impl="torch"):
        super().__init__()
        L, BatchNorm = layers(impl), _batch_norm(impl)
        self.impl = impl
        self.input_shape = (in_channels, 224, 224)
        stem = OrderedDict(
            conv1=L.Conv2d(in_channels, 64, 7, stride=2, padding=3, bias=False),
            bn1=BatchNorm(64),
            relu=L.ReLU(),
            pool=L.MaxPool2d(3, stride=2, padding=1),
        )
        body, c_in = OrderedDict(), 64
        for stage, width in enumerate((64, 128, 256, 512), start=1):
            stride = 1 if stage == 1 else 2
            body[f"stage{stage}"] = nn.Sequential(
                ResidualBlock(c_in, width, stride, impl), ResidualBlock(width, width, 1, impl)
            )
            c_in = width
        self.features = nn.Sequential(OrderedDict(**stem, **body))
        self.classifier = nn.Sequential(
            OrderedDict(average=nn.AdaptiveAvgPool2d(1), flatten=nn.Flatten(), fc=L.Linear(512, num_classes))
        )

    def forward(self, x):
        return self.classifier(self.features(x))


class ConvStack(nn.Module):
    """ConvStack(depth, channels=16, residual=False)

    A deep stack of ``depth`` units of two 3x3 convolutions (padding 1) and ReLUs, with the
    same weights either way: a *plain* unit computes ``relu(conv2(relu(conv1(x))))``, a
    *residual* unit ``x + conv2(relu(conv1(x)))``. No normalization, default initialization:
    the setting in which the gradient of a plain stack fades on its way down and the
    identity paths of a residual stack carry it through.

    Args:
        depth (int): number of units (``2 * depth`` convolutions).
        channels (int): channels of every map. Default: ``16``.
        residual (bool): add each unit's input to its output. Default: ``False``.

    Attributes:
        units (nn.ModuleList): the units, input side first; ``units[i].conv1.weight.grad``
            after a backward pass shows how much gradient reached unit ``i``.

    Shape:
        Input ``(N, channels, H, W)``, output the same.

    Example::

        >>> import torch
        >>> ConvStack(3, channels=4, residual=True)(torch.zeros(1, 4, 8, 8)).shape
        torch.Size([1, 4, 8, 8])
    """

    def __init__(self, depth, channels=16, residual=False):
        super().__init__()
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
            raise ValueError(f"depth must be a positive int, got {depth!r}")
        self.residual = bool(residual)
        self.units = nn.ModuleList(
            nn.Sequential(
                OrderedDict(
                    conv1=nn.Conv2d(channels, channels, 3, padding=1),
                    relu1=nn.ReLU(),
                    conv2=nn.Conv2d(channels, channels, 3, padding=1),
                )
            )
            for _ in range(depth)
        )

    def forward(self, x):
        for unit in self.units:
            x = x + unit(x) if self.residual else nn.functional.relu(unit(x))
        return x
