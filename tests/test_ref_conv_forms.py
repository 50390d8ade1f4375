"""The other forms of a convolution in coursecnn.ref: transposed convolution (torch parity, loops,
finite differences), the convolution theorem (conv2d_fft) and the convolution matrix."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st

from coursecnn.ref import (
    conv2d,
    conv2d_as_matrix,
    conv2d_fft,
    conv_transpose2d,
    conv_transpose2d_naive,
    numerical_gradient,
    relative_error,
)


@st.composite
def transpose_case(draw):
    groups = draw(st.sampled_from([1, 1, 2]))
    c_in = groups * draw(st.integers(1, 2))
    c_out_g = draw(st.integers(1, 2))
    n = draw(st.integers(1, 2))
    hw = tuple(draw(st.integers(1, 4)) for _ in range(2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(2))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(2))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(2))
    out_pad = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    padding = []
    for h, f, s, d, op in zip(hw, kernel, stride, dilation, out_pad):
        full = (h - 1) * s + d * (f - 1) + 1 + op
        padding.append(draw(st.integers(0, min(2, (full - 1) // 2))))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.normal(size=(n, c_in) + hw)
    w = rng.normal(size=(c_in, c_out_g) + kernel)
    b = rng.normal(size=c_out_g * groups) if draw(st.booleans()) else None
    return x, w, b, stride, tuple(padding), out_pad, groups, dilation


@settings(max_examples=40, deadline=None)
@given(case=transpose_case())
def test_conv_transpose2d_matches_torch(case):
    x, w, b, stride, padding, out_pad, groups, dilation = case
    got = conv_transpose2d(x, w, b, stride, padding, out_pad, groups, dilation)
    bt = None if b is None else torch.tensor(b)
    want = F.conv_transpose2d(torch.tensor(x), torch.tensor(w), bt, stride, padding, out_pad, groups, dilation).numpy()
    assert got.shape == want.shape and got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(case=transpose_case())
def test_conv_transpose2d_naive_equals_fast(case):
    x, w, b, stride, padding, out_pad, groups, dilation = case
    np.testing.assert_allclose(
        conv_transpose2d_naive(x, w, b, stride, padding, out_pad, groups, dilation),
        conv_transpose2d(x, w, b, stride, padding, out_pad, groups, dilation),
        rtol=1e-12, atol=1e-12,
    )


def test_conv_transpose2d_gradients_match_torch_and_finite_differences():
    rng = np.random.default_rng(21)
    x, w, b = rng.normal(size=(2, 2, 3, 3)), rng.normal(size=(2, 3, 3, 2)), rng.normal(size=3)
    kwargs = dict(stride=2, padding=1, output_padding=1)
    y = conv_transpose2d(x, w, b, **kwargs)
    dy = rng.normal(size=y.shape)
    # the transposed convolution is linear in x, so its gradient is the convolution with the same
    # kernel: dL/dx = conv2d(dy, w, stride, padding)
    dx = conv2d(dy, w, stride=2, padding=1)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    F.conv_transpose2d(xt, wt, torch.tensor(b), **kwargs).backward(torch.tensor(dy))
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-12, atol=1e-12)
    num_dx = numerical_gradient(lambda v: (dy * (conv_transpose2d(v, w, b, **kwargs) - y)).sum(), x)
    num_dw = numerical_gradient(lambda v: (dy * (conv_transpose2d(x, v, b, **kwargs) - y)).sum(), w)
    num_db = numerical_gradient(lambda v: (dy * (conv_transpose2d(x, w, v, **kwargs) - y)).sum(), b)
    assert relative_error(dx, num_dx) < 1e-7
    assert relative_error(wt.grad.numpy(), num_dw) < 1e-7
    assert relative_error(dy.sum(axis=(0, 2, 3)), num_db) < 1e-7


def test_conv_transpose2d_scatters_the_kernel():
    # a single 1 in the input stamps the kernel into the output at stride-spaced places
    x = np.zeros((1, 1, 2, 2))
    x[0, 0, 1, 0] = 1.0
    k = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    y = conv_transpose2d(x, k, stride=2)[0, 0]
    assert y.shape == (5, 5)
    np.testing.assert_array_equal(y[2:5, 0:3], k[0, 0])
    assert y.sum() == k.sum()


def test_conv_transpose2d_float32():
    x = np.ones((1, 2, 3, 3), dtype=np.float32)
    w = np.ones((2, 1, 2, 2), dtype=np.float32)
    assert conv_transpose2d(x, w, stride=2).dtype == np.float32


# ------------------------------------------------------------------------- convolution theorem

@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 2), c=st.integers(1, 3), k=st.integers(1, 3), h=st.integers(1, 9), wd=st.integers(1, 9),
    fh=st.integers(1, 4), fw=st.integers(1, 4), bias=st.booleans(), seed=st.integers(0, 1000),
)
def test_fft_equals_conv2d(n, c, k, h, wd, fh, fw, bias, seed):
    fh, fw = min(fh, h), min(fw, wd)
    rng = np.random.default_rng(seed)
    x, w = rng.normal(size=(n, c, h, wd)), rng.normal(size=(k, c, fh, fw))
    b = rng.normal(size=k) if bias else None
    got = conv2d_fft(x, w, b)
    assert got.shape == (n, k, h - fh + 1, wd - fw + 1)
    np.testing.assert_allclose(got, conv2d(x, w, b), rtol=1e-10, atol=1e-11)


def true_convolution_valid(x, w):
    """The mathematical 2-D convolution (x * w)[m, n] = sum_{a, b} x[m - a, n - b] w[a, b], its
    'valid' part (m >= F_h - 1, n >= F_w - 1), with loops over one image and one kernel."""
    (h, wd), (fh, fw) = x.shape, w.shape
    out = np.zeros((h - fh + 1, wd - fw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            m, n = i + fh - 1, j + fw - 1
            out[i, j] = sum(x[m - a, n - b] * w[a, b] for a in range(fh) for b in range(fw))
    return out


@pytest.mark.parametrize("hw, f", [((6, 6), (3, 3)), ((5, 7), (2, 3)), ((4, 5), (4, 1)), ((3, 6), (1, 3))])
def test_fft_without_the_flip_is_a_true_convolution(hw, f):
    # conv2d is a cross-correlation: feeding conv2d_fft the pre-flipped kernel gives conv2d's
    # answer with the kernel flipped, i.e. the mathematical convolution with the kernel as given
    rng = np.random.default_rng(22)
    x, w = rng.normal(size=(1, 1) + hw), rng.normal(size=(1, 1) + f)
    flipped = w[:, :, ::-1, ::-1]
    true = true_convolution_valid(x[0, 0], w[0, 0])
    # a one-row (one-column) kernel convolves each row (column) on its own: NumPy's 1-D
    # convolution checks the loop
    if f[0] == 1:
        rows = [np.convolve(row, w[0, 0, 0], "valid") for row in x[0, 0]]
        np.testing.assert_allclose(true, rows, rtol=1e-12, atol=1e-12)
    if f[1] == 1:
        cols = [np.convolve(col, w[0, 0, :, 0], "valid") for col in x[0, 0].T]
        np.testing.assert_allclose(true, np.transpose(cols), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(conv2d_fft(x, flipped)[0, 0], true, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(conv2d(x, flipped)[0, 0], true, rtol=1e-12, atol=1e-12)
    # and without the flip the two differ (the kernels here are not symmetric)
    assert not np.allclose(conv2d_fft(x, w)[0, 0], true)


def test_fft_float32_and_errors():
    x = np.ones((1, 1, 4, 4), dtype=np.float32)
    assert conv2d_fft(x, np.ones((1, 1, 2, 2), dtype=np.float32)).dtype == np.float32
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        conv2d_fft(np.ones((4, 4)), np.ones((1, 1, 2, 2)))
    with pytest.raises(ValueError, match=r"the input has 1 channels.*but it has 2"):
        conv2d_fft(x, np.ones((1, 2, 2, 2)))
    with pytest.raises(ValueError, match=r"along the height, kernel_size 5 is larger than the padded input 4"):
        conv2d_fft(x, np.ones((1, 1, 5, 2)))


# ------------------------------------------------------------------------- convolution as matrix

def test_two_by_two_kernel_on_three_by_three_gives_four_by_nine():
    k = np.array([[1.0, 2.0], [3.0, 4.0]])
    m = conv2d_as_matrix(k, (3, 3))
    assert m.shape == (4, 9)
    expected = np.array(
        [
            [1, 2, 0, 3, 4, 0, 0, 0, 0],
            [0, 1, 2, 0, 3, 4, 0, 0, 0],
            [0, 0, 0, 1, 2, 0, 3, 4, 0],
            [0, 0, 0, 0, 1, 2, 0, 3, 4],
        ],
        dtype=float,
    )
    np.testing.assert_array_equal(m, expected)
    x = np.arange(9.0).reshape(3, 3)
    np.testing.assert_allclose((m @ x.ravel()).reshape(2, 2), conv2d(x[None, None], k[None, None])[0, 0])


@settings(max_examples=25, deadline=None)
@given(
    h=st.integers(2, 7), wd=st.integers(2, 7), fh=st.integers(1, 3), fw=st.integers(1, 3),
    s=st.integers(1, 2), p=st.integers(0, 1), d=st.integers(1, 2), seed=st.integers(0, 1000),
)
def test_matrix_times_image_is_conv2d_and_its_transpose_is_conv_transpose2d(h, wd, fh, fw, s, p, d, seed):
    if d * (fh - 1) + 1 > h + 2 * p or d * (fw - 1) + 1 > wd + 2 * p:
        return
    rng = np.random.default_rng(seed)
    k, x = rng.normal(size=(fh, fw)), rng.normal(size=(h, wd))
    m = conv2d_as_matrix(k, (h, wd), stride=s, padding=p, dilation=d)
    y = conv2d(x[None, None], k[None, None], stride=s, padding=p, dilation=d)[0, 0]
    assert m.shape == (y.size, h * wd)
    np.testing.assert_allclose((m @ x.ravel()).reshape(y.shape), y, rtol=1e-12, atol=1e-12)
    # M.T maps an output-sized image back: the transposed convolution (for the rows it reaches)
    g = rng.normal(size=y.shape)
    ho = (h + 2 * p - d * (fh - 1) - 1) % s
    wo = (wd + 2 * p - d * (fw - 1) - 1) % s
    back = conv_transpose2d(g[None, None], k[None, None], stride=s, padding=p, output_padding=(ho, wo), dilation=d)
    if back.shape[2:] == (h, wd):  # output_padding must stay below stride or dilation to exist
        np.testing.assert_allclose((m.T @ g.ravel()).reshape(h, wd), back[0, 0], rtol=1e-12, atol=1e-12)


def test_matrix_errors():
    with pytest.raises(ValueError, match=r"kernel must have 2 dimensions \(F_h, F_w\)"):
        conv2d_as_matrix(np.ones((1, 1, 2, 2)), 3)
    with pytest.raises(ValueError, match=r"along the width, kernel_size 4 is larger than the padded input 3"):
        conv2d_as_matrix(np.ones((2, 4)), 3)
    with pytest.raises(ValueError, match=r"input_hw must be positive.*got 0"):
        conv2d_as_matrix(np.ones((2, 2)), (0, 3))
    with pytest.raises(TypeError, match="kernel must be a numeric array"):
        conv2d_as_matrix("kernel", 3)


# ------------------------------------------------------------------------------------- errors

X = np.ones((1, 2, 3, 3))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(w=np.ones((3, 1, 2, 2))), r"the input has 2 channels but w has 3 input channels \(w is shaped \(C_in, C_out // groups, F_h, F_w\)\)"),
        (dict(w=np.ones((2, 1, 2))), r"w must have 4 dimensions \(C_in, C_out // groups, F_h, F_w\)"),
        (dict(w=np.ones((2, 1, 2, 2)), stride=0), r"stride must be positive.*got 0"),
        (dict(w=np.ones((2, 1, 2, 2)), padding=-1), r"padding must be non-negative, got -1"),
        (dict(w=np.ones((2, 1, 2, 2)), stride=2, output_padding=2), r"output_padding 2 must be smaller than stride \(2\)"),
        (dict(w=np.ones((2, 1, 2, 2)), padding=2), r"padding 2 removes the whole output"),
        (dict(w=np.ones((2, 1, 2, 2)), groups=3), r"input channels \(2\) must be divisible by groups \(3\)"),
        (dict(w=np.ones((2, 1, 2, 2)), b=np.ones(2)), r"b must have one entry per output channel \(1,\)"),
    ],
)
def test_conv_transpose2d_errors(kwargs, message):
    for fn in (conv_transpose2d, conv_transpose2d_naive):
        with pytest.raises(ValueError, match=message):
            fn(X, **kwargs)


def test_forms_do_not_modify_arguments():
    rng = np.random.default_rng(23)
    x, w, b, k = rng.normal(size=(1, 2, 5, 5)), rng.normal(size=(2, 3, 3, 3)), rng.normal(size=3), rng.normal(size=(2, 2))
    w2 = rng.normal(size=(3, 2, 2, 2))
    copies = [a.copy() for a in (x, w, b, k, w2)]
    conv_transpose2d(x, w, b, stride=2, padding=1)
    conv_transpose2d_naive(x, w, b, stride=2, padding=1)
    conv2d_fft(x, w2, b)
    conv2d_as_matrix(k, 4)
    for a, c in zip((x, w, b, k, w2), copies):
        np.testing.assert_array_equal(a, c)
