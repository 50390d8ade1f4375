"""The edges of convolution and pooling (issue 17): empty batches, zero sizes, NaN and inf as in
PyTorch, memory and time budgets, and one wording per mistake across ref, fast and torch."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import coursecnn.torch as ct
from coursecnn import fast, ref
from coursecnn.models import LeNet5

RNG = np.random.default_rng(17)


# ----------------------------------------------------------------------------- empty batches


@pytest.mark.parametrize("mod", [ref, fast], ids=["ref", "fast"])
def test_an_empty_batch_gives_an_empty_result(mod):
    for nd, name in ((1, "conv1d"), (2, "conv2d"), (3, "conv3d")):
        x, w = np.zeros((0, 3) + (6,) * nd), np.ones((4, 3) + (3,) * nd)
        want = tuple(getattr(F, name)(torch.zeros(x.shape), torch.ones(w.shape), padding=1).shape)
        y = getattr(mod, name)(x, w, padding=1)
        assert y.shape == want
        dx, dw, db = getattr(mod, name + "_backward")(np.zeros(want), x, w, padding=1)
        assert dx.shape == x.shape and dw.shape == w.shape and db.shape == (4,)
        assert not dw.any() and not db.any()
    x = np.zeros((0, 4, 3, 3))
    assert mod.conv_transpose2d(x, np.ones((4, 2, 2, 2)), stride=2).shape == (0, 2, 6, 6)
    x = np.zeros((0, 3, 7, 7))
    for name in ("max_pool2d", "avg_pool2d"):
        assert getattr(mod, name)(x, 3, 2, 1).shape == (0, 3, 4, 4)
        assert getattr(mod, name + "_backward")(np.zeros((0, 3, 4, 4)), x, 3, 2, 1).shape == x.shape
    y, sw = mod.max_pool2d_with_indices(x, 2)
    assert y.shape == sw.shape == (0, 3, 3, 3)


def test_empty_batches_in_the_loops_layers_and_torch():
    x, w = np.zeros((0, 3, 6, 6)), np.ones((4, 3, 3, 3))
    assert ref.conv2d_naive(x, w).shape == (0, 4, 4, 4)
    assert ref.conv2d_backward_naive(np.zeros((0, 4, 4, 4)), x, w)[0].shape == x.shape
    assert ref.conv_transpose2d_naive(np.zeros((0, 4, 3, 3)), np.ones((4, 2, 2, 2))).shape == (0, 2, 4, 4)
    assert ref.max_pool2d_naive(x, 2).shape == (0, 3, 3, 3)
    net = ref.Sequential(ref.Conv2d(3, 4, 3, padding=1), ref.ReLU(), ref.MaxPool2d(2), ref.Flatten(),
                         ref.Linear(4 * 3 * 3, 2))
    out = net.forward(x)
    assert out.shape == (0, 2)
    assert net.backward(np.zeros((0, 2))).shape == x.shape
    xt = torch.zeros(0, 3, 8, 8, requires_grad=True)
    wt = torch.randn(4, 3, 3, 3, requires_grad=True)
    for got, want in [
        (ct.conv2d(xt, wt, padding=1), F.conv2d(xt, wt, padding=1)),
        (ct.conv2d(xt, wt, padding=1, padding_mode="reflect"), F.conv2d(xt, wt, padding=1)),
        (ct.conv1d(xt[:, :, 0], wt[:, :, 0]), F.conv1d(xt[:, :, 0], wt[:, :, 0])),
        (ct.max_pool2d(xt, 3, 2, 1), F.max_pool2d(xt, 3, 2, 1)),
        (ct.avg_pool2d(xt, 2), F.avg_pool2d(xt, 2)),
        (ct.conv_transpose2d(xt, wt.transpose(0, 1), stride=2), F.conv_transpose2d(xt, wt.transpose(0, 1), stride=2)),
    ]:
        assert got.shape == want.shape
        got.sum().backward()
    assert wt.grad is not None and not wt.grad.any()
    model = LeNet5(impl="coursecnn")
    assert model(torch.zeros(0, 1, 32, 32)).shape == (0, 10)


@pytest.mark.parametrize("call, match", [
    (lambda m: m.conv2d(np.ones((1, 3, 8, 8)), np.ones((0, 3, 3, 3))), r"conv2d: w has no kernels \(K = 0\)"),
    (lambda m: m.conv2d(np.ones((1, 0, 8, 8)), np.ones((4, 0, 3, 3))), "conv2d: x has no channels"),
    (lambda m: m.conv2d(np.ones((1, 3, 0, 8)), np.ones((4, 3, 3, 3))), "conv2d: x has an empty height"),
    (lambda m: m.conv2d(np.ones((1, 3, 8, 8)), np.ones((4, 3, 0, 3))), "at least 1 wide on every axis"),
    (lambda m: m.conv1d(np.ones((1, 3, 0)), np.ones((4, 3, 3))), "conv1d: x has an empty length"),
    (lambda m: m.max_pool2d(np.ones((1, 3, 8, 0)), 2), "max_pool2d: x has an empty width"),
    (lambda m: m.avg_pool2d(np.ones((1, 0, 8, 8)), 2), "avg_pool2d: x has no channels"),
    (lambda m: m.conv_transpose2d(np.ones((1, 4, 3, 3)), np.ones((4, 0, 2, 2))), "no output channels"),
])
@pytest.mark.parametrize("mod", [ref, fast, ct], ids=["ref", "fast", "torch"])
def test_zero_sizes_other_than_the_batch_are_refused(mod, call, match):
    if mod is ct:
        call_mod = type("T", (), {n: staticmethod(lambda *a, f=getattr(ct, n), **k: f(*[
            torch.from_numpy(v) if isinstance(v, np.ndarray) else v for v in a], **k))
            for n in ("conv2d", "conv1d", "max_pool2d", "avg_pool2d", "conv_transpose2d")})
        with pytest.raises(ValueError, match=match):
            call(call_mod)
    else:
        with pytest.raises(ValueError, match=match):
            call(mod)


# ------------------------------------------------------------------------ NaN and inf, as torch


def _nan_cases():
    for seed in range(6):
        rng = np.random.default_rng(seed)
        x = rng.normal(size=(2, 3, 7, 6))
        x[rng.random(x.shape) < 0.15] = np.nan
        x[rng.random(x.shape) < 0.05] = -np.inf
        yield x
    yield np.full((1, 2, 3, 3), -np.inf)  # every window all -inf: a real pixel still gets the gradient
    yield np.array([[[[1.0, np.nan], [3.0, 2.0]]]])


@pytest.mark.parametrize("k, s, p", [(2, None, 0), (3, 2, 1), ((3, 2), (1, 2), (1, 1)), (2, 1, 1)])
def test_max_pooling_follows_torch_on_nan_and_inf(k, s, p):
    for x in _nan_cases():
        if x.shape[2] + 2 * np.broadcast_to(p, 2)[0] < np.broadcast_to(k, 2)[0]:
            continue
        xt = torch.tensor(x, requires_grad=True)
        yt, it = F.max_pool2d(xt, k, s, p, return_indices=True)
        dy = RNG.normal(size=tuple(yt.shape))
        yt.backward(torch.from_numpy(dy))
        for mod in (ref, fast):
            y, sw = mod.max_pool2d_with_indices(x, k, s, p)
            np.testing.assert_array_equal(y, yt.detach().numpy())
            np.testing.assert_array_equal(sw, it.numpy())
            np.testing.assert_array_equal(mod.max_pool2d(x, k, s, p), y)
            np.testing.assert_allclose(mod.max_pool2d_backward(dy, x, k, s, p), xt.grad.numpy())
        np.testing.assert_array_equal(ref.max_pool2d_naive(x, k, s, p), yt.detach().numpy())
        np.testing.assert_allclose(ref.max_pool2d_backward_naive(dy, x, k, s, p), xt.grad.numpy())
        xc = torch.tensor(x, requires_grad=True)
        yc = ct.max_pool2d(xc, k, s, p)
        yc.backward(torch.from_numpy(dy))
        np.testing.assert_array_equal(yc.detach().numpy(), yt.detach().numpy())
        np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy())


def test_relu_gradient_at_nan_matches_torch():
    x = np.array([np.nan, -1.0, 0.0, 2.0, -np.inf, np.inf])
    xt = torch.tensor(x, requires_grad=True)
    torch.relu(xt).sum().backward()
    np.testing.assert_array_equal(ref.relu_grad(x), xt.grad.numpy())
    xc = torch.tensor(x, requires_grad=True)
    ct.relu(xc).sum().backward()
    np.testing.assert_array_equal(xc.grad.numpy(), xt.grad.numpy())
    layer = ref.ReLU()
    layer.forward(x)
    np.testing.assert_array_equal(layer.backward(np.ones(6)), xt.grad.numpy())


def test_softmax_over_an_empty_axis_is_empty_like_torch():
    for shape, dim in [((5, 0), -1), ((0, 3), -1), ((2, 0, 3), 1)]:
        want = torch.softmax(torch.zeros(shape), dim=dim)
        assert ref.softmax(np.zeros(shape), dim=dim).shape == tuple(want.shape)
        assert ref.log_softmax(np.zeros(shape), dim=dim).shape == tuple(want.shape)


def test_fft_refuses_non_finite_input_and_keeps_its_error_bound():
    x, w = RNG.normal(size=(1, 2, 12, 12)), RNG.normal(size=(3, 2, 3, 3))
    for bad in (np.nan, np.inf):
        xb = x.copy()
        xb[0, 0, 5, 5] = bad
        with pytest.raises(ValueError, match="conv2d_fft: x holds NaN or inf.*use conv2d"):
            ref.conv2d_fft(xb, w)
        assert np.isfinite(ref.conv2d(xb, w)[0, :, :2, :2]).all()  # conv2d keeps it local
    x[0, 0, 6, 6] = 1e20  # issue 26: the transform's rounding would swamp the other windows
    with pytest.warns(RuntimeWarning, match=r"conv2d_fft: the transform's rounding.*computed with conv2d instead"):
        y = ref.conv2d_fft(x, w)
    assert np.array_equal(y, ref.conv2d(x, w))  # the fallback is conv2d itself: exact
    x[0, 0, 6, 6] = 1e3  # a moderate range: the transform is used, within its documented bound
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        err = np.abs(ref.conv2d_fft(x, w) - ref.conv2d(x, w)).max()
    # the documented bound: relative to the largest input, eps * C * F_h * F_w * max|x| max|w|
    bound = np.finfo(float).eps * 2 * 9 * np.abs(x).max() * np.abs(w).max()
    assert 0 < err <= bound


# ----------------------------------------------------------------------------------- budgets


def test_the_matrix_form_checks_its_memory_first():
    with pytest.raises(ValueError, match=r"conv2d_as_matrix: the matrix would need about 18\.\d GiB.*use conv2d"):
        ref.conv2d_as_matrix(np.ones((3, 3)), 224)
    with pytest.raises(ValueError, match=r"max_bytes=1\.0 KiB"):
        ref.conv2d_as_matrix(np.ones((3, 3)), 8, max_bytes=1024)
    assert ref.conv2d_as_matrix(np.ones((3, 3)), 8, max_bytes=10**6).shape == (36, 64)


def test_fft_checks_its_memory_first():
    x = np.broadcast_to(0.0, (4, 128, 224, 224))  # never allocated: the check comes first
    with pytest.raises(ValueError, match=r"conv2d_fft: the Fourier transforms would need about \d+\.\d GiB.*use conv2d"):
        ref.conv2d_fft(x, np.ones((128, 128, 3, 3)))
    small = RNG.normal(size=(1, 1, 8, 8))
    with pytest.raises(ValueError, match="max_bytes="):
        ref.conv2d_fft(small, np.ones((1, 1, 3, 3)), max_bytes=100)


def test_the_loops_check_their_time_first():
    x = np.broadcast_to(0.0, (1, 3, 224, 224))
    w = np.ones((64, 3, 3, 3))
    with pytest.raises(ValueError, match=r"conv2d_naive: the loops would run about 3\.15e\+06 iterations.*use conv2d"):
        ref.conv2d_naive(x, w)
    with pytest.raises(ValueError, match="conv2d_backward_naive: the loops"):
        ref.conv2d_backward_naive(np.zeros((1, 64, 222, 222)), x, w)
    with pytest.raises(ValueError, match="max_steps=10;"):
        ref.conv2d_naive(np.ones((1, 1, 5, 5)), np.ones((1, 1, 2, 2)), max_steps=10)
    assert ref.conv2d_naive(np.ones((1, 1, 5, 5)), np.ones((1, 1, 2, 2)), max_steps=16).shape == (1, 1, 4, 4)


@pytest.mark.parametrize("mod", [ref, fast], ids=["ref", "fast"])
def test_huge_padding_checks_its_memory_first(mod):
    x, w = np.ones((1, 3, 8, 8)), np.ones((4, 3, 3, 3))
    with pytest.raises(ValueError, match=r"conv2d: the im2col matrix, the padded input and the output would need about \d+\.\d GiB.*padding"):
        mod.conv2d(x, w, padding=10**5)
    with pytest.raises(ValueError, match="conv2d_backward: the im2col matrix, the padded input"):
        mod.conv2d_backward(np.broadcast_to(0.0, (1, 4, 2 * 10**5 + 6, 2 * 10**5 + 6)), x, w, padding=10**5)
    assert mod.conv2d(x, w, padding=3, max_bytes=10**7).shape == (1, 4, 12, 12)


# ------------------------------------------------------------------ one wording per mistake


MISTAKES = [
    ("conv2d", lambda x, w: ((x[0], w), {})),  # rank
    ("conv2d", lambda x, w: ((x, w[:, :2]), {})),  # channels
    ("conv2d", lambda x, w: ((x, w), dict(groups=2))),  # 3 channels in 2 groups
    ("conv2d", lambda x, w: ((x, w), dict(stride=0))),
    ("conv2d", lambda x, w: ((x, w), dict(padding=-1))),
    ("conv2d", lambda x, w: ((x, w), dict(dilation=5))),  # kernel larger than the padded input
    ("conv2d", lambda x, w: ((x, w), dict(padding=8, padding_mode="reflect"))),
    ("conv2d", lambda x, w: ((x, w), dict(padding_mode="mirror"))),
    ("conv2d", lambda x, w: ((x, w, w[:, 0, 0, :2]), {})),  # bias of the wrong length
    ("conv1d", lambda x, w: ((x[:, :, 0], w[:, :, 0, :3]), dict(padding=(1, 1)))),
    ("conv_transpose2d", lambda x, w: ((x, w), dict(stride=2, output_padding=2))),
    ("max_pool2d", lambda x, w: ((x, 3), dict(padding=2))),
    ("max_pool2d", lambda x, w: ((x, 9), {})),
    ("avg_pool2d", lambda x, w: ((x, 2), dict(stride=(1, 0)))),
    ("avg_pool2d", lambda x, w: ((x[0], 2), {})),
]


def _message(fn, args, kwargs):
    with pytest.raises((ValueError, TypeError)) as info:
        fn(*args, **kwargs)
    return type(info.value), str(info.value)


@pytest.mark.parametrize("name, make", MISTAKES)
def test_ref_fast_and_torch_word_a_mistake_the_same(name, make):
    x, w = np.ones((1, 3, 8, 8)), np.ones((4, 3, 3, 3))
    args, kwargs = make(x, w)
    want = _message(getattr(ref, name), args, kwargs)
    assert want[1].startswith(name + ": ")
    assert _message(getattr(fast, name), args, kwargs) == want
    targs = [torch.from_numpy(np.ascontiguousarray(a)) if isinstance(a, np.ndarray) else a for a in args]
    assert _message(getattr(ct, name), targs, kwargs) == want
