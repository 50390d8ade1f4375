"""coursecnn.ref.layers: backward passes vs finite differences, parity with torch.nn, errors."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from coursecnn.ref import numerical_gradient, relative_error
from coursecnn.ref.layers import (
    AvgPool2d,
    Conv2d,
    CrossEntropyLoss,
    Dropout,
    Flatten,
    LeakyReLU,
    Linear,
    MaxPool2d,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
)


RNG = np.random.default_rng(1234)


def check_layer_gradients(layer, x, tol=1e-7, positive_dy=False):
    """Compare layer.backward with centered differences for the input and every parameter.

    The scalar checked is ``sum(forward(x) * dy)`` for a fixed random ``dy``, whose gradient is
    exactly what ``backward(dy)`` must return. ``positive_dy`` draws ``dy`` in [0.5, 1.5]: where
    windows overlap, signed ``dy`` can cancel to a gradient entry near 0, whose *relative* error
    then measures only rounding.
    """
    layer.zero_grad()
    y = layer.forward(x)
    rng = np.random.default_rng(0)
    dy = rng.uniform(0.5, 1.5, y.shape) if positive_dy else rng.standard_normal(y.shape)
    dx = layer.backward(dy)

    def f_of_x(v):
        return float(np.sum(layer.forward(v) * dy))

    assert relative_error(dx, numerical_gradient(f_of_x, x)) < tol
    for name, p in layer.params.items():
        saved = p.copy()

        def f_of_p(v, p=p):
            p[...] = v
            return float(np.sum(layer.forward(x) * dy))

        num = numerical_gradient(f_of_p, saved)
        p[...] = saved
        assert relative_error(layer.grads[name], num) < tol, name


# ---------------------------------------------------------------- gradients by finite differences


def test_linear_gradients():
    check_layer_gradients(Linear(5, 3, rng=0), RNG.standard_normal((4, 5)))


def test_linear_gradients_with_leading_dims_and_no_bias():
    layer = Linear(3, 2, bias=False, rng=1)
    assert set(layer.params) == {"weight"}
    check_layer_gradients(layer, RNG.standard_normal((2, 3, 3)))


@pytest.mark.parametrize("layer", [ReLU(), Sigmoid(), Tanh(), LeakyReLU(0.1)], ids=repr)
def test_activation_gradients(layer):
    # Keep inputs away from 0, where ReLU's kink would spoil finite differences.
    x = RNG.standard_normal((3, 4))
    x = np.where(np.abs(x) < 0.1, x + 0.3, x)
    check_layer_gradients(layer, x)


def test_flatten_gradients():
    check_layer_gradients(Flatten(), RNG.standard_normal((2, 3, 2, 2)))


def test_dropout_gradients_use_the_forward_mask():
    layer = Dropout(0.4, rng=3)
    x = RNG.standard_normal((4, 5))
    y = layer.forward(x)
    mask = y != 0
    dy = RNG.standard_normal(y.shape)
    dx = layer.backward(dy)
    np.testing.assert_allclose(dx, np.where(mask, dy / 0.6, 0.0))
    # With the mask frozen (eval-free: reuse the same scale), dx is the exact gradient.
    scale = layer._cache
    num = numerical_gradient(lambda v: float(np.sum(v * scale * dy)), x)
    assert relative_error(dx, num) < 1e-7


@pytest.mark.parametrize(
    "kwargs",
    [dict(), dict(stride=2, padding=1), dict(dilation=2, padding=(1, 2)), dict(groups=2, bias=False)],
    ids=str,
)
def test_conv2d_gradients(kwargs):
    layer = Conv2d(4, 2, 3, rng=2, **kwargs)
    check_layer_gradients(layer, RNG.standard_normal((2, 4, 5, 6)))


@pytest.mark.parametrize("cls", [MaxPool2d, AvgPool2d])
@pytest.mark.parametrize("kwargs", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1)], ids=str)
def test_pool_gradients(cls, kwargs):
    # Distinct, well separated values: no ties or near-ties inside a max window.
    x = RNG.permutation(2 * 3 * 5 * 5).reshape(2, 3, 5, 5) / 100.0
    check_layer_gradients(cls(**kwargs), x, positive_dy=True)


def test_cross_entropy_gradient():
    loss = CrossEntropyLoss()
    logits = RNG.standard_normal((5, 4))
    target = np.array([0, 3, 1, 1, 2])
    loss.forward(logits, target)
    d = loss.backward()
    num = numerical_gradient(lambda v: loss.forward(v, target), logits)
    assert relative_error(d, num) < 1e-7
    loss.forward(logits, target)
    np.testing.assert_allclose(loss.backward(2.5), 2.5 * d)


def test_sequential_mlp_gradient_check_on_every_parameter():
    model = Sequential(Linear(6, 5, rng=0), ReLU(), Linear(5, 3, rng=1))
    loss_fn = CrossEntropyLoss()
    x = RNG.standard_normal((4, 6))
    target = np.array([2, 0, 1, 2])
    model.zero_grad()
    loss_fn.forward(model.forward(x), target)
    dx = model.backward(loss_fn.backward())

    def loss_at():
        return loss_fn.forward(model.forward(x), target)

    names = []
    for name, p, g in model.named_parameters():
        saved = p.copy()

        def f(v, p=p):
            p[...] = v
            return loss_at()

        num = numerical_gradient(f, saved)
        p[...] = saved
        assert relative_error(g, num) < 1e-7, name
        names.append(name)
    assert names == ["0.weight", "0.bias", "2.weight", "2.bias"]
    num_x = numerical_gradient(lambda v: loss_fn.forward(model.forward(v), target), x)
    assert relative_error(dx, num_x) < 1e-7


# ---------------------------------------------------------------- parity with torch.nn


def _t(a, grad=False):
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


def _torch_parity(layer, module, x, tol=1e-12):
    """Copy the layer's parameters into the torch module, then compare forward and backward."""
    with torch.no_grad():
        for name, p in layer.params.items():
            getattr(module, name).copy_(torch.from_numpy(p))
    xt = _t(x, grad=True)
    yt = module(xt)
    y = layer.forward(x)
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=tol, atol=tol)
    dy = RNG.standard_normal(y.shape)
    yt.backward(_t(dy))
    layer.zero_grad()
    dx = layer.backward(dy)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=tol, atol=tol)
    for name in layer.params:
        np.testing.assert_allclose(
            layer.grads[name], getattr(module, name).grad.numpy(), rtol=tol, atol=tol, err_msg=name
        )


def test_linear_matches_torch():
    layer = Linear(7, 4, rng=5)
    _torch_parity(layer, torch.nn.Linear(7, 4).double(), RNG.standard_normal((3, 7)))


@pytest.mark.parametrize(
    "kwargs", [dict(), dict(stride=2, padding=1, dilation=(1, 2)), dict(groups=3, stride=(1, 2))], ids=str
)
def test_conv2d_matches_torch(kwargs):
    layer = Conv2d(3, 6, (3, 2), rng=6, **kwargs)
    module = torch.nn.Conv2d(3, 6, (3, 2), **kwargs).double()
    _torch_parity(layer, module, RNG.standard_normal((2, 3, 7, 8)))


@pytest.mark.parametrize("kwargs", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1)], ids=str)
def test_pools_match_torch(kwargs):
    x = RNG.standard_normal((2, 3, 7, 6))
    _torch_parity(MaxPool2d(**kwargs), torch.nn.MaxPool2d(**kwargs), x)
    _torch_parity(AvgPool2d(**kwargs), torch.nn.AvgPool2d(**kwargs), x)


@pytest.mark.parametrize(
    "layer, module",
    [(ReLU(), torch.nn.ReLU()), (Sigmoid(), torch.nn.Sigmoid()), (Tanh(), torch.nn.Tanh()),
     (LeakyReLU(), torch.nn.LeakyReLU()), (Flatten(), torch.nn.Flatten())],
    ids=lambda v: type(v).__name__,
)
def test_parameter_free_layers_match_torch(layer, module):
    _torch_parity(layer, module, RNG.standard_normal((2, 3, 4)) * 5)


def test_cross_entropy_matches_torch():
    logits = RNG.standard_normal((6, 5)) * 10  # large logits: exercises the max shift
    target = RNG.integers(0, 5, 6)
    loss_fn = CrossEntropyLoss()
    value = loss_fn.forward(logits, target)
    lt = _t(logits, grad=True)
    ref = torch.nn.CrossEntropyLoss()(lt, torch.from_numpy(target))
    ref.backward()
    assert value == pytest.approx(ref.item(), rel=1e-13)
    np.testing.assert_allclose(loss_fn.backward(), lt.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_sigmoid_is_stable_for_large_inputs():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y = Sigmoid().forward(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_array_equal(y, [0.0, 0.5, 1.0])


# ---------------------------------------------------------------- behaviour


def test_linear_init_follows_torch_default():
    layer = Linear(100, 50, rng=0)
    w, b = layer.params["weight"], layer.params["bias"]
    assert w.shape == (50, 100) and b.shape == (50,)
    assert np.abs(w).max() <= 0.1 and np.abs(b).max() <= 0.1
    assert w.std() == pytest.approx(0.1 / np.sqrt(3), rel=0.05)  # uniform(-a, a) has std a/sqrt(3)
    np.testing.assert_array_equal(Linear(100, 50, rng=0).params["weight"], w)
    assert not np.array_equal(Linear(100, 50, rng=1).params["weight"], w)


def test_conv2d_init_shapes_and_bound():
    layer = Conv2d(4, 6, (3, 5), groups=2, rng=0)
    assert layer.params["weight"].shape == (6, 2, 3, 5)
    assert layer.params["bias"].shape == (6,)
    assert np.abs(layer.params["weight"]).max() <= 1 / np.sqrt(2 * 3 * 5)


def test_gradients_accumulate_until_zero_grad():
    layer = Linear(3, 2, rng=0)
    x, dy = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 2))
    g = layer.grads["weight"]
    layer.forward(x)
    layer.backward(dy)
    once = g.copy()
    layer.backward(dy)
    np.testing.assert_allclose(layer.grads["weight"], 2 * once)
    layer.zero_grad()
    assert layer.grads["weight"] is g and not g.any()  # same array, zeroed in place


def test_dropout_train_and_eval():
    x = RNG.standard_normal((200, 100)) + 3.0
    drop = Dropout(0.3, rng=0)
    y = drop.forward(x)
    kept = y != 0
    assert kept.mean() == pytest.approx(0.7, abs=0.02)
    np.testing.assert_allclose(y[kept], x[kept] / 0.7)
    assert y.mean() == pytest.approx(x.mean(), rel=0.02)  # inverted dropout keeps the mean
    assert not np.array_equal(drop.forward(x) != 0, kept)  # a fresh mask each call
    drop.eval()
    assert not drop.training
    np.testing.assert_array_equal(drop.forward(x), x)
    np.testing.assert_array_equal(drop.backward(np.ones_like(x)), np.ones_like(x))
    np.testing.assert_array_equal(Dropout(1.0).forward(x), np.zeros_like(x))
    np.testing.assert_array_equal(Dropout(0.0).forward(x), x)


def test_dropout_is_reproducible_with_a_seed():
    x = np.ones((5, 5))
    np.testing.assert_array_equal(Dropout(0.5, rng=7).forward(x), Dropout(0.5, rng=7).forward(x))


def test_sequential_container():
    model = Sequential(Linear(4, 8, rng=0), ReLU(), Dropout(0.5), Linear(8, 3, rng=1))
    assert len(model) == 4
    assert isinstance(model[1], ReLU)
    assert isinstance(model[1:], Sequential) and len(model[1:]) == 3
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Dropout", "Linear"]
    text = repr(model)
    assert "(0): Linear(in_features=4, out_features=8, bias=True)" in text
    assert "(2): Dropout(p=0.5)" in text
    pairs = list(model.parameters())
    assert len(pairs) == 4
    assert pairs[0][0] is model[0].params["weight"] and pairs[0][1] is model[0].grads["weight"]
    model.eval()
    assert not model[2].training
    x = RNG.standard_normal((2, 4))
    np.testing.assert_array_equal(model.forward(x), model.forward(x))  # no dropout in eval
    model.train()
    assert all(layer.training for layer in model)


def test_layers_do_not_modify_their_inputs_and_keep_copies():
    x = RNG.standard_normal((3, 4))
    kept = x.copy()
    layer = Linear(4, 2, rng=0)
    y = layer.forward(x)
    x += 100.0  # the caller changes its array after forward ...
    dy = np.ones_like(y)
    layer.backward(dy)
    # ... but the weight gradient still uses the input that went through forward.
    np.testing.assert_allclose(layer.grads["weight"], dy.T @ kept)
    for lyr in (ReLU(), Sigmoid(), Tanh(), LeakyReLU(), Flatten(), Dropout(0.5, rng=0)):
        z = RNG.standard_normal((2, 3, 2))
        z0 = z.copy()
        out = lyr.forward(z)
        g = np.ones_like(out)
        g0 = g.copy()
        lyr.backward(g)
        np.testing.assert_array_equal(z, z0)
        np.testing.assert_array_equal(g, g0)
    logits, target = RNG.standard_normal((2, 3)), np.array([0, 2])
    l0, t0 = logits.copy(), target.copy()
    loss_fn = CrossEntropyLoss()
    loss_fn.forward(logits, target)
    np.testing.assert_array_equal(logits, l0)
    np.testing.assert_array_equal(target, t0)
    # backward neither writes into the caller's arrays nor reads them again: it uses its copies.
    expected = (softmax_rows(l0) - np.eye(3)[t0]) / 2
    logits += 100.0 * np.array([1.0, -1.0, 0.5])
    target[:] = [1, 1]
    changed_l, changed_t = logits.copy(), target.copy()
    np.testing.assert_allclose(loss_fn.backward(), expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(loss_fn.backward(), expected, rtol=1e-12, atol=1e-15)  # backward twice: same
    np.testing.assert_array_equal(logits, changed_l)
    np.testing.assert_array_equal(target, changed_t)


def softmax_rows(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


LAYERS_WITH_CACHES = {
    "Conv2d": lambda: Conv2d(2, 3, 3, stride=1, padding=1, rng=0),
    "Conv2d-strided-grouped": lambda: Conv2d(2, 4, (3, 2), stride=2, padding=(1, 0), groups=2, rng=1),
    "MaxPool2d": lambda: MaxPool2d(2),
    "MaxPool2d-padded": lambda: MaxPool2d(3, stride=2, padding=1),
    "AvgPool2d": lambda: AvgPool2d(3, stride=2, padding=1),
    "Sequential": lambda: Sequential(
        Conv2d(2, 3, 3, padding=1, rng=2), ReLU(), MaxPool2d(2), Flatten(), Linear(12, 2, rng=3)
    ),
}


@pytest.mark.parametrize("make", LAYERS_WITH_CACHES.values(), ids=LAYERS_WITH_CACHES.keys())
def test_conv_pool_and_sequential_do_not_modify_their_inputs_and_keep_copies(make):
    x = RNG.permutation(2 * 2 * 4 * 4).reshape(2, 2, 4, 4) / 10.0 - 1.5  # distinct values: no ties
    reference = make()
    y = reference.forward(x.copy())
    dy = RNG.standard_normal(y.shape)
    ref_dx = reference.backward(dy.copy())
    ref_grads = {name: g.copy() for name, g in _all_grads(reference)}

    layer = make()
    kept_x, kept_dy = x.copy(), dy.copy()
    np.testing.assert_array_equal(layer.forward(x), y)
    np.testing.assert_array_equal(x, kept_x)
    # The caller reuses its array after forward (reversed: other maxima, other dw) ...
    x[...] = -x[..., ::-1, ::-1]
    changed_x = x.copy()
    dx = layer.backward(dy)
    # ... backward neither reads it nor writes into it or into dy.
    np.testing.assert_array_equal(x, changed_x)
    np.testing.assert_array_equal(dy, kept_dy)
    np.testing.assert_allclose(dx, ref_dx, rtol=1e-13, atol=1e-15)
    grads = dict(_all_grads(layer))
    assert grads.keys() == ref_grads.keys()
    for name, g in grads.items():
        np.testing.assert_allclose(g, ref_grads[name], rtol=1e-13, atol=1e-15, err_msg=name)
    # The returned dx is a fresh array: writing to it reaches neither dy nor the next backward.
    dx[...] = 7.0
    np.testing.assert_array_equal(dy, kept_dy)
    layer.zero_grad()
    np.testing.assert_allclose(layer.backward(dy), ref_dx, rtol=1e-13, atol=1e-15)


def _all_grads(layer):
    if isinstance(layer, Sequential):
        return [(name, g) for name, _, g in layer.named_parameters()]
    return list(layer.grads.items())


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 4), fin=st.integers(1, 5), fout=st.integers(1, 5), seed=st.integers(0, 2**32 - 1)
)
def test_linear_is_affine_and_backward_is_its_transpose(n, fin, fout, seed):
    rng = np.random.default_rng(seed)
    layer = Linear(fin, fout, rng=rng)
    x, dy = rng.standard_normal((n, fin)), rng.standard_normal((n, fout))
    y = layer.forward(x)
    np.testing.assert_allclose(y, x @ layer.params["weight"].T + layer.params["bias"])
    # <dy, W x> == <W^T dy, x>: backward is the adjoint of the linear part.
    dx = layer.backward(dy)
    assert np.sum(dy * (y - layer.params["bias"])) == pytest.approx(np.sum(dx * x), abs=1e-9)


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=2, max_size=4), p=st.floats(0.0, 0.95))
def test_flatten_and_dropout_shapes(shape, p):
    x = np.ones(shape)
    flat = Flatten()
    y = flat.forward(x)
    assert y.shape == (shape[0], int(np.prod(shape[1:])))
    assert flat.backward(y).shape == tuple(shape)
    out = Dropout(p, rng=0).forward(x)
    assert out.shape == x.shape
    assert np.all((out == 0) | np.isclose(out, 1 / (1 - p)))


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: Linear(3, 2).forward(np.ones((4, 5))), ValueError, r"\(\*, in_features\) = \(\*, 3\).*\(4, 5\)"),
        (lambda: Linear(3, 2).forward("abc"), TypeError, "numeric"),
        (lambda: Linear(3, 2).forward([[1, 2], [3]]), ValueError, "numeric array"),
        (lambda: Linear(0, 2), ValueError, "in_features must be a positive int, got 0"),
        (lambda: Linear(3, 2, rng="seed"), TypeError, "rng must be"),
        (lambda: Linear(3, 2).backward(np.ones((1, 2))), RuntimeError, "before forward"),
        (lambda: Dropout(1.5), ValueError, r"\[0, 1\], got 1.5"),
        (lambda: Conv2d(3, 4, 0), ValueError, "kernel_size must be positive"),
        (lambda: Conv2d(3, 4, 3, padding=-1), ValueError, "padding must be non-negative, got -1"),
        (lambda: Conv2d(3, 4, 3, groups=2), ValueError, r"in_channels \(3\).*groups \(2\)"),
        (lambda: Conv2d(3, 4, 3).forward(np.ones((3, 8, 8))), ValueError, r"\(N, C, H, W\)"),
        (lambda: MaxPool2d(2, stride=0), ValueError, "stride must be positive"),
        (lambda: MaxPool2d(2).forward(np.ones((8, 8))), ValueError, r"\(N, C, H, W\)"),
        (lambda: CrossEntropyLoss().forward(np.ones((2, 3)), np.array([0, 3])), ValueError, r"\[0, 3\), got 3"),
        (lambda: CrossEntropyLoss().forward(np.ones((2, 3)), np.array([0])), ValueError, r"\(N,\) = \(2,\)"),
        (lambda: CrossEntropyLoss().forward(np.ones((2, 3)), np.array([0.0, 1.0])), TypeError, "integer"),
        (lambda: CrossEntropyLoss().forward(np.ones(3), np.array([0])), ValueError, r"\(N, C\)"),
        (lambda: Sequential(Linear(2, 2), "relu"), TypeError, "layer 1"),
        (lambda: Flatten(start_dim=3).forward(np.ones((2, 3))), ValueError, "does not fit"),
    ],
)
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_backward_shape_errors():
    layer = Linear(3, 2)
    layer.forward(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"dy of shape \(4, 2\), got \(4, 3\)"):
        layer.backward(np.ones((4, 3)))
    relu = ReLU()
    relu.forward(np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"dy of shape \(2, 2\)"):
        relu.backward(np.ones((2, 3)))


def test_flatten_and_dropout_backward_reject_a_dy_of_the_wrong_shape():
    flat = Flatten()
    flat.forward(np.ones((2, 3, 2, 2)))
    with pytest.raises(ValueError, match=r"Flatten.backward: dy must have the forward output.s shape \(2, 12\), got \(2, 11\)"):
        flat.backward(np.ones((2, 11)))
    with pytest.raises(RuntimeError, match="Flatten.backward was called before forward"):
        Flatten().backward(np.ones((2, 12)))
    drop = Dropout(0.5, rng=0)
    drop.forward(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"Dropout.backward expects dy of shape \(4, 5\), got \(4, 6\)"):
        drop.backward(np.ones((4, 6)))
    # Same size, transposed: still refused (a reshape would silently scramble the mask).
    with pytest.raises(ValueError, match=r"Dropout.backward expects dy of shape \(4, 5\), got \(5, 4\)"):
        drop.backward(np.ones((5, 4)))
    drop.eval()
    with pytest.raises(ValueError, match=r"Dropout.backward expects dy of shape \(4, 5\), got \(5, 4\)"):
        drop.backward(np.ones((5, 4)))
    with pytest.raises(RuntimeError, match="Dropout.backward was called before forward"):
        Dropout(0.5).backward(np.ones((4, 5)))


def test_flatten_backward_rejects_a_dy_of_the_right_size_but_the_wrong_shape():
    flat = Flatten()
    flat.forward(np.ones((2, 3, 2, 2)))
    with pytest.raises(ValueError, match=r"\(4, 6\).*\(2, 12\)|\(2, 12\).*\(4, 6\)"):
        flat.backward(np.ones((4, 6)))


def test_cross_entropy_loss_layer_rejects_an_empty_batch():
    with pytest.raises(ValueError, match=r"empty.*\(0, 3\)|batch is empty"):
        CrossEntropyLoss().forward(np.ones((0, 3)), np.zeros(0, dtype=int))


def test_conv2d_channel_mismatch_names_both_counts():
    with pytest.raises(ValueError, match=r"3.*4|4.*3"):
        Conv2d(3, 4, 3).forward(np.ones((1, 4, 8, 8)))


def test_sequential_matches_torch_nn_sequential():
    """A conv net built from ref layers and the same net in torch.nn, with the same weights:
    the same output, input gradient and parameter gradients (float64)."""
    nn = torch.nn
    ours = Sequential(Conv2d(2, 3, 3, padding=1, rng=0), ReLU(), MaxPool2d(2), Flatten(),
                      Linear(3 * 3 * 3, 4, rng=1), Tanh(), Linear(4, 5, rng=2))
    theirs = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                           nn.Linear(27, 4), nn.Tanh(), nn.Linear(4, 5)).double()
    with torch.no_grad():
        for i in (0, 4, 6):
            theirs[i].weight.copy_(torch.from_numpy(ours[i].params["weight"]))
            theirs[i].bias.copy_(torch.from_numpy(ours[i].params["bias"]))
    x = RNG.normal(size=(3, 2, 6, 6))
    dy = RNG.normal(size=(3, 5))
    xt = torch.tensor(x, requires_grad=True)
    yt = theirs(xt)
    yt.backward(torch.from_numpy(dy))
    np.testing.assert_allclose(ours.forward(x), yt.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours.backward(dy), xt.grad.numpy(), rtol=1e-12, atol=1e-14)
    for i in (0, 4, 6):
        for name in ("weight", "bias"):
            np.testing.assert_allclose(ours[i].grads[name], getattr(theirs[i], name).grad.numpy(),
                                       rtol=1e-12, atol=1e-14, err_msg=f"layer {i} {name}")


def test_dropout_backward_is_torch_autograd_through_the_same_mask():
    """Given the mask our forward drew, torch's autograd of x * mask / (1 - p) gives our dx."""
    p = 0.3
    drop = Dropout(p, rng=5)
    x = RNG.normal(size=(4, 6))
    y = drop.forward(x)
    kept = y != 0  # x has no zeros, so the kept entries are where y is not 0
    np.testing.assert_allclose(y[kept], x[kept] / (1 - p), rtol=1e-15)
    dy = RNG.normal(size=x.shape)
    xt = torch.tensor(x, requires_grad=True)
    (xt * torch.from_numpy(kept.astype(float)) / (1 - p)).backward(torch.from_numpy(dy))
    np.testing.assert_allclose(drop.backward(dy), xt.grad.numpy(), rtol=1e-15)
    # In evaluation mode dropout is the identity, as torch's is.
    drop.eval()
    np.testing.assert_array_equal(drop.forward(x), torch.nn.Dropout(p).eval()(torch.from_numpy(x)).numpy())
