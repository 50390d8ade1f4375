"""im2col, col2im, dilate_kernel and pool_windows: against torch's unfold and fold (float64), the
adjoint identity, and the convolution they make."""

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st

from coursecnn import ref


@st.composite
def window_case(draw):
    n, c = draw(st.integers(0, 2)), draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    size = tuple(d * (f - 1) + 1 + draw(st.integers(0, 5)) for f, d in zip(kernel, dilation))
    x = np.random.default_rng(draw(st.integers(0, 99))).normal(size=(n, c) + size)
    return x, kernel, stride, dilation


@settings(max_examples=40, deadline=None)
@given(case=window_case())
def test_im2col_and_col2im_are_torchs_unfold_and_fold(case):
    x, kernel, stride, dilation = case
    cols = ref.im2col(x, kernel, stride, dilation)
    want = F.unfold(torch.from_numpy(x), kernel, dilation=dilation, stride=stride).numpy()
    np.testing.assert_array_equal(cols, want)
    out = tuple((n - d * (f - 1) - 1) // s + 1 for n, f, s, d in zip(x.shape[2:], kernel, stride, dilation))
    c = np.random.default_rng(1).normal(size=cols.shape)
    back = ref.col2im(c, x.shape[2:], kernel, stride, dilation, out)
    want = F.fold(torch.from_numpy(c), x.shape[2:], kernel, dilation=dilation, stride=stride).numpy()
    np.testing.assert_allclose(back, want, rtol=1e-12, atol=1e-12)
    # col2im is the adjoint of im2col: <im2col(x), c> = <x, col2im(c)>
    np.testing.assert_allclose(np.sum(cols * c), np.sum(x * back), rtol=1e-10, atol=1e-10)


def test_im2col_works_for_one_and_three_axes():
    x = np.arange(2 * 3 * 7.0).reshape(2, 3, 7)
    cols = ref.im2col(x, (3,), (2,), (1,))
    assert cols.shape == (2, 9, 3) and cols[0, :3, 1].tolist() == [2.0, 3.0, 4.0]
    v = np.random.default_rng(0).normal(size=(1, 2, 4, 5, 6))
    assert ref.im2col(v, (2, 2, 3), (1, 2, 1), (1, 1, 2)).shape == (1, 2 * 12, 3 * 2 * 2)


def test_a_dilated_kernel_is_the_kernel_with_zeros_between_its_taps():
    rng = np.random.default_rng(2)
    x, w = rng.normal(size=(1, 2, 9, 9)), rng.normal(size=(3, 2, 2, 3))
    wide = ref.dilate_kernel(w, (3, 2))
    assert wide.shape == (3, 2, 4, 5) and np.count_nonzero(wide) == w.size
    np.testing.assert_allclose(ref.conv2d(x, wide), ref.conv2d(x, w, dilation=(3, 2)), atol=1e-12)


def test_pool_windows_are_torchs_unfold_per_channel():
    x = np.random.default_rng(3).normal(size=(2, 3, 7, 6))
    win = ref.pool_windows(x, (3, 2), (2, 1), (1, 1), fill=-np.inf)
    assert win.shape == (2, 3, 4, 7, 6)
    xp = F.pad(torch.from_numpy(x), (1, 1, 1, 1), value=-np.inf).reshape(6, 1, 9, 8)
    want = F.unfold(xp, (3, 2), stride=(2, 1)).reshape(2, 3, 6, 4, 7)
    np.testing.assert_array_equal(win, want.permute(0, 1, 3, 4, 2).numpy())
