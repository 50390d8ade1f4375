import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from coursecnn.ref import activations, numerical_gradient, relative_error
from coursecnn.ref.activations import (
    ACTIVATIONS,
    leaky_relu,
    leaky_relu_grad,
    log_softmax,
    log_softmax_backward,
    relu,
    relu_grad,
    sigmoid,
    sigmoid_grad,
    softmax,
    softmax_backward,
    softmax_jacobian,
    step,
    step_grad,
    tanh,
    tanh_grad,
)

X = np.random.default_rng(0).normal(scale=3.0, size=(3, 5))
X[0, 0] = 0.0  # the kink: derivatives there must match PyTorch's choice


def torch_value_and_grad(f, x, dy):
    t = torch.tensor(x, requires_grad=True)
    y = f(t)
    y.backward(torch.tensor(dy))
    return y.detach().numpy(), t.grad.numpy()


@pytest.mark.parametrize(
    "mine, mine_grad, theirs",
    [
        (sigmoid, sigmoid_grad, torch.sigmoid),
        (tanh, tanh_grad, torch.tanh),
        (relu, relu_grad, F.relu),
        (leaky_relu, leaky_relu_grad, F.leaky_relu),
        (lambda v: leaky_relu(v, 0.2), lambda v: leaky_relu_grad(v, 0.2), lambda t: F.leaky_relu(t, 0.2)),
    ],
)
def test_elementwise_match_torch(mine, mine_grad, theirs):
    dy = np.random.default_rng(1).normal(size=X.shape)
    y, dx = torch_value_and_grad(theirs, X, dy)
    np.testing.assert_allclose(mine(X), y, rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(dy * mine_grad(X), dx, rtol=1e-14, atol=1e-16)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_and_log_softmax_match_torch(dim):
    dy = np.random.default_rng(2).normal(size=X.shape)
    y, dx = torch_value_and_grad(lambda t: F.softmax(t, dim=dim), X, dy)
    np.testing.assert_allclose(softmax(X, dim), y, rtol=1e-13)
    np.testing.assert_allclose(softmax_backward(dy, softmax(X, dim), dim), dx, rtol=1e-12, atol=1e-15)
    y, dx = torch_value_and_grad(lambda t: F.log_softmax(t, dim=dim), X, dy)
    np.testing.assert_allclose(log_softmax(X, dim), y, rtol=1e-13)
    np.testing.assert_allclose(log_softmax_backward(dy, log_softmax(X, dim), dim), dx, rtol=1e-12, atol=1e-15)


ELEMENTWISE = {
    "sigmoid": (sigmoid, sigmoid_grad, torch.sigmoid),
    "tanh": (tanh, tanh_grad, torch.tanh),
    "relu": (relu, relu_grad, F.relu),
    "leaky_relu": (leaky_relu, leaky_relu_grad, F.leaky_relu),
}


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(sorted(ELEMENTWISE)),
       hnp.array_shapes(min_dims=1, max_dims=4, max_side=4), st.integers(0, 2**16), st.booleans())
def test_activations_match_torch_on_any_shape(name, shape, seed, with_zeros):
    mine, mine_grad, theirs = ELEMENTWISE[name]
    rng = np.random.default_rng(seed)
    x = rng.normal(scale=3.0, size=shape)
    if with_zeros:
        x[rng.random(shape) < 0.3] = 0.0  # kinks, where PyTorch's choice of derivative counts
    dy = rng.normal(size=shape)
    y, dx = torch_value_and_grad(theirs, x, dy)
    assert mine(x).shape == shape
    np.testing.assert_allclose(mine(x), y, rtol=1e-14, atol=1e-16)
    # 1 - tanh(x)^2 near saturation cancels: round-off of a few ulps of 1, hence atol.
    np.testing.assert_allclose(dy * mine_grad(x), dx, rtol=1e-12, atol=1e-14)
    dim = int(rng.integers(-len(shape), len(shape)))
    y, dx = torch_value_and_grad(lambda t: F.softmax(t, dim=dim), x, dy)
    np.testing.assert_allclose(softmax(x, dim), y, rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(softmax_backward(dy, softmax(x, dim), dim), dx, rtol=1e-11, atol=1e-14)


def test_softmax_jacobian_against_backward_and_finite_differences():
    x = np.array([0.3, -1.2, 2.0, 0.5])
    y = softmax(x)
    jac = softmax_jacobian(y)
    # Column j of the Jacobian is d softmax / d x_j.
    for i in range(4):
        numeric = numerical_gradient(lambda v: softmax(v)[i], x)
        assert relative_error(jac[i], numeric) < 1e-7
    dy = np.array([1.0, -2.0, 0.5, 3.0])
    np.testing.assert_allclose(jac.T @ dy, softmax_backward(dy, y), atol=1e-15)
    np.testing.assert_allclose(jac.sum(axis=1), 0.0, atol=1e-15)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "leaky_relu"])
def test_derivatives_match_finite_differences(name):
    f, g = ACTIVATIONS[name]
    # Keep away from ReLU's kink so the centered difference does not straddle it.
    x = np.array([[-2.5, -0.7, 0.4], [1.3, 3.0, -1.1]])
    numeric = numerical_gradient(lambda v: np.sum(f(v)), x)
    assert relative_error(g(x), numeric) < 1e-7


def test_softmax_backward_matches_finite_differences():
    x = np.random.default_rng(3).normal(size=(2, 4))
    dy = np.random.default_rng(4).uniform(0.5, 1.5, size=(2, 4))
    numeric = numerical_gradient(lambda v: np.sum(softmax(v) * dy), x)
    assert relative_error(softmax_backward(dy, softmax(x)), numeric) < 1e-7
    numeric = numerical_gradient(lambda v: np.sum(log_softmax(v) * dy), x)
    assert relative_error(log_softmax_backward(dy, log_softmax(x)), numeric) < 1e-7


def test_step_and_known_values():
    np.testing.assert_array_equal(step([-1, 0, 1e-9, 5]), [0, 0, 1, 1])
    np.testing.assert_array_equal(step_grad([-1, 0, 5]), [0, 0, 0])
    assert sigmoid(0.0) == 0.5 and sigmoid_grad(0.0) == 0.25
    assert tanh_grad(0.0) == 1.0
    np.testing.assert_array_equal(relu_grad([-1.0, 0.0, 2.0]), [0, 0, 1])
    np.testing.assert_array_equal(leaky_relu_grad([-1.0, 0.0, 2.0]), [0.01, 0.01, 1])
    assert set(ACTIVATIONS) == {"step", "sigmoid", "tanh", "relu", "leaky_relu"}


def test_extreme_inputs_stay_finite():
    big = np.array([-1e4, -800.0, 0.0, 800.0, 1e4])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = sigmoid(big)
        ls = log_softmax(big)
        sm = softmax(big)
    np.testing.assert_array_equal(s, [0.0, 0.0, 0.5, 1.0, 1.0])
    assert np.all(np.isfinite(ls)) and ls[-1] == 0.0
    np.testing.assert_allclose(sm, [0, 0, 0, 0, 1])


@settings(max_examples=30, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5),
                  elements=st.floats(-50, 50)))
def test_softmax_properties(x):
    kept = x.copy()
    y = softmax(x)
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=1e-12)
    assert np.all(y >= 0)
    # A constant shift changes nothing; log_softmax is its log.
    np.testing.assert_allclose(softmax(x + 7.5), y, rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(np.exp(log_softmax(x)), y, rtol=1e-10, atol=1e-300)
    # On [-50, 50] the textbook formula neither overflows nor loses precision: compare with it.
    s = sigmoid(x)
    np.testing.assert_allclose(s, 1 / (1 + np.exp(-x)), rtol=1e-14, atol=0)
    assert np.all(s > 0)  # sigmoid(-50) ~ 2e-22 is far above the smallest float64
    assert np.all(s[x < 30] < 1)  # 1 - sigmoid(x) ~ exp(-x) only rounds 1 away beyond x ~ 36.7
    np.testing.assert_allclose(tanh(x), 2 * sigmoid(2 * x) - 1, atol=1e-12)
    np.testing.assert_array_equal(x, kept)


@pytest.mark.parametrize("dim", [0, -1])
def test_backward_and_grad_functions_do_not_modify_their_arguments(dim):
    rng = np.random.default_rng(5)
    x = rng.normal(scale=3.0, size=(3, 4))
    x[0, 0] = 0.0  # the kink of step, relu and leaky_relu
    dy = rng.normal(size=(3, 4))
    y, log_y = softmax(x, dim), log_softmax(x, dim)
    vec = softmax(x[1])
    args = (x, dy, y, log_y, vec)
    kept = [a.copy() for a in args]
    outputs = [
        step_grad(x), sigmoid_grad(x), tanh_grad(x), relu_grad(x), leaky_relu_grad(x), leaky_relu_grad(x, 0.3),
        softmax_backward(dy, y, dim), log_softmax_backward(dy, log_y, dim), softmax_jacobian(vec),
    ]
    for a, k in zip(args, kept):
        np.testing.assert_array_equal(a, k)
    # Nor do they hand back one of their arguments (writing to the result must not reach them).
    for out in outputs:
        assert not any(np.shares_memory(out, a) for a in args)
        out[...] = 123.0
    for a, k in zip(args, kept):
        np.testing.assert_array_equal(a, k)


def test_integer_input_and_dtype():
    assert relu(np.array([-1, 2])).dtype == np.float64
    assert sigmoid(np.array([1.0], np.float32)).dtype == np.float32
    assert leaky_relu(np.array([-1.0], np.float32)).dtype == np.float32


@pytest.mark.parametrize(
    "call, err, match",
    [
        (lambda: relu("abc"), TypeError, "numeric"),
        (lambda: sigmoid(np.array(["a"])), TypeError, "dtype"),
        (lambda: tanh(np.array([1j])), TypeError, "real"),
        (lambda: softmax(np.ones(3), dim=1), ValueError, r"dim=1 is out of range for an array of shape \(3,\)"),
        (lambda: softmax(np.float64(2.0)), ValueError, "out of range"),
        (lambda: log_softmax(np.ones(3), dim=0.5), TypeError, "dim must be an int"),
        (lambda: softmax_backward(np.ones(3), np.ones(4)), ValueError, r"\(3,\) and \(4,\)"),
        (lambda: softmax_jacobian(np.ones((2, 2))), ValueError, r"\(K,\)"),
        (lambda: leaky_relu(np.ones(2), "0.1"), TypeError, "negative_slope"),
    ],
)
def test_errors(call, err, match):
    with pytest.raises(err, match=match):
        call()
