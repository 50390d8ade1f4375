"""PyTorch models of the lectures: LeNet-5, AlexNet, the all-convolutional net, the lecture CNN."""

__all__ = []
