"""Sizes and counts of convolution and pooling layers (pure Python, no NumPy).

These are the lecture's formulas, written so that a reader can check a layer table by hand:
output sizes ``(n + 2p - d(f - 1) - 1) / s + 1``, parameter counts, multiplication counts and
receptive fields. ``conv_output_size`` and ``pool_output_size`` are strict by default: where the
windows do not tile the padded input exactly they raise instead of silently flooring, because a
layer that "doesn't fit" is almost always a mistake in a hand-designed table.
"""

import numbers

__all__ = [
    "conv_output_size",
    "pool_output_size",
    "transposed_conv_output_size",
    "conv_params",
    "fc_params",
    "conv_mults",
    "separable_conv_mults",
    "receptive_field",
]


def _int(value, name, minimum):
    """``value`` as an int, at least ``minimum``; bools and floats are refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r}")
    value = int(value)
    if value < minimum:
        what = "positive (1 or more)" if minimum == 1 else f"at least {minimum}"
        raise ValueError(f"{name} must be {what}, got {value}")
    return value


def _pair(value, name, minimum):
    """``value`` (an int or a pair of ints) as a pair of ints, each at least ``minimum``."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
        return tuple(_int(v, name, minimum) for v in value)
    return (_int(value, name, minimum),) * 2


def _window_count(n, kernel_size, stride, padding, dilation, strict, what):
    extent = dilation * (kernel_size - 1) + 1  # how far one (dilated) window reaches
    padded = n + 2 * padding
    if extent > padded:
        dil = f" (dilation {dilation} spreads it over {extent})" if dilation > 1 else ""
        raise ValueError(
            f"{what}: kernel_size {kernel_size}{dil} is larger than the padded input "
            f"{padded} (n={n}, padding={padding})"
        )
    exact = (padded - extent) / stride + 1
    floored = (padded - extent) // stride + 1
    if strict and (padded - extent) % stride != 0:
        if dilation == 1:
            formula = f"(n + 2p - f)/s + 1 = ({n} + 2*{padding} - {kernel_size})/{stride} + 1"
        else:
            formula = (
                f"(n + 2p - d(f-1) - 1)/s + 1 = ({n} + 2*{padding} - {dilation}*({kernel_size}-1) - 1)"
                f"/{stride} + 1"
            )
        raise ValueError(
            f"{what}: {formula} = {exact:.2f} doesn't fit: the windows do not tile the padded input "
            f"exactly (PyTorch would floor it to {floored}; pass strict=False for that)"
        )
    return floored


def conv_output_size(n, kernel_size, stride=1, padding=0, dilation=1, *, strict=True):
    """conv_output_size(n, kernel_size, stride=1, padding=0, dilation=1, *, strict=True) -> int

    The number of positions a convolution window takes along one axis:
    ``(n + 2p - d(f - 1) - 1) / s + 1``, the lecture's ``(W - F + 2P)/S + 1`` with dilation.

    Args:
        n (int): input size along the axis (height or width), at least 1.
        kernel_size (int): the kernel's size ``f`` along the axis, at least 1.
        stride (int): step between windows. Default: ``1``.
        padding (int): zeros added on each side. Default: ``0``.
        dilation (int): spacing between kernel taps; ``1`` means none. Default: ``1``.
        strict (bool): when ``True`` a fractional result raises ``ValueError`` (the lecture's
            "doesn't fit"); when ``False`` it is floored like PyTorch. Default: ``True``.

    Returns:
        The output size, an int.

    Example::

        >>> conv_output_size(7, 3, stride=2)
        3
        >>> conv_output_size(227, 11, stride=4)
        55
        >>> conv_output_size(7, 3, stride=3, strict=False)
        2
    """
    n = _int(n, "n", 1)
    kernel_size = _int(kernel_size, "kernel_size", 1)
    stride = _int(stride, "stride", 1)
    padding = _int(padding, "padding", 0)
    dilation = _int(dilation, "dilation", 1)
    return _window_count(n, kernel_size, stride, padding, dilation, strict, "conv_output_size")


def pool_output_size(n, kernel_size, stride=None, padding=0, *, strict=True):
    """pool_output_size(n, kernel_size, stride=None, padding=0, *, strict=True) -> int

    The number of pooling windows along one axis: ``(n + 2p - f) / s + 1``.

    Args:
        n (int): input size along the axis, at least 1.
        kernel_size (int): the window's size ``f``, at least 1.
        stride (int, optional): step between windows. Default: ``None`` (``kernel_size``, as in
            PyTorch: windows side by side).
        padding (int): padding on each side; PyTorch allows at most half the window. Default: ``0``.
        strict (bool): raise ``ValueError`` when the windows do not tile exactly (``True``) or
            floor like PyTorch (``False``). Default: ``True``.

    Returns:
        The output size, an int.

    Example::

        >>> pool_output_size(55, 3, stride=2)
        27
        >>> pool_output_size(32, 2)
        16
    """
    n = _int(n, "n", 1)
    kernel_size = _int(kernel_size, "kernel_size", 1)
    stride = kernel_size if stride is None else _int(stride, "stride", 1)
    padding = _int(padding, "padding", 0)
    if 2 * padding > kernel_size:
        raise ValueError(
            f"pool_output_size: padding {padding} is more than half the window (kernel_size "
            f"{kernel_size}); a window could then hold only padding"
        )
    return _window_count(n, kernel_size, stride, padding, 1, strict, "pool_output_size")


def transposed_conv_output_size(n, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
    """transposed_conv_output_size(n, kernel_size, stride=1, padding=0, output_padding=0, dilation=1) -> int

    The output size of a transposed convolution along one axis, the inverse of
    ``conv_output_size``: ``(n - 1)s - 2p + d(f - 1) + output_padding + 1``.

    Args:
        n (int): input size along the axis, at least 1.
        kernel_size (int): kernel size ``f``, at least 1.
        stride (int): the stride of the convolution being inverted. Default: ``1``.
        padding (int): the padding of the convolution being inverted. Default: ``0``.
        output_padding (int): extra size on one side, to choose between the several input sizes a
            strided convolution maps to the same output; smaller than ``stride`` or ``dilation``
            (PyTorch's rule). Default: ``0``.
        dilation (int): spacing between kernel taps. Default: ``1``.

    Returns:
        The output size, an int.

    Example::

        >>> transposed_conv_output_size(3, 3, stride=2)
        7
        >>> transposed_conv_output_size(2, 3, stride=2, padding=1, output_padding=1)
        4
    """
    n = _int(n, "n", 1)
    kernel_size = _int(kernel_size, "kernel_size", 1)
    stride = _int(stride, "stride", 1)
    padding = _int(padding, "padding", 0)
    output_padding = _int(output_padding, "output_padding", 0)
    dilation = _int(dilation, "dilation", 1)
    if output_padding >= max(stride, dilation):
        raise ValueError(
            f"output_padding {output_padding} must be smaller than stride ({stride}) or dilation "
            f"({dilation})"
        )
    size = (n - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1
    if size < 1:
        raise ValueError(
            f"transposed_conv_output_size: padding {padding} removes the whole output "
            f"(the size would be {size})"
        )
    return size


def conv_params(in_channels, out_channels, kernel_size, bias=True, groups=1):
    """conv_params(in_channels, out_channels, kernel_size, bias=True, groups=1) -> int

    Learnable parameters of a convolution layer: ``out_channels`` kernels of size
    ``(in_channels // groups) x F_h x F_w`` plus one bias each.

    Args:
        in_channels (int): channels of the input, ``C``.
        out_channels (int): number of kernels, ``K``.
        kernel_size (int or pair): ``F`` or ``(F_h, F_w)``.
        bias (bool): count one bias per kernel. Default: ``True``.
        groups (int): channel groups; both channel counts must be divisible by it. Default: ``1``.

    Returns:
        The count, an int.

    Example::

        >>> conv_params(3, 10, 5)  # 10 filters of 5x5x3, plus 10 biases
        760
        >>> conv_params(3, 96, 11)  # AlexNet CONV1
        34944
    """
    c, k, g = _int(in_channels, "in_channels", 1), _int(out_channels, "out_channels", 1), _int(groups, "groups", 1)
    fh, fw = _pair(kernel_size, "kernel_size", 1)
    _groups_divide(c, k, g)
    if not isinstance(bias, bool):  # bias="no" is truthy: it would count the biases silently
        raise TypeError(f"bias must be True or False, got {bias!r}")
    return k * (c // g) * fh * fw + (k if bias else 0)


def fc_params(in_features, out_features, bias=True):
    """fc_params(in_features, out_features, bias=True) -> int

    Learnable parameters of a fully connected layer: the weight matrix plus one bias per output.

    Args:
        in_features (int): inputs, at least 1.
        out_features (int): outputs, at least 1.
        bias (bool): count the biases. Default: ``True``.

    Returns:
        The count, an int.

    Example::

        >>> fc_params(6 * 6 * 256, 4096)  # AlexNet FC6
        37752832
    """
    i, o = _int(in_features, "in_features", 1), _int(out_features, "out_features", 1)
    if not isinstance(bias, bool):  # bias="no" is truthy: it would count the biases silently
        raise TypeError(f"bias must be True or False, got {bias!r}")
    return i * o + (o if bias else 0)


def _groups_divide(c, k, g):
    if c % g or k % g:
        raise ValueError(
            f"in_channels ({c}) and out_channels ({k}) must both be divisible by groups ({g})"
        )


def conv_mults(in_channels, out_channels, kernel_size, out_hw, groups=1):
    """conv_mults(in_channels, out_channels, kernel_size, out_hw, groups=1) -> int

    Multiplications of a standard convolution: every output value is a dot product of one
    kernel (``(in_channels // groups) F_h F_w`` numbers) with one window.

    Args:
        in_channels (int): input channels ``C``.
        out_channels (int): kernels ``K``.
        kernel_size (int or pair): ``F`` or ``(F_h, F_w)``.
        out_hw (int or pair): the output's spatial size ``H_out`` (square) or ``(H_out, W_out)``.
        groups (int): channel groups. Default: ``1``.

    Returns:
        The count, an int (biases add no multiplications).

    Example::

        >>> conv_mults(3, 256, 5, 8)  # 256 kernels of 5x5x3, moved 8x8 times
        1228800
    """
    c, k, g = _int(in_channels, "in_channels", 1), _int(out_channels, "out_channels", 1), _int(groups, "groups", 1)
    fh, fw = _pair(kernel_size, "kernel_size", 1)
    oh, ow = _pair(out_hw, "out_hw", 1)
    _groups_divide(c, k, g)
    return k * (c // g) * fh * fw * oh * ow


def separable_conv_mults(in_channels, out_channels, kernel_size, out_hw):
    """separable_conv_mults(in_channels, out_channels, kernel_size, out_hw) -> int

    Multiplications of a depthwise separable convolution: a depthwise step (one
    ``F_h x F_w x 1`` kernel per input channel) then a pointwise step (``out_channels`` kernels
    of ``1 x 1 x in_channels``), both producing outputs of spatial size ``out_hw``.

    Args:
        in_channels (int): input channels ``C``.
        out_channels (int): output channels ``K`` of the pointwise step.
        kernel_size (int or pair): the depthwise kernel, ``F`` or ``(F_h, F_w)``.
        out_hw (int or pair): the output's spatial size.

    Returns:
        The count, an int: ``C F_h F_w H_out W_out + K C H_out W_out``.

    Example::

        >>> separable_conv_mults(3, 256, 5, 8)  # 4,800 depthwise + 49,152 pointwise
        53952
    """
    c, k = _int(in_channels, "in_channels", 1), _int(out_channels, "out_channels", 1)
    fh, fw = _pair(kernel_size, "kernel_size", 1)
    oh, ow = _pair(out_hw, "out_hw", 1)
    depthwise = c * fh * fw * oh * ow
    pointwise = k * c * oh * ow
    return depthwise + pointwise


def receptive_field(layers):
    """receptive_field(layers) -> int

    How many input pixels (along one axis) one output value of a stack of layers can see.
    Each layer widens the field by ``d(f - 1)`` steps of the accumulated stride (the product of
    the strides of the layers before it).

    Args:
        layers: a sequence of ``(kernel_size, stride)`` or ``(kernel_size, stride, dilation)``
            tuples of ints, input side first (pooling layers count like convolutions).

    Returns:
        The receptive field, an int (``1`` for an empty stack).

    Example::

        >>> receptive_field([(3, 1), (3, 1), (3, 1)])  # three stacked 3x3 see 7x7
        7
        >>> receptive_field([(11, 4), (3, 2)])  # AlexNet CONV1 then POOL1
        19
    """
    if isinstance(layers, (str, bytes)) or not hasattr(layers, "__iter__"):
        raise TypeError(
            f"layers must be a sequence of (kernel_size, stride) or (kernel_size, stride, dilation) "
            f"tuples, got {layers!r}"
        )
    field, jump = 1, 1
    for i, layer in enumerate(layers):
        if not isinstance(layer, (tuple, list)) or len(layer) not in (2, 3):
            raise ValueError(
                f"layers[{i}] must be (kernel_size, stride) or (kernel_size, stride, dilation), got {layer!r}"
            )
        f = _int(layer[0], f"layers[{i}] kernel_size", 1)
        s = _int(layer[1], f"layers[{i}] stride", 1)
        d = _int(layer[2], f"layers[{i}] dilation", 1) if len(layer) == 3 else 1
        field += d * (f - 1) * jump
        jump *= s
    return field
