"""Reverse-mode automatic differentiation on scalars: the computation graph, made of objects.

Every arithmetic operation on a :class:`Value` creates a new node that remembers its inputs
(``children``), an ``op`` label and how to push a gradient back to those inputs. ``backward()``
visits the nodes in reverse topological order, exactly the lecture's algorithm: set
``dJ/dJ = 1``, then for each node ``u = g(v_1, ..., v_n)`` *add* ``dJ/du * du/dv_j`` to each
input's gradient (adding, because an input may feed several nodes).
"""

import math
import numbers

__all__ = ["Value", "trace", "topological_order", "draw_graph"]


def _real(x, what):
    if isinstance(x, (bool,)) or not isinstance(x, numbers.Real):
        raise TypeError(f"{what} must be a real number or a Value, got {type(x).__name__} {x!r}")
    return float(x)


class Value:
    """Value(data, label="") -- one scalar node of a computation graph.

    Args:
        data: a real number.
        label: a name to show in drawings (for example ``"x"``). Default: ``""``.

    Attributes:
        data (float): the number computed in the forward pass.
        grad (float): ``dJ/d(this node)`` after ``J.backward()``; 0 before.
        children (tuple): the input nodes this one was computed from.
        op (str): the operation that made it (``"+"``, ``"*"``, ``"sin"``, ...; ``""`` for a leaf).

    Example::

        >>> x = Value(2.0, "x")
        >>> J = (x * x + 3 * x).sin()
        >>> J.backward()
        >>> round(x.grad, 6) == round(math.cos(10.0) * 7.0, 6)
        True
    """

    __slots__ = ("data", "grad", "children", "op", "label", "_backward")

    def __init__(self, data, label="", _children=(), _op=""):
        self.data = _real(data, "data")
        self.grad = 0.0
        self.children = tuple(_children)
        self.op = _op
        self.label = str(label)
        self._backward = lambda: None  # a leaf has no inputs to pass gradient to

    def __repr__(self):
        name = f"{self.label}=" if self.label else ""
        return f"Value({name}{self.data:.6g}, grad={self.grad:.6g})"

    @staticmethod
    def _wrap(other):
        return other if isinstance(other, Value) else Value(_real(other, "operand"))

    # -- binary operations: each returns a new node and says how to send its gradient back

    def __add__(self, other):
        other = self._wrap(other)
        out = Value(self.data + other.data, _children=(self, other), _op="+")

        def backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = backward
        return out

    def __mul__(self, other):
        other = self._wrap(other)
        out = Value(self.data * other.data, _children=(self, other), _op="*")

        def backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = backward
        return out

    def __pow__(self, exponent):
        if isinstance(exponent, Value):
            raise TypeError("Value ** Value is not supported; use (b.log() * e).exp() for a variable exponent")
        k = _real(exponent, "exponent")
        if self.data == 0 and k < 0:
            raise ZeroDivisionError(f"0 ** {k} is undefined")
        out = Value(self.data**k, _children=(self,), _op=f"**{k:g}")

        def backward():
            self.grad += k * self.data ** (k - 1) * out.grad

        out._backward = backward
        return out

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-self._wrap(other))

    def __truediv__(self, other):
        other = self._wrap(other)
        if other.data == 0:
            raise ZeroDivisionError("division of a Value by zero")
        return self * other**-1

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return self._wrap(other) - self

    def __rtruediv__(self, other):
        return self._wrap(other) / self

    # -- functions of one input: local derivative times the output's gradient

    def _unary(self, value, local_grad, op):
        out = Value(value, _children=(self,), _op=op)

        def backward():
            self.grad += local_grad * out.grad

        out._backward = backward
        return out

    def sin(self):
        """sin(v); d/dv = cos(v)."""
        return self._unary(math.sin(self.data), math.cos(self.data), "sin")

    def cos(self):
        """cos(v); d/dv = -sin(v)."""
        return self._unary(math.cos(self.data), -math.sin(self.data), "cos")

    def exp(self):
        """exp(v); d/dv = exp(v)."""
        e = math.exp(self.data)
        return self._unary(e, e, "exp")

    def log(self):
        """Natural log of a positive v; d/dv = 1/v."""
        if self.data <= 0:
            raise ValueError(f"log needs a positive value, got {self.data}")
        return self._unary(math.log(self.data), 1.0 / self.data, "log")

    def tanh(self):
        """tanh(v); d/dv = 1 - tanh(v)^2."""
        t = math.tanh(self.data)
        return self._unary(t, 1.0 - t * t, "tanh")

    def relu(self):
        """max(0, v); d/dv = 1 for v > 0, else 0."""
        return self._unary(max(self.data, 0.0), 1.0 if self.data > 0 else 0.0, "relu")

    def sigmoid(self):
        """1 / (1 + exp(-v)); d/dv = s (1 - s)."""
        v = self.data
        s = 1.0 / (1.0 + math.exp(-v)) if v >= 0 else math.exp(v) / (1.0 + math.exp(v))
        return self._unary(s, s * (1.0 - s), "sigmoid")

    def graph(self):
        """The computation graph below this node as ``(nodes, edges)``; see :func:`trace`."""
        return trace(self)

    # -- the backward pass

    def backward(self):
        """Fill ``grad`` of every node this one depends on with
        ``d(self)/d(node)``.

        Gradients are reset to 0 first, so calling ``backward()`` twice gives
        the same result.
        """
        order = topological_order(self)
        for node in order:
            node.grad = 0.0
        self.grad = 1.0  # dJ/dJ
        for node in reversed(order):
            node._backward()


def topological_order(root):
    """topological_order(root) -> list of Value

    Every node ``root`` depends on, each after all of its inputs (so ``root`` comes last).
    Iterative depth-first search, so deep graphs do not hit Python's recursion limit.

    Example::

        >>> x = Value(1.0, "x")
        >>> [v.op or v.label for v in topological_order(x * 2 + 1)][-1]
        '+'
    """
    if not isinstance(root, Value):
        raise TypeError(f"expected a Value, got {type(root).__name__}")
    order, done, stack = [], set(), [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if id(node) in done:
            continue
        if expanded:
            done.add(id(node))
            order.append(node)
        else:
            stack.append((node, True))
            # Reversed, so the first input is expanded first (inputs come out left to right).
            stack.extend((child, False) for child in reversed(node.children) if id(child) not in done)
    return order


def trace(root):
    """trace(root) -> (nodes, edges)

    The computation graph below ``root``, for drawing: ``nodes`` in topological order and
    ``edges`` as pairs ``(i, j)`` of positions in ``nodes`` meaning "node i feeds node j".

    Example::

        >>> x = Value(3.0, "x")
        >>> nodes, edges = trace(x * x)
        >>> len(nodes), edges
        (2, [(0, 1), (0, 1)])
    """
    nodes = topological_order(root)
    where = {id(n): i for i, n in enumerate(nodes)}
    edges = [(where[id(c)], j) for j, n in enumerate(nodes) for c in n.children]
    return nodes, edges


def draw_graph(root, ax=None, show_grad=True):
    """draw_graph(root, ax=None, show_grad=True) -> matplotlib Axes

    Draw the computation graph with matplotlib (no graphviz): inputs on the left, ``root`` on
    the right, one column per depth; each box shows the op or label, the value and the gradient.

    Args:
        root: the output :class:`Value`.
        ax: the Axes to draw on. Default: ``None`` (a new figure).
        show_grad: also print each node's ``grad``. Default: ``True``.

    Returns:
        The Axes.
    """
    import matplotlib.pyplot as plt  # here, not at the top: importing ref needs no matplotlib

    nodes, edges = trace(root)
    depth = {}
    for j, n in enumerate(nodes):  # topological order: inputs already have a depth
        depth[j] = 1 + max((depth[i] for i, k in edges if k == j), default=-1)
    columns = {}
    for j in range(len(nodes)):
        columns.setdefault(depth[j], []).append(j)
    pos = {}
    for d, members in columns.items():
        for r, j in enumerate(members):
            pos[j] = (d, (len(members) - 1) / 2 - r)
    if ax is None:
        width = min(9, 1.6 * (max(columns) + 1) + 1)
        height = min(3.5, 1.0 * max(len(m) for m in columns.values()) + 1)
        _, ax = plt.subplots(figsize=(width, height))
    for i, j in set(edges):
        (x0, y0), (x1, y1) = pos[i], pos[j]
        ax.annotate("", xy=(x1 - 0.3, y1), xytext=(x0 + 0.3, y0),
                    arrowprops=dict(arrowstyle="->", color="0.4"))
    for j, n in enumerate(nodes):
        name = n.label or n.op or "const"
        if n.label and n.op:
            name = f"{n.label} = {n.op}"
        text = f"{name}\n{n.data:.4g}" + (f"\ngrad {n.grad:.4g}" if show_grad else "")
        ax.text(*pos[j], text, ha="center", va="center", fontsize=8,
                bbox=dict(boxstyle="round", fc="#e8f0fe" if n.children else "#fff4d6", ec="0.3"))
    ax.set_xlim(-0.6, max(columns) + 0.6)
    ax.set_ylim(min(p[1] for p in pos.values()) - 0.7, max(p[1] for p in pos.values()) + 0.7)
    ax.axis("off")
    return ax
