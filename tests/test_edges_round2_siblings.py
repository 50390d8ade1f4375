"""Nothing silent, round 2 (issue 26), the siblings: the same patterns in the other backends.

``coursecnn.torch``'s interpolation (once a dense product, like ``ref``'s) against NaN and inf;
its batch norm's ``eps`` and empty batch; and the budgets of the functions that allocate in
proportion to their arguments (``pad2d``, the pooling windows).
"""

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import coursecnn.torch as ct
from coursecnn import fast, ref

RNG = np.random.default_rng(262)

INTERP = [("nearest", None), ("bilinear", False), ("bilinear", True), ("bicubic", False), ("bicubic", True)]


# ------------------------------------------------------------ coursecnn.torch's interpolation


def _same_as_torch(ours, want):
    """Non-finite exactly where torch's are, and equal elsewhere."""
    mask = torch.isfinite(want)
    assert torch.equal(torch.isfinite(ours), mask), (int((~torch.isfinite(ours)).sum()), int((~mask).sum()))
    tol = 1e-4 if ours.dtype == torch.float32 else 1e-10
    torch.testing.assert_close(ours[mask], want[mask], rtol=tol, atol=tol)


@pytest.mark.parametrize("mode,align", INTERP)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_torch_interpolate_keeps_nan_and_inf_local_like_torch(mode, align, bad):
    for (h, w), size, dtype in itertools.product([(5, 7), (1, 3), (4, 4)], [(7, 9), (2, 3), (10, 14), (4, 4)],
                                                 [torch.float64, torch.float32]):
        x = torch.tensor(RNG.normal(size=(2, 3, h, w))).to(dtype)
        x[1, 2, h // 2, w // 2] = bad
        kw = dict(size=size, mode=mode, align_corners=align)
        xt, xc = x.clone().requires_grad_(), x.clone().requires_grad_()
        yt, yc = F.interpolate(xt, **kw), ct.interpolate(xc, **kw)
        assert yc.dtype == dtype
        _same_as_torch(yc.detach(), yt.detach())
        dy = torch.tensor(RNG.normal(size=yt.shape)).to(dtype)
        dy[0, 1, 0, -1] = bad
        yt.backward(dy)
        yc.backward(dy)
        assert xc.grad.dtype == dtype
        _same_as_torch(xc.grad, xt.grad)


def test_torch_interpolate_one_nan_reaches_as_few_outputs_as_in_torch():
    """The dense product turned one NaN into 280 where torch has 16 (bilinear, scale 2)."""
    x = torch.ones(1, 1, 7, 10, dtype=torch.float64)
    x[0, 0, 3, 4] = float("nan")
    for mode, most in (("nearest", 4), ("bilinear", 16)):
        y = ct.interpolate(x, scale_factor=2, mode=mode)
        assert int(y.isnan().sum()) == int(F.interpolate(x, scale_factor=2, mode=mode).isnan().sum()) == most


def test_torch_interpolate_refuses_empty_maps_like_torch():
    with pytest.raises(ValueError, match="x has no channels"):
        ct.interpolate(torch.zeros(1, 0, 4, 4), size=8)
    with pytest.raises(ValueError, match="x has an empty height or width"):
        ct.interpolate(torch.zeros(1, 1, 0, 4), size=8)
    assert ct.interpolate(torch.zeros(0, 2, 4, 4), size=8).shape == (0, 2, 8, 8)


def test_torch_interpolate_checks_its_memory_first():
    """The dense matrices were budgeted (with a message about another function); the taps are
    budgeted as coursecnn.ref.interpolate is, with the same estimate."""
    with pytest.raises(ValueError, match=r"interpolate: the resized maps would need about 74\.5 GiB.*use a smaller size"):
        ct.interpolate(torch.ones(1, 1, 4, 4), size=10**5)
    assert ct.interpolate(torch.ones(1, 1, 4, 4), size=8, max_bytes=float("inf")).shape == (1, 1, 8, 8)


# ------------------------------------------------------------------- coursecnn.torch's batch norm


@pytest.mark.parametrize("eps", [0, 0.0, -1e-5])
def test_torch_batch_norm_refuses_a_non_positive_eps_in_training_like_torch(eps):
    x = torch.ones(2, 3, 4, 4)  # constant channels: variance 0, so eps=0 gave NaN
    with pytest.raises(ValueError, match="eps must be"):
        F.batch_norm(x, None, None, training=True, eps=eps)
    with pytest.raises(ValueError, match=r"eps must be (positive in training mode|in \[0)"):
        ct.batch_norm2d(x, eps=eps)
    if eps == 0:
        with pytest.raises(ValueError, match="eps must be positive in training mode"):
            ct.BatchNorm2d(3, eps=eps)(x)
    assert not ct.batch_norm2d(x).any()  # the default eps: a constant channel becomes 0


def test_torch_batch_norm_keeps_eps_zero_in_evaluation_and_an_empty_batch_like_torch():
    x = torch.tensor(RNG.normal(size=(2, 3, 4, 4)))
    mean, var = torch.tensor(RNG.normal(size=3)), torch.tensor(RNG.random(3) + 0.5)
    want = F.batch_norm(x, mean, var, training=False, eps=0.0)
    torch.testing.assert_close(ct.batch_norm2d(x, mean, var, training=False, eps=0.0), want)
    empty = torch.zeros(0, 3, 4, 4, requires_grad=True)
    weight = torch.ones(3, requires_grad=True)
    y = ct.batch_norm2d(empty, weight=weight)
    y.sum().backward()
    assert y.shape == empty.grad.shape == (0, 3, 4, 4) and not weight.grad.any()


# ------------------------------------------------------------------------------- budgets

X1 = np.broadcast_to(0.0, (1, 1, 1, 1))  # a kernel of 10**5, half of it padding: 2 x 2 windows
HUGE_WINDOW = dict(kernel_size=10**5, stride=1, padding=5 * 10**4)


@pytest.mark.parametrize("call", [
    lambda: ref.pad2d(np.ones((2, 3, 4, 4)), 10**5),
    lambda: ref.pad2d(np.ones((2, 3, 4, 4)), (0, 10**9), "zeros"),
    lambda: ref.max_unpool2d(np.ones((1, 1, 4, 4)), np.zeros((1, 1, 4, 4), np.int64), 2, stride=10**5),
    *[lambda mod=mod, name=name: getattr(mod, name)(X1, **HUGE_WINDOW)
      for mod in (ref, fast) for name in ("max_pool2d", "avg_pool2d", "max_pool2d_with_indices")],
    *[lambda mod=mod, name=name: getattr(mod, name)(np.zeros((1, 1, 2, 2)), X1, **HUGE_WINDOW)
      for mod in (ref, fast) for name in ("max_pool2d_backward", "avg_pool2d_backward")],
    lambda: ref.nmax_pool2d(X1, n=1, **HUGE_WINDOW),
    lambda: fast.nmax_pool2d_backward(np.zeros((1, 1, 2, 2)), X1, n=1, **HUGE_WINDOW),
    lambda: ref.pool_windows(X1, **HUGE_WINDOW),
    lambda: ref.pool_switches_mask(X1, **HUGE_WINDOW),
    lambda: ref.one_hot(np.zeros(10**4, np.int64), 10**6),  # 75 GiB of rows
    lambda: ref.dilate_kernel(np.ones((1, 1, 3, 3)), (10**5, 10**5)),
    # overlapping windows: ref copies every pixel k_h k_w times (100 x 100 here)
    lambda: ref.max_pool2d(np.broadcast_to(0.0, (1, 1, 1000, 1000)), 100, stride=1),
])
def test_allocations_in_proportion_to_the_arguments_are_checked_first(call):
    """pad2d(x, 10**5) tried 298 GiB and max pooling with a 10**5 kernel tried 75 GiB (NumPy's
    "Unable to allocate"); each now stops at its budget, naming the estimate and the way out. one_hot and dilate_kernel are siblings."""
    with pytest.raises(ValueError, match=r"would need about [\d.]+ [GT]iB, more than max_bytes=1\.0 GiB; use .*"
                                         r"or pass max_bytes="):
        call()


def test_ref_pooling_points_to_fast_which_copies_no_window():
    x = np.broadcast_to(0.0, (1, 1, 1000, 1000))
    with pytest.raises(ValueError, match="max_pool2d: the windows laid out.*use coursecnn.fast.max_pool2d"):
        ref.max_pool2d(x, 100, stride=1)
    assert fast.max_pool2d(x, 100, stride=1).shape == (1, 1, 901, 901)  # fast's estimate: about 14 MiB


def test_fast_pooling_with_a_stride_past_the_input_is_small_and_equal():
    """A stride of 10**5 once made phase planes of 10**5 x 10**5 (a raw MemoryError); along an
    axis with one window the stride does not matter, so fast now steps by 1 there."""
    x = RNG.normal(size=(2, 3, 5, 6))
    for k in (2, 3):
        dy = RNG.normal(size=(2, 3, 1, 1))
        for name in ("max_pool2d_backward", "avg_pool2d_backward"):
            np.testing.assert_array_equal(getattr(fast, name)(dy, x, k, stride=10**5),
                                          getattr(ref, name)(dy, x, k, stride=10**5))
        np.testing.assert_array_equal(fast.nmax_pool2d_backward(dy, x, k, 2, stride=10**5),
                                      ref.nmax_pool2d_backward(dy, x, k, 2, stride=10**5))
        for got, want in zip(fast.max_pool2d_with_indices(x, k, stride=10**5),
                             ref.max_pool2d_with_indices(x, k, stride=10**5)):
            np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(fast.nmax_pool2d(x, k, 2, stride=10**5), ref.nmax_pool2d(x, k, 2, stride=10**5))


def test_one_hot_builds_only_its_rows():
    np.testing.assert_array_equal(ref.one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])
    assert ref.one_hot(np.array([5]), 10**6, max_bytes=10**7).sum() == 1  # no 10**12-value identity
    assert ref.one_hot(np.zeros(0, np.int64), 4).shape == (0, 4)


BUDGETED = {
    "ref.one_hot": lambda mb: ref.one_hot(np.array([1, 0]), 2, max_bytes=mb),
    "ref.dilate_kernel": lambda mb: ref.dilate_kernel(np.ones((1, 1, 2, 2)), (2, 2), max_bytes=mb),
    "ref.pad2d": lambda mb: ref.pad2d(np.ones((1, 1, 4, 4)), 1, max_bytes=mb),
    "ref.pool_windows": lambda mb: ref.pool_windows(np.ones((1, 1, 4, 4)), 2, max_bytes=mb),
    "ref.max_unpool2d": lambda mb: ref.max_unpool2d(np.ones((1, 1, 2, 2)), np.zeros((1, 1, 2, 2), np.int64), 2,
                                                    max_bytes=mb),
    "ref.pool_switches_mask": lambda mb: ref.pool_switches_mask(np.ones((1, 1, 4, 4)), 2, max_bytes=mb),
    **{f"{mod.__name__}.{name}": (lambda mb, mod=mod, name=name: getattr(mod, name)(np.ones((1, 1, 4, 4)), 2, max_bytes=mb))
       for mod in (ref, fast) for name in ("max_pool2d", "avg_pool2d", "max_pool2d_with_indices")},
    **{f"{mod.__name__}.{name}": (lambda mb, mod=mod, name=name: getattr(mod, name)(np.ones((1, 1, 2, 2)), np.ones((1, 1, 4, 4)),
                                                                                    2, max_bytes=mb))
       for mod in (ref, fast) for name in ("max_pool2d_backward", "avg_pool2d_backward")},
    **{f"{mod.__name__}.nmax_pool2d": (lambda mb, mod=mod: mod.nmax_pool2d(np.ones((1, 1, 4, 4)), 2, 2, max_bytes=mb))
       for mod in (ref, fast)},
    **{f"{mod.__name__}.nmax_pool2d_backward": (lambda mb, mod=mod: mod.nmax_pool2d_backward(
        np.ones((1, 1, 2, 2)), np.arange(16.0).reshape(1, 1, 4, 4), 2, 2, max_bytes=mb)) for mod in (ref, fast)},
}


@pytest.mark.parametrize("name", sorted(BUDGETED))
def test_max_bytes_is_checked(name):
    call = BUDGETED[name]
    for bad, kind in [(float("nan"), ValueError), ("1GB", TypeError), (True, TypeError), (-1, ValueError)]:
        with pytest.raises(kind, match=r"max_bytes must be a (positive )?number of bytes"):
            call(bad)
    with pytest.raises(ValueError, match=r"more than max_bytes=10 bytes"):
        call(10)
    assert call(float("inf")) is not None and call(None) is not None


def test_torch_batch_norm_answers_empty_maps_and_refuses_an_infinite_weight_like_ref():
    """Found by the property test: an empty width was refused ("more than 1 value"), torch
    answers; an infinite weight gave +-inf where torch gives NaN (ref refuses it by name)."""
    x = torch.zeros(2, 3, 4, 0)
    assert ct.batch_norm2d(x).shape == F.batch_norm(x, None, None, training=True).shape
    for name in ("weight", "bias"):
        with pytest.raises(ValueError, match=f"batch_norm2d: {name} holds an infinity"):
            ct.batch_norm2d(torch.ones(2, 3, 4, 4), **{name: torch.tensor([1.0, float("inf"), 1.0])})
    layer, want = ct.BatchNorm2d(3), torch.nn.BatchNorm2d(3)
    empty = torch.zeros(0, 3, 4, 4)
    assert layer(empty).shape == want(empty).shape
    assert torch.equal(layer.running_mean, want.running_mean) and int(layer.num_batches_tracked) == 1
