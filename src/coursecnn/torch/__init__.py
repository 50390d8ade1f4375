"""The same operations as ``coursecnn.ref``, in PyTorch, on any device.

``import coursecnn.torch as ct``; every op is a ``torch.autograd.Function`` whose backward is the
one the book derives.
"""

from . import batchnorm, conv, functional, pool, upsample
from .batchnorm import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .functional import *  # noqa: F401,F403
from .pool import *  # noqa: F401,F403
from .upsample import *  # noqa: F401,F403

__all__ = [name for module in (conv, functional, pool, batchnorm, upsample) for name in module.__all__]
