"""Optimizers: SGD (with momentum), RMSProp and Adam, with PyTorch's update rules.

An optimizer takes the ``(param, grad)`` pairs of a model (``model.parameters()`` of a
``coursecnn.ref`` layer or ``Sequential``, the model itself, or a list of layers) and, on ``step()``, updates each
``param`` array *in place* from its ``grad``. Changing the parameters is the optimizer's whole job,
so this is the one documented exception to the package's "never modify an argument" rule; the
in-place update is also what lets the layers keep seeing their own (updated) arrays.

Each rule below is written exactly as ``torch.optim`` computes it (same defaults, same bias
correction, ``eps`` added in the same place), so the trajectories agree to rounding error.
"""

import numbers

import numpy as np

__all__ = ["Optimizer", "SGD", "RMSProp", "Adam"]


def _number(value, name, low=0.0, high=None, open_low=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    ok = value > low if open_low else value >= low
    if high is not None:
        ok = ok and value < high
    if not ok:
        bounds = f"({low}, " if open_low else f"[{low}, "
        bounds += f"{high})" if high is not None else "inf)"
        raise ValueError(f"{name} must be in {bounds}, got {value}")
    return float(value)


class Optimizer:
    """Base class: collects the ``(param, grad)`` pairs and keeps one state dict per parameter."""

    def __init__(self, params):
        if hasattr(params, "parameters"):
            params = params.parameters()
        pairs = []
        for item in params:
            # A list of layers works too: each one contributes its own pairs.
            pairs.extend(item.parameters() if hasattr(item, "parameters") else [item])
        if not pairs:
            raise ValueError("the optimizer got an empty list of parameters")
        for i, pair in enumerate(pairs):
            if not (isinstance(pair, tuple) and len(pair) == 2):
                raise TypeError(
                    f"parameters must be (param, grad) pairs of arrays (e.g. model.parameters()), "
                    f"got {type(pair).__name__} at position {i}"
                )
            p, g = pair
            if not (isinstance(p, np.ndarray) and isinstance(g, np.ndarray)):
                raise TypeError(f"parameter {i}: param and grad must be NumPy arrays, got "
                                f"{type(p).__name__} and {type(g).__name__}")
            if p.shape != g.shape:
                raise ValueError(f"parameter {i}: param has shape {p.shape} but grad has shape {g.shape}")
            if not np.issubdtype(p.dtype, np.floating):
                raise TypeError(f"parameter {i}: param must be a float array to be updated, got dtype {p.dtype}")
        self.pairs = pairs
        self.state = [{} for _ in pairs]

    def zero_grad(self):
        """Set every gradient to zero, in place."""
        for _, g in self.pairs:
            g.fill(0.0)

    def step(self):
        """Update every parameter once from its current gradient."""
        for (p, g), state in zip(self.pairs, self.state):
            self._update(p, g, state)

    def _update(self, p, g, state):  # pragma: no cover - each optimizer overrides it
        raise NotImplementedError


class SGD(Optimizer):
    """SGD(params, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False)

    Stochastic gradient descent, optionally with momentum, as ``torch.optim.SGD``:

    ``g = grad + weight_decay * p``; with momentum ``v = g`` on the first step, then
    ``v = momentum * v + (1 - dampening) * g``, and ``g = v`` (or ``g + momentum * v`` with
    Nesterov); finally ``p = p - lr * g``.

    PyTorch's velocity is the plain sum ``v = m v + g``; the lecture's
    ``v = m v + (1 - m) g`` is the same direction with the step scaled by ``1 - m``, i.e.
    ``dampening = momentum`` after the first step.

    Args:
        params: ``model.parameters()`` (``(param, grad)`` pairs), a model, or a list of layers.
        lr (float): the learning rate ``eta``, positive.
        momentum (float): Default: ``0.0`` (plain SGD).
        dampening (float): Default: ``0.0``.
        weight_decay (float): L2 coefficient ``lambda`` (see ``coursecnn.ref.l2_grad``). Default: ``0.0``.
        nesterov (bool): Nesterov momentum. Default: ``False``.

    Example::

        >>> w, g = np.array([1.0]), np.array([0.0])
        >>> opt = SGD([(w, g)], lr=0.1)
        >>> g[:] = 2 * w          # gradient of w**2
        >>> opt.step(); w
        array([0.8])
    """

    def __init__(self, params, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        super().__init__(params)
        self.lr = _number(lr, "lr", open_low=True)
        self.momentum = _number(momentum, "momentum")
        self.dampening = _number(dampening, "dampening")
        self.weight_decay = _number(weight_decay, "weight_decay")
        if nesterov and (self.momentum == 0 or self.dampening != 0):
            raise ValueError("Nesterov momentum needs momentum > 0 and dampening = 0")
        self.nesterov = bool(nesterov)

    def _update(self, p, g, state):
        d = g + self.weight_decay * p if self.weight_decay else g.copy()
        if self.momentum:
            if "velocity" not in state:
                state["velocity"] = d.copy()
            else:
                v = state["velocity"]
                v *= self.momentum
                v += (1.0 - self.dampening) * d
            v = state["velocity"]
            d = d + self.momentum * v if self.nesterov else v
        p -= self.lr * d


class RMSProp(Optimizer):
    """RMSProp(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0)

    Divides each step by a running root mean square of the gradient, as ``torch.optim.RMSprop``:

    ``s = alpha * s + (1 - alpha) * g**2`` (``s`` starts at 0), ``p = p - lr * g / (sqrt(s) + eps)``.

    Args:
        params: ``model.parameters()`` (``(param, grad)`` pairs) or a model.
        lr (float): Default: ``1e-2``.
        alpha (float): decay of the running average, in ``[0, 1)``. Default: ``0.99``.
        eps (float): added to the denominator. Default: ``1e-8``.
        weight_decay (float): Default: ``0.0``.

    Example::

        >>> w, g = np.array([1.0]), np.array([2.0])
        >>> RMSProp([(w, g)], lr=0.01).step()
        >>> np.round(w, 4)      # the first step is lr / sqrt(1 - alpha) = 0.1 long
        array([0.9])
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0):
        super().__init__(params)
        self.lr = _number(lr, "lr", open_low=True)
        self.alpha = _number(alpha, "alpha", high=1.0)
        self.eps = _number(eps, "eps")
        self.weight_decay = _number(weight_decay, "weight_decay")

    def _update(self, p, g, state):
        d = g + self.weight_decay * p if self.weight_decay else g
        s = state.setdefault("square_avg", np.zeros_like(p))
        s *= self.alpha
        s += (1.0 - self.alpha) * d * d
        p -= self.lr * d / (np.sqrt(s) + self.eps)


class Adam(Optimizer):
    """Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)

    Momentum and RMSProp together, with bias correction, as ``torch.optim.Adam``: at step ``t``,
    ``m = b1 m + (1 - b1) g``, ``v = b2 v + (1 - b2) g**2`` (both start at 0),
    ``p = p - lr / (1 - b1**t) * m / (sqrt(v) / sqrt(1 - b2**t) + eps)``.

    Args:
        params: ``model.parameters()`` (``(param, grad)`` pairs) or a model.
        lr (float): Default: ``1e-3``.
        betas (tuple of 2 floats): decays ``(b1, b2)`` in ``[0, 1)``. Default: ``(0.9, 0.999)``.
        eps (float): Default: ``1e-8``.
        weight_decay (float): Default: ``0.0``.

    Example::

        >>> w, g = np.array([1.0]), np.array([5.0])
        >>> Adam([(w, g)], lr=0.1).step()
        >>> np.round(w, 6)      # the first step is lr long whatever the gradient's size
        array([0.9])
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params)
        self.lr = _number(lr, "lr", open_low=True)
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
            raise TypeError(f"betas must be a pair (b1, b2), got {betas!r}")
        self.betas = (_number(betas[0], "betas[0]", high=1.0), _number(betas[1], "betas[1]", high=1.0))
        self.eps = _number(eps, "eps")
        self.weight_decay = _number(weight_decay, "weight_decay")

    def _update(self, p, g, state):
        b1, b2 = self.betas
        d = g + self.weight_decay * p if self.weight_decay else g
        if not state:
            state.update(t=0, m=np.zeros_like(p), v=np.zeros_like(p))
        state["t"] += 1
        t, m, v = state["t"], state["m"], state["v"]
        m *= b1
        m += (1.0 - b1) * d
        v *= b2
        v += (1.0 - b2) * d * d
        denom = np.sqrt(v) / np.sqrt(1.0 - b2**t) + self.eps
        p -= (self.lr / (1.0 - b1**t)) * m / denom
