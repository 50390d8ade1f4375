"""Faster NumPy versions of ``coursecnn.ref``'s convolution and pooling.

Same names, signatures, results and error messages as their ``coursecnn.ref`` twins (and
tested against them); where ``ref`` is written to be read, these are written to be fast on
a CPU: fewer copies, cache-sized blocks, memory laid out for the matrix products. Read
``coursecnn.ref`` first; come here to see what speed costs in clarity.
"""

from . import conv, pool
from .conv import *  # noqa: F401,F403
from .pool import *  # noqa: F401,F403

__all__ = [name for module in (conv, pool) for name in module.__all__]
