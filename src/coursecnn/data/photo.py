"""A photograph for the kernel demos: Grace Hopper's portrait, the sample image matplotlib ships."""

import os
from pathlib import Path

import matplotlib
import numpy as np
from PIL import Image, UnidentifiedImageError

from .._checks import numeric_array, pair, positive

__all__ = ["load_photo", "photo_path", "resize_area"]

_PHOTO = "grace_hopper.jpg"
# ITU-R BT.601 luma weights: how bright each of R, G, B looks to the eye.
_LUMA = np.array([0.299, 0.587, 0.114])


def photo_path():
    """Path to the sample photograph inside matplotlib's data directory."""
    path = Path(matplotlib.get_data_path()) / "sample_data" / _PHOTO
    if not path.is_file():
        raise FileNotFoundError(
            f"the sample photograph {_PHOTO} was not found at {path}; it ships with matplotlib, "
            "so reinstall matplotlib"
        )
    return path


def _area_weights(n_in, n_out):
    """(n_out, n_in) matrix: each output cell averages the input cells it covers, by overlap."""
    edges = np.arange(n_out + 1) * (n_in / n_out)
    lo, hi = edges[:-1, None], edges[1:, None]
    cells = np.arange(n_in)[None, :]
    overlap = np.clip(np.minimum(hi, cells + 1) - np.maximum(lo, cells), 0, None)
    return overlap / overlap.sum(axis=1, keepdims=True)


def resize_area(image, size):
    """resize_area(image, size) -> ndarray

    Resize by area averaging: each output pixel is the mean of the input area it covers.

    Args:
        image (ndarray): shape :math:`(H, W)` or :math:`(H, W, C)`.
        size (int or tuple): the output ``(height, width)``; an int is used for both.

    Example::

        >>> resize_area(np.arange(16.0).reshape(4, 4), 2)
        array([[ 2.5,  4.5],
               [10.5, 12.5]])
    """
    out_h, out_w = positive(pair(size, "size"), "size")
    # numeric_array refuses complex and object arrays, which a float cast would quietly mangle
    image = numeric_array(image, "image", "a real array shaped (H, W) or (H, W, C)").astype(np.float64)
    if image.ndim not in (2, 3):
        raise ValueError(
            f"image must have 2 dimensions (H, W) or 3 (H, W, C), got {image.ndim} with shape {image.shape}"
        )
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"image must have at least one row and one column, got shape {image.shape}")
    rows, cols = _area_weights(image.shape[0], out_h), _area_weights(image.shape[1], out_w)
    # optimize=True contracts one axis at a time (two small matrix products); without it NumPy
    # loops over all four indices at once, which takes seconds even for a 64x64 result.
    return np.einsum("ih,hw...,jw->ij...", rows, image, cols, optimize=True)


def _read_image(path):
    """The image file at ``path`` as a float64 RGB array in [0, 1], or one clear error."""
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"load_photo: no such file: {path}")
    if not path.is_file():
        raise ValueError(f"load_photo: path must be an image file, got the directory {path}")
    try:
        with Image.open(path) as img:
            img.load()  # decode now: a truncated or corrupt file fails here, not later
            rgb = np.asarray(img.convert("RGB"))
    except UnidentifiedImageError:
        raise ValueError(f"load_photo: {path} is not an image file (JPEG, PNG, GIF, BMP, TIFF, WebP...)") from None
    except Image.DecompressionBombError:
        raise ValueError(f"load_photo: {path} is too large to decode safely; shrink it first") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:  # truncated data, broken headers
        raise ValueError(f"load_photo: {path} is a damaged or truncated image and cannot be decoded ({exc})") from None
    return rgb.astype(np.float64) / 255


def load_photo(path=None, size=None, gray=True):
    """load_photo(path=None, size=None, gray=True) -> ndarray

    A photograph as floats in [0, 1]: an image file of your own, or by default Grace Hopper's
    portrait (600x512, from matplotlib's sample data).

    Args:
        path (str or Path, optional): an image file (JPEG, PNG, ... anything Pillow reads).
            Default: ``None`` (the portrait)
        size (int or tuple, optional): resize to ``(height, width)`` (an int for a square) by area
            averaging. Default: ``None`` (full size)
        gray (bool): convert to gray levels with the BT.601 luma weights. Default: ``True``

    Returns:
        float64 array of shape :math:`(H, W)` when ``gray``, else :math:`(H, W, 3)`; add the batch
        and channel axes with ``x[None, None]`` (gray) or ``x.transpose(2, 0, 1)[None]`` (colour)
        to get :math:`(N, C, H, W)`.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: ``path`` is a directory, not an image, or a damaged or truncated image.

    The older call ``load_photo(64)`` (the size first) still works: a number or a pair of numbers
    in place of ``path`` is taken as ``size``.

    Example::

        >>> from coursecnn.data import load_photo
        >>> load_photo(size=64).shape
        (64, 64)
        >>> load_photo("cat.jpg", size=(48, 64), gray=False).shape  # doctest: +SKIP
        (48, 64, 3)
    """
    if path is not None and not isinstance(path, (str, os.PathLike)):
        if isinstance(path, (int, tuple, list)) and not isinstance(path, bool) and (size is None or isinstance(size, bool)):
            # the old signature load_photo(size=None, gray=True), called positionally
            path, size, gray = None, path, (gray if size is None else size)
        else:
            raise TypeError(f"load_photo: path must be a file path (str or pathlib.Path), got {path!r}")
    if not isinstance(gray, (bool, np.bool_)):
        raise TypeError(f"load_photo: gray must be True or False, got {gray!r}")
    image = _read_image(photo_path() if path is None else path)
    if gray:
        image = image @ _LUMA
    if size is not None:
        image = resize_area(image, size)
    return np.clip(image, 0.0, 1.0)
