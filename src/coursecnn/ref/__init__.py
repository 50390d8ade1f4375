"""NumPy reference implementations: written to be read first, float64 by default.

Every name is re-exported from the module that holds it, so ``coursecnn.ref.conv2d`` and
``coursecnn.ref.conv.conv2d`` are the same function.
"""

from . import activations, autodiff, conv, gradcheck, layers, losses, optim, perceptron, pool, regularization
from .activations import *  # noqa: F401,F403
from .autodiff import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .gradcheck import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .optim import *  # noqa: F401,F403
from .perceptron import *  # noqa: F401,F403
from .pool import *  # noqa: F401,F403
from .regularization import *  # noqa: F401,F403
from . import batchnorm, upsample  # noqa: E402  (chapter 7)
from .batchnorm import *  # noqa: F401,F403,E402
from .upsample import *  # noqa: F401,F403,E402

__all__ = [
    name
    for module in (activations, autodiff, conv, gradcheck, layers, losses, optim, perceptron, pool, regularization)
    for name in module.__all__
] + batchnorm.__all__ + upsample.__all__
