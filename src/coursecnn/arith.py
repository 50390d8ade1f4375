"""Sizes and counts of convolution and pooling layers (pure Python)."""

__all__ = []
