"""coursecnn.ref.optim: the same trajectories as torch.optim, state handling, errors."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from coursecnn.ref import Adam, Linear, RMSProp, SGD, Sequential, ReLU
from coursecnn.ref.optim import Optimizer

# An ill-conditioned quadratic f(w) = 1/2 w^T A w - b^T w, gradient A w - b.
A = np.array([[3.0, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 0.1]])
B = np.array([1.0, -2.0, 0.5])
W0 = np.array([2.0, -1.0, 3.0])


def numpy_trajectory(make, steps=20):
    w, g = W0.copy(), np.zeros(3)
    opt = make([(w, g)])
    path = []
    for _ in range(steps):
        opt.zero_grad()
        g += A @ w - B
        opt.step()
        path.append(w.copy())
    return np.array(path)


def torch_trajectory(make, steps=20):
    w = torch.tensor(W0, dtype=torch.float64, requires_grad=True)
    opt = make([w])
    a, b = torch.from_numpy(A), torch.from_numpy(B)
    path = []
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * w @ a @ w - b @ w).backward()
        opt.step()
        path.append(w.detach().numpy().copy())
    return np.array(path)


CASES = [
    ("sgd", lambda p: SGD(p, lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    ("momentum", lambda p: SGD(p, lr=0.05, momentum=0.9), lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
    (
        "momentum-dampening-decay",
        lambda p: SGD(p, lr=0.05, momentum=0.8, dampening=0.8, weight_decay=0.01),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, dampening=0.8, weight_decay=0.01),
    ),
    (
        "nesterov",
        lambda p: SGD(p, lr=0.05, momentum=0.9, nesterov=True),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    ),
    ("rmsprop", lambda p: RMSProp(p), lambda p: torch.optim.RMSprop(p)),
    (
        "rmsprop-options",
        lambda p: RMSProp(p, lr=0.03, alpha=0.9, eps=1e-6, weight_decay=0.1),
        lambda p: torch.optim.RMSprop(p, lr=0.03, alpha=0.9, eps=1e-6, weight_decay=0.1),
    ),
    ("adam", lambda p: Adam(p), lambda p: torch.optim.Adam(p)),
    (
        "adam-options",
        lambda p: Adam(p, lr=0.1, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05),
        lambda p: torch.optim.Adam(p, lr=0.1, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05),
    ),
]


@pytest.mark.parametrize("name, ours, theirs", CASES, ids=[c[0] for c in CASES])
def test_same_trajectory_as_torch_optim(name, ours, theirs):
    mine = numpy_trajectory(ours)
    ref = torch_trajectory(theirs)
    np.testing.assert_allclose(mine, ref, rtol=1e-10, atol=1e-10)
    assert not np.allclose(mine[-1], W0)  # it moved


@st.composite
def optimizer_setups(draw):
    """One optimizer with drawn hyperparameters, as (ours, torch's) constructors."""
    kind = draw(st.sampled_from(["sgd", "rmsprop", "adam"]))
    lr = draw(st.floats(1e-3, 0.2))
    decay = draw(st.sampled_from([0.0, 0.01, 0.1]))
    if kind == "sgd":
        momentum = draw(st.sampled_from([0.0, 0.5, 0.9]))
        nesterov = momentum > 0 and draw(st.booleans())
        dampening = 0.0 if nesterov else draw(st.sampled_from([0.0, 0.3]))
        kw = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=decay, nesterov=nesterov)
        return kw, (lambda p: SGD(p, **kw)), (lambda p: torch.optim.SGD(p, **kw))
    eps = draw(st.sampled_from([1e-8, 1e-6, 1e-3]))
    if kind == "rmsprop":
        kw = dict(lr=lr, alpha=draw(st.floats(0.5, 0.999)), eps=eps, weight_decay=decay)
        return kw, (lambda p: RMSProp(p, **kw)), (lambda p: torch.optim.RMSprop(p, **kw))
    kw = dict(lr=lr, betas=(draw(st.floats(0.0, 0.95)), draw(st.floats(0.9, 0.9999))), eps=eps, weight_decay=decay)
    return kw, (lambda p: Adam(p, **kw)), (lambda p: torch.optim.Adam(p, **kw))


@settings(max_examples=40, deadline=None)
@given(optimizer_setups(), st.integers(1, 4), st.integers(0, 2**16))
def test_same_steps_as_torch_optim_for_any_hyperparameters(setup, n, seed):
    kw, ours, theirs = setup
    rng = np.random.default_rng(seed)
    w0 = rng.normal(size=(n, 3))
    grads = rng.normal(size=(6, n, 3))  # the same gradients fed to both, step by step
    w, g = w0.copy(), np.zeros_like(w0)
    mine = ours([(w, g)])
    t = torch.tensor(w0, requires_grad=True)
    theirs = theirs([t])
    for step_grad in grads:
        g[...] = step_grad
        t.grad = torch.from_numpy(step_grad.copy())
        mine.step()
        theirs.step()
        np.testing.assert_allclose(w, t.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=str(kw))
    assert not np.array_equal(w, w0)


def test_defaults_match_torch():
    w, g = np.zeros(1), np.zeros(1)
    t = [torch.zeros(1, requires_grad=True)]
    assert RMSProp([(w, g)]).lr == torch.optim.RMSprop(t).defaults["lr"]
    assert RMSProp([(w, g)]).alpha == torch.optim.RMSprop(t).defaults["alpha"]
    adam, tadam = Adam([(w, g)]), torch.optim.Adam(t).defaults
    assert adam.lr == tadam["lr"] and adam.betas == tuple(tadam["betas"]) and adam.eps == tadam["eps"]


def test_sgd_converges_on_the_quadratic():
    path = numpy_trajectory(lambda p: SGD(p, lr=0.3, momentum=0.9), steps=300)
    np.testing.assert_allclose(path[-1], np.linalg.solve(A, B), atol=1e-6)


def test_optimizer_updates_a_model_in_place_and_zero_grad_reaches_it():
    model = Sequential(Linear(3, 4, rng=0), ReLU(), Linear(4, 2, rng=1))
    weight = model[0].params["weight"]
    before = weight.copy()
    opt = SGD(model, lr=0.5)  # a model or model.parameters() both work
    x = np.random.default_rng(0).standard_normal((5, 3))
    model.forward(x)
    model.backward(np.ones((5, 2)))
    grad = model[0].grads["weight"].copy()
    assert grad.any()
    opt.step()
    assert model[0].params["weight"] is weight  # the same array, updated
    np.testing.assert_allclose(weight, before - 0.5 * grad)
    opt.zero_grad()
    assert not any(g.any() for _, g in model.parameters())


def test_a_list_of_layers_is_accepted():
    first, second = Linear(2, 3, rng=0), Linear(3, 1, rng=1)
    opt = SGD([first, second], lr=0.1)
    assert len(opt.pairs) == 4
    assert opt.pairs[0][0] is first.params["weight"] and opt.pairs[3][1] is second.grads["bias"]


def test_step_leaves_gradients_alone():
    w, g = np.ones(2), np.array([1.0, -1.0])
    for make in (lambda p: SGD(p, lr=0.1, momentum=0.9, weight_decay=0.1), RMSProp, Adam):
        g0 = g.copy()
        make([(w, g)]).step()
        np.testing.assert_array_equal(g, g0)


def test_each_parameter_keeps_its_own_state():
    w1, g1 = np.zeros(2), np.ones(2)
    w2, g2 = np.zeros(3), -np.ones(3)
    opt = Adam([(w1, g1), (w2, g2)], lr=0.1)
    opt.step()
    np.testing.assert_allclose(w1, -0.1)
    np.testing.assert_allclose(w2, 0.1)
    assert opt.state[0]["t"] == 1 and opt.state[0]["m"].shape == (2,)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: SGD([], lr=0.1), ValueError, "empty"),
        (lambda: SGD([np.ones(2)], lr=0.1), TypeError, r"\(param, grad\) pairs"),
        (lambda: SGD([(np.ones(2), np.ones(3))], lr=0.1), ValueError, r"\(2,\).*\(3,\)"),
        (lambda: SGD([([1.0], [1.0])], lr=0.1), TypeError, "NumPy arrays"),
        (lambda: SGD([(np.ones(2, dtype=int), np.ones(2, dtype=int))], lr=0.1), TypeError, "float"),
        (lambda: SGD([(np.ones(2), np.ones(2))], lr=0.0), ValueError, r"lr must be in \(0.0, inf\), got 0.0"),
        (lambda: SGD([(np.ones(2), np.ones(2))], lr=-1), ValueError, "got -1"),
        (lambda: SGD([(np.ones(2), np.ones(2))], lr="big"), TypeError, "lr must be a number"),
        (lambda: SGD([(np.ones(2), np.ones(2))], lr=0.1, momentum=-0.5), ValueError, "momentum"),
        (lambda: SGD([(np.ones(2), np.ones(2))], lr=0.1, nesterov=True), ValueError, "Nesterov"),
        (lambda: RMSProp([(np.ones(2), np.ones(2))], alpha=1.0), ValueError, r"alpha must be in \[0.0, 1.0\)"),
        (lambda: Adam([(np.ones(2), np.ones(2))], betas=(0.9,)), TypeError, "betas"),
        (lambda: Adam([(np.ones(2), np.ones(2))], betas=(0.9, 1.5)), ValueError, r"betas\[1\]"),
    ],
)
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_base_class_is_exported_for_readers():
    assert issubclass(Adam, Optimizer) and issubclass(SGD, Optimizer)
