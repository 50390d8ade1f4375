"""The "typical CNN architecture" of the first lecture."""

from collections import OrderedDict

from torch import nn

from ._layers import layers

__all__ = ["LectureCNN"]


class LectureCNN(nn.Module):
    """LectureCNN(num_classes=10, dropout=False, impl="torch", in_channels=1, input_size=28)

    The first lecture's picture of a typical CNN: convolutions, then flatten, then an MLP::

        6 x conv 5x5 -> max pool 2x2 -> ReLU -> 12 x conv 5x5 -> max pool 2x2 -> ReLU
        -> flatten -> 256 x fully connected -> ReLU -> 10 x fully connected (scores)

    The softmax of the picture is left to the loss (``cross_entropy`` takes scores). On a
    28x28 digit the maps are 24x24x6, 12x12x6, 8x8x12 and 4x4x12, so the MLP sees 192 numbers.

    Args:
        num_classes (int): outputs. Default: ``10``.
        dropout (bool or float): ``True`` drops half of the flattened features and of the 256
            hidden units while training (a float sets the probability); ``False`` for none.
            Default: ``False``.
        impl (str): ``"torch"`` or ``"coursecnn"``. Default: ``"torch"``.
        in_channels (int): input channels. Default: ``1``.
        input_size (int): input height and width, 28 (MNIST) or 32. Default: ``28``.

    Shape:
        Input ``(N, in_channels, input_size, input_size)``, output ``(N, num_classes)``.

    Attributes:
        input_shape (tuple): ``(in_channels, input_size, input_size)``, one sample as the
            network expects it.

    Example::

        >>> import torch
        >>> LectureCNN()(torch.zeros(3, 1, 28, 28)).shape
        torch.Size([3, 10])
    """

    def __init__(self, num_classes=10, dropout=False, impl="torch", in_channels=1, input_size=28):
        super().__init__()
        L = layers(impl)
        p = 0.5 if dropout is True else float(dropout)
        if not 0 <= p < 1:
            raise ValueError(f"dropout must be True, False or a probability in [0, 1), got {dropout!r}")
        side = ((input_size - 4) // 2 - 4) // 2
        if side < 1:
            raise ValueError(f"input_size must be at least 16 so both 5x5 convolutions fit, got {input_size}")
        self.impl = impl
        self.input_shape = (in_channels, input_size, input_size)
        self.features = nn.Sequential(
            OrderedDict(
                conv1=L.Conv2d(in_channels, 6, 5),
                pool1=L.MaxPool2d(2),
                relu1=L.ReLU(),
                conv2=L.Conv2d(6, 12, 5),
                pool2=L.MaxPool2d(2),
                relu2=L.ReLU(),
            )
        )
        head = [("flatten", nn.Flatten())]
        if p:
            head.append(("drop1", nn.Dropout(p)))
        head += [("fc1", L.Linear(12 * side * side, 256)), ("relu3", L.ReLU())]
        if p:
            head.append(("drop2", nn.Dropout(p)))
        head.append(("fc2", L.Linear(256, num_classes)))
        self.classifier = nn.Sequential(OrderedDict(head))

    def forward(self, x):
        return self.classifier(self.features(x))
