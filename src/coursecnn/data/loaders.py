"""PyTorch ``DataLoader`` s over the bundled digits (or any arrays), shuffled reproducibly."""

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from .._checks import pair, positive
from .mnist import load_digits

__all__ = ["digit_loaders", "make_loader"]


def _as_tensor(x, dtype):
    if isinstance(x, torch.Tensor):
        return x.detach().to(dtype)
    x = np.asarray(x)
    # a read-only array is copied: torch.as_tensor would share it and warn
    return torch.as_tensor(x if x.flags.writeable else x.copy()).to(dtype)


def make_loader(images, labels, batch_size=64, shuffle=False, seed=0, drop_last=False):
    """make_loader(images, labels, batch_size=64, shuffle=False, seed=0, drop_last=False) -> DataLoader

    A ``DataLoader`` over arrays or tensors; with ``shuffle`` the order is drawn from its own
    generator seeded with ``seed``, so two runs see the same batches.

    Args:
        images (array or Tensor): shape :math:`(N, C, H, W)` (any shape with ``N`` first works).
        labels (array or Tensor): shape :math:`(N,)`, class indices.
        batch_size (int): examples per batch. Default: ``64``
        shuffle (bool): reshuffle every epoch. Default: ``False``
        seed (int): seed of the shuffling generator. Default: ``0``
        drop_last (bool): drop the last incomplete batch. Default: ``False``

    Example::

        >>> loader = make_loader(np.zeros((10, 1, 4, 4)), np.arange(10) % 2, batch_size=4)
        >>> [len(y) for _, y in loader]
        [4, 4, 2]
    """

    positive(pair(batch_size, "batch_size", n=1), "batch_size")
    x, y = _as_tensor(images, torch.float32), _as_tensor(labels, torch.int64)
    if x.ndim < 1 or y.ndim != 1 or len(x) != len(y):
        raise ValueError(
            f"images (N, ...) and labels (N,) must have the same N, got shapes {tuple(x.shape)} and {tuple(y.shape)}"
        )
    generator = torch.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(
        TensorDataset(x, y), batch_size=batch_size, shuffle=shuffle, generator=generator, drop_last=drop_last
    )


def digit_loaders(batch_size=64, pad_to=32, seed=0, test_batch_size=1000):
    """digit_loaders(batch_size=64, pad_to=32, seed=0, test_batch_size=1000) -> (train_loader, test_loader)

    ``DataLoader`` s over the bundled MNIST split: the training set shuffled (seeded), the test set in order.

    Args:
        batch_size (int): training batch size. Default: ``64``
        pad_to (int, optional): pad the 28x28 digits to this size; ``32`` suits LeNet-5, ``None``
            keeps 28x28. Default: ``32``
        seed (int): seed of the training set's shuffling. Default: ``0``
        test_batch_size (int): test batch size (no gradients, so it can be large). Default: ``1000``

    Example::

        >>> from coursecnn.data import digit_loaders
        >>> train_loader, test_loader = digit_loaders(batch_size=128)
        >>> x, y = next(iter(train_loader))
        >>> tuple(x.shape), tuple(y.shape)
        ((128, 1, 32, 32), (128,))
    """
    x_train, y_train = load_digits("train", pad_to=pad_to)
    x_test, y_test = load_digits("test", pad_to=pad_to)
    return (
        make_loader(x_train, y_train, batch_size=batch_size, shuffle=True, seed=seed),
        make_loader(x_test, y_test, batch_size=test_batch_size, shuffle=False),
    )
