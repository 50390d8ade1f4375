"""Interactive explorers for notebooks (ipywidgets); their static twins live in book/_static."""

__all__ = []
