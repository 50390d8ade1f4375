"""coursecnn.ref convolution backward passes: torch autograd parity (float64), the loops, finite
differences at every index, the flipped-filter identity, errors, no in-place changes."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st

from coursecnn.ref import (
    conv1d,
    conv1d_backward,
    conv2d,
    conv2d_backward,
    conv2d_backward_naive,
    conv3d,
    conv3d_backward,
    conv_transpose2d,
    numerical_gradient,
    relative_error,
)
from test_ref_conv import conv_case, torch_conv

TORCH_FN = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
BACKWARD = {1: conv1d_backward, 2: conv2d_backward, 3: conv3d_backward}


def torch_grads(nd, x, w, b, dy, stride, padding, dilation, groups, mode):
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    bt = torch.tensor(b if b is not None else np.zeros(w.shape[0]), requires_grad=True)
    pads = padding
    xin = xt
    if mode != "zeros" and any(padding):
        xin = F.pad(xt, tuple(p for q in reversed(padding) for p in (q, q)), mode=mode)
        pads = 0
    y = TORCH_FN[nd](xin, wt, bt, stride=stride, padding=pads, dilation=dilation, groups=groups)
    y.backward(torch.tensor(dy))
    return xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()


def check_against_torch(nd, case, seed, backward=None):
    """``backward`` (default: ``coursecnn.ref``'s for ``nd`` axes) against torch's autograd."""
    x, w, b, stride, padding, dilation, groups, mode = case
    out_shape = torch_conv(TORCH_FN[nd], x, w, b, stride, padding, dilation, groups, mode, nd).shape
    dy = np.random.default_rng(seed).normal(size=out_shape)
    dx, dw, db = (backward or BACKWARD[nd])(dy, x, w, stride, padding, dilation, groups, mode)
    tx, tw, tb = torch_grads(nd, x, w, b, dy, stride, padding, dilation, groups, mode)
    for got, want in ((dx, tx), (dw, tw), (db, tb)):
        assert got.shape == want.shape and got.dtype == np.float64
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-11)
    return dy, (dx, dw, db)


@settings(max_examples=40, deadline=None)
@given(case=conv_case(nd=2), seed=st.integers(0, 1000))
def test_conv2d_backward_matches_torch(case, seed):
    check_against_torch(2, case, seed)


@settings(max_examples=20, deadline=None)
@given(case=conv_case(nd=1, max_size=9), seed=st.integers(0, 1000))
def test_conv1d_backward_matches_torch(case, seed):
    check_against_torch(1, case, seed)


@settings(max_examples=15, deadline=None)
@given(case=conv_case(nd=3, max_size=5), seed=st.integers(0, 1000))
def test_conv3d_backward_matches_torch(case, seed):
    check_against_torch(3, case, seed)


@settings(max_examples=15, deadline=None)
@given(case=conv_case(nd=2, max_size=5), seed=st.integers(0, 1000))
def test_naive_backward_equals_fast(case, seed):
    x, w, b, stride, padding, dilation, groups, mode = case
    dy, fast = check_against_torch(2, case, seed)
    naive = conv2d_backward_naive(dy, x, w, stride, padding, dilation, groups, mode)
    for a, c in zip(naive, fast):
        np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-12)


def test_depthwise_backward_matches_torch():
    rng = np.random.default_rng(7)
    x, w, b = rng.normal(size=(2, 4, 7, 7)), rng.normal(size=(8, 1, 3, 3)), rng.normal(size=8)
    dy = rng.normal(size=(2, 8, 4, 4))
    got = conv2d_backward(dy, x, w, stride=2, padding=1, groups=4)
    want = torch_grads(2, x, w, b, dy, (2, 2), (1, 1), (1, 1), 4, "zeros")
    for a, c in zip(got, want):
        np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------- finite differences, every index

@pytest.mark.parametrize(
    "kwargs, mode",
    [
        (dict(stride=1, padding=0, dilation=1, groups=1), "zeros"),
        (dict(stride=2, padding=1, dilation=1, groups=1), "zeros"),  # 5 + 2 - 3 is even: tiles
        (dict(stride=(2, 1), padding=(0, 1), dilation=(1, 2), groups=2), "zeros"),  # a row unreached
        (dict(stride=1, padding=1, dilation=1, groups=1), "replicate"),
        (dict(stride=1, padding=(1, 2), dilation=1, groups=2), "reflect"),
        (dict(stride=2, padding=1, dilation=1, groups=1), "circular"),
    ],
)
def test_conv2d_backward_finite_differences(kwargs, mode):
    rng = np.random.default_rng(11)
    x = rng.normal(size=(2, 2, 5, 6))
    w = rng.normal(size=(2, 2 // kwargs["groups"], 3, 2))
    b = rng.normal(size=2)
    y = conv2d(x, w, b, padding_mode=mode, **kwargs)
    dy = rng.normal(size=y.shape)  # the loss L = sum(dy * y) has dL/dy = dy

    def loss(x_, w_, b_):
        # minus y (a constant: same gradient) so that each difference of two losses is not
        # swamped by the rounding error of summing the whole output
        return float((dy * (conv2d(x_, w_, b_, padding_mode=mode, **kwargs) - y)).sum())

    dx, dw, db = conv2d_backward(dy, x, w, padding_mode=mode, **kwargs)
    assert relative_error(dx, numerical_gradient(lambda v: loss(v, w, b), x)) < 1e-7
    assert relative_error(dw, numerical_gradient(lambda v: loss(x, v, b), w)) < 1e-7
    assert relative_error(db, numerical_gradient(lambda v: loss(x, w, v), b)) < 1e-7


def test_conv1d_and_conv3d_backward_finite_differences():
    rng = np.random.default_rng(12)
    for conv, back, x, w in [
        (conv1d, conv1d_backward, rng.normal(size=(2, 2, 7)), rng.normal(size=(3, 2, 3))),
        (conv3d, conv3d_backward, rng.normal(size=(1, 2, 3, 4, 3)), rng.normal(size=(2, 2, 2, 2, 2))),
    ]:
        kwargs = dict(stride=2, padding=1)
        b = rng.normal(size=w.shape[0])
        y = conv(x, w, b, **kwargs)
        dy = rng.normal(size=y.shape)
        dx, dw, db = back(dy, x, w, **kwargs)
        assert db.shape == b.shape
        assert relative_error(dx, numerical_gradient(lambda v: (dy * (conv(v, w, b, **kwargs) - y)).sum(), x)) < 1e-7
        assert relative_error(dw, numerical_gradient(lambda v: (dy * (conv(x, v, b, **kwargs) - y)).sum(), w)) < 1e-7
        assert relative_error(db, numerical_gradient(lambda v: (dy * (conv(x, w, v, **kwargs) - y)).sum(), b)) < 1e-7


# ----------------------------------------------------------------------- what the book says of dx

def test_dx_is_a_full_convolution_with_the_flipped_kernel():
    # stride 1, no padding: dx = conv2d(dy padded by F - 1, w flipped, in/out channels swapped)
    rng = np.random.default_rng(13)
    x, w = rng.normal(size=(2, 3, 6, 7)), rng.normal(size=(4, 3, 3, 2))
    dy = rng.normal(size=(2, 4, 4, 6))
    dx, _, _ = conv2d_backward(dy, x, w)
    flipped = w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)  # (C, K, F_h, F_w)
    full = conv2d(dy, flipped, padding=(2, 1))
    np.testing.assert_allclose(dx, full, rtol=1e-12, atol=1e-12)


def test_dx_is_the_transposed_convolution():
    rng = np.random.default_rng(14)
    x, w = rng.normal(size=(2, 4, 9, 9)), rng.normal(size=(6, 2, 3, 3))
    kwargs = dict(stride=2, padding=1, groups=2)
    dy = rng.normal(size=conv2d(x, w, **kwargs).shape)
    dx, _, _ = conv2d_backward(dy, x, w, **kwargs)
    np.testing.assert_allclose(dx, conv_transpose2d(dy, w, **kwargs), rtol=1e-12, atol=1e-12)


def test_db_and_dw_are_sums():
    rng = np.random.default_rng(15)
    x, w = rng.normal(size=(3, 2, 5, 5)), rng.normal(size=(4, 2, 1, 1))
    dy = rng.normal(size=(3, 4, 5, 5))
    _, dw, db = conv2d_backward(dy, x, w)
    np.testing.assert_allclose(db, dy.sum(axis=(0, 2, 3)), rtol=1e-12)
    np.testing.assert_allclose(dw[:, :, 0, 0], np.einsum("nkhw,nchw->kc", dy, x), rtol=1e-12)


def test_float32_backward_stays_float32():
    rng = np.random.default_rng(16)
    x = rng.normal(size=(2, 3, 8, 8)).astype(np.float32)
    w = rng.normal(size=(4, 3, 3, 3)).astype(np.float32)
    dy = rng.normal(size=(2, 4, 8, 8)).astype(np.float32)
    got = conv2d_backward(dy, x, w, padding=1)
    want = torch_grads(2, x.astype(float), w.astype(float), None, dy.astype(float), (1, 1), (1, 1), (1, 1), 1, "zeros")
    for a, c in zip(got, want):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, c, rtol=1e-4, atol=1e-4)


# -------------------------------------------------------------------------------------- errors

X = np.ones((1, 3, 8, 8))
W = np.ones((4, 3, 3, 3))
DY = np.ones((1, 4, 6, 6))


@pytest.mark.parametrize("fn", [conv2d_backward, conv2d_backward_naive])
@pytest.mark.parametrize(
    "args, kwargs, error, message",
    [
        ((DY, X[0], W), {}, ValueError, r"x must have 4 dimensions \(N, C, H, W\)"),
        ((DY[0], X, W), {}, ValueError, r"dy must have 4 dimensions \(N, K, H_out, W_out\)|\(N, K, H, W\)"),
        ((np.ones((1, 4, 5, 6)), X, W), {}, ValueError, r"dy must have the output's shape \(1, 4, 6, 6\), got \(1, 4, 5, 6\)"),
        ((DY, X, np.ones((4, 2, 3, 3))), {}, ValueError, r"the input has 3 channels.*must have 3 input channels per group, but it has 2"),
        ((DY, X, W), {"stride": 0}, ValueError, r"stride must be positive.*got 0"),
        ((DY, X, W), {"padding": -2}, ValueError, r"padding must be non-negative, got -2"),
        ((DY, X, W), {"dilation": 9}, ValueError, r"dilation 9 spreads it over 19"),
        ((DY, X, W), {"padding_mode": "same"}, ValueError, r"padding_mode must be one of"),
        (("dy", X, W), {}, TypeError, r"dy must be a numeric array"),
    ],
)
def test_backward_errors(fn, args, kwargs, error, message):
    with pytest.raises(error, match=message):
        fn(*args, **kwargs)


def test_backward_does_not_modify_arguments():
    rng = np.random.default_rng(17)
    x, w = rng.normal(size=(2, 2, 6, 6)), rng.normal(size=(2, 1, 3, 3))
    dy = rng.normal(size=(2, 2, 6, 6))
    copies = [a.copy() for a in (dy, x, w)]
    for mode in ("zeros", "replicate", "reflect", "circular"):
        conv2d_backward(dy, x, w, padding=1, groups=2, padding_mode=mode)
        conv2d_backward_naive(dy, x, w, padding=1, groups=2, padding_mode=mode)
    for a, c in zip((dy, x, w), copies):
        np.testing.assert_array_equal(a, c)
