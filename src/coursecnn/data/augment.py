"""Data augmentation by random shifts: the same digit, moved a few pixels, is still the same digit.

A network sees each training image many times. Shifting it by a random offset every time
costs nothing to label and teaches the network what the convolution and pooling layers only
approximate: that the class does not depend on where the digit sits.
"""

import numbers

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from .loaders import make_loader

__all__ = ["shift_images", "random_shifts", "shift_loader"]


def _images(x):
    if not isinstance(x, torch.Tensor):
        arr = np.asarray(x)
        if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
            raise TypeError(f"images must be a numeric array or tensor shaped (N, C, H, W), got dtype {arr.dtype}")
        x = torch.as_tensor(arr)
    if x.dim() != 4:
        raise ValueError(f"images must have 4 dimensions (N, C, H, W), got shape {tuple(x.shape)}")
    return x


def _offset(v, name):
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral):
        raise TypeError(f"{name} must be an int number of pixels, got {v!r}")
    return int(v)


def _shifted(x, dy, dx, fill):
    """Each image ``x[i]`` moved down by ``dy[i]`` and right by ``dx[i]`` (int tensors)."""

    n, c, h, w = x.shape
    m = int(max(dy.abs().max(), dx.abs().max()))
    xp = F.pad(x, (m, m, m, m), value=float(fill))  # room to read from off the edge
    # Output pixel (r, s) of image i reads padded pixel (r - dy[i] + m, s - dx[i] + m).
    rows = torch.arange(h)[None, :] - dy[:, None] + m  # (N, H)
    cols = torch.arange(w)[None, :] - dx[:, None] + m  # (N, W)
    i = torch.arange(n)[:, None, None]
    out = xp.permute(0, 2, 3, 1)[i, rows[:, :, None], cols[:, None, :]]  # (N, H, W, C)
    return out.permute(0, 3, 1, 2).contiguous()


def shift_images(images, dy, dx, fill=0.0):
    """shift_images(images, dy, dx, fill=0.0) -> Tensor

    Move every image ``dy`` pixels down and ``dx`` pixels right (negative: up, left). What
    leaves the frame is lost; what enters it is ``fill`` (0: the digits' black background).

    Args:
        images: array or tensor of shape ``(N, C, H, W)``. Not modified.
        dy, dx (int): the shift in pixels, the same for every image.
        fill (float): value of the pixels that enter the frame. Default: ``0.0``.

    Returns:
        Tensor of the same shape and dtype.

    Example::

        >>> import torch
        >>> x = torch.arange(9.0).reshape(1, 1, 3, 3)
        >>> shift_images(x, 1, -1)[0, 0].tolist()
        [[0.0, 0.0, 0.0], [1.0, 2.0, 0.0], [4.0, 5.0, 0.0]]
    """

    x = _images(images)
    dy, dx = _offset(dy, "dy"), _offset(dx, "dx")
    if abs(dy) >= x.shape[2] or abs(dx) >= x.shape[3]:
        raise ValueError(f"a shift of ({dy}, {dx}) moves a {tuple(x.shape[2:])} image out of its frame")
    n = x.shape[0]
    return _shifted(x, torch.full((n,), dy), torch.full((n,), dx), fill)


def random_shifts(images, max_shift, generator=None, fill=0.0):
    """random_shifts(images, max_shift, generator=None, fill=0.0) -> Tensor

    Move each image by its own random offset, drawn uniformly from the integers in
    ``[-max_shift, max_shift]`` along each axis (so ``(2 * max_shift + 1) ** 2`` offsets,
    "no shift" among them).

    Args:
        images: array or tensor of shape ``(N, C, H, W)``. Not modified.
        max_shift (int): the largest shift in pixels, ``>= 0``.
        generator (torch.Generator, optional): source of the offsets. Default: ``None`` (the
            global one).
        fill (float): value of the pixels that enter the frame. Default: ``0.0``.

    Returns:
        Tensor of the same shape and dtype.

    Example::

        >>> import torch
        >>> g = torch.Generator().manual_seed(0)
        >>> x = torch.zeros(5, 1, 8, 8); x[:, :, 3:5, 3:5] = 1
        >>> y = random_shifts(x, 2, generator=g)
        >>> y.shape, y.sum().item()  # moved, not cut: 2 pixels of margin
        (torch.Size([5, 1, 8, 8]), 20.0)
    """

    x = _images(images)
    m = _offset(max_shift, "max_shift")
    if m < 0 or m >= min(x.shape[2:]):
        raise ValueError(f"max_shift must be in [0, {min(x.shape[2:]) - 1}] for {tuple(x.shape[2:])} images, got {m}")
    offsets = torch.randint(-m, m + 1, (2, x.shape[0]), generator=generator)
    return _shifted(x, offsets[0], offsets[1], fill)


def shift_loader(images, labels, max_shift, batch_size=64, seed=0, fill=0.0):
    """shift_loader(images, labels, max_shift, batch_size=64, seed=0, fill=0.0) -> DataLoader

    A shuffled training ``DataLoader`` whose every batch is freshly shifted by
    :func:`random_shifts`: in each epoch a digit appears at a new random offset. The order
    and the offsets come from generators seeded with ``seed``, so two runs see the same batches.
    Pass it to :func:`coursecnn.train.train` as ``(shift_loader(...), test_loader)``.

    Args:
        images (array or Tensor): ``(N, C, H, W)``.
        labels (array or Tensor): ``(N,)`` class indices.
        max_shift (int): the largest shift in pixels.
        batch_size (int): examples per batch. Default: ``64``.
        seed (int): seed of the order and the offsets. Default: ``0``.
        fill (float): value of the pixels that enter the frame. Default: ``0.0``.

    Example::

        >>> import torch
        >>> loader = shift_loader(torch.zeros(10, 1, 8, 8), torch.zeros(10, dtype=torch.long), 2, batch_size=4)
        >>> [tuple(x.shape) for x, _ in loader]
        [(4, 1, 8, 8), (4, 1, 8, 8), (2, 1, 8, 8)]
    """

    base = make_loader(images, labels, batch_size=batch_size, shuffle=True, seed=seed)  # checks the arguments
    x = base.dataset.tensors[0]
    m = _offset(max_shift, "max_shift")
    if x.dim() != 4 or not 0 <= m < min(x.shape[2:]):
        raise ValueError(f"shift_loader needs images (N, C, H, W) and max_shift in [0, min(H, W)), got {tuple(x.shape)} and {m}")
    offsets = torch.Generator().manual_seed(seed + 1)

    def collate(samples):
        xb = torch.stack([s[0] for s in samples])
        yb = torch.stack([s[1] for s in samples])
        return random_shifts(xb, m, generator=offsets, fill=fill), yb

    return DataLoader(
        TensorDataset(*base.dataset.tensors), batch_size=batch_size, shuffle=True,
        generator=torch.Generator().manual_seed(seed), collate_fn=collate,
    )
