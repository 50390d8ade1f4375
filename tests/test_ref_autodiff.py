import math

import matplotlib
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from coursecnn.ref import autodiff, numerical_gradient, relative_error
from coursecnn.ref.autodiff import Value, draw_graph, topological_order, trace

matplotlib.use("Agg")


def lecture_J(x):
    """The lecture's example J = cos(sin(x^2) + 3 x^2), written the way it is computed."""
    t = x**2
    u1 = t.sin()
    u2 = 3 * t
    u = u1 + u2
    return u.cos()


def lecture_dJ(x):
    """Its derivative by hand: -sin(u) * (cos(t) + 3) * 2x with t = x^2, u = sin(t) + 3t."""
    t = x * x
    u = math.sin(t) + 3 * t
    return -math.sin(u) * (math.cos(t) + 3) * 2 * x


@pytest.mark.parametrize("x0", [-1.3, -0.2, 0.0, 0.7, 1.9])
def test_lecture_example_against_analytic_and_finite_differences(x0):
    x = Value(x0, "x")
    J = lecture_J(x)
    assert J.data == pytest.approx(math.cos(math.sin(x0**2) + 3 * x0**2), rel=1e-15)
    J.backward()
    assert x.grad == pytest.approx(lecture_dJ(x0), rel=1e-13, abs=1e-15)
    numeric = numerical_gradient(lambda v: math.cos(math.sin(v[0] ** 2) + 3 * v[0] ** 2), np.array([x0]))
    assert relative_error(np.array([x.grad]), numeric) < 1e-7 or abs(x.grad) < 1e-12


def test_lecture_example_graph_shape():
    x = Value(1.0, "x")
    nodes, edges = trace(lecture_J(x))
    ops = [n.op for n in nodes]
    # x, t = x**2, sin, the constant 3, 3*t, +, cos: seven nodes, x first and cos last.
    assert len(nodes) == 7 and nodes[0] is x and ops[-1] == "cos"
    assert sorted(ops) == sorted(["", "**2", "sin", "", "*", "+", "cos"])
    # t feeds both sin and 3*t: the gradient adds up over the two paths.
    t_index = ops.index("**2")
    assert sum(1 for i, _ in edges if i == t_index) == 2
    # Every edge goes forward in topological order.
    assert all(i < j for i, j in edges)
    assert lecture_J(x).graph()[1] == edges


def _build_both(a0, b0):
    """One expression using every operation, on Values and on torch scalars."""

    def expr(a, b, lib):
        sig = (lambda v: v.sigmoid()) if lib is None else torch.sigmoid
        un = (lambda name: (lambda v: getattr(v, name)())) if lib is None else (lambda name: getattr(torch, name))
        relu = (lambda v: v.relu()) if lib is None else torch.relu
        y = (a * b + 2.0) / (1.5 + b**2) - a / 3.0
        y = y + un("sin")(a) * un("cos")(b) + un("exp")(a * 0.3) + un("log")(b * b + 1.0)
        y = y + un("tanh")(a - b) * sig(b) + relu(a) + relu(-b) + 2.0 * y - (-a) + 1.0 - b
        return y

    a, b = Value(a0, "a"), Value(b0, "b")
    mine = expr(a, b, None)
    mine.backward()
    ta = torch.tensor(a0, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(b0, dtype=torch.float64, requires_grad=True)
    theirs = expr(ta, tb, torch)
    theirs.backward()
    return (mine.data, a.grad, b.grad), (theirs.item(), ta.grad.item(), tb.grad.item())


@settings(max_examples=40, deadline=None)
@given(st.floats(-3, 3).filter(lambda v: abs(v) > 1e-3), st.floats(-3, 3).filter(lambda v: abs(v) > 1e-3))
def test_every_operation_matches_torch_autograd(a0, b0):
    mine, theirs = _build_both(a0, b0)
    np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-12)


def test_gradients_accumulate_over_shared_nodes_and_backward_is_repeatable():
    x = Value(3.0)
    y = x * x * x  # x used three times
    y.backward()
    assert x.grad == 27.0
    y.backward()  # grads are reset, not added twice
    assert x.grad == 27.0
    z = x + x
    z.backward()
    assert x.grad == 2.0


def test_reverse_operators_and_constants():
    x = Value(2.0)
    for expr, value, grad in [
        (lambda: 1 + x, 3.0, 1.0),
        (lambda: 5 - x, 3.0, -1.0),
        (lambda: 4 * x, 8.0, 4.0),
        (lambda: 8 / x, 4.0, -2.0),
        (lambda: -x, -2.0, -1.0),
        (lambda: x**0.5, math.sqrt(2), 0.5 / math.sqrt(2)),
    ]:
        out = expr()
        out.backward()
        assert out.data == pytest.approx(value) and x.grad == pytest.approx(grad)


def test_deep_graph_needs_no_recursion():
    x = Value(0.5)
    y = x
    for _ in range(5000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == 1.0 and len(topological_order(y)) > 10000


def test_relu_kink_and_sigmoid_extremes():
    z = Value(0.0)
    z.relu().backward()
    assert z.grad == 0.0  # PyTorch's choice at the kink
    big = Value(-1000.0).sigmoid()
    assert big.data == 0.0


def test_trace_edges_and_draw():
    x = Value(1.0, "x")
    J = lecture_J(x)
    J.backward()
    ax = draw_graph(J)
    texts = [t.get_text() for t in ax.texts if t.get_text()]  # arrows are empty annotations
    assert any(t.startswith("x\n") for t in texts) and any(t.startswith("cos") for t in texts)
    assert len(texts) == 7
    matplotlib.pyplot.close("all")


@pytest.mark.parametrize(
    "call, err, match",
    [
        (lambda: Value("2"), TypeError, "real number"),
        (lambda: Value(1.0) + "a", TypeError, "operand"),
        (lambda: Value(1.0) / 0, ZeroDivisionError, "zero"),
        (lambda: Value(0.0) ** -1, ZeroDivisionError, "undefined"),
        (lambda: Value(-1.0).log(), ValueError, "positive value, got -1.0"),
        (lambda: Value(2.0) ** Value(2.0), TypeError, "not supported"),
        (lambda: trace(3.0), TypeError, "expected a Value"),
    ],
)
def test_errors(call, err, match):
    with pytest.raises(err, match=match):
        call()
