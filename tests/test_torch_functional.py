"""coursecnn.torch linear, relu and cross_entropy against torch, coursecnn.ref and finite differences."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import coursecnn.ref as ref
import coursecnn.torch as ct
from coursecnn.ref import numerical_gradient, relative_error

D = torch.float64


def close(a, b, tol=1e-12):
    torch.testing.assert_close(a, b, rtol=tol, atol=tol)


def backprop(f, *tensors):
    leaves = [t.clone().requires_grad_() if t is not None else None for t in tensors]
    y = f(*leaves)
    dy = torch.randn(y.shape, dtype=D, generator=torch.Generator().manual_seed(7))
    y.backward(dy)
    return y.detach(), [t.grad if t is not None else None for t in leaves], dy


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 5), st.integers(1, 6), st.integers(1, 6), st.booleans(), st.booleans(), st.integers(0, 999))
def test_linear_matches_torch(n, fin, fout, with_bias, three_d, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn((2, n, fin) if three_d else (n, fin), dtype=D, generator=g)
    w = torch.randn(fout, fin, dtype=D, generator=g)
    b = torch.randn(fout, dtype=D, generator=g) if with_bias else None
    ya, ga, _ = backprop(ct.linear, x, w, b)
    yb, gb, _ = backprop(F.linear, x, w, b)
    close(ya, yb)
    for a, c in zip(ga, gb):
        assert (a is None) == (c is None)
        if a is not None:
            close(a, c)


def test_linear_backward_is_the_books_formula():
    g = torch.Generator().manual_seed(0)
    x, w, b = torch.randn(4, 3, dtype=D, generator=g), torch.randn(2, 3, dtype=D, generator=g), torch.randn(2, dtype=D, generator=g)
    _, (dx, dw, db), dy = backprop(ct.linear, x, w, b)
    close(dx, dy @ w)
    close(dw, dy.T @ x)
    close(db, dy.sum(0))
    layer = ref.Linear(3, 2)
    layer.params["weight"], layer.params["bias"] = w.numpy().copy(), b.numpy().copy()
    close(torch.from_numpy(layer.forward(x.numpy())), x @ w.T + b)
    close(torch.from_numpy(layer.backward(dy.numpy())), dx)
    close(torch.from_numpy(layer.grads["weight"]), dw)
    close(torch.from_numpy(layer.grads["bias"]), db)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-5, 5), min_size=1, max_size=12))
def test_relu_matches_torch_and_ref(values):
    x = torch.tensor(values, dtype=D)
    ya, (ga,), dy = backprop(ct.relu, x)
    yb, (gb,), _ = backprop(torch.relu, x)
    close(ya, yb)
    close(ga, gb)
    close(ya, torch.from_numpy(np.asarray(ref.relu(x.numpy()), dtype=np.float64)))
    close(ga, dy * torch.from_numpy(np.asarray(ref.relu_grad(x.numpy()), dtype=np.float64)))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(1, 6), st.floats(0.1, 50), st.integers(0, 999))
def test_cross_entropy_matches_torch_and_ref(n, c, scale, seed):
    g = torch.Generator().manual_seed(seed)
    z = scale * torch.randn(n, c, dtype=D, generator=g)
    t = torch.randint(0, c, (n,), generator=g)
    za = z.clone().requires_grad_()
    zb = z.clone().requires_grad_()
    la, lb = ct.cross_entropy(za, t), F.cross_entropy(zb, t)
    close(la, lb, tol=1e-10)
    la.backward()
    lb.backward()
    close(za.grad, zb.grad)
    assert abs(la.item() - ref.cross_entropy(z.numpy(), t.numpy())) < 1e-10
    close(za.grad, torch.from_numpy(ref.cross_entropy_grad(z.numpy(), t.numpy())))
    close(za.grad, (torch.softmax(z, 1) - F.one_hot(t, c).to(D)) / n)


def test_cross_entropy_is_stable_for_huge_scores():
    z = torch.tensor([[1000.0, 0.0], [0.0, -1000.0]], dtype=D, requires_grad=True)
    loss = ct.cross_entropy(z, torch.tensor([1, 0]))
    assert torch.isfinite(loss) and abs(loss.item() - 500.0) < 1e-9
    loss.backward()
    assert torch.isfinite(z.grad).all()


def test_finite_differences_and_gradcheck():
    g = torch.Generator().manual_seed(1)
    x, w, b = torch.randn(3, 4, dtype=D, generator=g), torch.randn(5, 4, dtype=D, generator=g), torch.randn(5, dtype=D, generator=g)
    t = torch.tensor([0, 4, 2])
    # the whole small network at once: linear -> relu -> cross_entropy
    net = lambda x, w, b: ct.cross_entropy(ct.relu(ct.linear(x, w, b)), t)  # noqa: E731
    leaves = [v.clone().requires_grad_() for v in (x, w, b)]
    net(*leaves).backward()
    for i, leaf in enumerate(leaves):
        def f(a, i=i):
            args = [x, w, b]
            args[i] = torch.from_numpy(a)
            return float(net(*args))

        num = numerical_gradient(f, [x, w, b][i].numpy())
        assert relative_error(leaf.grad.numpy(), num) < 1e-7
    inputs = tuple(v.clone().requires_grad_() for v in (x, w, b))
    assert torch.autograd.gradcheck(ct.linear, inputs)
    assert torch.autograd.gradgradcheck(ct.linear, inputs)
    assert torch.autograd.gradcheck(ct.relu, (x.clone().requires_grad_(),))
    zc = x.clone().requires_grad_()
    assert torch.autograd.gradcheck(lambda z: ct.cross_entropy(z, torch.tensor([0, 3, 1])), (zc,))
    assert torch.autograd.gradgradcheck(lambda z: ct.cross_entropy(z, torch.tensor([0, 3, 1])), (zc,))


def test_no_in_place_and_dtypes():
    x = torch.randn(3, 4, requires_grad=True)
    w = torch.randn(2, 4, requires_grad=True)
    kept = x.detach().clone(), w.detach().clone()
    y = ct.relu(ct.linear(x, w))
    assert y.dtype == torch.float32
    ct.cross_entropy(y, torch.tensor([0, 1, 1])).backward()
    assert torch.equal(x.detach(), kept[0]) and torch.equal(w.detach(), kept[1])
    a = np.array([-1.0, 2.0])
    assert ct.relu(a).tolist() == [0.0, 2.0] and a.tolist() == [-1.0, 2.0]
    assert ct.cross_entropy(np.zeros((2, 3)), np.array([0, 2])).dtype == D


def test_errors():
    with pytest.raises(ValueError, match="x has 3 features.*w expects 4"):
        ct.linear(torch.randn(2, 3), torch.randn(5, 4))
    with pytest.raises(ValueError, match=r"\(out_features, in_features\)"):
        ct.linear(torch.randn(2, 3), torch.randn(3))
    with pytest.raises(ValueError, match=r"one entry per output \(5\)"):
        ct.linear(torch.randn(2, 4), torch.randn(5, 4), torch.randn(4))
    with pytest.raises(TypeError, match="float64.*float32"):
        ct.linear(torch.randn(2, 4), torch.randn(5, 4, dtype=D))
    with pytest.raises(TypeError, match="numeric"):
        ct.relu("x")
    with pytest.raises(ValueError, match=r"logits must have 2 dimensions \(N, C\)"):
        ct.cross_entropy(torch.randn(3), torch.tensor([0]))
    with pytest.raises(ValueError, match=r"target must have shape \(N,\) = \(2,\)"):
        ct.cross_entropy(torch.randn(2, 3), torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="target holds class 3, but the classes are 0 to 2"):
        ct.cross_entropy(torch.randn(2, 3), torch.tensor([0, 3]))
    with pytest.raises(ValueError, match="target holds class -1"):
        ct.cross_entropy(torch.randn(2, 3), torch.tensor([-1, 0]))
    with pytest.raises(TypeError, match="integer class indices.*float"):
        ct.cross_entropy(torch.randn(2, 3), torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="inplace"):
        ct.ReLU(inplace=True)


def test_module_wrappers():
    torch.manual_seed(0)
    mine, theirs = ct.Linear(4, 3), torch.nn.Linear(4, 3)
    mine.load_state_dict(theirs.state_dict())
    x = torch.randn(5, 4)
    close(mine(x), theirs(x), tol=1e-6)
    close(ct.ReLU()(x), torch.relu(x))
    t = torch.tensor([0, 1, 2, 0, 1])
    close(ct.CrossEntropyLoss()(mine(x), t), torch.nn.CrossEntropyLoss()(theirs(x), t), tol=1e-6)


# --- non-float input and zero-size kernels (conv ops live in test_torch_conv.py; these checks
# --- are shared through coursecnn.torch._tensors) -------------------------------------------


@pytest.mark.parametrize(
    "op, x, w",
    [
        (ct.conv2d, torch.arange(75).reshape(1, 3, 5, 5), torch.randn(4, 3, 3, 3)),
        (ct.conv1d, torch.arange(15).reshape(1, 3, 5), torch.randn(4, 3, 2)),
        (ct.conv_transpose2d, torch.arange(27).reshape(1, 3, 3, 3), torch.randn(3, 2, 2, 2)),
        (ct.linear, torch.arange(6).reshape(2, 3), torch.randn(4, 3)),
    ],
)
def test_integer_or_plain_input_takes_the_weights_dtype(op, x, w):
    expected = op(x.float(), w)
    for given_x in (x, x.numpy(), x.tolist(), x.double().numpy()):
        y = op(given_x, w)
        assert y.dtype == torch.float32 == w.dtype
        close(y, expected, tol=1e-5)
    # float64 weights: an integer tensor becomes float64, as in coursecnn.ref
    assert op(x, w.double()).dtype == torch.float64
    # weights given as a list take the input's dtype
    assert op(x.float(), w.tolist()).dtype == torch.float32
    # two integer inputs: both float64
    assert op(x, w.round().long()).dtype == torch.float64
    kept = x.clone()
    op(x, w)
    assert torch.equal(x, kept) and x.dtype == torch.int64  # not modified, not converted in place


def test_bias_as_a_list_takes_the_inputs_dtype():
    x, w = torch.randn(1, 3, 5, 5), torch.randn(4, 3, 3, 3)
    close(ct.conv2d(x, w, [1, 2, 3, 4]), ct.conv2d(x, w, torch.tensor([1.0, 2.0, 3.0, 4.0])))
    assert ct.linear(torch.randn(2, 3), torch.randn(4, 3), [0, 0, 0, 0]).dtype == torch.float32


def test_two_float_tensors_must_still_agree():
    x, w = torch.randn(1, 3, 5, 5), torch.randn(4, 3, 3, 3)
    with pytest.raises(TypeError, match=r": w is torch\.float32 on cpu but x is torch\.float64 on cpu; .*e\.g\. x\.to\(w\)"):
        ct.conv2d(x.double(), w)
    with pytest.raises(TypeError, match=r": b is torch\.float64 on cpu but x is torch\.float32 on cpu"):
        ct.conv2d(x, w, torch.zeros(4, dtype=D))
    with pytest.raises(TypeError, match=r": w is torch\.float32 on cpu but x is torch\.float64 on cpu"):
        ct.linear(torch.randn(2, 3, dtype=D), torch.randn(4, 3))


@pytest.mark.parametrize(
    "call, shape",
    [
        (lambda: ct.conv2d(torch.randn(1, 3, 5, 5), torch.randn(4, 3, 0, 3)), r"\(4, 3, 0, 3\)"),
        (lambda: ct.conv2d(torch.randn(1, 3, 5, 5), torch.randn(4, 3, 3, 0), padding=1), r"\(4, 3, 3, 0\)"),
        (lambda: ct.conv1d(torch.randn(1, 3, 5), torch.randn(4, 3, 0)), r"\(4, 3, 0\)"),
        (lambda: ct.conv_transpose2d(torch.randn(1, 3, 5, 5), torch.randn(3, 4, 0, 2)), r"\(3, 4, 0, 2\)"),
    ],
)
def test_zero_size_kernels_are_refused(call, shape):
    with pytest.raises(ValueError, match=rf": the kernel must be at least 1 wide on every axis, got w of shape {shape}$"):
        call()


@pytest.mark.parametrize(
    "make, bad",
    [
        (lambda: ct.Conv2d(3, 4, 0), 0),
        (lambda: ct.Conv2d(3, 4, kernel_size=(3, 0)), 0),
        (lambda: ct.Conv2d(3, 4, -2), -2),
        (lambda: ct.Conv1d(3, 4, 0), 0),
        (lambda: ct.ConvTranspose2d(3, 4, (0, 2), stride=2), 0),
    ],
)
def test_conv_modules_refuse_a_zero_kernel_size(make, bad):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # refused before torch.nn warns about a zero-size weight
        with pytest.raises(ValueError, match=rf"^kernel_size must be positive \(1 or more\), got {bad}$"):
            make()


def test_conv_modules_still_build_as_torch_nn_does():
    assert ct.Conv2d(in_channels=3, out_channels=4, kernel_size=(1, 3)).weight.shape == (4, 3, 1, 3)
    assert ct.Conv1d(3, 4, 2).weight.shape == (4, 3, 2)
    assert ct.ConvTranspose2d(3, 4, 2, stride=2).weight.shape == (3, 4, 2, 2)
    with pytest.raises(TypeError, match="kernel_size"):
        ct.Conv2d(3, 4)  # torch.nn's own message for a missing argument
    with pytest.raises(TypeError, match=r"kernel_size must be an int or a tuple of 2 ints, got 2\.5"):
        ct.Conv2d(3, 4, 2.5)


# --- CrossEntropyLoss ------------------------------------------------------------------------


def test_cross_entropy_loss_is_a_torch_cross_entropy_loss():
    loss = ct.CrossEntropyLoss()
    assert isinstance(loss, torch.nn.CrossEntropyLoss)
    assert loss.reduction == "mean" and loss.weight is None and loss.label_smoothing == 0.0
    assert loss.state_dict() == torch.nn.CrossEntropyLoss().state_dict() == {}
    loss.load_state_dict(torch.nn.CrossEntropyLoss().state_dict())
    z = torch.randn(5, 4, dtype=D, requires_grad=True)
    t = torch.tensor([0, 3, 1, 2, 3])
    close(loss(z, t), torch.nn.CrossEntropyLoss()(z, t))
    # explicitly given defaults are fine
    ct.CrossEntropyLoss(weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0)


@pytest.mark.parametrize(
    "kwargs, named",
    [
        ({"label_smoothing": 0.1}, r"label_smoothing=0\.1"),
        ({"weight": torch.ones(10)}, r"weight=<tensor of shape \(10,\)>"),
        ({"reduction": "sum"}, r"reduction='sum'"),
        ({"reduction": "none"}, r"reduction='none'"),
        ({"ignore_index": 3}, r"ignore_index=3"),
        ({"reduction": "none", "label_smoothing": 0.2}, r"reduction='none', label_smoothing=0\.2"),
    ],
)
def test_cross_entropy_loss_refuses_other_options(kwargs, named):
    with pytest.raises(
        ValueError,
        match=rf"^coursecnn\.torch\.CrossEntropyLoss supports the defaults only \(the mean over the batch, no weight, ignore_index or label_smoothing\), got {named}$",
    ):
        ct.CrossEntropyLoss(**kwargs)
