"""coursecnn.ref.regularization: penalties, their gradients, and torch's weight_decay."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from coursecnn.ref import SGD, l1_grad, l1_penalty, l2_grad, l2_penalty, numerical_gradient, relative_error

RNG = np.random.default_rng(7)


def test_values():
    w = [np.array([1.0, -2.0]), np.array([[3.0, 0.0]])]
    assert l1_penalty(w, 0.5) == pytest.approx(3.0)
    assert l2_penalty(w, 0.5) == pytest.approx(0.5 / 2 * 14.0)
    assert l2_penalty(np.array([3.0, 4.0]), 2.0) == pytest.approx(25.0)
    assert l1_penalty(w, 0.0) == 0.0
    assert isinstance(l2_penalty(w, 1.0), float)


@pytest.mark.parametrize("pen, grad", [(l1_penalty, l1_grad), (l2_penalty, l2_grad)], ids=["l1", "l2"])
def test_gradients_match_finite_differences(pen, grad):
    w = RNG.standard_normal((3, 4))
    w = np.where(np.abs(w) < 0.05, 0.5, w)  # away from |w|'s kink at 0
    lam = 0.3
    assert relative_error(grad(w, lam), numerical_gradient(lambda v: pen(v, lam), w)) < 1e-7


def test_list_input_gives_a_list_of_gradients():
    ws = [RNG.standard_normal((2, 3)), RNG.standard_normal(4)]
    gs = l2_grad(ws, 0.1)
    assert isinstance(gs, list) and [g.shape for g in gs] == [(2, 3), (4,)]
    np.testing.assert_allclose(gs[1], 0.1 * ws[1])
    g1 = l1_grad(ws, 0.1)
    np.testing.assert_allclose(g1[0], 0.1 * np.sign(ws[0]))


def test_l1_subgradient_is_zero_at_zero():
    np.testing.assert_array_equal(l1_grad(np.array([0.0, 2.0, -1.0]), 1.0), [0.0, 1.0, -1.0])


def test_l2_grad_is_what_torch_weight_decay_adds():
    """SGD on loss + l2_penalty(w, lam) == torch.optim.SGD(weight_decay=lam) on the loss alone."""
    lam, lr = 0.2, 0.1
    w, g = np.array([1.0, -2.0, 0.5]), np.zeros(3)
    opt = SGD([(w, g)], lr=lr)
    wt = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64, requires_grad=True)
    topt = torch.optim.SGD([wt], lr=lr, weight_decay=lam)
    for _ in range(10):
        g[...] = 2 * (w - 1.0) + l2_grad(w, lam)  # gradient of sum (w - 1)^2 + lam/2 |w|^2
        opt.step()
        topt.zero_grad()
        ((wt - 1.0) ** 2).sum().backward()
        topt.step()
    np.testing.assert_allclose(w, wt.detach().numpy(), rtol=1e-12)


def test_inputs_are_not_modified():
    w = RNG.standard_normal((2, 2))
    kept = w.copy()
    for f in (l1_penalty, l2_penalty, l1_grad, l2_grad):
        f(w, 0.5)
        f([w], 0.5)
    np.testing.assert_array_equal(w, kept)
    assert l2_grad(w, 1.0) is not w


@settings(max_examples=30, deadline=None)
@given(
    values=st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=8),
    lam=st.floats(0.0, 10.0),
)
def test_penalties_are_non_negative_and_scale_with_lam(values, lam):
    w = np.array(values)
    assert l1_penalty(w, lam) >= 0 and l2_penalty(w, lam) >= 0
    assert l1_penalty(w, 2 * lam) == pytest.approx(2 * l1_penalty(w, lam))
    # The L2 gradient points along w and its inner product with w is twice the penalty.
    assert float(np.sum(l2_grad(w, lam) * w)) == pytest.approx(2 * l2_penalty(w, lam))


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: l1_penalty(np.ones(2), -0.1), ValueError, "lam must be non-negative, got -0.1"),
        (lambda: l2_penalty(np.ones(2), "0.1"), TypeError, "lam must be"),
        (lambda: l2_grad("weights", 0.1), TypeError, "numeric"),
        (lambda: l1_grad([[1.0], [1.0, 2.0]], 0.1), ValueError, "numeric array"),
    ],
)
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_l1_penalty_and_gradient_match_torch_autograd():
    """lam * sum|w| and its gradient as torch's autograd computes them (sign(0) = 0 in both)."""
    ws = [RNG.normal(size=(3, 4)), np.array([0.0, -2.0, 1.5])]
    ts = [torch.tensor(w, requires_grad=True) for w in ws]
    total = 0.05 * sum(t.abs().sum() for t in ts)
    total.backward()
    assert l1_penalty(ws, 0.05) == pytest.approx(total.item(), rel=1e-14)
    for g, t in zip(l1_grad(ws, 0.05), ts):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-15)
