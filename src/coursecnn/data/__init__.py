"""Data that ships with the package: MNIST digits and a photograph. Nothing is downloaded."""

__all__ = []
