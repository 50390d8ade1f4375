import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from coursecnn.ref import losses, numerical_gradient, relative_error
from coursecnn.ref.activations import sigmoid, softmax
from coursecnn.ref.losses import (
    binary_cross_entropy,
    binary_cross_entropy_grad,
    cross_entropy,
    cross_entropy_grad,
    mse,
    mse_grad,
    one_hot,
    quadratic_loss,
    quadratic_loss_grad,
)

RNG = np.random.default_rng(0)
PRED = RNG.normal(size=(4, 3))
TRUE = RNG.normal(size=(4, 3))
LOGITS = RNG.normal(scale=2.0, size=(5, 4))
TARGET = np.array([0, 3, 1, 1, 2])
P = RNG.uniform(0.05, 0.95, size=(6,))
Y = np.array([0.0, 1.0, 1.0, 0.0, 0.3, 1.0])  # soft targets are allowed, as in PyTorch


def torch_loss_and_grad(f, x, *rest):
    t = torch.tensor(x, requires_grad=True)
    loss = f(t, *[torch.tensor(r) for r in rest])
    loss.backward()
    return loss.item(), t.grad.numpy()


def test_mse_matches_torch():
    loss, grad = torch_loss_and_grad(F.mse_loss, PRED, TRUE)
    assert mse(PRED, TRUE) == pytest.approx(loss, rel=1e-14)
    np.testing.assert_allclose(mse_grad(PRED, TRUE), grad, rtol=1e-14)


def test_binary_cross_entropy_matches_torch():
    loss, grad = torch_loss_and_grad(F.binary_cross_entropy, P, Y)
    assert binary_cross_entropy(P, Y) == pytest.approx(loss, rel=1e-14)
    np.testing.assert_allclose(binary_cross_entropy_grad(P, Y), grad, rtol=1e-12)
    # The clamped logs at the ends of [0, 1], as in PyTorch.
    ends = np.array([0.0, 1.0, 1.0])
    targets = np.array([1.0, 0.0, 1.0])
    assert binary_cross_entropy(ends, targets) == pytest.approx(
        F.binary_cross_entropy(torch.tensor(ends), torch.tensor(targets)).item()
    )


def test_cross_entropy_matches_torch():
    t = torch.tensor(LOGITS, requires_grad=True)
    loss = F.cross_entropy(t, torch.tensor(TARGET))
    loss.backward()
    assert cross_entropy(LOGITS, TARGET) == pytest.approx(loss.item(), rel=1e-14)
    np.testing.assert_allclose(cross_entropy_grad(LOGITS, TARGET), t.grad.numpy(), rtol=1e-12, atol=1e-16)
    # Huge logits stay finite (log-sum-exp).
    big = LOGITS * 1e4
    t = torch.tensor(big)
    assert cross_entropy(big, TARGET) == pytest.approx(F.cross_entropy(t, torch.tensor(TARGET)).item(), rel=1e-12)


@pytest.mark.parametrize(
    "loss, grad, a, b",
    [
        (mse, mse_grad, PRED, TRUE),
        (quadratic_loss, quadratic_loss_grad, PRED, TRUE),
        (binary_cross_entropy, binary_cross_entropy_grad, P, Y),
        (cross_entropy, cross_entropy_grad, LOGITS, TARGET),
    ],
)
def test_gradients_match_finite_differences(loss, grad, a, b):
    numeric = numerical_gradient(lambda v: loss(v, b), a)
    assert relative_error(grad(a, b), numeric) < 1e-7


def test_lecture_quadratic_loss_and_its_relation_to_mse():
    # J = 1/2 (y - y*)^2 with dJ/dy = y - y*.
    assert quadratic_loss(np.array([3.0]), np.array([1.0])) == 2.0
    np.testing.assert_array_equal(quadratic_loss_grad(np.array([3.0]), np.array([1.0])), [2.0])
    assert quadratic_loss(PRED, TRUE) == pytest.approx(PRED.size / 2 * mse(PRED, TRUE))


def test_lecture_cross_entropy_is_minus_the_log_likelihood():
    # The slide's J = y* log y + (1 - y*) log(1 - y) (a log-likelihood) and its dJ/dy.
    y, ystar = 0.8, 1.0
    loglik = ystar * np.log(y) + (1 - ystar) * np.log(1 - y)
    assert binary_cross_entropy(np.array([y]), np.array([ystar])) == pytest.approx(-loglik)
    slide_grad = ystar / y + (1 - ystar) / (y - 1)
    assert binary_cross_entropy_grad(np.array([y]), np.array([ystar]))[0] == pytest.approx(-slide_grad)


def test_sigmoid_then_bce_gives_p_minus_y():
    a = np.array([-1.5, 0.2, 2.0])
    y = np.array([0.0, 1.0, 1.0])
    p = sigmoid(a)
    da = binary_cross_entropy_grad(p, y) * p * (1 - p)
    np.testing.assert_allclose(da, (p - y) / 3, rtol=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(1, 5), st.integers(0, 2**16))
def test_cross_entropy_properties(n, c, seed):
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=3, size=(n, c))
    target = rng.integers(0, c, size=n)
    kept = logits.copy()
    g = cross_entropy_grad(logits, target)
    np.testing.assert_allclose(g, (softmax(logits, dim=1) - one_hot(target, c)) / n, atol=1e-15)
    np.testing.assert_allclose(g.sum(axis=1), 0.0, atol=1e-14)
    assert cross_entropy(logits, target) >= 0
    # Adding a constant to a row of logits changes nothing.
    assert cross_entropy(logits + rng.normal(size=(n, 1)), target) == pytest.approx(cross_entropy(logits, target))
    np.testing.assert_array_equal(logits, kept)


def test_one_hot():
    np.testing.assert_array_equal(one_hot([1, 0], 2), [[0, 1], [1, 0]])


@pytest.mark.parametrize(
    "call, err, match",
    [
        (lambda: mse(np.ones(3), np.ones(4)), ValueError, r"\(3,\) and \(4,\)"),
        (lambda: mse("a", "b"), TypeError, "numeric"),
        (lambda: mse(np.ones(0), np.ones(0)), ValueError, "empty"),
        (lambda: binary_cross_entropy(np.array([1.2]), np.array([1.0])), ValueError, r"\[0, 1\], got 1.2"),
        (lambda: binary_cross_entropy(np.array([0.2]), np.array([2.0])), ValueError, "got 2.0"),
        (lambda: cross_entropy(np.ones(3), np.array([0])), ValueError, r"\(N, C\).*\(3,\)"),
        (lambda: cross_entropy(np.ones((2, 3)), np.array([0.0, 1.0])), TypeError, "integer class indices"),
        (lambda: cross_entropy(np.ones((2, 3)), np.array([0, 3])), ValueError, r"\[0, 3\), got 3"),
        (lambda: cross_entropy_grad(np.ones((2, 3)), np.array([0])), ValueError, r"shape \(N,\) = \(2,\)"),
        (lambda: one_hot([0, 1], 0), ValueError, "num_classes"),
        (lambda: cross_entropy(np.ones((0, 3)), np.zeros(0, dtype=int)), ValueError, r"^cross_entropy: the batch is empty"),
        (lambda: cross_entropy_grad(np.ones((0, 3)), np.zeros(0, dtype=int)), ValueError, r"^cross_entropy_grad: the batch is empty"),
        (lambda: one_hot(np.array([[0, 1], [1, 0]]), 2), ValueError, r"one_hot expects target of shape \(N,\), got shape \(2, 2\)"),
        (lambda: one_hot(1, 2), ValueError, r"one_hot expects target of shape \(N,\), got shape \(\)"),
        (lambda: one_hot(np.array([0.0, 1.0]), 2), TypeError, r"one_hot: target must hold integer class indices, got dtype float64"),
        (lambda: one_hot(np.array([0, 2]), 2), ValueError, r"one_hot: target class indices must be in \[0, 2\), got 2"),
    ],
)
def test_errors(call, err, match):
    with pytest.raises(err, match=match):
        call()


def test_arguments_not_modified():
    a, b, lg, t = PRED.copy(), TRUE.copy(), LOGITS.copy(), TARGET.copy()
    for f in (mse, mse_grad, quadratic_loss, quadratic_loss_grad):
        f(a, b)
    cross_entropy(lg, t)
    cross_entropy_grad(lg, t)
    one_hot(t, 4)
    p, y = P.copy(), Y.copy()
    binary_cross_entropy(p, y)
    binary_cross_entropy_grad(p, y)
    for x, kept in ((a, PRED), (b, TRUE), (lg, LOGITS), (t, TARGET), (p, P), (y, Y)):
        np.testing.assert_array_equal(x, kept)


def test_quadratic_loss_and_gradient_match_torch():
    """The lecture's quadratic loss is half of torch's summed squared error."""
    rng = np.random.default_rng(11)
    y_pred, y_true = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    t = torch.tensor(y_pred, requires_grad=True)
    loss = 0.5 * F.mse_loss(t, torch.from_numpy(y_true), reduction="sum")
    loss.backward()
    assert quadratic_loss(y_pred, y_true) == pytest.approx(loss.item(), rel=1e-14)
    np.testing.assert_allclose(quadratic_loss_grad(y_pred, y_true), t.grad.numpy(), rtol=1e-14)
