"""Readers for the IDX files the full MNIST comes in (``train-images-idx3-ubyte`` and friends).

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions),
one big-endian uint32 per dimension, then the values, big-endian, row-major. The full MNIST is
60,000 + 10,000 digits; for readers who have the files, :func:`load_mnist` reads them (raw or
gzipped) with the same conventions as :func:`coursecnn.data.load_digits`.
"""

import gzip
import math
import struct
import zlib
from pathlib import Path

import numpy as np

from .mnist import prepare

__all__ = ["read_idx", "load_mnist", "IMAGES_MAGIC", "LABELS_MAGIC"]

IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions (count, rows, columns)
LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension (count)

# type code -> (dtype, name); values are stored big-endian
_TYPES = {
    0x08: (np.dtype(">u1"), "unsigned byte"),
    0x09: (np.dtype(">i1"), "signed byte"),
    0x0B: (np.dtype(">i2"), "short"),
    0x0C: (np.dtype(">i4"), "int"),
    0x0D: (np.dtype(">f4"), "float"),
    0x0E: (np.dtype(">f8"), "double"),
}

_PREFIXES = {"train": "train", "test": "t10k", "t10k": "t10k"}


def _read_bytes(path):
    """The file's bytes, gunzipped when it is gzip (by content, not by name)."""
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"{path}: corrupt or truncated gzip file ({exc})") from None


def read_idx(path, expected_magic=None):
    """read_idx(path, expected_magic=None) -> ndarray

    Read one IDX file, raw or gzipped, checking its header against its length.

    Args:
        path (str or Path): the file.
        expected_magic (int, optional): the magic number the file must have, e.g. ``2051`` for
            MNIST images, ``2049`` for labels. Default: ``None`` (any valid IDX type)

    Returns:
        the array, shaped as the header says, in native byte order.

    Example::

        >>> images = read_idx("train-images-idx3-ubyte.gz", expected_magic=2051)  # doctest: +SKIP
        >>> images.shape  # doctest: +SKIP
        (60000, 28, 28)
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"IDX file not found: {path}")
    data = _read_bytes(path)
    if len(data) < 4:
        raise ValueError(f"{path}: truncated IDX file, {len(data)} bytes is shorter than the 4-byte magic number")
    (magic,) = struct.unpack(">I", data[:4])
    zeros, type_code, ndim = magic >> 16, (magic >> 8) & 0xFF, magic & 0xFF
    if expected_magic is not None and magic != expected_magic:
        raise ValueError(f"{path}: wrong magic number {magic}, expected {expected_magic}")
    if zeros != 0 or type_code not in _TYPES or ndim == 0:
        raise ValueError(f"{path}: not an IDX file (magic number {magic:#010x})")
    dtype, type_name = _TYPES[type_code]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(
            f"{path}: truncated IDX header, {ndim} dimensions need {header} bytes, the file has {len(data)}"
        )
    shape = struct.unpack(f">{ndim}I", data[4:header])
    # Python ints: np.prod in int64 would wrap (65536**4 is 2**64, i.e. 0) and accept a bogus header
    expected = header + math.prod(shape) * dtype.itemsize
    if len(data) != expected:
        kind = "truncated" if len(data) < expected else "too long"
        raise ValueError(
            f"{path}: {kind} IDX file: a header of shape {tuple(shape)} ({type_name}) means "
            f"{expected} bytes, the file has {len(data)}"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def _find(directory, name):
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"neither {name} nor {name}.gz found in {directory}")


def load_mnist(path, kind="train", as_tensor=False, pad_to=None, normalize=True):
    """load_mnist(path, kind="train", as_tensor=False, pad_to=None, normalize=True) -> (images, labels)

    Read the full MNIST from its IDX files, raw or gzipped; nothing is downloaded.

    Args:
        path (str or Path): the directory holding ``train-images-idx3-ubyte``,
            ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``
            (each may end in ``.gz``).
        kind (str): ``"train"`` (60,000 digits) or ``"test"`` (also spelled ``"t10k"``, 10,000).
            Default: ``"train"``
        as_tensor, pad_to, normalize: as in :func:`coursecnn.data.load_digits`.

    Returns:
        images of shape :math:`(N, 1, 28, 28)` (or padded) and labels of shape :math:`(N,)`, int64.

    Example::

        >>> x, y = load_mnist("~/data/mnist", kind="test", pad_to=32)  # doctest: +SKIP
        >>> x.shape, y.shape  # doctest: +SKIP
        ((10000, 1, 32, 32), (10000,))
    """
    if kind not in _PREFIXES:
        raise ValueError(f"kind must be 'train' or 'test' (or 't10k'), got {kind!r}")
    directory = Path(path).expanduser()
    if not directory.is_dir():
        raise FileNotFoundError(f"MNIST directory not found: {directory}")
    prefix = _PREFIXES[kind]
    images_path = _find(directory, f"{prefix}-images-idx3-ubyte")
    labels_path = _find(directory, f"{prefix}-labels-idx1-ubyte")
    images = read_idx(images_path, expected_magic=IMAGES_MAGIC)
    labels = read_idx(labels_path, expected_magic=LABELS_MAGIC)
    if len(images) != len(labels):
        raise ValueError(
            f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels; "
            "they must match"
        )
    if labels.size and labels.max() > 9:
        raise ValueError(f"{labels_path}: labels must be digits 0..9, found {int(labels.max())}")
    return prepare(images, labels, as_tensor=as_tensor, pad_to=pad_to, normalize=normalize)
