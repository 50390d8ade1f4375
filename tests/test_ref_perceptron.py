import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coursecnn.ref import perceptron
from coursecnn.ref.perceptron import Perceptron, decision_boundary, make_gate, make_separable, make_xor


@pytest.mark.parametrize("gate", ["and", "or", "nand", "nor"])
def test_learns_the_linear_gates(gate):
    X, y = make_gate(gate)
    p = Perceptron(2).fit(X, y, epochs=50)
    assert p.converged
    np.testing.assert_array_equal(p.predict(X), y)
    assert p.history[-1] == 0 and all(m > 0 for m in p.history[:-1])
    assert p.score(X, y) == 1.0


def test_and_gate_by_hand():
    # Weights start at 0, so the first sweep fixes (1,1) only: w = (1, 1), b = 1; the next sweep
    # starts with (0,0) now predicted 1: w stays, b = 0; and so on. The final rule is exact.
    X, y = make_gate("and")
    p = Perceptron(2).fit(X, y)
    assert p.history[0] == 1
    # Every learned line puts (1, 1) alone on the positive side.
    scores = X @ p.w + p.b
    assert scores[3] > 0 and np.all(scores[:3] <= 0)


def test_never_converges_on_xor():
    X, y = make_xor()
    p = Perceptron(2).fit(X, y, epochs=200)
    assert not p.converged
    assert len(p.history) == 200 and min(p.history) > 0
    assert p.score(X, y) < 1.0


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**16), st.integers(10, 120), st.sampled_from([0.5, 1.0, 3.0]), st.booleans())
def test_converges_on_separable_data(seed, n, lr, shuffle):
    X, y = make_separable(n, seed=seed, margin=0.1)
    kept_X, kept_y = X.copy(), y.copy()
    p = Perceptron(2, lr=lr).fit(X, y, epochs=1000, shuffle=shuffle, seed=seed)
    assert p.converged
    np.testing.assert_array_equal(p.predict(X), y)
    # Novikoff's bound: at most (R / margin)^2 mistakes in total, with R the largest norm of
    # (x, 1) (the bias is a weight on a constant 1 input).
    R2 = np.max(np.sum(X**2, axis=1) + 1.0)
    assert sum(p.history) <= R2 / 0.1**2
    np.testing.assert_array_equal(X, kept_X)
    np.testing.assert_array_equal(y, kept_y)


def test_learning_rate_only_scales_the_weights():
    X, y = make_separable(60, seed=3)
    a = Perceptron(2, lr=1.0).fit(X, y)
    b = Perceptron(2, lr=0.25).fit(X, y)
    assert a.history == b.history
    np.testing.assert_allclose(b.w, 0.25 * a.w)
    assert b.b == pytest.approx(0.25 * a.b)


def test_separable_data_respects_margin_and_classes():
    X, y = make_separable(200, seed=7, margin=0.2)
    assert X.shape == (200, 2) and set(y.tolist()) == {0, 1}
    assert np.all(np.abs(X) <= 1)
    # Deterministic for a seed.
    X2, y2 = make_separable(200, seed=7, margin=0.2)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)


def test_decision_boundary_lies_on_the_line():
    X, y = make_separable(80, seed=5)
    p = Perceptron(2).fit(X, y)
    xs, ys = decision_boundary(p.w, p.b)
    np.testing.assert_allclose(p.w[0] * xs + p.w[1] * ys + p.b, 0.0, atol=1e-12)
    xs, ys = decision_boundary(np.array([2.0, 0.0]), -1.0, ylim=(-3, 3))
    np.testing.assert_array_equal(xs, [0.5, 0.5])
    np.testing.assert_array_equal(ys, [-3, 3])


@pytest.mark.parametrize(
    "call, err, match",
    [
        (lambda: Perceptron(0), ValueError, "n_features must be a positive int, got 0"),
        (lambda: Perceptron(2, lr=-1), ValueError, "lr must be a positive number, got -1"),
        (lambda: Perceptron(2).fit(np.ones((3, 3)), np.ones(3, int)), ValueError, "3 features but the perceptron expects 2"),
        (lambda: Perceptron(2).fit(np.ones(3), np.ones(3, int)), ValueError, r"\(n_samples, n_features\)"),
        (lambda: Perceptron(2).fit(np.ones((3, 2)), np.array([0, 1, -1])), ValueError, "0 or 1.*got -1"),
        (lambda: Perceptron(2).fit(np.ones((3, 2)), np.array([0, 1])), ValueError, r"shape \(3,\)"),
        (lambda: Perceptron(2).fit(np.ones((3, 2)), np.ones(3, int), epochs=0), ValueError, "epochs"),
        (lambda: Perceptron(2).predict(np.array([["a", "b"]])), TypeError, "numeric"),
        (lambda: make_gate("xnor"), ValueError, "xnor"),
        (lambda: make_separable(1), ValueError, "at least 2"),
        (lambda: decision_boundary(np.zeros(2), 1.0), ValueError, "no decision boundary"),
        (lambda: decision_boundary(np.ones(3), 1.0), ValueError, r"shape \(2,\)"),
    ],
)
def test_errors(call, err, match):
    with pytest.raises(err, match=match):
        call()
