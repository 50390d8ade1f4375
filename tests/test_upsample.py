"""Interpolation upsampling: coursecnn.ref and coursecnn.torch against F.interpolate (float64,
forward and backward), the loop version, the matrices, and bad input."""

import doctest
import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st

import coursecnn.torch as ct
from coursecnn import ref
from coursecnn.ref import upsample as ref_upsample
from coursecnn.torch import upsample as torch_upsample

MODES = [("nearest", None), ("bilinear", False), ("bilinear", True), ("bicubic", False), ("bicubic", True)]


def test_docstring_examples_hold():
    for module in (ref_upsample, torch_upsample):
        result = doctest.testmod(module)
        assert result.attempted >= 2 and result.failed == 0, module.__name__


@pytest.mark.parametrize("mode,align", MODES)
def test_sizes_match_torch_forward_and_backward(mode, align):
    rng = np.random.default_rng(0)
    for h, w, ho, wo in itertools.product([1, 2, 3, 5], [1, 4], [1, 3, 7, 10], [2, 5]):
        x = rng.normal(size=(2, 2, h, w))
        kw = dict(size=(ho, wo), mode=mode, align_corners=align)
        xt = torch.tensor(x, requires_grad=True)
        yt = F.interpolate(xt, **kw)
        y = ref.interpolate(x, **kw)
        np.testing.assert_allclose(y, yt.detach().numpy(), atol=1e-12, err_msg=str((h, w, ho, wo)))
        np.testing.assert_allclose(ref.interpolate_naive(x, **kw), y, atol=1e-12)
        dy = rng.normal(size=y.shape)
        yt.backward(torch.tensor(dy))
        np.testing.assert_allclose(ref.interpolate_backward(dy, x.shape, **kw), xt.grad.numpy(), atol=1e-12)
        xc = torch.tensor(x, requires_grad=True)
        yc = ct.interpolate(xc, **kw)
        yc.backward(torch.tensor(dy))
        np.testing.assert_allclose(yc.detach().numpy(), y, atol=1e-12)
        np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(h=st.integers(1, 9), factor=st.sampled_from([0.5, 1.0, 1.5, 2, 2.5, 3, 4, 0.7]),
       mode=st.sampled_from(MODES), seed=st.integers(0, 2**16))
def test_scale_factor_matches_torch(h, factor, mode, seed):
    if int(np.floor(h * factor)) < 1:
        return
    x = np.random.default_rng(seed).normal(size=(1, 2, h, h + 2))
    kw = dict(scale_factor=factor, mode=mode[0], align_corners=mode[1])
    expected = F.interpolate(torch.tensor(x), **kw).numpy()
    np.testing.assert_allclose(ref.interpolate(x, **kw), expected, atol=1e-12)
    np.testing.assert_allclose(ct.interpolate(torch.tensor(x), **kw).numpy(), expected, atol=1e-12)


def test_torch_gradcheck_and_matrix_rows():
    x = torch.randn(1, 2, 3, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v: ct.interpolate(v, size=(5, 7), mode="bilinear"), (x,))
    for mode, align in MODES:
        a = ref.interpolation_matrix(4, 9, mode, align)
        np.testing.assert_allclose(a.sum(axis=1), 1.0)
        assert a.shape == (9, 4)
        assert mode == "bicubic" or (a >= 0).all()  # only the cubic kernel has negative lobes


def test_upsampling_a_constant_gives_the_constant_and_keeps_input():
    x = np.full((1, 1, 3, 3), 7.0)
    before = x.copy()
    for mode, align in MODES:
        np.testing.assert_allclose(ref.interpolate(x, scale_factor=2, mode=mode, align_corners=align), 7.0)
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("fn", [ref.interpolate, ct.interpolate])
def test_bad_input_gets_a_clear_error(fn):
    x = torch.zeros(1, 1, 4, 4) if fn is ct.interpolate else np.zeros((1, 1, 4, 4))
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        fn(x)
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        fn(x, size=2, scale_factor=2)
    with pytest.raises(ValueError, match="mode must be one of"):
        fn(x, size=8, mode="trilinear")
    with pytest.raises(ValueError, match="align_corners only applies"):
        fn(x, size=8, align_corners=True)
    with pytest.raises(ValueError, match="size must be a positive int"):
        fn(x, size=0)
    with pytest.raises(ValueError, match="to nothing"):
        fn(x, scale_factor=0.1)
    with pytest.raises(ValueError, match=r"4 dimensions \(N, C, H, W\)"):
        fn(x[0], size=8)
    with pytest.raises(ValueError, match="dy must have the output's spatial size"):
        ref.interpolate_backward(np.zeros((1, 1, 5, 5)), (1, 1, 4, 4), scale_factor=2)
