"""Interactive explorers for notebooks (ipywidgets); their static twins live in book/_static.

- :class:`KernelExplorer`, :class:`ArithmeticExplorer`, :class:`PoolingExplorer`: ipywidgets
  that compute through ``coursecnn.ref`` and ``coursecnn.arith``;
- :func:`static_explorer`: the same explorers for the published book, no kernel needed;
- :data:`KERNELS`: preset kernels (identity, blurs, sharpen, Sobel, the lectures' edge detectors).
"""

from .kernels import KERNELS
from .static import StaticExplorer, static_explorer

__all__ = ["KERNELS", "static_explorer", "StaticExplorer"]
