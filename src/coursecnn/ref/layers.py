"""Layers in the lecture's style: objects with ``forward(x)`` and ``backward(dy)``.

Each layer remembers what its backward pass needs during ``forward`` and, in ``backward``,
returns the gradient with respect to its input while adding the gradients with respect to its
parameters into ``grads``. Parameters live in ``params`` (a dict name -> array) and their
gradients in ``grads`` (same keys, same shapes). As in PyTorch, gradients *accumulate* across
backward calls, so call ``zero_grad()`` before each one; and ``train()``/``eval()`` switch the
mode that ``Dropout`` reads.

The arrays in ``params`` and ``grads`` are updated in place (by ``zero_grad``, ``backward`` and the
optimizers), never replaced, so an optimizer that holds them sees every change. Inputs are never
modified: a layer keeps its own copy of what it needs.
"""

import numbers

import numpy as np

from .._checks import as_array, non_negative, pair, positive
from .activations import leaky_relu, leaky_relu_grad, relu, relu_grad, sigmoid, tanh
from .conv import conv2d, conv2d_backward
from .losses import cross_entropy, cross_entropy_grad
from .pool import avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward

__all__ = [
    "Module",
    "Linear",
    "ReLU",
    "Sigmoid",
    "Tanh",
    "LeakyReLU",
    "Conv2d",
    "MaxPool2d",
    "AvgPool2d",
    "Flatten",
    "Dropout",
    "CrossEntropyLoss",
    "Sequential",
]


def _generator(rng):
    """A NumPy Generator from ``None`` (fresh entropy), a seed, or a Generator."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, numbers.Integral) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be None, an int seed or a numpy.random.Generator, got {rng!r}")


def _any_rank(x, name, layout):
    """``as_array`` for layers that accept any rank: checks type, keeps the shape."""
    try:
        nd = np.ndim(x)
    except Exception:  # ragged lists: as_array words the error
        nd = -1
    return as_array(x, name, nd, layout)


def _positive_int(value, name):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


class Module:
    """Base class: parameter bookkeeping, the train/eval flag and ``layer(x)`` as ``forward``."""

    def __init__(self):
        self.params = {}
        self.grads = {}
        self.training = True
        self._cache = None

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, x):  # pragma: no cover - every layer overrides it
        raise NotImplementedError

    def backward(self, dy):  # pragma: no cover - every layer overrides it
        raise NotImplementedError

    def _add_param(self, name, value):
        self.params[name] = value
        self.grads[name] = np.zeros_like(value)

    def _saved(self):
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward was called before forward")
        return self._cache

    def train(self, mode=True):
        """Set training mode (``mode=True``) or evaluation mode; returns the layer."""
        self.training = bool(mode)
        return self

    def eval(self):
        """Evaluation mode, the same as ``train(False)``; returns the layer."""
        return self.train(False)

    def zero_grad(self):
        """Set every gradient to zero (in place, so optimizers keep seeing the same arrays)."""
        for g in self.grads.values():
            g.fill(0.0)

    def parameters(self):
        """Yield ``(param, grad)`` pairs of arrays, the form the optimizers take."""
        for name in self.params:
            yield self.params[name], self.grads[name]

    def named_parameters(self, prefix=""):
        """Yield ``(name, param, grad)`` triples; names look like ``"weight"`` or ``"0.weight"``."""
        for name in self.params:
            yield prefix + name, self.params[name], self.grads[name]

    def extra_repr(self):
        return ""

    def __repr__(self):
        return f"{type(self).__name__}({self.extra_repr()})"


class Linear(Module):
    """Linear(in_features, out_features, bias=True, rng=None)

    Applies ``y = x W^T + b``, like ``torch.nn.Linear``.

    Args:
        in_features (int): size of each input sample.
        out_features (int): size of each output sample.
        bias (bool): learn an additive bias. Default: ``True``.
        rng: ``None``, an int seed or a ``numpy.random.Generator`` for the initial weights.
            Default: ``None``.

    Attributes:
        params["weight"]: ``(out_features, in_features)``, drawn like PyTorch's default from
            ``U(-1/sqrt(in_features), 1/sqrt(in_features))``.
        params["bias"]: ``(out_features,)``, drawn from the same range (absent if ``bias=False``).

    Shape:
        Input ``(*, in_features)``, output ``(*, out_features)`` (``*``: any leading dimensions).

    Example::

        >>> fc = Linear(4, 3, rng=0)
        >>> fc.forward(np.ones((2, 4))).shape
        (2, 3)
        >>> fc.backward(np.ones((2, 3))).shape
        (2, 4)
    """

    def __init__(self, in_features, out_features, bias=True, rng=None):
        super().__init__()
        self.in_features = _positive_int(in_features, "in_features")
        self.out_features = _positive_int(out_features, "out_features")
        gen = _generator(rng)
        bound = 1.0 / np.sqrt(self.in_features)
        self._add_param("weight", gen.uniform(-bound, bound, (self.out_features, self.in_features)))
        if bias:
            self._add_param("bias", gen.uniform(-bound, bound, self.out_features))

    def forward(self, x):
        x = _any_rank(x, "x", "(*, in_features)")
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"Linear expects x of shape (*, in_features) = (*, {self.in_features}), "
                f"got an array of shape {x.shape}"
            )
        self._cache = x.copy()
        y = x @ self.params["weight"].T
        if "bias" in self.params:
            y = y + self.params["bias"]
        return y

    def backward(self, dy):
        """dy: ``(*, out_features)`` -> dx: ``(*, in_features)``.

        Adds the parameter gradients into ``grads``.
        """
        x = self._saved()
        dy = as_array(dy, "dy", x.ndim, "(*, out_features)")
        want = x.shape[:-1] + (self.out_features,)
        if dy.shape != want:
            raise ValueError(
                f"Linear.backward expects dy of shape {want}, got {dy.shape}"
            )
        # Fold leading dimensions into one batch axis: each row is one sample.
        x2 = x.reshape(-1, self.in_features)
        dy2 = dy.reshape(-1, self.out_features)
        self.grads["weight"] += dy2.T @ x2
        if "bias" in self.grads:
            self.grads["bias"] += dy2.sum(axis=0)
        return (dy2 @ self.params["weight"]).reshape(x.shape)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={'bias' in self.params}"


class _Elementwise(Module):
    """An activation applied entry by entry; subclasses give the function and its derivative."""

    def _f(self, x):  # pragma: no cover
        raise NotImplementedError

    def _df(self, x, y):  # pragma: no cover
        raise NotImplementedError

    def forward(self, x):
        x = _any_rank(x, "x", "(any shape)")
        y = self._f(x)
        self._cache = (x.copy(), y)
        return y

    def backward(self, dy):
        x, y = self._saved()
        dy = as_array(dy, "dy", x.ndim, str(x.shape))
        if dy.shape != x.shape:
            raise ValueError(f"{type(self).__name__}.backward expects dy of shape {x.shape}, got {dy.shape}")
        return dy * self._df(x, y)


class ReLU(_Elementwise):
    """ReLU(): ``max(0, x)``; its derivative is taken as 0 at ``x = 0`` (PyTorch's choice).

    Example::

        >>> ReLU().forward(np.array([-1.0, 0.0, 2.0]))
        array([0., 0., 2.])
    """

    def _f(self, x):
        return relu(x)

    def _df(self, x, y):
        return relu_grad(x)


class Sigmoid(_Elementwise):
    """Sigmoid(): ``1 / (1 + exp(-x))``, with derivative ``s (1 - s)``.

    Example::

        >>> Sigmoid().forward(np.array([0.0]))
        array([0.5])
    """

    def _f(self, x):
        return sigmoid(x)

    def _df(self, x, y):
        return y * (1.0 - y)  # sigmoid_grad(x), from the output already computed


class Tanh(_Elementwise):
    """Tanh(): ``tanh(x)``, with derivative ``1 - tanh(x)^2``.

    Example::

        >>> Tanh().forward(np.array([0.0]))
        array([0.])
    """

    def _f(self, x):
        return tanh(x)

    def _df(self, x, y):
        return 1.0 - y * y  # tanh_grad(x), from the output already computed


class LeakyReLU(_Elementwise):
    """LeakyReLU(negative_slope=0.01): ``x`` for ``x > 0``, ``negative_slope * x`` otherwise.

    Args:
        negative_slope (float): the slope for negative inputs. Default: ``0.01`` (PyTorch's).

    Example::

        >>> LeakyReLU(0.1).forward(np.array([-2.0, 3.0]))
        array([-0.2,  3. ])
    """

    def __init__(self, negative_slope=0.01):
        super().__init__()
        if not isinstance(negative_slope, numbers.Real) or isinstance(negative_slope, bool):
            raise TypeError(f"negative_slope must be a float, got {negative_slope!r}")
        self.negative_slope = float(negative_slope)

    def _f(self, x):
        return leaky_relu(x, self.negative_slope)

    def _df(self, x, y):
        return leaky_relu_grad(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class Conv2d(Module):
    """Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True, rng=None)

    A 2-D convolution layer (cross-correlation, like ``torch.nn.Conv2d``) built on
    ``coursecnn.ref.conv2d`` and ``coursecnn.ref.conv2d_backward``.

    Args:
        in_channels (int): channels ``C`` of the input.
        out_channels (int): number of kernels ``K``.
        kernel_size (int or tuple): ``F`` or ``(F_h, F_w)``.
        stride, padding, dilation (int or tuple): as in ``conv2d``. Defaults: ``1``, ``0``, ``1``.
        groups (int): split channels into this many groups. Default: ``1``.
        bias (bool): learn a bias per kernel. Default: ``True``.
        rng: ``None``, an int seed or a ``numpy.random.Generator``. Default: ``None``.

    Attributes:
        params["weight"]: ``(K, C // groups, F_h, F_w)``; params["bias"]: ``(K,)``. Both drawn like
            PyTorch's default from ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``,
            ``fan_in = C // groups * F_h * F_w``.

    Shape:
        Input ``(N, C, H, W)``, output ``(N, K, H_out, W_out)``.

    Example::

        >>> conv = Conv2d(3, 8, 3, padding=1, rng=0)
        >>> conv.forward(np.zeros((2, 3, 5, 5))).shape
        (2, 8, 5, 5)
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, rng=None):
        super().__init__()
        self.in_channels = _positive_int(in_channels, "in_channels")
        self.out_channels = _positive_int(out_channels, "out_channels")
        self.groups = _positive_int(groups, "groups")
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise ValueError(
                f"in_channels ({self.in_channels}) and out_channels ({self.out_channels}) must both be "
                f"divisible by groups ({self.groups})"
            )
        self.kernel_size = positive(pair(kernel_size, "kernel_size"), "kernel_size")
        self.stride = positive(pair(stride, "stride"), "stride")
        self.padding = non_negative(pair(padding, "padding"), "padding")
        self.dilation = positive(pair(dilation, "dilation"), "dilation")
        gen = _generator(rng)
        fan_in = self.in_channels // self.groups * self.kernel_size[0] * self.kernel_size[1]
        bound = 1.0 / np.sqrt(fan_in)
        shape = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
        self._add_param("weight", gen.uniform(-bound, bound, shape))
        if bias:
            self._add_param("bias", gen.uniform(-bound, bound, self.out_channels))

    def _options(self):
        return dict(stride=self.stride, padding=self.padding, dilation=self.dilation, groups=self.groups)

    def forward(self, x):
        x = as_array(x, "x", 4, "(N, C, H, W)")
        y = conv2d(x, self.params["weight"], self.params.get("bias"), **self._options())
        self._cache = x.copy()
        return y

    def backward(self, dy):
        """dy: ``(N, K, H_out, W_out)`` -> dx: ``(N, C, H, W)``; adds into ``grads``."""
        x = self._saved()
        dx, dw, db = conv2d_backward(dy, x, self.params["weight"], **self._options())
        self.grads["weight"] += dw
        if "bias" in self.grads:
            self.grads["bias"] += db
        return dx

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if "bias" not in self.params:
            s += ", bias=False"
        return s


class _Pool2d(Module):
    _kind = ""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = positive(pair(kernel_size, "kernel_size"), "kernel_size")
        self.stride = self.kernel_size if stride is None else positive(pair(stride, "stride"), "stride")
        self.padding = non_negative(pair(padding, "padding"), "padding")

    def _functions(self):  # pragma: no cover
        raise NotImplementedError

    def forward(self, x):
        x = as_array(x, "x", 4, "(N, C, H, W)")
        fwd, _ = self._functions()
        y = fwd(x, self.kernel_size, stride=self.stride, padding=self.padding)
        self._cache = x.copy()
        return y

    def backward(self, dy):
        """dy: ``(N, C, H_out, W_out)`` -> dx: ``(N, C, H, W)``."""
        _, bwd = self._functions()
        x = self._saved()
        return bwd(dy, x, self.kernel_size, stride=self.stride, padding=self.padding)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """MaxPool2d(kernel_size, stride=None, padding=0)

    Max pooling over ``(N, C, H, W)`` input, built on ``coursecnn.ref.max_pool2d`` and
    ``max_pool2d_backward``: the gradient goes to the position of each window's maximum.

    Args:
        kernel_size (int or tuple): the window. stride (int or tuple): Default: ``kernel_size``.
        padding (int or tuple): implicit ``-inf`` padding on both sides. Default: ``0``.

    Example::

        >>> MaxPool2d(2).forward(np.arange(16.0).reshape(1, 1, 4, 4))[0, 0]
        array([[ 5.,  7.],
               [13., 15.]])
    """

    def _functions(self):
        return max_pool2d, max_pool2d_backward


class AvgPool2d(_Pool2d):
    """AvgPool2d(kernel_size, stride=None, padding=0)

    Average pooling over ``(N, C, H, W)`` input, built on ``coursecnn.ref.avg_pool2d`` and
    ``avg_pool2d_backward``: each input of a window of ``m`` entries gets ``1/m`` of its gradient.

    Args:
        kernel_size (int or tuple): the window. stride (int or tuple): Default: ``kernel_size``.
        padding (int or tuple): implicit zero padding on both sides. Default: ``0``.

    Example::

        >>> AvgPool2d(2).forward(np.arange(16.0).reshape(1, 1, 4, 4))[0, 0]
        array([[ 2.5,  4.5],
               [10.5, 12.5]])
    """

    def _functions(self):
        return avg_pool2d, avg_pool2d_backward


class Flatten(Module):
    """Flatten(start_dim=1, end_dim=-1)

    Merges dimensions ``start_dim`` to ``end_dim`` into one, like ``torch.nn.Flatten``: a batch
    ``(N, C, H, W)`` becomes ``(N, C * H * W)``, the bridge from convolutions to ``Linear``.

    Args:
        start_dim (int): the first dimension to merge. Default: ``1`` (keep the batch axis).
        end_dim (int): the last dimension to merge; negative counts from the end. Default: ``-1``.

    Example::

        >>> Flatten().forward(np.zeros((2, 3, 4, 5))).shape
        (2, 60)
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        for name, v in (("start_dim", start_dim), ("end_dim", end_dim)):
            if isinstance(v, bool) or not isinstance(v, numbers.Integral):
                raise TypeError(f"{name} must be an int, got {v!r}")
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)

    def forward(self, x):
        x = _any_rank(x, "x", "(N, *)")
        nd = max(x.ndim, 1)
        start = self.start_dim + nd if self.start_dim < 0 else self.start_dim
        end = self.end_dim + nd if self.end_dim < 0 else self.end_dim
        if not (0 <= start <= end < nd):
            raise ValueError(
                f"Flatten(start_dim={self.start_dim}, end_dim={self.end_dim}) does not fit an input "
                f"of shape {x.shape}"
            )
        shape = x.shape[:start] + (int(np.prod(x.shape[start:end + 1])),) + x.shape[end + 1:]
        self._cache = (x.shape, shape)
        return x.reshape(shape).copy()

    def backward(self, dy):
        """dy: the forward output's shape -> dx: the forward input's shape."""
        x_shape, y_shape = self._saved()
        dy = np.asarray(dy)
        # The same size is not enough: a (4, 6) dy for a (2, 12) output would mix up the batch.
        if dy.shape != y_shape:
            raise ValueError(
                f"Flatten.backward: dy must have the forward output's shape {y_shape}, got {dy.shape}"
            )
        return as_array(dy, "dy", dy.ndim, "(N, *)").reshape(x_shape).copy()

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Dropout(Module):
    """Dropout(p=0.5, rng=None)

    Inverted dropout: in training mode each entry is zeroed with probability ``p`` and the kept
    ones are scaled by ``1 / (1 - p)``, so the expected output equals the input and evaluation
    needs no rescaling; in evaluation mode (``eval()``) it is the identity. The backward pass
    applies the same mask and scale.

    Args:
        p (float): probability of zeroing an entry, in ``[0, 1]``. Default: ``0.5``.
        rng: ``None``, an int seed or a ``numpy.random.Generator`` for the masks. Default: ``None``.

    Example::

        >>> drop = Dropout(0.5, rng=0)
        >>> y = drop.forward(np.ones(8))
        >>> sorted(set(y.tolist()))
        [0.0, 2.0]
        >>> drop.eval().forward(np.ones(3))
        array([1., 1., 1.])
    """

    def __init__(self, p=0.5, rng=None):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability p must be a number in [0, 1], got {p!r}")
        self.p = float(p)
        self.rng = _generator(rng)

    def forward(self, x):
        x = _any_rank(x, "x", "(any shape)")
        if not self.training or self.p == 0.0:
            self._cache = np.ones(x.shape)
            return x.copy()
        if self.p == 1.0:
            scale = np.zeros(x.shape)
        else:
            scale = (self.rng.random(x.shape) >= self.p) / (1.0 - self.p)
        self._cache = scale
        return x * scale

    def backward(self, dy):
        scale = self._saved()
        dy = as_array(dy, "dy", scale.ndim, str(scale.shape))
        if dy.shape != scale.shape:
            raise ValueError(f"Dropout.backward expects dy of shape {scale.shape}, got {dy.shape}")
        return dy * scale

    def extra_repr(self):
        return f"p={self.p}"


class CrossEntropyLoss(Module):
    """CrossEntropyLoss()

    Softmax and negative log-likelihood in one, averaged over the batch, like
    ``torch.nn.CrossEntropyLoss`` with class-index targets:
    ``loss = mean_n(-log softmax(logits_n)[target_n])``.

    ``forward(logits, target) -> float`` with ``logits`` ``(N, C)`` and ``target`` ``(N,)`` ints
    in ``[0, C)``; ``backward()`` returns ``dloss/dlogits = (softmax(logits) - onehot(target)) / N``,
    shape ``(N, C)`` (``backward(dloss)`` scales it by an upstream gradient ``dloss``).

    Example::

        >>> loss_fn = CrossEntropyLoss()
        >>> round(loss_fn.forward(np.zeros((2, 4)), np.array([0, 3])), 4)  # log(4): uniform guess
        1.3863
        >>> loss_fn.backward().shape
        (2, 4)
    """

    def forward(self, logits, target):
        loss = cross_entropy(logits, target)  # checks both and says what is wrong
        self._cache = (np.array(logits), np.array(target))  # copies: the caller may change theirs
        return loss

    def backward(self, dloss=1.0):
        logits, target = self._saved()
        # (softmax(logits) - onehot(target)) / N, times the upstream gradient
        return cross_entropy_grad(logits, target) * float(dloss)


class Sequential(Module):
    """Sequential(*layers)

    Layers applied one after the other: ``forward`` runs them in order and ``backward`` in
    reverse order, each handing its output gradient to the layer before it.

    ``parameters()`` yields the ``(param, grad)`` pairs of every layer (what the optimizers take),
    ``named_parameters()`` ``("0.weight", param, grad)`` triples; ``model[i]`` is the ``i``-th layer
    (a slice gives a ``Sequential``), ``len(model)`` the number of layers; ``train()``, ``eval()``
    and ``zero_grad()`` reach every layer.

    Args:
        *layers: the layers (objects with ``forward`` and ``backward``), first to last.

    Example::

        >>> model = Sequential(Linear(4, 8, rng=0), ReLU(), Linear(8, 3, rng=1))
        >>> model.forward(np.ones((5, 4))).shape
        (5, 3)
        >>> model.backward(np.ones((5, 3))).shape
        (5, 4)
        >>> len(model), type(model[1]).__name__
        (3, 'ReLU')
    """

    def __init__(self, *layers):
        super().__init__()
        for i, layer in enumerate(layers):
            if not (hasattr(layer, "forward") and hasattr(layer, "backward")):
                raise TypeError(f"layer {i} must have forward and backward methods, got {type(layer).__name__}")
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dy):
        for layer in reversed(self.layers):
            dy = layer.backward(dy)
        return dy

    def train(self, mode=True):
        self.training = bool(mode)
        for layer in self.layers:
            layer.train(mode)
        return self

    def zero_grad(self):
        for layer in self.layers:
            layer.zero_grad()

    def parameters(self):
        for layer in self.layers:
            yield from layer.parameters()

    def named_parameters(self, prefix=""):
        for i, layer in enumerate(self.layers):
            yield from layer.named_parameters(f"{prefix}{i}.")

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(*self.layers[index])
        return self.layers[index]

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def __repr__(self):
        lines = [f"  ({i}): {layer!r}" for i, layer in enumerate(self.layers)]
        return "Sequential(\n" + "\n".join(lines) + "\n)" if lines else "Sequential()"
