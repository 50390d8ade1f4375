"""Padding of the spatial axes (the last ones) and its backward pass.

``pad2d`` is the public face; ``pad_spatial`` and ``pad_spatial_backward`` work for any number of
spatial axes so that ``conv1d``, ``conv2d`` and ``conv3d`` share them.
"""

import numpy as np

from .._checks import _fail, _padding_fits, as_array, memory_budget, non_negative, pair, padding_mode_value

__all__ = ["pad2d"]

# PyTorch's names for the padding modes, and NumPy's for the same thing.
NUMPY_MODES = {"zeros": "constant", "replicate": "edge", "reflect": "reflect", "circular": "wrap"}


def pad_spatial(x, pads, mode="zeros"):
    """Pad the last ``len(pads)`` axes of ``x`` by ``pads[i]`` on both sides; ``x`` itself when
    ``pads`` are all 0 (callers never write into the result)."""
    if not any(pads):
        return x
    widths = [(0, 0)] * (x.ndim - len(pads)) + [(p, p) for p in pads]
    return np.pad(x, widths, mode=NUMPY_MODES[mode])


def pad_spatial_backward(dxp, pads, mode="zeros"):
    """The gradient of ``pad_spatial``: sum each padded cell's gradient into the cell it copies.

    Zero padding copies nothing, so its gradient is a crop. The other modes copy border cells;
    along each axis we find the source of every padded position by padding an index ramp the
    same way, and add the border slabs onto their sources.
    """
    nd = len(pads)
    lead = dxp.ndim - nd
    dx = dxp
    for axis, p in enumerate(pads):
        if p == 0:
            continue
        ax = lead + axis
        n = dx.shape[ax] - 2 * p
        centre = [slice(None)] * dx.ndim
        centre[ax] = slice(p, p + n)
        out = dx[tuple(centre)].copy()
        if mode != "zeros":
            source = np.pad(np.arange(n), (p, p), mode=NUMPY_MODES[mode])
            for pos in list(range(p)) + list(range(p + n, n + 2 * p)):
                src = [slice(None)] * dx.ndim
                dst = [slice(None)] * dx.ndim
                src[ax], dst[ax] = pos, source[pos]
                out[tuple(dst)] += dx[tuple(src)]
        dx = out
    return dx


def pad2d(x, padding, mode="zeros", *, max_bytes=None):
    """pad2d(x, padding, mode="zeros", *, max_bytes=None) -> ndarray

    Pads the two last axes (height and width) of ``x`` on both sides, the way a convolution with
    ``padding`` and ``padding_mode`` sees its input.

    Args:
        x: input of shape ``(N, C, H, W)``.
        padding (int or pair): rows added above and below, columns added left and right:
            ``p`` or ``(p_h, p_w)``.
        mode (str): ``"zeros"`` (add zeros), ``"replicate"`` (repeat the border pixel),
            ``"reflect"`` (mirror about the border pixel, which is not repeated; needs
            ``p < H`` and ``p < W``) or ``"circular"`` (wrap around). Default: ``"zeros"``.
        max_bytes (int): refuse to run when the padded array would take more memory than this.
            Default: ``None``, meaning 1 GiB.

    Returns:
        A new array of shape ``(N, C, H + 2 p_h, W + 2 p_w)``, ``x``'s dtype (integers become
        float64).

    Example::

        >>> x = np.arange(3.0).reshape(1, 1, 1, 3)
        >>> pad2d(x, (0, 2), "reflect")[0, 0, 0].tolist()
        [2.0, 1.0, 0.0, 1.0, 2.0, 1.0, 0.0]
        >>> pad2d(x, (0, 1), "replicate")[0, 0, 0].tolist()
        [0.0, 0.0, 1.0, 2.0, 2.0]
    """
    x = as_array(x, "pad2d: x", 4, "(N, C, H, W)")
    try:
        pads = non_negative(pair(padding, "padding"), "padding")
        if mode != "zeros" and 0 in x.shape[1:]:
            raise ValueError(f"x has an empty channel, height or width axis, shape {x.shape}: {mode!r} "
                             "padding needs pixels to copy (zero padding does not)")
        padding_mode_value(mode)
        _padding_fits(x.shape[2:], pads, mode)
    except (TypeError, ValueError) as exc:
        raise _fail("pad2d", exc) from None
    n, c, h, w = x.shape
    # np.pad's copying modes hold about one more copy of x while they fill the border
    values = n * c * (h + 2 * pads[0]) * (w + 2 * pads[1]) + (x.size if mode != "zeros" else 0)
    memory_budget("pad2d", values * x.itemsize, max_bytes,
                  "the padded array", "use less padding or pad fewer maps at a time")
    out = pad_spatial(x, pads, mode)
    return out.copy() if out is x else out
