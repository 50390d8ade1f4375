"""Batch normalization in NumPy: forward and backward, training and evaluation modes.

For each channel ``c`` of a batch ``x`` of shape ``(N, C, H, W)``, batch normalization
(Ioffe and Szegedy, 2015) computes over the ``m = N * H * W`` values of that channel

    mean_c = sum(x) / m,   var_c = sum((x - mean_c) ** 2) / m,
    x_hat  = (x - mean_c) / sqrt(var_c + eps),   y = gamma_c * x_hat + beta_c.

In training mode the statistics are those of the batch, and the running averages that
evaluation uses are updated from them (PyTorch's rule: an exponential average with weight
``momentum`` for the new value, and the *unbiased* variance ``m / (m - 1) * var_c``). In
evaluation mode the running averages replace the batch statistics, so each output depends on
its own input only.

Nothing here changes its arguments: :func:`batch_norm_running_stats` *returns* the updated
running averages, and the layer :class:`BatchNorm2d` keeps them as its state.
"""

import numbers

import numpy as np

from .._checks import as_array
from .layers import Module

__all__ = [
    "batch_norm2d",
    "batch_norm2d_naive",
    "batch_norm2d_backward",
    "batch_norm_running_stats",
    "BatchNorm2d",
]

_LAYOUT = "(N, C, H, W)"
_AXES = (0, 2, 3)  # every axis but the channels: the statistics are per channel


# --------------------------------------------------------------------------- argument checks


def _per_channel(v, name, c):
    """``None`` stays ``None``; anything else must be a numeric vector of ``C`` entries."""
    if v is None:
        return None
    v = as_array(v, name, 1, "(C,)")
    if v.shape != (c,):
        raise ValueError(f"{name} must have shape (C,) = ({c},) to match the input's channels, got {v.shape}")
    return v


def _number(value, name, low, high=None, open_low=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if value < low or (open_low and value == low) or (high is not None and value > high):
        bounds = f"{'(' if open_low else '['}{low}, {'inf)' if high is None else f'{high}]'}"
        raise ValueError(f"{name} must be in {bounds}, got {value!r}")
    return float(value)


def _args(fname, x, running_mean, running_var, weight, bias, training, eps):
    x = as_array(x, "x", 4, _LAYOUT)
    c = x.shape[1]
    running_mean = _per_channel(running_mean, "running_mean", c)
    running_var = _per_channel(running_var, "running_var", c)
    weight = _per_channel(weight, "weight", c)
    bias = _per_channel(bias, "bias", c)
    for name, v in (("weight", weight), ("bias", bias)):
        if v is not None and np.isinf(v).any():
            # the result would depend on the arithmetic's order: PyTorch, which computes
            # x * a + (bias - mean * a), gives NaN where this formula gives +-inf
            raise ValueError(f"{fname}: {name} holds an infinity, which makes the normalized values inf or NaN "
                             f"depending on the order of the arithmetic; give a finite {name}")
    if not isinstance(training, (bool, np.bool_)):
        raise TypeError(f"{fname}: training must be True or False, got {training!r}")
    eps = _number(eps, "eps", 0.0)
    if training and eps == 0:
        # a constant channel has variance 0, and 0 / sqrt(0) is NaN: PyTorch refuses eps <= 0 here
        raise ValueError(
            f"{fname}: eps must be positive in training mode (a constant channel has variance 0, and "
            f"(x - mean) / sqrt(0 + eps) would be NaN), got {eps!r}; use the default 1e-5"
        )
    if training:
        m = x.shape[0] * x.shape[2] * x.shape[3]
        # an empty batch normalizes to an empty result, as in PyTorch; the running statistics
        # need a variance, so there it is refused too
        if m == 1 or (m == 0 and fname == "batch_norm_running_stats"):
            raise ValueError(
                f"{fname}: in training mode every channel needs more than 1 value to have a variance; "
                f"x has shape {x.shape}, so each channel has {m} (use a larger batch, or training=False)"
            )
    elif running_mean is None or running_var is None:
        raise ValueError(
            f"{fname}: evaluation mode (training=False) normalizes with the running statistics, "
            "so running_mean and running_var (shape (C,)) are required"
        )
    elif np.any(running_var < 0):
        raise ValueError(f"{fname}: running_var must be non-negative, got {running_var}")
    return x, running_mean, running_var, weight, bias, eps


def _as_map(v):
    """A per-channel vector ``(C,)`` as ``(1, C, 1, 1)``, to broadcast over ``(N, C, H, W)``."""
    return v.reshape(1, -1, 1, 1)


def _statistics(x, running_mean, running_var, training):
    """The mean and (biased) variance that normalize ``x``, each of shape ``(C,)``."""
    if training and x.size == 0:  # nothing to normalize: no statistics (and no empty-mean warning)
        return np.zeros(x.shape[1], x.dtype), np.ones(x.shape[1], x.dtype)
    if training:
        return x.mean(axis=_AXES), x.var(axis=_AXES)
    return running_mean, running_var


# --------------------------------------------------------------------------- forward


def batch_norm2d(x, running_mean=None, running_var=None, weight=None, bias=None, training=True, eps=1e-5):
    """batch_norm2d(x, running_mean=None, running_var=None, weight=None, bias=None, training=True, eps=1e-5) -> ndarray

    Batch normalization of each channel: subtract the mean, divide by the standard deviation,
    then scale by ``weight`` and shift by ``bias`` (``torch.nn.functional.batch_norm`` on a 4D
    input, without its in-place update of the running statistics: see
    :func:`batch_norm_running_stats`).

    Args:
        x: input of shape ``(N, C, H, W)``. Not modified.
        running_mean, running_var: running statistics, shape ``(C,)``; required when
            ``training=False``, unused otherwise. Default: ``None``.
        weight: the scale ``gamma``, shape ``(C,)``; ``None`` means ones. Default: ``None``.
        bias: the shift ``beta``, shape ``(C,)``; ``None`` means zeros. Default: ``None``.
        training (bool): normalize with the batch's own statistics (``True``) or with the
            running ones (``False``). Default: ``True``.
        eps (float): added to the variance before the square root: positive in training mode
            (as in PyTorch: a constant channel has variance 0), ``>= 0`` in evaluation mode.
            Default: ``1e-5``.

    Returns:
        An array of shape ``(N, C, H, W)``.

    Example::

        >>> x = np.array([[[[1.0, 3.0]]], [[[5.0, 7.0]]]])  # (2, 1, 1, 2): one channel, 4 values
        >>> np.round(batch_norm2d(x).ravel() * np.sqrt(5), 4)  # mean 4, variance 5
        array([-3., -1.,  1.,  3.])
    """
    x, running_mean, running_var, weight, bias, eps = _args(
        "batch_norm2d", x, running_mean, running_var, weight, bias, training, eps
    )
    mean, var = _statistics(x, running_mean, running_var, training)
    x_hat = (x - _as_map(mean)) / np.sqrt(_as_map(var) + eps)
    y = x_hat if weight is None else x_hat * _as_map(weight)
    return y if bias is None else y + _as_map(bias)


def batch_norm2d_naive(x, running_mean=None, running_var=None, weight=None, bias=None, training=True, eps=1e-5):
    """batch_norm2d_naive(x, running_mean=None, running_var=None, weight=None, bias=None, training=True, eps=1e-5) -> ndarray

    :func:`batch_norm2d` with one loop over the channels and the sums written out, as in the
    formulas of the module docstring. Same arguments and result.

    Example::

        >>> x = np.array([[[[1.0, 3.0]]], [[[5.0, 7.0]]]])
        >>> np.allclose(batch_norm2d_naive(x), batch_norm2d(x))
        True
    """
    x, running_mean, running_var, weight, bias, eps = _args(
        "batch_norm2d_naive", x, running_mean, running_var, weight, bias, training, eps
    )
    n, c, h, w = x.shape
    y = np.empty_like(x)
    for k in range(c):
        values = x[:, k]  # the m = N * H * W values of channel k
        if training:
            m = values.size
            mean = np.sum(values) / m
            var = np.sum((values - mean) ** 2) / m
        else:
            mean, var = running_mean[k], running_var[k]
        gamma = 1.0 if weight is None else weight[k]
        beta = 0.0 if bias is None else bias[k]
        y[:, k] = gamma * (values - mean) / np.sqrt(var + eps) + beta
    return y


def batch_norm_running_stats(x, running_mean, running_var, momentum=0.1):
    """batch_norm_running_stats(x, running_mean, running_var, momentum=0.1) -> (ndarray, ndarray)

    The running statistics after one training step on the batch ``x``, as ``nn.BatchNorm2d``
    updates them: ``(1 - momentum) * running + momentum * batch``, where the batch variance is
    the unbiased one (divided by ``m - 1``, ``m = N * H * W``). The inputs are not modified.

    Args:
        x: the batch, shape ``(N, C, H, W)``, with at least 2 values per channel.
        running_mean, running_var: the current running statistics, shape ``(C,)``.
        momentum (float): weight of the new batch, in ``[0, 1]``. Default: ``0.1``.

    Returns:
        ``(new_running_mean, new_running_var)``, each of shape ``(C,)``.

    Example::

        >>> x = np.array([[[[1.0, 3.0]]], [[[5.0, 7.0]]]])  # mean 4, unbiased variance 20/3
        >>> batch_norm_running_stats(x, np.zeros(1), np.ones(1), momentum=0.5)
        (array([2.]), array([3.83333333]))
    """
    x, running_mean, running_var, _, _, _ = _args(
        "batch_norm_running_stats", x, running_mean, running_var, None, None, True, 1e-5
    )
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm_running_stats: running_mean and running_var (shape (C,)) are required")
    momentum = _number(momentum, "momentum", 0.0, 1.0)
    m = x.shape[0] * x.shape[2] * x.shape[3]
    mean, var = x.mean(axis=_AXES), x.var(axis=_AXES) * m / (m - 1)
    return (1 - momentum) * running_mean + momentum * mean, (1 - momentum) * running_var + momentum * var


# --------------------------------------------------------------------------- backward


def batch_norm2d_backward(dy, x, running_mean=None, running_var=None, weight=None, training=True, eps=1e-5):
    """batch_norm2d_backward(dy, x, running_mean=None, running_var=None, weight=None, training=True, eps=1e-5) -> (ndarray, ndarray, ndarray)

    Gradients of :func:`batch_norm2d` with respect to its input, ``weight`` and ``bias``.

    With ``x_hat`` the normalized input, ``s = 1 / sqrt(var + eps)`` and ``g = dy * gamma``
    (the gradient reaching ``x_hat``), per channel over its ``m`` values:

    - ``dbias = sum(dy)`` and ``dweight = sum(dy * x_hat)``;
    - in evaluation mode the mean and variance are constants, so ``dx = g * s``;
    - in training mode they depend on every ``x`` of the channel, which adds two terms:
      ``dx = s * (g - mean(g) - x_hat * mean(g * x_hat))``. The gradient is centred (it sums
      to zero over the channel: shifting a whole channel changes nothing after normalizing)
      and has no component along ``x_hat`` (nor does scaling it).

    Args:
        dy: gradient of the loss with respect to the output, shape ``(N, C, H, W)``.
        x, running_mean, running_var, weight, training, eps: as in the forward call.

    Returns:
        ``(dx, dweight, dbias)``: shapes ``(N, C, H, W)``, ``(C,)`` and ``(C,)``
        (``dweight`` and ``dbias`` are returned even when the forward had no ``weight`` or
        ``bias``).

    Example::

        >>> x = np.array([[[[1.0, 3.0]]], [[[5.0, 7.0]]]])
        >>> dx, dw, db = batch_norm2d_backward(np.ones_like(x), x)
        >>> bool(np.allclose(dx, 0)), db  # a constant gradient is removed by the mean
        (True, array([4.]))
    """
    x, running_mean, running_var, weight, _, eps = _args(
        "batch_norm2d_backward", x, running_mean, running_var, weight, None, training, eps
    )
    dy = as_array(dy, "dy", 4, _LAYOUT)
    if dy.shape != x.shape:
        raise ValueError(f"batch_norm2d_backward: dy must have the shape of x, {x.shape}, got {dy.shape}")
    mean, var = _statistics(x, running_mean, running_var, training)
    s = 1.0 / np.sqrt(_as_map(var) + eps)
    x_hat = (x - _as_map(mean)) * s
    dbias = dy.sum(axis=_AXES)
    dweight = (dy * x_hat).sum(axis=_AXES)
    g = dy if weight is None else dy * _as_map(weight)
    if not training or x.size == 0:
        return g * s, dweight, dbias
    # The two extra terms: the mean and the variance each pass on a share of the gradient.
    g_mean = g.mean(axis=_AXES, keepdims=True)
    gx_mean = (g * x_hat).mean(axis=_AXES, keepdims=True)
    return s * (g - g_mean - x_hat * gx_mean), dweight, dbias


# --------------------------------------------------------------------------- the layer


class BatchNorm2d(Module):
    """BatchNorm2d(num_features, eps=1e-5, momentum=0.1)

    Batch normalization as a layer, like ``torch.nn.BatchNorm2d``: a learned scale ``weight``
    (ones at first) and shift ``bias`` (zeros) per channel, and running statistics (mean 0,
    variance 1 at first) that every training-mode forward updates and evaluation mode uses.

    Args:
        num_features (int): the number of channels ``C``.
        eps (float): added to the variance. Default: ``1e-5``.
        momentum (float): weight of each new batch in the running statistics. Default: ``0.1``.

    Attributes:
        params["weight"], params["bias"]: shape ``(C,)``.
        running_mean, running_var: shape ``(C,)``, replaced (not modified) at each training step.

    Shape:
        Input ``(N, C, H, W)``, output the same.

    Example::

        >>> bn = BatchNorm2d(2)
        >>> x = np.arange(16.0).reshape(2, 2, 2, 2)
        >>> y = bn.forward(x)
        >>> np.allclose(y.mean(axis=(0, 2, 3)), 0), bn.running_mean
        (True, array([0.55, 0.95]))
        >>> bn.backward(np.ones_like(x)).shape
        (2, 2, 2, 2)
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        if isinstance(num_features, bool) or not isinstance(num_features, numbers.Integral) or num_features < 1:
            raise ValueError(f"num_features must be a positive int, got {num_features!r}")
        self.num_features = int(num_features)
        self.eps = _number(eps, "eps", 0.0)
        self.momentum = _number(momentum, "momentum", 0.0, 1.0)
        self._add_param("weight", np.ones(self.num_features))
        self._add_param("bias", np.zeros(self.num_features))
        self.running_mean = np.zeros(self.num_features)
        self.running_var = np.ones(self.num_features)

    def forward(self, x):
        x = as_array(x, "x", 4, _LAYOUT)
        if x.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm2d({self.num_features}) expects {self.num_features} channels, got x of shape {x.shape}")
        args = dict(running_mean=self.running_mean, running_var=self.running_var, training=self.training, eps=self.eps)
        y = batch_norm2d(x, weight=self.params["weight"], bias=self.params["bias"], **args)
        self._cache = (x.copy(), args)  # the statistics the backward pass needs, before the update
        if self.training:
            self.running_mean, self.running_var = batch_norm_running_stats(
                x, self.running_mean, self.running_var, self.momentum
            )
        return y

    def backward(self, dy):
        """dy: ``(N, C, H, W)`` -> dx of the same shape; adds into ``grads``."""
        x, args = self._saved()
        dx, dweight, dbias = batch_norm2d_backward(dy, x, weight=self.params["weight"], **args)
        self.grads["weight"] += dweight
        self.grads["bias"] += dbias
        return dx

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"
