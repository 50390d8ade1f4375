"""Inputs the explorers start from: the lectures' small examples, the photo and MNIST digits."""

import functools

import numpy as np

__all__ = ["LECTURE_IMAGE", "LECTURE_POOL_INPUT", "photo_8bit", "digit_examples", "random_grid"]

# The lecture's worked 6x6 convolution input (a diagonal stroke and a bright dot).
LECTURE_IMAGE = np.array([
    [0, 0, 0, 0, 0, 0],
    [0, 1.0, 0, 0, 0.4, 0],
    [0, 0, 0, 0.4, 0, 0],
    [0, 0, 0, 0, 0.4, 0],
    [0, 0, 0, 0.4, 0, 0],
    [0, 0, 0, 0, 0.4, 0],
])
# Its output under the lecture's kernel, which the lecture then max-pools (2x2 -> 0.5, 0.6, ...).
LECTURE_POOL_INPUT = np.array([
    [0.5, 0.2, 0, 0.2],
    [0, 0, 0.6, 0],
    [0, 0.4, 0, 0.2],
    [0, 0, 0.6, 0],
])
for _a in (LECTURE_IMAGE, LECTURE_POOL_INPUT):
    _a.setflags(write=False)


def photo_8bit(size=64):
    """Grace Hopper's portrait, gray, ``size x size``, as integers 0..255 (an 8-bit image).

    Quantized so the static explorer can embed it compactly; divide by 255 for values in [0, 1].
    """
    return _photo_8bit(size).copy()


@functools.lru_cache(maxsize=4)
def _photo_8bit(size):
    from ..data import load_photo

    # cached: resizing the 600x512 photo takes seconds, and every explorer starts from it
    return np.rint(load_photo(size=size) * 255).astype(np.int64)


def digit_examples():
    """The first test digit of each class 0..9: a dict ``{label: uint8 array (28, 28)}``."""
    return {c: d.copy() for c, d in _digit_examples().items()}


@functools.lru_cache(maxsize=1)
def _digit_examples():
    from ..data import load_digits

    images, labels = load_digits("test", normalize=False)
    return {int(c): images[int(np.argmax(labels == c)), 0] for c in range(10)}


def random_grid(size=6, seed=0):
    """A ``size x size`` grid of small integers 0..9, reproducible from ``seed``."""
    return np.random.default_rng(seed).integers(0, 10, size=(size, size)).astype(np.float64)
