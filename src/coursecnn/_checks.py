"""Input checks shared by ``coursecnn.ref``, ``coursecnn.fast`` and ``coursecnn.torch``.

Every public function checks its arguments before computing, so a student gets a message that
names the problem and the expected form instead of a shape error from deep inside NumPy.
"""

import numbers
from dataclasses import dataclass

import numpy as np

from . import arith


def pair(value, name, n=2):
    """Return ``value`` as an ``n``-tuple of ints (an int is repeated), checking its type."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an int or a tuple of {n} ints, got {value!r}")
    if isinstance(value, numbers.Integral):
        return (int(value),) * n
    if isinstance(value, (tuple, list)) and len(value) == n and all(
        isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_)) for v in value
    ):
        return tuple(int(v) for v in value)
    raise TypeError(f"{name} must be an int or a tuple of {n} ints, got {value!r}")


def positive(values, name):
    """Check that every entry of ``values`` (a tuple) is at least 1."""
    for v in values:
        if v < 1:
            raise ValueError(f"{name} must be positive (1 or more), got {v}")
    return values


def non_negative(values, name):
    """Check that every entry of ``values`` (a tuple) is at least 0."""
    for v in values:
        if v < 0:
            raise ValueError(f"{name} must be non-negative, got {v}")
    return values


def numeric_array(x, name, what):
    """Return ``x`` as a real numeric NumPy array (any dtype but complex and object), or raise an
    error saying that ``name`` must be ``what`` (e.g. "a numeric array shaped (N, C, H, W)")."""
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must be {what}, got a {type(x).__name__}")
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name} must be {what}: {exc}") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise TypeError(f"{name} must be {what}, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{name} must be real-valued, got dtype {arr.dtype}")
    return arr


def as_array(x, name, ndim, layout, dtype=None):
    """Return ``x`` as a float NumPy array of rank ``ndim``; ``layout`` (e.g. "(N, C, H, W)")
    is shown in the error when the rank is wrong. Integer input becomes float64; the caller's
    array is never modified (functions work on the returned array without writing to it)."""
    arr = numeric_array(x, name, f"a numeric array shaped {layout}")
    if arr.ndim != ndim:
        raise ValueError(
            f"{name} must have {ndim} dimensions {layout}, got {arr.ndim} dimensions with shape {arr.shape}"
        )
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    elif not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    return arr


def channels_match(c_in, w_channels, groups, what="kernel"):
    """Check the input's channels against a kernel of ``w_channels`` input channels per group."""
    if c_in % groups != 0:
        raise ValueError(f"input channels ({c_in}) must be divisible by groups ({groups})")
    if c_in // groups != w_channels:
        raise ValueError(
            f"channel mismatch: the input has {c_in} channels, so with groups={groups} the "
            f"{what} must have {c_in // groups} input channels per group, but it has {w_channels}"
        )


# ------------------------------------------------------------------ one checker per op family
#
# ``conv_spec`` and ``pool_spec`` look at shapes and hyperparameters only, so ``coursecnn.ref``,
# ``coursecnn.fast`` and ``coursecnn.torch`` share them (and their wording) whatever holds the
# numbers. Output sizes come from ``coursecnn.arith``, the one home of the formulas.

PADDING_MODES = ("zeros", "replicate", "reflect", "circular")
AXES = {1: ("length",), 2: ("height", "width"), 3: ("depth", "height", "width")}


def x_layout(nd, channels="C"):
    """``(N, C, L)``, ``(N, C, H, W)`` or ``(N, C, D, H, W)``."""
    return f"(N, {channels}, " + ", ".join(a[0].upper() for a in AXES[nd]) + ")"


def w_layout(nd, transposed=False):
    taps = ", ".join(f"F_{a[0]}" for a in AXES[nd])
    return f"(C_in, C_out // groups, {taps})" if transposed else f"(K, C // groups, {taps})"


@dataclass(frozen=True)
class ConvSpec:
    """A checked convolution call: sizes as tuples (one entry per spatial axis)."""

    batch: int
    in_channels: int
    out_channels: int
    kernel_size: tuple
    stride: tuple
    padding: tuple
    dilation: tuple
    groups: int
    padding_mode: str
    in_size: tuple
    out_size: tuple
    output_padding: tuple = ()

    @property
    def out_shape(self):
        return (self.batch, self.out_channels) + self.out_size


@dataclass(frozen=True)
class PoolSpec:
    """A checked pooling call: pairs of ints for the window, stride, padding and output."""

    kernel_size: tuple
    stride: tuple
    padding: tuple
    in_size: tuple
    out_size: tuple


def _fail(fname, exc):
    """The same exception type, its message prefixed with the function's name (once)."""
    msg = str(exc)
    for prefix in ("conv_output_size: ", "pool_output_size: ", "transposed_conv_output_size: "):
        msg = msg.removeprefix(prefix)
    return type(exc)(f"{fname}: {msg}")


def groups_value(groups):
    if isinstance(groups, (bool, np.bool_)) or not isinstance(groups, numbers.Integral):
        raise TypeError(f"groups must be a positive int, got {groups!r}")
    if groups < 1:
        raise ValueError(f"groups must be positive (1 or more), got {groups}")
    return int(groups)


def padding_mode_value(mode, allowed=PADDING_MODES):
    if not isinstance(mode, str) or mode not in allowed:
        raise ValueError(f"padding_mode must be one of {', '.join(map(repr, allowed))}, got {mode!r}")
    return mode


def _not_empty(x_shape, w_shape, nd, transposed):
    """Only the batch may be empty (it gives an empty result); any other zero size is a mistake."""
    if x_shape[1] == 0:
        raise ValueError(f"x has no channels: shape {tuple(x_shape)}, expected {x_layout(nd)} with C >= 1")
    for axis, n in zip(AXES[nd], x_shape[2:]):
        if n == 0:
            raise ValueError(f"x has an empty {axis}: shape {tuple(x_shape)}; every spatial size must be at least 1")
    if not transposed and w_shape[0] == 0:
        raise ValueError(f"w has no kernels (K = 0): shape {tuple(w_shape)}, expected {w_layout(nd)} with K >= 1")
    if transposed and w_shape[1] == 0:
        raise ValueError(f"w has no output channels: shape {tuple(w_shape)}, expected {w_layout(nd, True)}")
    if 0 in tuple(w_shape[2:]):
        raise ValueError(f"the kernel must be at least 1 wide on every axis, got w of shape {tuple(w_shape)}")


def _bias_fits(b_shape, channels):
    if b_shape is not None and tuple(b_shape) != (channels,):
        raise ValueError(f"b must have one entry per output channel ({channels},), got shape {tuple(b_shape)}")


def _padding_fits(in_size, pads, mode):
    """Reflect needs a border row to mirror about (pad < size); circular wraps at most once."""
    for n, p in zip(in_size, pads):
        if mode == "reflect" and p >= n:
            raise ValueError(f"reflect padding {p} must be smaller than the input size {n} it mirrors")
        if mode == "circular" and p > n:
            raise ValueError(f"circular padding {p} must be at most the input size {n} it wraps")


def conv_spec(fname, x_shape, w_shape, b_shape=None, stride=1, padding=0, dilation=1, groups=1,
              padding_mode="zeros", modes=PADDING_MODES):
    """Check a convolution's arguments (shapes ``x_shape`` ``(N, C, *S)``, ``w_shape``
    ``(K, C // groups, *F)``, ``b_shape`` ``(K,)`` or ``None``) and return a :class:`ConvSpec`.
    Every error is a ``ValueError`` or ``TypeError`` whose message starts with ``fname``."""
    nd = len(x_shape) - 2
    try:
        stride = positive(pair(stride, "stride", nd), "stride")
        padding = non_negative(pair(padding, "padding", nd), "padding")
        dilation = positive(pair(dilation, "dilation", nd), "dilation")
        groups = groups_value(groups)
        padding_mode = padding_mode_value(padding_mode, modes)
        _not_empty(x_shape, w_shape, nd, transposed=False)
        channels_match(x_shape[1], w_shape[1], groups)
        if w_shape[0] % groups:
            raise ValueError(f"the kernel count K={w_shape[0]} must be divisible by groups ({groups})")
        _bias_fits(b_shape, w_shape[0])
        _padding_fits(x_shape[2:], padding, padding_mode)
        out = tuple(
            _along(axis, lambda: arith.conv_output_size(n, f, s, p, d, strict=False))
            for axis, n, f, s, p, d in zip(AXES[nd], x_shape[2:], w_shape[2:], stride, padding, dilation)
        )
    except (TypeError, ValueError) as exc:
        raise _fail(fname, exc) from None
    return ConvSpec(int(x_shape[0]), int(x_shape[1]), int(w_shape[0]), tuple(w_shape[2:]), stride, padding,
                    dilation, groups, padding_mode, tuple(x_shape[2:]), out)


def conv_transpose_spec(fname, x_shape, w_shape, b_shape=None, stride=1, padding=0, output_padding=0,
                        groups=1, dilation=1):
    """Check a transposed convolution's arguments (``x_shape`` ``(N, C_in, *S)``, ``w_shape``
    ``(C_in, C_out // groups, *F)``) and return a :class:`ConvSpec` (``out_channels`` is
    ``C_out``)."""
    nd = len(x_shape) - 2
    try:
        stride = positive(pair(stride, "stride", nd), "stride")
        padding = non_negative(pair(padding, "padding", nd), "padding")
        output_padding = non_negative(pair(output_padding, "output_padding", nd), "output_padding")
        dilation = positive(pair(dilation, "dilation", nd), "dilation")
        groups = groups_value(groups)
        _not_empty(x_shape, w_shape, nd, transposed=True)
        if x_shape[1] % groups:
            raise ValueError(f"input channels ({x_shape[1]}) must be divisible by groups ({groups})")
        if x_shape[1] != w_shape[0]:
            raise ValueError(
                f"channel mismatch: the input has {x_shape[1]} channels but w has {w_shape[0]} input "
                f"channels (w is shaped {w_layout(nd, True)})"
            )
        c_out = w_shape[1] * groups
        _bias_fits(b_shape, c_out)
        out = tuple(
            _along(axis, lambda: arith.transposed_conv_output_size(n, f, s, p, op, d))
            for axis, n, f, s, p, op, d in zip(AXES[nd], x_shape[2:], w_shape[2:], stride, padding,
                                                output_padding, dilation)
        )
    except (TypeError, ValueError) as exc:
        raise _fail(fname, exc) from None
    return ConvSpec(int(x_shape[0]), int(x_shape[1]), int(c_out), tuple(w_shape[2:]), stride, padding,
                    dilation, groups, "zeros", tuple(x_shape[2:]), out, output_padding)


def pool_spec(fname, x_shape, kernel_size, stride=None, padding=0):
    """Check a 2D pooling call on an input of shape ``x_shape`` ``(N, C, H, W)`` and return a
    :class:`PoolSpec` (``stride`` defaults to ``kernel_size``, as in PyTorch)."""
    try:
        kernel = positive(pair(kernel_size, "kernel_size"), "kernel_size")
        stride = kernel if stride is None else positive(pair(stride, "stride"), "stride")
        padding = non_negative(pair(padding, "padding"), "padding")
        if x_shape[1] == 0:
            raise ValueError(f"x has no channels: shape {tuple(x_shape)}, expected (N, C, H, W) with C >= 1")
        for axis, n in zip(AXES[2], x_shape[2:]):
            if n == 0:
                raise ValueError(f"x has an empty {axis}: shape {tuple(x_shape)}; every spatial size must be at least 1")
        out = tuple(
            _along(axis, lambda: arith.pool_output_size(n, k, s, p, strict=False))
            for axis, n, k, s, p in zip(AXES[2], x_shape[2:], kernel, stride, padding)
        )
    except (TypeError, ValueError) as exc:
        raise _fail(fname, exc) from None
    return PoolSpec(kernel, stride, padding, tuple(x_shape[2:]), out)


def _along(axis, size):
    """``size()``, one output size from ``coursecnn.arith``, with the axis named in any error."""
    try:
        return size()
    except ValueError as exc:
        raise ValueError(f"along the {axis}, {_fail('', exc).args[0][2:]}") from None


def grad_like(fname, dy, expected_shape, layout):
    """``dy`` as an array that must have the forward output's shape."""
    dy = as_array(dy, f"{fname}: dy", len(expected_shape), layout)
    if dy.shape != tuple(expected_shape):
        raise ValueError(f"{fname}: dy must have the output's shape {tuple(expected_shape)}, got {dy.shape}")
    return dy


# ------------------------------------------------------------------------------- budgets

MAX_BYTES = 2**30  # 1 GiB: what one call may allocate by default (a laptop's spare memory)
MAX_STEPS = 10**6  # Python loop iterations a loop version may run by default (a few seconds)


def format_bytes(n):
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} bytes"


def _limit(value, name, default, unit):
    """A budget argument: ``None`` (the default), or a positive number (``inf``: no limit).
    NaN, strings and bools are refused: NaN compares False with everything, so it would turn
    the budget off without a word."""
    if value is None:
        return default
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number of {unit} (e.g. {name}={default}) or None for the default, "
                        f"got {value!r}")
    if not value > 0:  # also catches NaN
        raise ValueError(f"{name} must be a positive number of {unit} (float('inf') for no limit), got {value!r}")
    return value


def memory_budget(fname, nbytes, max_bytes, what, cheaper):
    """Stop before allocating about ``nbytes`` for ``what`` when that is more than ``max_bytes``
    (``None``: :data:`MAX_BYTES`); the message names the estimate and ``cheaper``."""
    try:
        limit = _limit(max_bytes, "max_bytes", MAX_BYTES, "bytes")
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{fname}: {exc}") from None
    if nbytes > limit:
        raise ValueError(
            f"{fname}: {what} would need about {format_bytes(nbytes)}, more than max_bytes="
            f"{format_bytes(limit)}; {cheaper}, or pass max_bytes={int(nbytes * 1.1)} to run it anyway"
        )


def conv_budget(fname, spec, itemsize, max_bytes, backward=False):
    """The memory of an im2col convolution (:class:`ConvSpec` ``spec``), checked against
    ``max_bytes``: the columns (every input pixel once per kernel tap that reads it), the padded
    input and the output; a backward pass holds the columns twice (the forward's and their
    gradient), the padded input's gradient and ``dx`` instead of the output, and one ``dw``
    per image before the sum. ``coursecnn.fast`` works on
    a few images' columns at a time but checks the same estimate, so both refuse the same calls."""
    o = int(np.prod(spec.out_size))
    columns = spec.batch * spec.in_channels * int(np.prod(spec.kernel_size)) * o
    padded = spec.batch * spec.in_channels * int(np.prod([n + 2 * p for n, p in zip(spec.in_size, spec.padding)]))
    output = spec.batch * spec.out_channels * o
    # backward: the columns and their gradient, the padded input and its gradient, dx, and
    # one dw per image before they are summed
    dx = spec.batch * spec.in_channels * int(np.prod(spec.in_size))
    dws = spec.batch * spec.out_channels * (spec.in_channels // spec.groups) * int(np.prod(spec.kernel_size))
    values = 2 * columns + 2 * padded + dx + dws if backward else columns + padded + output
    memory_budget(fname, values * itemsize, max_bytes, "the im2col matrix, the padded input and the output",
                  "use less padding, a smaller batch or fewer kernels")


def conv_transpose_budget(fname, spec, itemsize, max_bytes):
    """The memory of a transposed convolution computed as ``w^T x`` then col2im: the columns
    (a scaled kernel per input pixel, ``N C_out prod(F) prod(I)`` values) and the output before
    and after the crop. A large stride spreads few inputs over a huge output, so the output
    counts as much as the columns."""
    columns = spec.batch * spec.out_channels * int(np.prod(spec.kernel_size)) * int(np.prod(spec.in_size))
    full = spec.batch * spec.out_channels * int(np.prod([o + 2 * p for o, p in zip(spec.out_size, spec.padding)]))
    output = spec.batch * spec.out_channels * int(np.prod(spec.out_size))
    memory_budget(fname, (columns + full + output) * itemsize, max_bytes, "the columns and the output",
                  "use a smaller stride, kernel or batch")


def pool_budget(fname, x_shape, spec, itemsize, max_bytes, window_bytes=0, padded_copies=1, cheaper=None,
                phases=False, outputs=1):
    """The memory of a pooling call (:class:`PoolSpec` ``spec`` on ``x_shape``), checked against
    ``max_bytes``: ``padded_copies`` arrays of the padded input, ``outputs`` arrays of the
    output's size (the result, ``dy``'s share, indices), and ``window_bytes``
    bytes per entry of the windows laid out side by side (``N C H_out W_out k_h k_w`` entries:
    ``coursecnn.ref`` copies them, ``coursecnn.fast`` does not). A large kernel with half of it
    as padding, or overlapping windows, multiply the input many times. ``phases``: the padded
    input is rounded up to a multiple of the stride (``coursecnn.fast``'s phase planes), along
    the axes with more than one window."""
    n, c = int(x_shape[0]), int(x_shape[1])
    sizes = [h + 2 * p for h, p in zip(spec.in_size, spec.padding)]
    if phases:
        sizes = [-(-h // s) * s if o > 1 else h for h, s, o in zip(sizes, spec.stride, spec.out_size)]
    padded = n * c * int(np.prod(sizes))
    output = n * c * int(np.prod(spec.out_size))
    windows = output * int(np.prod(spec.kernel_size))
    nbytes = (padded_copies * padded + outputs * output) * itemsize + windows * window_bytes
    what = "the windows laid out, the padded input and the output" if window_bytes else "the padded input and the output"
    memory_budget(fname, nbytes, max_bytes, what,
                  cheaper or "use a smaller kernel_size or padding, a larger stride or a smaller batch")


def loop_budget(fname, steps, max_steps, cheaper):
    """Stop before a Python loop of ``steps`` iterations when that is more than ``max_steps``
    (``None``: :data:`MAX_STEPS`, a few seconds)."""
    try:
        limit = _limit(max_steps, "max_steps", MAX_STEPS, "iterations")
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{fname}: {exc}") from None
    if steps > limit:
        when = f" (about {steps / 3e5:.0f} s)" if steps >= 3e5 else ""
        raise ValueError(
            f"{fname}: the loops would run about {steps:.3g} iterations{when}, more than "
            f"max_steps={limit:.3g}; {cheaper}, or pass max_steps={int(steps)} to run them anyway"
        )


# ------------------------------------------------------------------ NumPy arrays for the specs


def common_dtype(*arrays):
    """float32 stays float32 only when every array is float32; anything else computes in float64."""
    return np.result_type(*[a.dtype for a in arrays if a is not None])


def conv_arrays(fname, nd, x, w, b=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros",
                transposed=False, output_padding=0):
    """``x``, ``w`` and ``b`` as NumPy arrays of one float dtype, and the :class:`ConvSpec` of
    the call (:func:`conv_spec`, or :func:`conv_transpose_spec` when ``transposed``)."""
    x = as_array(x, f"{fname}: x", nd + 2, x_layout(nd, "C_in" if transposed else "C"))
    w = as_array(w, f"{fname}: w", nd + 2, w_layout(nd, transposed))
    if b is not None:
        b = as_array(b, f"{fname}: b", 1, "(K,)")
    b_shape = None if b is None else b.shape
    if transposed:
        spec = conv_transpose_spec(fname, x.shape, w.shape, b_shape, stride, padding, output_padding, groups,
                                   dilation)
    else:
        spec = conv_spec(fname, x.shape, w.shape, b_shape, stride, padding, dilation, groups, padding_mode)
    dtype = common_dtype(x, w, b)
    x, w = x.astype(dtype, copy=False), w.astype(dtype, copy=False)
    b = None if b is None else b.astype(dtype, copy=False)
    return x, w, b, spec


def pool_array(fname, x, kernel_size, stride=None, padding=0):
    """``x`` as a float NumPy array ``(N, C, H, W)`` and the :class:`PoolSpec` of the call."""
    x = as_array(x, f"{fname}: x", 4, "(N, C, H, W)")
    return x, pool_spec(fname, x.shape, kernel_size, stride, padding)
