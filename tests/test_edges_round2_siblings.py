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
