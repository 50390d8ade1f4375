"""PyTorch models of the lectures: LeNet-5, AlexNet, the all-convolutional net, the lecture CNN.

Every model takes ``impl="torch"`` (layers from ``torch.nn``) or ``impl="coursecnn"`` (the same
layers running the book's own ops from ``coursecnn.torch``); ``summary(model, input_shape)``
tabulates any model layer by layer.
"""

from . import alexnet, allconv, lecture, lenet, summary as _summary_module
from .alexnet import *  # noqa: F401,F403
from .allconv import *  # noqa: F401,F403
from .lecture import *  # noqa: F401,F403
from .lenet import *  # noqa: F401,F403
from .summary import Summary, SummaryRow, summary  # noqa: F401
from . import lenet_bn, resnet, vgg  # noqa: E402  (chapter 7)
from .lenet_bn import *  # noqa: F401,F403,E402
from .resnet import *  # noqa: F401,F403,E402
from .vgg import *  # noqa: F401,F403,E402

__all__ = [
    name for module in (alexnet, allconv, lecture, lenet, _summary_module) for name in module.__all__
] + lenet_bn.__all__ + resnet.__all__ + vgg.__all__
