"""Activation functions in NumPy, each with its derivative.

Naming: ``f(x)`` is the activation, ``f_grad(x)`` its derivative with respect to the input,
evaluated at the same ``x`` (elementwise, so a backward pass is ``dx = dy * f_grad(x)``).
Softmax mixes its inputs, so it gets a backward function instead: ``softmax_backward(dy, y)``
with ``y = softmax(x)``, and a ``softmax_jacobian`` to look at. At the kinks (0 for step, ReLU and
leaky ReLU) the derivative takes PyTorch's value: 0 for ReLU, ``negative_slope`` for leaky ReLU.
"""

import numbers

import numpy as np

from .._checks import numeric_array

__all__ = [
    "step",
    "step_grad",
    "sigmoid",
    "sigmoid_grad",
    "tanh",
    "tanh_grad",
    "relu",
    "relu_grad",
    "leaky_relu",
    "leaky_relu_grad",
    "softmax",
    "softmax_backward",
    "softmax_jacobian",
    "log_softmax",
    "log_softmax_backward",
    "ACTIVATIONS",
]


def _as_float(x, name="x"):
    """``x`` as a real float array of any shape (integers become float64); never a view that
    the caller could see written to, because nothing here writes to it."""
    arr = numeric_array(x, name, "a real number or numeric array")
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    return arr


def _dim(arr, dim, name):
    """Check ``dim`` against ``arr``'s rank (negative counts from the end, as in PyTorch)."""
    if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, numbers.Integral):
        raise TypeError(f"{name}: dim must be an int, got {dim!r}")
    if arr.ndim == 0 or not -arr.ndim <= dim < arr.ndim:
        raise ValueError(f"{name}: dim={dim} is out of range for an array of shape {arr.shape}")
    return int(dim)


def step(x):
    """step(x) -> ndarray

    The perceptron's threshold: 1 where ``x > 0``, else 0 (so ``step(0) = 0``).

    Args:
        x: an array of any shape.

    Returns:
        An array of ``x``'s shape with values 0.0 and 1.0.

    Example::

        >>> step(np.array([-1.0, 0.0, 2.0]))
        array([0., 0., 1.])
    """
    x = _as_float(x)
    return (~(x <= 0)).astype(x.dtype)


def step_grad(x):
    """step_grad(x) -> ndarray

    The step's derivative: 0 everywhere (it is undefined at 0; 0 is used there too). This is
    why a network of step units cannot be trained by gradient descent.

    Args:
        x: an array of any shape.

    Returns:
        An array of ``x``'s shape.

    Example::

        >>> step_grad(np.array([-1.0, 0.0, 2.0]))
        array([0., 0., 0.])
    """
    x = _as_float(x)
    return np.zeros_like(x)


def sigmoid(x):
    """sigmoid(x) -> ndarray

    The logistic function ``1 / (1 + exp(-x))``, computed without overflow for large ``|x|``.

    Args:
        x: an array of any shape.

    Returns:
        An array of ``x``'s shape with values in ``(0, 1)``.

    Example::

        >>> sigmoid(np.array([0.0, 1000.0, -1000.0]))
        array([0.5, 1. , 0. ])
    """
    x = _as_float(x)
    # exp(-|x|) never overflows; the two forms are the same function on their halves.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_grad(x):
    """sigmoid_grad(x) -> ndarray

    ``sigmoid(x) * (1 - sigmoid(x))``, at most 1/4 (at 0).

    Args:
        x: an array of any shape.

    Returns:
        An array of ``x``'s shape.

    Example::

        >>> sigmoid_grad(np.array([0.0]))
        array([0.25])
    """
    s = sigmoid(x)
    return s * (1.0 - s)


def tanh(x):
    """tanh(x) -> ndarray

    The hyperbolic tangent, ``2 * sigmoid(2 x) - 1``, values in ``(-1, 1)``.

    Args:
        x: an array of any shape.

    Returns:
        An array of ``x``'s shape.

    Example::

        >>> tanh(np.array([0.0]))
        array([0.])
    """
    return np.tanh(_as_float(x))


def tanh_grad(x):
    """tanh_grad(x) -> ndarray

    ``1 - tanh(x) ** 2``, at most 1 (at 0).

    Args:
        x: an array of any shape.

    Returns:
        An array of ``x``'s shape.

    Example::

        >>> tanh_grad(np.array([0.0]))
        array([1.])
    """
    t = tanh(x)
    return 1.0 - t * t


def relu(x):
    """relu(x) -> ndarray

    ``max(0, x)`` elementwise.

    Args:
        x: an array of any shape.

    Returns:
        An array of ``x``'s shape.

    Example::

        >>> relu(np.array([-2.0, 0.0, 3.0]))
        array([0., 0., 3.])
    """
    x = _as_float(x)
    return np.maximum(x, 0.0).astype(x.dtype)


def relu_grad(x):
    """relu_grad(x) -> ndarray

    0 where ``x <= 0``, else 1: 0 at ``x = 0``, and 1 at NaN (the gradient passes through
    a NaN, as in PyTorch).

    Args:
        x: an array of any shape.

    Returns:
        An array of ``x``'s shape.

    Example::

        >>> relu_grad(np.array([-2.0, 0.0, 3.0]))
        array([0., 0., 1.])
    """
    x = _as_float(x)
    return (~(x <= 0)).astype(x.dtype)


def _slope(negative_slope):
    if isinstance(negative_slope, (bool, np.bool_)) or not isinstance(negative_slope, numbers.Real):
        raise TypeError(f"negative_slope must be a real number, got {negative_slope!r}")
    return float(negative_slope)


def leaky_relu(x, negative_slope=0.01):
    """leaky_relu(x, negative_slope=0.01) -> ndarray

    ``x`` where ``x > 0``, else ``negative_slope * x``.

    Args:
        x: an array of any shape.
        negative_slope: the slope for negative inputs. Default: ``0.01``.

    Returns:
        An array of ``x``'s shape.

    Example::

        >>> leaky_relu(np.array([-2.0, 3.0]), negative_slope=0.1)
        array([-0.2,  3. ])
    """
    x = _as_float(x)
    a = _slope(negative_slope)
    return np.where(x > 0, x, a * x).astype(x.dtype)


def leaky_relu_grad(x, negative_slope=0.01):
    """leaky_relu_grad(x, negative_slope=0.01) -> ndarray

    1 where ``x > 0``, else ``negative_slope`` (also at 0, as in PyTorch).

    Args:
        x: an array of any shape.
        negative_slope: the slope for negative inputs. Default: ``0.01``.

    Returns:
        An array of ``x``'s shape.

    Example::

        >>> leaky_relu_grad(np.array([-2.0, 0.0, 3.0]), negative_slope=0.1)
        array([0.1, 0.1, 1. ])
    """
    x = _as_float(x)
    a = _slope(negative_slope)
    return np.where(x > 0, 1.0, a).astype(x.dtype)


def softmax(x, dim=-1):
    """softmax(x, dim=-1) -> ndarray

    ``exp(x_i) / sum_j exp(x_j)`` along ``dim``. The maximum is subtracted first: the result
    is the same (softmax ignores a shift) but ``exp`` can no longer overflow.

    Args:
        x: an array of at least one dimension.
        dim: the axis that sums to 1. Default: ``-1``.

    Returns:
        An array of ``x``'s shape, positive, summing to 1 along ``dim``.

    Example::

        >>> softmax(np.array([1000.0, 1000.0]))
        array([0.5, 0.5])
    """
    x = _as_float(x)
    dim = _dim(x, dim, "softmax")
    if x.shape[dim] == 0:
        return x.copy()  # nothing to normalize: an empty result, as in PyTorch
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def log_softmax(x, dim=-1):
    """log_softmax(x, dim=-1) -> ndarray

    ``x_i - log sum_j exp(x_j)`` along ``dim`` (the log of :func:`softmax`, computed without
    taking the log of a number that underflowed to 0).

    Args:
        x: an array of at least one dimension.
        dim: the axis to normalize. Default: ``-1``.

    Returns:
        An array of ``x``'s shape (all entries at most 0).

    Example::

        >>> log_softmax(np.array([0.0, -1000.0]))
        array([    0., -1000.])
    """
    x = _as_float(x)
    dim = _dim(x, dim, "log_softmax")
    if x.shape[dim] == 0:
        return x.copy()  # nothing to normalize: an empty result, as in PyTorch
    shifted = x - x.max(axis=dim, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))


def _same_shape(dy, y, name):
    dy, y = _as_float(dy, "dy"), _as_float(y, "y")
    if dy.shape != y.shape:
        raise ValueError(f"{name}: dy and y must have the same shape, got {dy.shape} and {y.shape}")
    return dy, y


def softmax_backward(dy, y, dim=-1):
    """softmax_backward(dy, y, dim=-1) -> ndarray

    The gradient with respect to the input of ``y = softmax(x, dim)``, given ``dy``:
    ``dx = y * (dy - sum(dy * y, dim))``, the Jacobian ``diag(y) - y y^T`` applied to ``dy``
    without building it.

    Args:
        dy: gradient of the output, ``y``'s shape.
        y: the forward output ``softmax(x, dim)``.
        dim: the axis used in the forward call. Default: ``-1``.

    Returns:
        ``dx``, an array of ``y``'s shape.

    Example::

        >>> softmax_backward(np.ones(3), softmax(np.array([1.0, 2.0, 3.0]))).round(12)
        array([0., 0., 0.])
    """
    dy, y = _same_shape(dy, y, "softmax_backward")
    dim = _dim(y, dim, "softmax_backward")
    return y * (dy - (dy * y).sum(axis=dim, keepdims=True))


def softmax_jacobian(y):
    """softmax_jacobian(y) -> ndarray

    The matrix ``J[i, j] = d softmax_i / d x_j = y_i (delta_ij - y_j)`` for one vector
    ``y = softmax(x)``.

    Args:
        y: a softmax output of shape ``(K,)``.

    Returns:
        A symmetric ``(K, K)`` array whose rows sum to 0.

    Example::

        >>> softmax_jacobian(np.array([0.5, 0.5]))
        array([[ 0.25, -0.25],
               [-0.25,  0.25]])
    """
    y = _as_float(y, "y")
    if y.ndim != 1:
        raise ValueError(f"softmax_jacobian expects a vector y of shape (K,), got shape {y.shape}")
    return np.diag(y) - np.outer(y, y)


def log_softmax_backward(dy, y, dim=-1):
    """log_softmax_backward(dy, y, dim=-1) -> ndarray

    The gradient with respect to the input of ``y = log_softmax(x, dim)``:
    ``dx = dy - exp(y) * sum(dy, dim)``.

    Args:
        dy: gradient of the output, ``y``'s shape.
        y: the forward output ``log_softmax(x, dim)``.
        dim: the axis used in the forward call. Default: ``-1``.

    Returns:
        ``dx``, an array of ``y``'s shape.

    Example::

        >>> log_softmax_backward(np.array([1.0, 0.0]), np.log(np.array([0.25, 0.75])))
        array([ 0.75, -0.75])
    """
    dy, y = _same_shape(dy, y, "log_softmax_backward")
    dim = _dim(y, dim, "log_softmax_backward")
    return dy - np.exp(y) * dy.sum(axis=dim, keepdims=True)


# Name -> (activation, derivative): the book plots each pair from this table.
ACTIVATIONS = {
    "step": (step, step_grad),
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (tanh, tanh_grad),
    "relu": (relu, relu_grad),
    "leaky_relu": (leaky_relu, leaky_relu_grad),
}
