"""Upsampling by interpolation in NumPy: nearest neighbour and bilinear.

Interpolation has no weights to learn. Each output pixel sits at a position of the input grid
(usually between pixels) and takes the value of the nearest pixel, or a weighted mean of the
four around it. Both rules work on rows and columns separately, so one ``(H_out, H)`` matrix
``A`` for the rows and one ``(W_out, W)`` matrix ``B`` for the columns do the whole job:
``y = A x B^T`` for every map. The backward pass is then ``dx = A^T dy B``, an ordinary
transposed product (compare the transposed convolution, which learns its ``A``).

Positions follow ``torch.nn.functional.interpolate``: with ``align_corners=False`` (the
default) pixels are unit squares and output pixel ``i`` samples the input at
``(i + 0.5) * H / H_out - 0.5``; with ``align_corners=True`` the corner pixels of input and
output coincide, and ``i`` samples at ``i * (H - 1) / (H_out - 1)``. Nearest neighbour takes
``floor(i * H / H_out)``. When a ``scale_factor`` is given, ``1 / scale_factor`` replaces
``H / H_out``, as in PyTorch.

The matrices are how the method is explained (:func:`interpolation_matrix`), but they are
not how :func:`interpolate` computes: almost every entry of ``A`` is 0, and ``0 * NaN`` is NaN,
so one NaN or inf in ``x`` would fill whole rows and columns of ``y``. Each output instead reads
only its 1, 2 or 4 neighbours along each axis (the *taps*: an index and a weight each), exactly
the ones PyTorch reads, so a NaN spreads where PyTorch's does and nowhere else.
"""

import math
import numbers

import numpy as np

from .._checks import as_array, loop_budget, memory_budget

__all__ = ["interpolate", "interpolate_naive", "interpolate_backward", "interpolation_matrix"]

_MODES = ("nearest", "bilinear", "bicubic")
_LAYOUT = "(N, C, H, W)"


# --------------------------------------------------------------------------- argument checks


def _positive_number(v, name, integral):
    kinds = numbers.Integral if integral else numbers.Real
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, kinds) or not v > 0 or not math.isfinite(v):
        raise ValueError(f"{name} must be {'a positive int' if integral else 'a positive number'}, got {v!r}")
    return int(v) if integral else float(v)


def _pair_of(v, name, integral):
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ValueError(f"{name} must be one value or a pair (for H and W), got {v!r}")
        return tuple(_positive_number(u, name, integral) for u in v)
    return (_positive_number(v, name, integral),) * 2


def _check_mode(mode, align_corners):
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
    if align_corners is not None and mode == "nearest":
        raise ValueError("align_corners only applies to 'bilinear' and 'bicubic' (leave it None for 'nearest')")
    if align_corners is not None and not isinstance(align_corners, (bool, np.bool_)):
        raise TypeError(f"align_corners must be True, False or None, got {align_corners!r}")
    return bool(align_corners)


def _sizes(in_hw, size, scale_factor):
    """The output ``(H_out, W_out)`` and the input-per-output scales that place the samples."""
    if (size is None) == (scale_factor is None):
        raise ValueError("give exactly one of size and scale_factor")
    if size is not None:
        out = _pair_of(size, "size", integral=True)
        return out, tuple(n / o for n, o in zip(in_hw, out))
    factors = _pair_of(scale_factor, "scale_factor", integral=False)
    out = tuple(int(math.floor(n * f)) for n, f in zip(in_hw, factors))
    if min(out) < 1:
        raise ValueError(f"scale_factor {scale_factor!r} shrinks the input {in_hw} to nothing: output {out}")
    return out, tuple(1.0 / f for f in factors)


def _args(x, size, scale_factor, mode, align_corners):
    x = as_array(x, "x", 4, _LAYOUT)
    # only the batch may be empty (PyTorch's rule): there is nothing to sample from otherwise
    if x.shape[1] == 0:
        raise ValueError(f"x has no channels: shape {x.shape}, expected {_LAYOUT} with C >= 1")
    if 0 in x.shape[2:]:
        raise ValueError(f"x has an empty height or width: shape {x.shape}; both must be at least 1")
    align = _check_mode(mode, align_corners)
    out, scales = _sizes(x.shape[2:], size, scale_factor)
    return x, out, scales, align


# --------------------------------------------------------------------------- where each sample lies


def _source_position(i, n_in, n_out, scale, align_corners, clamp=True, dtype=np.float64):
    """Where output index ``i`` (an int or an array) samples the input axis (bilinear clamps
    it to the first pixel's centre, bicubic does not: PyTorch's rule), computed in ``dtype``
    as PyTorch computes it for that dtype (float32 for float32 input)."""
    if align_corners:
        return i * np.asarray((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0, dtype)
    src = (np.asarray(i, dtype) + dtype(0.5)) * dtype(scale) - dtype(0.5)
    return np.maximum(src, dtype(0)) if clamp else src


_CUBIC_A = -0.75  # the cubic convolution kernel's free parameter, as in PyTorch


def _cubic_weights(t):
    """Keys' cubic convolution weights of the 4 pixels at offsets -1, 0, 1, 2 from the one
    left of the sample, which lies ``t`` (in [0, 1)) past it. They sum to 1."""
    a = _CUBIC_A

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def interpolation_matrix(in_size, out_size, mode="nearest", align_corners=None, scale=None, *, max_bytes=None):
    """interpolation_matrix(in_size, out_size, mode="nearest", align_corners=None, scale=None, *, max_bytes=None) -> ndarray

    The ``(out_size, in_size)`` matrix that interpolates one axis: ``A @ v`` resamples a vector
    ``v`` of ``in_size`` values to ``out_size`` values. Each row holds the weights of one
    output sample: a single 1 (nearest), or ``1 - t`` and ``t`` on two neighbours (linear).

    Args:
        in_size, out_size (int): the lengths of the axis before and after.
        mode (str): ``"nearest"``, ``"bilinear"`` (linear along this axis) or ``"bicubic"``
            (cubic along this axis). Default: ``"nearest"``.
        align_corners (bool, optional): as in :func:`interpolate`. Default: ``None`` (False).
        scale (float, optional): input steps per output step; ``None`` means
            ``in_size / out_size``. Default: ``None``.
        max_bytes (int): refuse to build a matrix larger than this. Default: ``None``, meaning
            1 GiB.

    Returns:
        A float64 array of shape ``(out_size, in_size)`` whose rows sum to 1.

    Example::

        >>> interpolation_matrix(2, 4, "bilinear")
        array([[1.  , 0.  ],
               [0.75, 0.25],
               [0.25, 0.75],
               [0.  , 1.  ]])
    """
    n_in = _positive_number(in_size, "in_size", integral=True)
    n_out = _positive_number(out_size, "out_size", integral=True)
    align = _check_mode(mode, align_corners)
    scale = n_in / n_out if scale is None else _positive_number(scale, "scale", integral=False)
    memory_budget("interpolation_matrix", 8 * n_out * n_in, max_bytes, "the matrix",
                  "use interpolate, which never builds it")
    i = np.arange(n_out)
    a = np.zeros((n_out, n_in))
    if mode == "nearest":
        a[i, np.minimum(np.floor(i * scale).astype(np.int64), n_in - 1)] = 1.0
        return a
    if mode == "bicubic":
        src = _source_position(i, n_in, n_out, scale, align, clamp=False)
        left = np.floor(src).astype(np.int64)
        for k, weight in zip((-1, 0, 1, 2), _cubic_weights(src - left)):
            # pixels beyond the border repeat the border pixel: their weights add up there
            np.add.at(a, (i, np.clip(left + k, 0, n_in - 1)), weight)
        return a
    src = _source_position(i, n_in, n_out, scale, align)
    left = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    right = np.minimum(left + 1, n_in - 1)
    t = src - left  # how far past the left neighbour: its weight is 1 - t
    np.add.at(a, (i, left), 1.0 - t)
    np.add.at(a, (i, right), t)  # at the last pixel left == right and the weights add to 1
    return a


def _matrices(in_hw, out, scales, mode, align):
    """The row and column matrices (``coursecnn.torch`` multiplies by them)."""
    return [interpolation_matrix(n, o, mode, None if mode == "nearest" else align, s) for n, o, s in zip(in_hw, out, scales)]


def _taps(n_in, n_out, mode, align, scale, dtype=np.float64):
    """The neighbours each output index reads along one axis: a list of ``(index, weight)``
    pairs of ``(n_out,)`` arrays, one pair per tap (1 for nearest, 2 linear, 4 cubic). They are
    the non-zero pattern of :func:`interpolation_matrix`'s rows, plus PyTorch's taps of weight 0
    (the right neighbour of a sample that falls exactly on a pixel): PyTorch multiplies those too,
    so a NaN there spreads in PyTorch, and here as well."""
    i = np.arange(n_out)
    dtype = np.dtype(dtype).type if np.dtype(dtype) in (np.float32, np.float64) else np.float64
    if mode == "nearest":
        index = np.floor(i * np.asarray(scale, dtype)).astype(np.int64)
        return [(np.minimum(index, n_in - 1), np.ones(n_out, dtype))]
    if mode == "bicubic":
        src = _source_position(i, n_in, n_out, scale, align, clamp=False, dtype=dtype)
        left = np.floor(src).astype(np.int64)
        weights = _cubic_weights(src - left.astype(dtype))
        return [(np.clip(left + k, 0, n_in - 1), wt) for k, wt in zip((-1, 0, 1, 2), weights)]
    if n_in == n_out:
        # PyTorch copies an axis whose size does not change, as the taps (i, 1) and (i, 0): an
        # inf then meets 0 * inf and becomes NaN there, in PyTorch and here
        return [(i, np.ones(n_out, dtype)), (i, np.zeros(n_out, dtype))]
    src = _source_position(i, n_in, n_out, scale, align, dtype=dtype)
    left = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    t = src - left.astype(dtype)
    return [(left, dtype(1) - t), (np.minimum(left + 1, n_in - 1), t)]


def _resample(v, taps, axis, dtype):
    """Resample ``v`` along ``axis`` (2 or 3): ``sum_k weight_k * v[..., index_k, ...]``."""
    out = None
    with np.errstate(invalid="ignore", over="ignore"):  # 0 * inf is NaN here as in PyTorch, silently
        for index, weight in taps:
            shape = (-1, 1) if axis == 2 else (-1,)
            term = np.take(v, index, axis=axis)  # a new array: scaled in place, no second copy
            term *= weight.astype(dtype).reshape(shape)
            out = term if out is None else np.add(out, term, out=out)
    return out


def _budget(fname, shape, in_hw, out, itemsize, max_bytes):
    """The result, the half-resampled maps (rows done, columns not) and one tap's temporary
    array of each, for ``N C`` maps of ``in_hw`` -> ``out`` (or back, in a backward pass)."""
    maps = shape[0] * shape[1]
    values = 2 * maps * (out[0] * in_hw[1] + out[0] * out[1]) + maps * in_hw[0] * in_hw[1]
    memory_budget(fname, values * itemsize, max_bytes, "the resized maps",
                  "use a smaller size or scale_factor, or resize fewer maps at a time")


# --------------------------------------------------------------------------- forward and backward


def interpolate(x, size=None, scale_factor=None, mode="nearest", align_corners=None, *, max_bytes=None):
    """interpolate(x, size=None, scale_factor=None, mode="nearest", align_corners=None, *, max_bytes=None) -> ndarray

    Resize every map of ``x`` by nearest-neighbour or bilinear interpolation
    (``torch.nn.functional.interpolate`` on a 4D input).

    Args:
        x: input of shape ``(N, C, H, W)``. Not modified.
        size (int or pair): the output ``(H_out, W_out)``. Give this or ``scale_factor``.
        scale_factor (float or pair): ``H_out = floor(H * scale_factor)`` (likewise W).
        mode (str): ``"nearest"``, ``"bilinear"`` or ``"bicubic"``. Default: ``"nearest"``.
        align_corners (bool, optional): bilinear and bicubic: ``True`` makes the corner pixels of input
            and output coincide; ``None`` means ``False`` (pixels are squares, their centres
            are sampled). Default: ``None``.
        max_bytes (int): refuse to run when the result and the temporary arrays would take
            more memory than this. Default: ``None``, meaning 1 GiB.

    Returns:
        An array of shape ``(N, C, H_out, W_out)`` and ``x``'s dtype (float32 stays float32;
        integers become float64). A NaN or inf in ``x`` reaches only the outputs that read it,
        as in PyTorch.

    Example::

        >>> x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
        >>> interpolate(x, scale_factor=2)[0, 0]
        array([[1., 1., 2., 2.],
               [1., 1., 2., 2.],
               [3., 3., 4., 4.],
               [3., 3., 4., 4.]])
        >>> interpolate(x, size=3, mode="bilinear", align_corners=True)[0, 0]
        array([[1. , 1.5, 2. ],
               [2. , 2.5, 3. ],
               [3. , 3.5, 4. ]])
    """
    x, out, scales, align = _args(x, size, scale_factor, mode, align_corners)
    _budget("interpolate", x.shape, x.shape[2:], out, x.itemsize, max_bytes)
    rows, cols = (_taps(n, o, mode, align, s, x.dtype) for n, o, s in zip(x.shape[2:], out, scales))
    # y = A x B^T, each product as a few gathers (the taps) instead of a dense matrix: rows first
    return _resample(_resample(x, rows, 2, x.dtype), cols, 3, x.dtype)


def _scatter(dv, taps, axis, n_in):
    """The adjoint of :func:`_resample`: add ``weight_k * dv`` back at ``index_k`` along ``axis``."""
    shape = list(dv.shape)
    shape[axis] = n_in
    out = np.zeros(shape, dv.dtype)
    where = (slice(None),) * axis
    with np.errstate(invalid="ignore", over="ignore"):
        for index, weight in taps:
            wshape = (-1, 1) if axis == 2 else (-1,)
            # np.add.at, not out[...] += ...: several outputs read the same pixel, and each adds
            np.add.at(out, where + (index,), dv * weight.astype(dv.dtype).reshape(wshape))
    return out


def _bicubic_at(x, i, j, out_hw, scales, align):
    """The bicubic value of output pixel ``(i, j)``: a 4x4 neighbourhood, weighted by
    :func:`_cubic_weights` along each axis (border pixels repeated)."""
    (h, w), (h_out, w_out) = x.shape[2:], out_hw
    r = _source_position(i, h, h_out, scales[0], align, clamp=False)
    c = _source_position(j, w, w_out, scales[1], align, clamp=False)
    r0, c0 = int(np.floor(r)), int(np.floor(c))
    value = 0.0
    for dr, wr in zip((-1, 0, 1, 2), _cubic_weights(r - r0)):
        for dc, wc in zip((-1, 0, 1, 2), _cubic_weights(c - c0)):
            rr, cc = min(max(r0 + dr, 0), h - 1), min(max(c0 + dc, 0), w - 1)
            value = value + wr * wc * x[:, :, rr, cc]
    return value


def interpolate_naive(x, size=None, scale_factor=None, mode="nearest", align_corners=None, *, max_steps=None,
                      max_bytes=None):
    """interpolate_naive(x, size=None, scale_factor=None, mode="nearest", align_corners=None, *, max_steps=None, max_bytes=None) -> ndarray

    :func:`interpolate` with a loop over the output pixels: for each one, find where it falls
    on the input grid and read the nearest pixel, or mix the four around it. Same arguments
    and result; ``max_steps`` refuses more loop iterations (one per output pixel) than this,
    default ``None`` meaning 10**6 (a few seconds).

    Example::

        >>> x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
        >>> interpolate_naive(x, size=3, mode="bilinear", align_corners=True)[0, 0, 1]
        array([2. , 2.5, 3. ])
    """
    x, (h_out, w_out), (sh, sw), align = _args(x, size, scale_factor, mode, align_corners)
    loop_budget("interpolate_naive", h_out * w_out, max_steps, "use interpolate")
    _budget("interpolate_naive", x.shape, x.shape[2:], (h_out, w_out), x.itemsize, max_bytes)
    h, w = x.shape[2:]
    y = np.zeros(x.shape[:2] + (h_out, w_out), dtype=x.dtype)
    for i in range(h_out):
        for j in range(w_out):
            if mode == "nearest":
                r, c = min(int(i * sh), h - 1), min(int(j * sw), w - 1)
                y[:, :, i, j] = x[:, :, r, c]
                continue
            if mode == "bicubic":
                y[:, :, i, j] = _bicubic_at(x, i, j, (h_out, w_out),
                                            (sh, sw), align)
                continue
            # where (i, j) falls on the input grid, between pixels
            r = _source_position(i, h, h_out, sh, align)
            c = _source_position(j, w, w_out, sw, align)
            # the four pixels around it, and how far below and right
            # of the top-left one it lies
            r0, c0 = min(int(r), h - 1), min(int(c), w - 1)
            r1, c1 = min(r0 + 1, h - 1), min(c0 + 1, w - 1)
            t, u = r - r0, c - c0
            y[:, :, i, j] = (
                (1 - t) * (1 - u) * x[:, :, r0, c0]
                + (1 - t) * u * x[:, :, r0, c1]
                + t * (1 - u) * x[:, :, r1, c0]
                + t * u * x[:, :, r1, c1]
            )
    return y


def interpolate_backward(dy, input_size, size=None, scale_factor=None, mode="nearest", align_corners=None, *,
                         max_bytes=None):
    """interpolate_backward(dy, input_size, size=None, scale_factor=None, mode="nearest", align_corners=None, *, max_bytes=None) -> ndarray

    Gradient of :func:`interpolate` with respect to its input: each output's gradient goes back
    to the input pixels it was read from, in proportion to their weights (``dx = A^T dy B``).

    Args:
        dy: gradient of the output, shape ``(N, C, H_out, W_out)``.
        input_size: the input's shape ``(N, C, H, W)`` (or just ``(H, W)``).
        size, scale_factor, mode, align_corners: as in the forward call.
        max_bytes (int): as in :func:`interpolate`. Default: ``None``, meaning 1 GiB.

    Returns:
        An array of shape ``(N, C, H, W)``, ``dy``'s dtype. A NaN or inf in ``dy`` reaches
        only the pixels its output read, as in PyTorch.

    Example::

        >>> dx = interpolate_backward(np.ones((1, 1, 4, 4)), (2, 2), scale_factor=2)
        >>> dx[0, 0]  # each input pixel was copied 4 times
        array([[4., 4.],
               [4., 4.]])
    """
    if not isinstance(input_size, (tuple, list)) or len(input_size) not in (2, 4):
        raise ValueError(f"input_size must be the input's shape (N, C, H, W) or (H, W), got {input_size!r}")
    in_hw = tuple(_positive_number(v, "input_size", integral=True) for v in input_size[-2:])
    dy = as_array(dy, "dy", 4, "(N, C, H_out, W_out)")
    align = _check_mode(mode, align_corners)
    out, scales = _sizes(in_hw, size, scale_factor)
    if dy.shape[2:] != out:
        given = f"size={size!r}" if size is not None else f"scale_factor={scale_factor!r}"
        raise ValueError(f"dy must have the output's spatial size {out} (what {given} makes of the input's "
                         f"{in_hw}), got shape {dy.shape}")
    if len(input_size) == 4 and tuple(input_size[:2]) != dy.shape[:2]:
        raise ValueError(f"dy's (N, C) {dy.shape[:2]} must match input_size's {tuple(input_size[:2])}")
    _budget("interpolate_backward", dy.shape, out, in_hw, dy.itemsize, max_bytes)
    if mode == "bicubic" and in_hw == out:
        return dy.copy()  # PyTorch's bicubic backward copies dy when the size does not change
    rows, cols = (_taps(n, o, mode, align, s, dy.dtype) for n, o, s in zip(in_hw, out, scales))
    # dx = A^T dy B: every output's gradient goes back to the pixels it read, weighted, tap by tap
    return _scatter(_scatter(dy, cols, 3, in_hw[1]), rows, 2, in_hw[0])
