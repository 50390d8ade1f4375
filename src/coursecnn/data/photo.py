"""A photograph for the kernel demos: Grace Hopper's portrait, the sample image matplotlib ships."""

import os
import warnings
from pathlib import Path

import matplotlib
import numpy as np
from PIL import Image, UnidentifiedImageError

from .._checks import memory_budget, numeric_array, pair, positive

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


def _area_weights(n_in, n_out, start=0, stop=None, o_start=0, o_stop=None):
    """Rows ``o_start:o_stop`` and columns ``start:stop`` of the (n_out, n_in) matrix whose row i
    averages the input cells that output cell i covers, by overlap (a full row sums to 1)."""
    stop = n_in if stop is None else stop
    o_stop = n_out if o_stop is None else o_stop
    step = n_in / n_out
    edges = np.arange(o_start, o_stop + 1) * step
    lo, hi = edges[:-1, None], edges[1:, None]
    cells = np.arange(start, stop)[None, :]
    overlap = np.clip(np.minimum(hi, cells + 1) - np.maximum(lo, cells), 0, None)
    return overlap / step


# Input rows converted to float64 at a time: a big image is never copied whole to float64.
_BLOCK_BYTES = 1 << 22


def _resize_rows(get, n_in, n_out, width):
    """Area-average the ``n_in`` rows that ``get(r0, r1)`` returns (``(r1 - r0, width)``, any
    real dtype) to ``n_out`` rows of float64, a block of rows at a time. Each block only meets
    the few output rows its cells fall in: the band of the weight matrix, not all of it."""
    step = n_in / n_out
    acc = np.zeros((n_out, width))
    block = max(1, _BLOCK_BYTES // (8 * max(1, width)))
    for r0 in range(0, n_in, block):
        r1 = min(n_in, r0 + block)
        o0, o1 = min(n_out - 1, int(r0 // step)), min(n_out, int(np.ceil(r1 / step)) + 1)
        band, rows = _area_weights(n_in, n_out, r0, r1, o0, o1), get(r0, r1).astype(np.float64)
        # a band of a few output rows: einsum's plain loop beats starting a BLAS product
        acc[o0:o1] += np.einsum("ij,jk->ik", band, rows) if len(band) < 8 else band @ rows
    return acc


def _resize_finite(get, shape, out_h, out_w, scale=1.0):
    """Area-average the image ``get(r0, r1)`` gives rows of (shape ``(H, W)`` or ``(H, W, C)``,
    finite) to ``(out_h, out_w)``, divided by ``scale``: rows first, then columns."""
    h, w = shape[:2]
    rest = tuple(shape[2:])
    c = int(np.prod(rest))
    acc = _resize_rows(lambda r0, r1: get(r0, r1).reshape(r1 - r0, w * c), h, out_h, w * c)
    # the columns as rows: (out_h, W, C) -> (W, out_h C)
    cols = np.ascontiguousarray(acc.reshape(out_h, w, c).transpose(1, 0, 2)).reshape(w, out_h * c)
    del acc
    out = _resize_rows(lambda r0, r1: cols[r0:r1], w, out_w, out_h * c)
    # (out_w, out_h C) -> (out_h, out_w, C)
    out = np.ascontiguousarray(out.reshape(out_w, out_h, c).transpose(1, 0, 2)).reshape((out_h, out_w) + rest)
    if scale != 1.0:
        out /= scale
    return out


def _resize_budget(fname, shape, out_h, out_w, max_bytes, extra=0, what=None):
    """The float64 arrays of an area resize: the row pass and its transpose (out_h x W), the
    result and its transpose, and a block of rows (at most the image); ``extra`` bytes more."""
    h, w = shape[:2]
    c = int(np.prod(shape[2:]))
    values = 2 * out_h * w * c + 2 * out_h * out_w * c
    block = min(_BLOCK_BYTES, 8 * h * w * c)
    memory_budget(fname, 8 * values + 2 * block + extra, max_bytes,
                  what or f"resizing {h}x{w} to {out_h}x{out_w}", "use a smaller size")


def resize_area(image, size, *, max_bytes=None):
    """resize_area(image, size, *, max_bytes=None) -> ndarray

    Resize by area averaging: each output pixel is the mean of the input area it covers.

    Args:
        image (ndarray): shape :math:`(H, W)` or :math:`(H, W, C)`. Not modified.
        size (int or tuple): the output ``(height, width)``; an int is used for both.
        max_bytes (int): refuse to run when the result and the temporary arrays would take more
            memory than this. Default: ``None``, meaning 1 GiB.

    Returns:
        A float64 array of shape ``(height, width)`` or ``(height, width, C)``. A NaN or an
        infinity reaches only the output pixels whose area holds it (NaN where the area holds a
        NaN, or both +inf and -inf).

    Example::

        >>> resize_area(np.arange(16.0).reshape(4, 4), 2)
        array([[ 2.5,  4.5],
               [10.5, 12.5]])
    """
    out_h, out_w = positive(pair(size, "size"), "size")
    # numeric_array refuses complex and object arrays, which a float cast would quietly mangle
    image = numeric_array(image, "image", "a real array shaped (H, W) or (H, W, C)")
    if image.ndim not in (2, 3):
        raise ValueError(
            f"image must have 2 dimensions (H, W) or 3 (H, W, C), got {image.ndim} with shape {image.shape}"
        )
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"image must have at least one row and one column, got shape {image.shape}")
    _resize_budget("resize_area", image.shape, out_h, out_w, max_bytes)
    def resize(a):
        return _resize_finite(lambda r0, r1: a[r0:r1], a.shape, out_h, out_w)

    if image.dtype.kind != "f" or np.isfinite(image).all():
        return resize(image)
    # A weighted sum would turn every 0 weight times a NaN into NaN: average the finite values,
    # then mark the outputs whose area (a positive weight) holds a NaN or an infinity.
    out = resize(np.where(np.isfinite(image), image, 0))
    hit = {v: resize(mask) > 0
           for v, mask in (("nan", np.isnan(image)), ("+", np.isposinf(image)), ("-", np.isneginf(image)))}
    out[hit["+"]] = np.inf
    out[hit["-"]] = -np.inf
    out[hit["nan"] | (hit["+"] & hit["-"])] = np.nan
    return out


# Pillow's modes, by how their samples become gray levels in [0, 1]: (convert to, full scale)
_EIGHT_BIT = {"L": ("L", 255), "1": ("L", 255), "LA": ("L", 255), "La": ("L", 255)}
_SIXTEEN_BIT = ("I;16", "I;16L", "I;16B", "I;16N")


def _samples(img, path):
    """The decoded image as ``(source, full_scale)``: an array, or a Pillow image whose rows
    become arrays block by block, of samples in their own small dtype (uint8, uint16, int32 or
    float32), and the value that means white."""
    mode = img.mode
    if mode in _SIXTEEN_BIT:
        return img, 65535  # 16-bit gray (PNG, TIFF): clipping at 255 made it all white
    if mode == "I":  # 32-bit integers; Pillow reads some 16-bit files this way
        a = np.asarray(img)
        lo, hi = (int(a.min()), int(a.max())) if a.size else (0, 0)
        if lo < 0:
            raise ValueError(f"load_photo: {path} holds negative 32-bit integers (down to {lo}), not gray levels; "
                             "save it as an 8- or 16-bit image")
        return a, 65535 if hi <= 65535 else 2**31 - 1
    if mode == "F":  # 32-bit floats (TIFF): taken as gray levels already in [0, 1]
        a = np.asarray(img)
        if not np.isfinite(a).all():
            raise ValueError(f"load_photo: {path} holds NaN or infinite pixel values; a photograph needs finite ones")
        lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 0.0)
        if lo < 0 or hi > 1:
            raise ValueError(f"load_photo: {path} holds floating-point pixels from {lo:g} to {hi:g}; float images "
                             "are read as gray levels in [0, 1], so rescale it to that range (or save it as 8 or 16 bits)")
        return a, 1.0
    if mode in ("L", "RGB"):
        return img, 255
    if mode in _EIGHT_BIT:
        return img.convert(_EIGHT_BIT[mode][0]), 255
    return img.convert("RGB"), 255  # RGBA, P, CMYK, YCbCr, ...: 8-bit colour


def _sample_bytes(mode):
    return 2 if mode in _SIXTEEN_BIT else 4 if mode in ("I", "F") else 1


def _read_image(path, size, gray, max_bytes):
    """The image file at ``path`` as float64 in [0, 1]: gray ``(H, W)`` or colour ``(H, W, 3)``,
    resized to ``size`` (a pair or None) before anything is converted to float64."""
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"load_photo: no such file: {path}")
    if not path.is_file():
        raise ValueError(f"load_photo: path must be an image file, got the directory {path}")
    try:
        with warnings.catch_warnings():
            # the budget below decides what is too large; Pillow's own hard limit stays
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                image = _decode(img, path, size, max_bytes)
    except UnidentifiedImageError:
        raise ValueError(f"load_photo: {path} is not an image file (JPEG, PNG, GIF, BMP, TIFF, WebP...)") from None
    except Image.DecompressionBombError as exc:
        raise ValueError(f"load_photo: {path} is refused as a decompression bomb: {exc}; a real photograph that "
                         "large must be shrunk with an image tool first") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:  # truncated data, broken headers
        if str(exc).startswith("load_photo: "):  # our own refusals (budget, pixel values)
            raise
        raise ValueError(f"load_photo: {path} is a damaged or truncated image and cannot be decoded ({exc})") from None
    if image.ndim == 3 and gray:
        image = image @ _LUMA  # luma of the averages = average of the luma: it is linear
    elif image.ndim == 2 and not gray:
        image = np.repeat(image[..., None], 3, axis=2)
    return image


def _decode(img, path, size, max_bytes):
    """The open image ``img`` as float64 in [0, 1] (gray (H, W) or colour (H, W, 3)), resized to
    ``size``; the budget is checked from the header, before anything is decoded."""
    w, h = img.size
    bands = 1 if img.mode in _EIGHT_BIT or img.mode in ("I", "F") + _SIXTEEN_BIT else 3
    out_h, out_w = (h, w) if size is None else size
    # the decoded pixels in their own type, and a converted copy (palette to RGB, ...)
    decoded = 2 * h * w * max(bands, len(img.getbands())) * _sample_bytes(img.mode)
    if size is None:
        memory_budget("load_photo", decoded + 8 * h * w * bands, max_bytes,
                      f"decoding {path} ({w}x{h} pixels) to float64", "pass size=... to shrink it as it is read")
    else:
        _resize_budget("load_photo", (h, w, bands), out_h, out_w, max_bytes, extra=decoded,
                       what=f"decoding {path} ({w}x{h} pixels) and resizing it to {out_h}x{out_w}")
    img.load()  # decode now: a truncated or corrupt file fails here, not later
    samples, full = _samples(img, path)
    if isinstance(samples, np.ndarray):
        def rows(r0, r1):
            return samples[r0:r1]
    else:  # a block of rows of the Pillow image at a time: no second full copy
        def rows(r0, r1):
            return np.asarray(samples.crop((0, r0, w, r1)))
    if size is None:
        image = rows(0, h).astype(np.float64)
        image /= full
        return image
    return _resize_finite(rows, (h, w) if bands == 1 else (h, w, 3), out_h, out_w, scale=full)


def load_photo(path=None, size=None, gray=True, *, max_bytes=None):
    """load_photo(path=None, size=None, gray=True, *, max_bytes=None) -> ndarray

    A photograph as floats in [0, 1]: an image file of your own, or by default Grace Hopper's
    portrait (600x512, from matplotlib's sample data).

    Args:
        path (str or Path, optional): an image file (JPEG, PNG, ... anything Pillow reads).
            Default: ``None`` (the portrait)
        size (int or tuple, optional): resize to ``(height, width)`` (an int for a square) by area
            averaging. Default: ``None`` (full size)
        gray (bool): convert to gray levels with the BT.601 luma weights. Default: ``True``
        max_bytes (int): refuse a file whose decoding, resizing and float64 result would take
            more memory than this (a small file can decode to a huge image: a "decompression
            bomb"). Default: ``None``, meaning 1 GiB; Pillow refuses files of more than about 179
            million pixels whatever the budget.

    8-bit files (gray, colour, palette) are divided by 255, 16-bit gray files (PNG, TIFF) by
    65535, and 32-bit float files (TIFF) are taken as they are, which must be in [0, 1]. The
    file is decoded in its own small type and resized before it becomes float64.

    Returns:
        float64 array of shape :math:`(H, W)` when ``gray``, else :math:`(H, W, 3)`; add the batch
        and channel axes with ``x[None, None]`` (gray) or ``x.transpose(2, 0, 1)[None]`` (colour)
        to get :math:`(N, C, H, W)`.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: ``path`` is a directory, not an image, or a damaged or truncated image; a
            float image outside [0, 1]; a file too large for ``max_bytes``.

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
    if size is not None:
        try:
            size = positive(pair(size, "size"), "size")
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"load_photo: {exc}") from None
    image = _read_image(photo_path() if path is None else path, size, bool(gray), max_bytes)
    return np.clip(image, 0.0, 1.0, out=image)
