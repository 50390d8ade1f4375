"""Rosenblatt's perceptron (1957) in NumPy, with toy data that it can and cannot learn.

Labels are 0 and 1, as in the lecture's rule ``f(x) = 1 if w . x + b > 0 else 0``. The learning
rule visits the samples one at a time and, after a mistake, moves the weights toward the sample
(a missed 1) or away from it (a false 1): ``w += lr * (y - f(x)) * x``, ``b += lr * (y - f(x))``.
On linearly separable data this stops after finitely many mistakes (the perceptron convergence
theorem); on XOR it never does, because no line separates XOR's classes.
"""

import numbers

import numpy as np

__all__ = [
    "Perceptron",
    "make_separable",
    "make_xor",
    "make_gate",
    "decision_boundary",
]


def _features(X, n_features=None):
    X = np.asarray(X)
    if X.dtype == object or not (np.issubdtype(X.dtype, np.number) or X.dtype == np.bool_):
        raise TypeError(f"X must be a numeric array of shape (n_samples, n_features), got dtype {X.dtype}")
    if X.ndim != 2:
        raise ValueError(f"X must have shape (n_samples, n_features), got an array of shape {X.shape}")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"X has {X.shape[1]} features but the perceptron expects {n_features}")
    return X.astype(np.float64)


def _labels(y, n):
    y = np.asarray(y)
    if y.shape != (n,):
        raise ValueError(f"y must have shape ({n},) to match X, got {y.shape}")
    bad = ~np.isin(y, (0, 1))
    if bad.any():
        raise ValueError(f"labels must be 0 or 1 (this perceptron uses {{0, 1}}), got {y[bad][0].item()!r}")
    return y.astype(np.int64)


class Perceptron:
    """Perceptron(n_features, lr=1.0) -- a single threshold unit trained by Rosenblatt's rule.

    Args:
        n_features: the length of each input vector.
        lr: the learning rate, a positive number. Default: ``1.0`` (with weights starting at 0,
            the rate only scales ``w`` and ``b`` and never changes the predictions).

    Attributes:
        w (ndarray): weights of shape ``(n_features,)``, starting at 0.
        b (float): the bias, starting at 0.
        history (list of int): mistakes (= updates) made in each epoch of :meth:`fit`.
        converged (bool): whether an epoch of :meth:`fit` passed without a mistake.

    Example::

        >>> X, y = make_gate("and")
        >>> p = Perceptron(2).fit(X, y)
        >>> p.converged, p.predict(X).tolist()
        (True, [0, 0, 0, 1])
    """

    def __init__(self, n_features, lr=1.0):
        if isinstance(n_features, (bool, np.bool_)) or not isinstance(n_features, numbers.Integral) or n_features < 1:
            raise ValueError(f"n_features must be a positive int, got {n_features!r}")
        if isinstance(lr, (bool, np.bool_)) or not isinstance(lr, numbers.Real) or not lr > 0:
            raise ValueError(f"lr must be a positive number, got {lr!r}")
        self.n_features = int(n_features)
        self.lr = float(lr)
        self.w = np.zeros(self.n_features)
        self.b = 0.0
        self.history = []
        self.converged = False

    def __repr__(self):
        return f"Perceptron(n_features={self.n_features}, lr={self.lr:g}, converged={self.converged})"

    def decision_function(self, X):
        """``X @ w + b`` for ``X`` of shape ``(n_samples, n_features)``: positive means class 1."""
        return _features(X, self.n_features) @ self.w + self.b

    def predict(self, X):
        """predict(X) -> ndarray of int: 1 where ``X @ w + b > 0``, else 0, shape ``(n_samples,)``."""
        return (self.decision_function(X) > 0).astype(np.int64)

    def score(self, X, y):
        """The fraction of samples of ``X`` classified as ``y``."""
        X = _features(X, self.n_features)
        return float(np.mean(self.predict(X) == _labels(y, len(X))))

    def fit(self, X, y, epochs=100, shuffle=False, seed=None):
        """fit(X, y, epochs=100, shuffle=False, seed=None) -> self

        Sweep the data up to ``epochs`` times, updating after every mistake;
        stop at the first epoch without one. Training continues from the
        current weights.

        Args:
            X: inputs of shape ``(n_samples, n_features)``.
            y: labels of shape ``(n_samples,)``, each 0 or 1.
            epochs: the most sweeps, a positive int. Default: ``100``.
            shuffle: visit the samples in a new random order each epoch.
                Default: ``False``.
            seed: seed of that order. Default: ``None``.

        Returns:
            ``self``, with ``history`` (mistakes per epoch, appended) and
            ``converged`` set.
        """
        X = _features(X, self.n_features)
        y = _labels(y, len(X))
        whole = isinstance(epochs, numbers.Integral)
        if isinstance(epochs, (bool, np.bool_)) or not whole or epochs < 1:
            raise ValueError(f"epochs must be a positive int, got {epochs!r}")
        rng = np.random.default_rng(seed)
        self.converged = False
        for _ in range(int(epochs)):
            order = rng.permutation(len(X)) if shuffle else range(len(X))
            mistakes = 0
            for i in order:
                error = y[i] - int(X[i] @ self.w + self.b > 0)  # -1, 0 or +1
                if error:
                    self.w = self.w + self.lr * error * X[i]
                    self.b += self.lr * error
                    mistakes += 1
            self.history.append(mistakes)
            if mistakes == 0:
                self.converged = True
                break
        return self


def make_separable(n=100, seed=0, margin=0.1):
    """make_separable(n=100, seed=0, margin=0.1) -> (X, y)

    ``n`` points in the square ``[-1, 1]^2`` labelled by which side of a random line they lie
    on, keeping only points at least ``margin`` from the line (a gap the perceptron can find).

    Args:
        n: the number of points. Default: ``100``.
        seed: the random seed. Default: ``0``.
        margin: the half-width of the empty band around the line, ``0 <= margin < 0.5``.
            Default: ``0.1``.

    Returns:
        ``X`` of shape ``(n, 2)`` (float64) and ``y`` of shape ``(n,)`` with values 0 and 1.

    Example::

        >>> X, y = make_separable(50, seed=1)
        >>> X.shape, sorted(set(y.tolist()))
        ((50, 2), [0, 1])
    """
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral) or n < 2:
        raise ValueError(f"n must be an int of at least 2, got {n!r}")
    if not (isinstance(margin, numbers.Real) and 0 <= margin < 0.5):
        raise ValueError(f"margin must be a number in [0, 0.5), got {margin!r}")
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0, 2 * np.pi)
    normal = np.array([np.cos(angle), np.sin(angle)])  # a unit normal, so w . x + c is a distance
    offset = rng.uniform(-0.3, 0.3)
    points = np.empty((0, 2))
    while True:
        cand = rng.uniform(-1, 1, size=(4 * n, 2))
        cand = cand[np.abs(cand @ normal + offset) >= margin]
        points = np.vstack([points, cand])[:n]
        labels = (points @ normal + offset > 0).astype(np.int64)
        if len(points) == n and 0 < labels.sum() < n:  # both classes present
            return points, labels


def make_gate(name):
    """make_gate(name) -> (X, y)

    The truth table of a two-input logic gate: ``X`` the four inputs ``(0,0), (0,1), (1,0),
    (1,1)`` and ``y`` the gate's outputs.

    Args:
        name: ``"and"``, ``"or"``, ``"nand"``, ``"nor"`` or ``"xor"``.

    Returns:
        ``X`` of shape ``(4, 2)`` (float64) and ``y`` of shape ``(4,)`` (int).

    Example::

        >>> make_gate("or")[1].tolist()
        [0, 1, 1, 1]
    """
    tables = {
        "and": [0, 0, 0, 1],
        "or": [0, 1, 1, 1],
        "nand": [1, 1, 1, 0],
        "nor": [1, 0, 0, 0],
        "xor": [0, 1, 1, 0],
    }
    if name not in tables:
        raise ValueError(f"name must be one of {sorted(tables)}, got {name!r}")
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    return X, np.array(tables[name], dtype=np.int64)


def make_xor():
    """make_xor() -> (X, y)

    XOR's truth table, ``make_gate("xor")``: the classic data no single perceptron can learn.

    Example::

        >>> make_xor()[1].tolist()
        [0, 1, 1, 0]
    """
    return make_gate("xor")


def decision_boundary(w, b, xlim=(-1.0, 1.0), ylim=(-1.0, 1.0)):
    """decision_boundary(w, b, xlim=(-1, 1), ylim=(-1, 1)) -> (xs, ys)

    Two points of the line ``w[0] x + w[1] y + b = 0`` for plotting with
    ``plt.plot(xs, ys)``: at ``xlim``'s ends, or, for a vertical line (``w[1] = 0``), at
    ``ylim``'s ends.

    Args:
        w: a weight vector of shape ``(2,)``, not both 0.
        b: the bias.
        xlim, ylim: the plot's ranges. Default: ``(-1, 1)`` each.

    Returns:
        ``xs`` and ``ys``, arrays of shape ``(2,)``.

    Example::

        >>> decision_boundary(np.array([1.0, 2.0]), -2.0, xlim=(0, 2))
        (array([0., 2.]), array([1., 0.]))
    """
    w = np.asarray(w, dtype=np.float64)
    if w.shape != (2,):
        raise ValueError(f"w must have shape (2,) for a line in the plane, got {w.shape}")
    b = float(b)
    if w[1] != 0:
        xs = np.array(xlim, dtype=np.float64)
        return xs, (-b - w[0] * xs) / w[1] + 0.0  # + 0.0 turns -0.0 into 0.0
    if w[0] != 0:
        ys = np.array(ylim, dtype=np.float64)
        return np.full(2, -b / w[0]), ys
    raise ValueError("w = (0, 0) has no decision boundary (every point is on the same side)")
