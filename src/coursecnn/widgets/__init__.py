"""Interactive explorers for notebooks (ipywidgets); their static twins live in book/_static.

- :class:`KernelExplorer`, :class:`ArithmeticExplorer`, :class:`PoolingExplorer`: ipywidgets
  that compute through ``coursecnn.ref`` and ``coursecnn.arith``;
- :func:`static_explorer`: the same explorers for the published book, no kernel needed;
- :data:`KERNELS`: preset kernels (identity, blurs, sharpen, Sobel, the lectures' edge detectors).
"""

from .arithmetic_explorer import ArithmeticExplorer
from .kernel_explorer import KernelExplorer
from .kernels import KERNELS
from .pooling_explorer import PoolingExplorer
from .static import StaticExplorer, static_explorer

__all__ = ["KERNELS", "KernelExplorer", "ArithmeticExplorer", "PoolingExplorer", "static_explorer", "StaticExplorer"]
