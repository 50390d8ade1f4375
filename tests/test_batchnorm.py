"""Batch normalization: coursecnn.ref and coursecnn.torch against each other, finite differences
and torch.nn (float64, forward and backward, both modes, running statistics)."""

import doctest

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st

import coursecnn.torch as ct
from coursecnn import ref
from coursecnn.ref import batchnorm as ref_batchnorm
from coursecnn.torch import batchnorm as torch_batchnorm


def _case(seed, shape=(4, 3, 5, 6)):
    rng = np.random.default_rng(seed)
    c = shape[1]
    x = rng.normal(2.0, 3.0, size=shape)
    return x, rng.normal(size=c), rng.normal(size=c), rng.normal(size=c), rng.random(c) + 0.5, rng


def test_docstring_examples_hold():
    for module in (ref_batchnorm, torch_batchnorm):
        result = doctest.testmod(module)
        assert result.attempted >= 3 and result.failed == 0, module.__name__


@pytest.mark.parametrize("training", [True, False])
def test_ref_forward_and_backward_match_torch(training):
    x, w, b, rm, rv, rng = _case(0)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    yt = F.batch_norm(xt, torch.tensor(rm), torch.tensor(rv), wt, bt, training=training)
    y = ref.batch_norm2d(x, rm, rv, w, b, training=training)
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ref.batch_norm2d_naive(x, rm, rv, w, b, training=training), y, rtol=1e-12, atol=1e-12)
    dy = rng.normal(size=x.shape)
    yt.backward(torch.tensor(dy))
    dx, dw, db = ref.batch_norm2d_backward(dy, x, rm, rv, w, training=training)
    for mine, theirs in ((dx, xt.grad), (dw, wt.grad), (db, bt.grad)):
        np.testing.assert_allclose(mine, theirs.numpy(), rtol=1e-10, atol=1e-12)


def test_running_statistics_match_torch():
    x, _, _, rm, rv, _ = _case(1)
    rmt, rvt = torch.tensor(rm), torch.tensor(rv)
    F.batch_norm(torch.tensor(x), rmt, rvt, training=True, momentum=0.3)  # updates rmt, rvt in place
    rm0, rv0 = rm.copy(), rv.copy()
    new_mean, new_var = ref.batch_norm_running_stats(x, rm, rv, momentum=0.3)
    np.testing.assert_allclose(new_mean, rmt.numpy(), rtol=1e-12)
    np.testing.assert_allclose(new_var, rvt.numpy(), rtol=1e-12)
    np.testing.assert_array_equal(rm, rm0)  # nothing modified in place
    np.testing.assert_array_equal(rv, rv0)
    tm, tv = ct.batch_norm_running_stats(torch.tensor(x), torch.tensor(rm), torch.tensor(rv), momentum=0.3)
    np.testing.assert_allclose(tm.numpy(), new_mean, rtol=1e-12)
    np.testing.assert_allclose(tv.numpy(), new_var, rtol=1e-12)


@pytest.mark.parametrize("training", [True, False])
def test_backward_matches_finite_differences(training):
    x, w, b, rm, rv, rng = _case(2, shape=(3, 2, 3, 4))
    dy = rng.normal(size=x.shape)

    def loss(x_, w_, b_):
        return float(np.sum(dy * ref.batch_norm2d(x_, rm, rv, w_, b_, training=training)))

    dx, dw, db = ref.batch_norm2d_backward(dy, x, rm, rv, w, training=training)
    assert ref.relative_error(dx, ref.numerical_gradient(lambda v: loss(v, w, b), x)) < 1e-7
    assert ref.relative_error(dw, ref.numerical_gradient(lambda v: loss(x, v, b), w)) < 1e-7
    assert ref.relative_error(db, ref.numerical_gradient(lambda v: loss(x, w, v), b)) < 1e-7


def test_training_gradient_is_centred_and_orthogonal_to_x_hat():
    x, w, b, _, _, rng = _case(3)
    # exact with a negligible eps (x_hat's variance is var / (var + eps), here 1 to the last bit;
    # eps=0 itself is refused in training mode, as in PyTorch)
    dx, _, _ = ref.batch_norm2d_backward(rng.normal(size=x.shape), x, weight=w, eps=1e-300)
    x_hat = ref.batch_norm2d(x, eps=1e-300)
    np.testing.assert_allclose(dx.sum(axis=(0, 2, 3)), 0, atol=1e-10)
    np.testing.assert_allclose((dx * x_hat).sum(axis=(0, 2, 3)), 0, atol=1e-9)


@pytest.mark.parametrize("training", [True, False])
def test_torch_op_matches_nn_and_gradcheck(training):
    x, w, b, rm, rv, rng = _case(4, shape=(3, 2, 3, 3))
    args = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    assert torch.autograd.gradcheck(
        lambda x_, w_, b_: ct.batch_norm2d(x_, torch.tensor(rm), torch.tensor(rv), w_, b_, training=training), args
    )
    ours = ct.batch_norm2d(*args[:1], torch.tensor(rm), torch.tensor(rv), *args[1:], training=training)
    np.testing.assert_allclose(ours.detach().numpy(), ref.batch_norm2d(x, rm, rv, w, b, training=training), rtol=1e-12)


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_torch_module_matches_nn_batchnorm2d(mode):
    torch.manual_seed(0)
    ours, theirs = ct.BatchNorm2d(3).double(), torch.nn.BatchNorm2d(3).double()
    with torch.no_grad():
        ours.weight.normal_()
        ours.bias.normal_()
        ours.running_mean.normal_()
        ours.running_var.uniform_(0.5, 2)
    theirs.load_state_dict(ours.state_dict())
    ours.train(mode == "train")
    theirs.train(mode == "train")
    for _ in range(3):  # the running statistics must stay equal step after step
        x = torch.randn(4, 3, 5, 5, dtype=torch.float64) * 2 + 1
        x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
        y1, y2 = ours(x1), theirs(x2)
        dy = torch.randn_like(y1)
        y1.backward(dy)
        y2.backward(dy)
        torch.testing.assert_close(y1, y2, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(x1.grad, x2.grad, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(ours.weight.grad, theirs.weight.grad)
    torch.testing.assert_close(ours.bias.grad, theirs.bias.grad)
    torch.testing.assert_close(ours.running_mean, theirs.running_mean)
    torch.testing.assert_close(ours.running_var, theirs.running_var)
    assert int(ours.num_batches_tracked) == int(theirs.num_batches_tracked)


def test_ref_layer_keeps_running_statistics_and_accumulates_gradients():
    x, _, _, _, _, rng = _case(5)
    layer = ref.BatchNorm2d(3, momentum=0.2)
    y = layer.forward(x)
    np.testing.assert_allclose(y, ref.batch_norm2d(x), atol=1e-12)
    m, v = ref.batch_norm_running_stats(x, np.zeros(3), np.ones(3), 0.2)
    np.testing.assert_allclose(layer.running_mean, m)
    np.testing.assert_allclose(layer.running_var, v)
    dy = rng.normal(size=x.shape)
    dx = layer.backward(dy)
    np.testing.assert_allclose(dx, ref.batch_norm2d_backward(dy, x)[0], atol=1e-12)
    np.testing.assert_allclose(layer.grads["bias"], dy.sum(axis=(0, 2, 3)))
    layer.eval()
    np.testing.assert_allclose(layer.forward(x), ref.batch_norm2d(x, m, v, training=False), atol=1e-12)
    np.testing.assert_allclose(layer.running_mean, m)  # evaluation does not update


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 3), c=st.integers(1, 3), h=st.integers(1, 4), w=st.integers(1, 4),
       training=st.booleans(), seed=st.integers(0, 2**16))
def test_drawn_shapes_agree_with_torch(n, c, h, w, training, seed):
    if training and n * h * w < 2:
        return
    x, wt, b, rm, rv, rng = _case(seed, shape=(n, c, h, w))
    xt = torch.tensor(x, requires_grad=True)
    yt = F.batch_norm(xt, torch.tensor(rm), torch.tensor(rv), torch.tensor(wt), torch.tensor(b), training=training)
    np.testing.assert_allclose(ref.batch_norm2d(x, rm, rv, wt, b, training=training), yt.detach().numpy(), atol=1e-9)
    dy = rng.normal(size=x.shape)
    yt.backward(torch.tensor(dy))
    dx, _, _ = ref.batch_norm2d_backward(dy, x, rm, rv, wt, training=training)
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=1e-8)


@pytest.mark.parametrize("fn", [ref.batch_norm2d, ct.batch_norm2d])
def test_bad_input_gets_a_clear_error(fn):
    x = np.zeros((2, 3, 4, 4))
    conv = torch.tensor if fn is ct.batch_norm2d else np.asarray
    with pytest.raises(ValueError, match=r"4 dimensions \(N, C, H, W\)"):
        fn(conv(np.zeros((3, 4, 4))))
    with pytest.raises(ValueError, match=r"weight must have shape \(C,\) = \(3,\)"):
        fn(conv(x), weight=conv(np.ones(2)))
    with pytest.raises(ValueError, match="running_mean and running_var"):
        fn(conv(x), training=False)
    with pytest.raises(ValueError, match="more than 1 value"):
        fn(conv(np.zeros((1, 3, 1, 1))))
    with pytest.raises(TypeError, match="training must be True or False"):
        fn(conv(x), training="yes")
    with pytest.raises(ValueError, match="eps"):
        fn(conv(x), eps=-1.0)
    with pytest.raises(ValueError, match="momentum"):
        (ref.batch_norm_running_stats if fn is ref.batch_norm2d else ct.batch_norm_running_stats)(
            conv(x), conv(np.zeros(3)), conv(np.ones(3)), momentum=1.5
        )
    with pytest.raises(ValueError, match="dy must have the shape of x"):
        ref.batch_norm2d_backward(np.zeros((2, 3, 4, 5)), x)


def test_nothing_is_modified_in_place():
    x, w, b, rm, rv, rng = _case(6)
    copies = [a.copy() for a in (x, w, b, rm, rv)]
    ref.batch_norm2d(x, rm, rv, w, b)
    ref.batch_norm2d_backward(rng.normal(size=x.shape), x, rm, rv, w)
    for a, c in zip((x, w, b, rm, rv), copies):
        np.testing.assert_array_equal(a, c)
