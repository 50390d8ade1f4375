"""Argument checks shared by the convolutions of ``coursecnn.ref`` (1, 2 or 3 spatial axes).

Each public function calls one of these first, so a mistake is reported in the reader's terms
(the expected layout, both channel counts, the offending value) before any NumPy error can occur.
"""

import numbers

import numpy as np

from .._checks import as_array, non_negative, pair, positive
from ._padding import check_fits, check_mode

AXES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}
NAMES = {"L": "length", "D": "depth", "H": "height", "W": "width"}


def x_layout(nd):
    return "(N, C, " + ", ".join(AXES[nd]) + ")"


def w_layout(nd, transposed=False):
    taps = ", ".join(f"F_{a.lower()}" for a in AXES[nd])
    return f"(C_in, C_out // groups, {taps})" if transposed else f"(K, C // groups, {taps})"


def _reraise(fname, exc):
    """Prefix a check's message with the function's name (same exception type)."""
    return type(exc)(f"{fname}: {exc}")


def as_input(fname, value, name, ndim, layout):
    try:
        return as_array(value, name, ndim, layout)
    except (TypeError, ValueError) as exc:
        raise _reraise(fname, exc) from None


def as_tuple(fname, value, name, nd, minimum):
    """An int or an ``nd``-tuple of ints, each at least ``minimum`` (1 or 0)."""
    try:
        values = pair(value, name, nd)
        return positive(values, name) if minimum == 1 else non_negative(values, name)
    except (TypeError, ValueError) as exc:
        raise _reraise(fname, exc) from None


def as_groups(fname, groups):
    if isinstance(groups, (bool, np.bool_)) or not isinstance(groups, numbers.Integral):
        raise TypeError(f"{fname}: groups must be a positive int, got {groups!r}")
    if groups < 1:
        raise ValueError(f"{fname}: groups must be positive (1 or more), got {groups}")
    return int(groups)


def common_dtype(*arrays):
    """float32 stays float32 (float32 BLAS) only when every array is float32."""
    return np.result_type(*[a.dtype for a in arrays if a is not None])


def check_bias(fname, b, channels):
    if b is None:
        return None
    b = as_input(fname, b, "b", 1, f"({channels},)")
    if b.shape[0] != channels:
        raise ValueError(f"{fname}: b must have one entry per output channel ({channels},), got shape {b.shape}")
    return b


def output_size(fname, in_size, pads, kernel, stride, dilation, nd):
    """Floored output sizes (PyTorch's rule), after checking that a window fits at all."""
    out = []
    for a, n, p, f, s, d in zip(AXES[nd], in_size, pads, kernel, stride, dilation):
        extent = d * (f - 1) + 1
        if extent > n + 2 * p:
            dil = f" (dilation {d} spreads it over {extent})" if d > 1 else ""
            raise ValueError(
                f"{fname}: the kernel's {NAMES[a]} {f}{dil} is larger than the padded input's "
                f"{NAMES[a]} {n + 2 * p} ({a}={n}, padding={p})"
            )
        out.append((n + 2 * p - extent) // s + 1)
    return tuple(out)


def conv_args(fname, x, w, b, stride, padding, dilation, groups, padding_mode, nd):
    """Check a convolution's arguments; return the arrays in one dtype and the sizes as tuples."""
    x = as_input(fname, x, "x", nd + 2, x_layout(nd))
    w = as_input(fname, w, "w", nd + 2, w_layout(nd))
    stride = as_tuple(fname, stride, "stride", nd, 1)
    pads = as_tuple(fname, padding, "padding", nd, 0)
    dilation = as_tuple(fname, dilation, "dilation", nd, 1)
    groups = as_groups(fname, groups)
    try:
        check_mode(padding_mode)
    except ValueError as exc:
        raise _reraise(fname, exc) from None
    channels_match(fname, x.shape[1], w.shape[1], groups)
    if w.shape[0] % groups:
        raise ValueError(f"{fname}: the kernel count K={w.shape[0]} must be divisible by groups ({groups})")
    if 0 in w.shape[2:]:
        raise ValueError(f"{fname}: the kernel must be at least 1 wide on every axis, got w of shape {w.shape}")
    b = check_bias(fname, b, w.shape[0])
    check_fits(x.shape[2:], pads, padding_mode, fname)
    out = output_size(fname, x.shape[2:], pads, w.shape[2:], stride, dilation, nd)
    dtype = common_dtype(x, w, b)
    x, w = x.astype(dtype, copy=False), w.astype(dtype, copy=False)
    b = None if b is None else b.astype(dtype, copy=False)
    return x, w, b, stride, pads, dilation, groups, out


def channels_match(fname, c_in, w_channels, groups):
    if c_in % groups:
        raise ValueError(f"{fname}: the input's {c_in} channels must be divisible by groups ({groups})")
    if c_in // groups != w_channels:
        raise ValueError(
            f"{fname}: channel mismatch: x has {c_in} channels, so with groups={groups} the kernel "
            f"needs {c_in // groups} input channels per group (w.shape[1]), but w has {w_channels}"
        )


def check_grad(fname, dy, expected_shape, layout):
    dy = as_input(fname, dy, "dy", len(expected_shape), layout)
    if dy.shape != tuple(expected_shape):
        raise ValueError(
            f"{fname}: dy must have the output's shape {tuple(expected_shape)}, got {dy.shape}"
        )
    return dy
