"""coursecnn.torch pooling against torch.nn.functional, coursecnn.ref and finite differences."""

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
OPS = [(ct.max_pool2d, F.max_pool2d, "max"), (ct.avg_pool2d, F.avg_pool2d, "avg")]


def close(a, b, tol=1e-12):
    torch.testing.assert_close(a, b, rtol=tol, atol=tol)


@st.composite
def pool_cases(draw):
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = None if draw(st.booleans()) else (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    size = tuple(max(1, k - 2 * p) + draw(st.integers(0, 5)) for k, p in zip(kernel, padding))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    x = torch.randn(draw(st.integers(1, 2)), draw(st.integers(1, 3)), *size, dtype=D, generator=g)
    return x, dict(kernel_size=kernel, stride=stride, padding=padding)


def run(f, x, kw):
    x = x.clone().requires_grad_()
    y = f(x, **kw)
    dy = torch.randn(y.shape, dtype=D, generator=torch.Generator().manual_seed(1))
    y.backward(dy)
    return y.detach(), x.grad, dy


@pytest.mark.parametrize(("mine", "theirs", "name"), OPS)
@settings(max_examples=40, deadline=None)
@given(case=pool_cases())
def test_pool_matches_torch_forward_and_backward(mine, theirs, name, case):
    x, kw = case
    ya, ga, _ = run(mine, x, kw)
    yb, gb, _ = run(theirs, x, kw)
    close(ya, yb)
    close(ga, gb)


@pytest.mark.parametrize(("mine", "theirs", "name"), OPS)
@settings(max_examples=20, deadline=None)
@given(case=pool_cases())
def test_pool_matches_ref(mine, theirs, name, case):
    x, kw = case
    y, dx, dy = run(mine, x, kw)
    forward = getattr(ref, f"{name}_pool2d")
    backward = getattr(ref, f"{name}_pool2d_backward")
    close(y, torch.from_numpy(forward(x.numpy(), **kw)))
    close(dx, torch.from_numpy(backward(dy.numpy(), x.numpy(), **kw)))


@pytest.mark.parametrize(("mine", "theirs", "name"), OPS)
def test_pool_by_finite_differences_and_gradcheck(mine, theirs, name):
    x = torch.randn(2, 2, 5, 6, dtype=D, generator=torch.Generator().manual_seed(3))
    kw = dict(kernel_size=3, stride=2, padding=1)
    xg = x.clone().requires_grad_()
    y = mine(xg, **kw)
    # dy in [1, 2]: every gradient entry is a sum of dy's entries (or dy/m), so none is tiny
    # and the round-off of the differences stays far below 1e-7 of each
    dy = 1 + torch.rand(y.shape, dtype=D, generator=torch.Generator().manual_seed(4))
    (dx,) = torch.autograd.grad(y, xg, dy)
    num = numerical_gradient(lambda a: float((mine(torch.from_numpy(a), **kw) * dy).sum()), x.numpy())
    assert relative_error(dx.numpy(), num) < 1e-7
    xg = x.clone().requires_grad_()
    assert torch.autograd.gradcheck(lambda t: mine(t, **kw), (xg,))
    assert torch.autograd.gradgradcheck(lambda t: mine(t, (2, 3), (1, 2)), (xg,))


def test_max_pool_switches_route_the_whole_gradient():
    x = torch.tensor([[[[1.0, 9.0, 2.0], [3.0, 4.0, 8.0], [7.0, 5.0, 6.0]]]], requires_grad=True)
    y = ct.max_pool2d(x, 2, stride=1)  # overlapping windows: 9 wins twice
    assert y.tolist() == [[[[9.0, 9.0], [7.0, 8.0]]]]
    y.backward(torch.tensor([[[[1.0, 10.0], [100.0, 1000.0]]]]))
    assert x.grad.tolist() == [[[[0.0, 11.0, 0.0], [0.0, 0.0, 1000.0], [100.0, 0.0, 0.0]]]]


def test_avg_pool_spreads_one_over_m_and_counts_padding():
    x = torch.ones(1, 1, 2, 2, requires_grad=True)
    y = ct.avg_pool2d(x, 2, stride=1, padding=1)
    assert y.tolist() == [[[[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]]]]
    y.sum().backward()
    assert x.grad.tolist() == [[[[1.0, 1.0], [1.0, 1.0]]]]  # each input sits in four windows, 1/4 each


def test_padding_never_wins_max():
    x = -torch.ones(1, 1, 3, 3)
    assert ct.max_pool2d(x, 2, stride=2, padding=1).max().item() == -1.0


def test_dtype_device_numpy_and_no_in_place():
    x = torch.randn(2, 3, 6, 6, requires_grad=True)
    kept = x.detach().clone()
    for f in (ct.max_pool2d, ct.avg_pool2d):
        y = f(x, 2)
        assert y.dtype == torch.float32 and y.device == x.device
        y.sum().backward()
    assert torch.equal(x.detach(), kept)
    a = np.arange(16.0).reshape(1, 1, 4, 4)
    assert ct.max_pool2d(a, 2).tolist() == [[[[5.0, 7.0], [13.0, 15.0]]]]
    assert np.array_equal(a, np.arange(16.0).reshape(1, 1, 4, 4))


@pytest.mark.parametrize("f", [ct.max_pool2d, ct.avg_pool2d])
def test_pool_errors(f):
    x = torch.randn(1, 2, 5, 5)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\).*\(2, 5, 5\)"):
        f(x[0], 2)
    with pytest.raises(ValueError, match="kernel_size must be positive.*got 0"):
        f(x, 0)
    with pytest.raises(ValueError, match="stride must be positive.*got 0"):
        f(x, 2, stride=(1, 0))
    with pytest.raises(ValueError, match="padding must be non-negative.*got -1"):
        f(x, 2, padding=-1)
    with pytest.raises(ValueError, match=r"padding 2 is more than half the window \(kernel_size 3\)"):
        f(x, 3, padding=2)
    with pytest.raises(ValueError, match="kernel_size 6 is larger than the padded input 5"):
        f(x, 6)
    with pytest.raises(TypeError, match="kernel_size must be an int"):
        f(x, "2")
    with pytest.raises(TypeError, match="numeric"):
        f([["a"]], 2)


def test_module_wrappers():
    x = torch.randn(2, 3, 7, 7)
    close(ct.MaxPool2d(3, stride=2, padding=1)(x), torch.nn.MaxPool2d(3, stride=2, padding=1)(x))
    close(ct.AvgPool2d(2)(x), torch.nn.AvgPool2d(2)(x), tol=1e-6)
    with pytest.raises(ValueError, match="ceil_mode=True"):
        ct.MaxPool2d(2, ceil_mode=True)
    with pytest.raises(ValueError, match="count_include_pad=False"):
        ct.AvgPool2d(2, count_include_pad=False)
