"""coursecnn.ref convolutions, forward: parity with torch.nn.functional (float64), the loops, the
lecture's worked example, dtypes, and the errors of docs/API.md."""

import doctest

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st

from coursecnn import ref
from coursecnn.ref import conv as conv_module
from coursecnn.ref import conv1d, conv2d, conv2d_naive, conv3d, pad2d

MODES = ["zeros", "replicate", "reflect", "circular"]


def torch_conv(fn, x, w, b, stride, padding, dilation, groups, mode, nd):
    """PyTorch's answer: F.pad first for the non-zero modes (as nn.Conv2d does), then convolve."""
    xt = torch.as_tensor(x)
    pads = (padding,) * nd if isinstance(padding, int) else tuple(padding)
    if mode != "zeros" and any(pads):
        # F.pad takes (last axis left, right, the axis before left, right, ...)
        xt = F.pad(xt, tuple(p for q in reversed(pads) for p in (q, q)), mode=mode)
        pads = 0
    bt = None if b is None else torch.as_tensor(b)
    return fn(xt, torch.as_tensor(w), bt, stride=stride, padding=pads, dilation=dilation, groups=groups).numpy()


@st.composite
def conv_case(draw, nd=2, max_size=7):
    """A random valid convolution: sizes, groups, and arguments given as int or tuple."""
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    c = groups * draw(st.integers(1, 2))
    k = groups * draw(st.integers(1, 2))
    n = draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    mode = draw(st.sampled_from(MODES))
    size, padding = [], []
    for f, d in zip(kernel, dilation):
        extent = d * (f - 1) + 1
        p = draw(st.integers(0, 2))
        # the padded input must hold one window; reflect needs p < size, circular p <= size
        low = max(1, extent - 2 * p, p + 1 if mode == "reflect" else p if mode == "circular" else 1)
        size.append(draw(st.integers(low, max(low, max_size))))
        padding.append(p)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.normal(size=(n, c) + tuple(size))
    w = rng.normal(size=(k, c // groups) + kernel)
    b = rng.normal(size=k) if draw(st.booleans()) else None
    as_int = nd > 1 and draw(st.booleans()) and len(set(stride)) == 1
    stride_arg = stride[0] if as_int else stride
    return x, w, b, stride_arg, tuple(padding), dilation, groups, mode


@settings(max_examples=40, deadline=None)
@given(case=conv_case(nd=2))
def test_conv2d_matches_torch(case):
    x, w, b, stride, padding, dilation, groups, mode = case
    got = conv2d(x, w, b, stride, padding, dilation, groups, mode)
    want = torch_conv(F.conv2d, x, w, b, stride, padding, dilation, groups, mode, 2)
    assert got.shape == want.shape and got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(case=conv_case(nd=1, max_size=9))
def test_conv1d_matches_torch(case):
    x, w, b, stride, padding, dilation, groups, mode = case
    got = conv1d(x, w, b, stride, padding, dilation, groups, mode)
    want = torch_conv(F.conv1d, x, w, b, stride, padding, dilation, groups, mode, 1)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(case=conv_case(nd=3, max_size=5))
def test_conv3d_matches_torch(case):
    x, w, b, stride, padding, dilation, groups, mode = case
    got = conv3d(x, w, b, stride, padding, dilation, groups, mode)
    want = torch_conv(F.conv3d, x, w, b, stride, padding, dilation, groups, mode, 3)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(case=conv_case(nd=2, max_size=5))
def test_naive_equals_fast(case):
    x, w, b, stride, padding, dilation, groups, mode = case
    np.testing.assert_allclose(
        conv2d_naive(x, w, b, stride, padding, dilation, groups, mode),
        conv2d(x, w, b, stride, padding, dilation, groups, mode),
        rtol=1e-12, atol=1e-12,
    )


def test_depthwise_matches_torch():
    rng = np.random.default_rng(3)
    x, w, b = rng.normal(size=(2, 6, 9, 8)), rng.normal(size=(12, 1, 3, 3)), rng.normal(size=12)
    got = conv2d(x, w, b, stride=2, padding=1, groups=6)
    want = F.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), stride=2, padding=1, groups=6).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_lecture_worked_example():
    # lecture 001: a 6x6 input, a 3x3 kernel with three 0.5 taps, the 4x4 feature map
    x = np.zeros((6, 6))
    x[1, 1] = 1.0
    x[[1, 2, 3, 4, 5], [4, 3, 4, 3, 4]] = 0.4
    kernel = np.array([[0, 0, 0.5], [0, 0.5, 0], [0, 0, 0.5]])
    expected = np.array([[0.5, 0.2, 0, 0.2], [0, 0, 0.6, 0], [0, 0.4, 0, 0.2], [0, 0, 0.6, 0]])
    got = conv2d(x[None, None], kernel[None, None])[0, 0]
    np.testing.assert_allclose(got, expected, atol=1e-15)
    np.testing.assert_allclose(conv2d_naive(x[None, None], kernel[None, None])[0, 0], expected, atol=1e-15)
    # the slide's first three sums: windows (0, 0), (0, 1) and (0, 2)
    assert got[0, :3].tolist() == pytest.approx([0.5, 0.2, 0.0])


def test_lecture_output_sizes():
    rng = np.random.default_rng(0)
    # 32x32x3 with ten 5x5 filters, stride 1, pad 2 -> 32x32x10
    assert conv2d(rng.normal(size=(1, 3, 32, 32)), rng.normal(size=(10, 3, 5, 5)), padding=2).shape == (1, 10, 32, 32)
    # 7x7 with 3x3: stride 1 -> 5, stride 2 -> 3, stride 3 floors to 2 like PyTorch
    x = rng.normal(size=(1, 1, 7, 7))
    k = rng.normal(size=(1, 1, 3, 3))
    assert [conv2d(x, k, stride=s).shape[-1] for s in (1, 2, 3)] == [5, 3, 2]
    # 1x1 convolution: 56x56x64 with 32 filters is a 64-long dot product per pixel
    x = rng.normal(size=(1, 64, 56, 56))
    w = rng.normal(size=(32, 64, 1, 1))
    np.testing.assert_allclose(conv2d(x, w)[0], np.einsum("kc,chw->khw", w[:, :, 0, 0], x[0]), rtol=1e-12, atol=1e-12)


def test_float32_stays_float32_and_ints_become_float64():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 3, 8, 8)).astype(np.float32)
    w = rng.normal(size=(4, 3, 3, 3)).astype(np.float32)
    b = rng.normal(size=4).astype(np.float32)
    y = conv2d(x, w, b, padding=1)
    assert y.dtype == np.float32
    want = F.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), padding=1).numpy()
    np.testing.assert_allclose(y, want, rtol=1e-4, atol=1e-5)
    assert conv1d(x[:, :, 0], w[:, :, 0]).dtype == np.float32
    assert conv2d(x, w.astype(np.float64)).dtype == np.float64
    yi = conv2d(np.arange(16).reshape(1, 1, 4, 4), np.ones((1, 1, 2, 2), dtype=int))
    assert yi.dtype == np.float64 and yi[0, 0, 0, 0] == 0 + 1 + 4 + 5


def test_lists_are_accepted():
    y = conv2d([[[[1, 2], [3, 4]]]], [[[[1, 1], [1, 1]]]], b=[0.5])
    assert y.tolist() == [[[[10.5]]]]


def test_pad2d_matches_torch():
    x = np.arange(2 * 3 * 4 * 5, dtype=float).reshape(2, 3, 4, 5)
    for mode, torch_mode in [("replicate", "replicate"), ("reflect", "reflect"), ("circular", "circular")]:
        got = pad2d(x, (2, 3), mode)
        want = F.pad(torch.tensor(x), (3, 3, 2, 2), mode=torch_mode).numpy()
        np.testing.assert_array_equal(got, want)
    z = pad2d(x, 1)
    assert z.shape == (2, 3, 6, 7) and z[:, :, 0].sum() == 0 and np.array_equal(z[:, :, 1:-1, 1:-1], x)
    assert pad2d(x, 0) is not x and np.array_equal(pad2d(x, 0), x)


def test_exported_from_ref():
    for name in ("conv1d", "conv2d", "conv3d", "conv2d_backward", "conv_transpose2d", "conv2d_fft",
                 "conv2d_as_matrix", "conv2d_naive", "conv2d_backward_naive", "pad2d"):
        module = ref.conv_forms if name in ("conv2d_fft", "conv2d_as_matrix") else conv_module
        assert getattr(ref, name) is getattr(module, name)
        assert name in ref.__all__


# --------------------------------------------------------------------------------------- errors

X = np.ones((1, 3, 8, 8))
W = np.ones((4, 3, 3, 3))


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: conv2d(np.ones((3, 8, 8)), W), ValueError, r"\(N, C, H, W\).*shape \(3, 8, 8\)"),
        (lambda: conv2d(X, np.ones((3, 3, 3))), ValueError, r"\(K, C // groups, F_h, F_w\)"),
        (lambda: conv1d(np.ones((1, 8)), np.ones((1, 1, 3))), ValueError, r"\(N, C, L\)"),
        (lambda: conv3d(X, np.ones((1, 3, 1, 1, 1))), ValueError, r"\(N, C, D, H, W\)"),
        (lambda: conv2d(X, np.ones((4, 2, 3, 3))), ValueError, r"the input has 3 channels.*must have 3 input channels per group, but it has 2"),
        (lambda: conv2d(np.ones((1, 4, 8, 8)), np.ones((4, 3, 3, 3)), groups=2), ValueError, r"4 channels, so with groups=2 the kernel must have 2 input channels per group, but it has 3"),
        (lambda: conv2d(X, np.ones((4, 1, 3, 3)), groups=2), ValueError, r"input channels \(3\) must be divisible by groups \(2\)"),
        (lambda: conv2d(np.ones((1, 4, 8, 8)), np.ones((3, 2, 3, 3)), groups=2), ValueError, r"K=3 must be divisible by groups \(2\)"),
        (lambda: conv2d(X, W, stride=0), ValueError, r"stride must be positive.*got 0"),
        (lambda: conv2d(X, W, stride=(1, -2)), ValueError, r"stride must be positive.*got -2"),
        (lambda: conv2d(X, W, dilation=0), ValueError, r"dilation must be positive.*got 0"),
        (lambda: conv2d(X, W, padding=-1), ValueError, r"padding must be non-negative, got -1"),
        (lambda: conv2d(X, W, groups=0), ValueError, r"groups must be positive.*got 0"),
        (lambda: conv2d(X, np.ones((4, 3, 9, 3))), ValueError, r"along the height, kernel_size 9 is larger than the padded input 8"),
        (lambda: conv2d(X, W, dilation=(1, 5)), ValueError, r"along the width, kernel_size 3 \(dilation 5 spreads it over 11\) is larger than the padded input 8"),
        (lambda: conv2d(X, np.ones((4, 3, 11, 3)), padding=1), ValueError, r"along the height, kernel_size 11 is larger than the padded input 10"),
        (lambda: conv2d(X, W, b=np.ones(3)), ValueError, r"b must have one entry per output channel \(4,\), got shape \(3,\)"),
        (lambda: conv2d(X, W, padding_mode="mirror"), ValueError, r"padding_mode must be one of 'zeros', 'replicate', 'reflect'.*'mirror'"),
        (lambda: conv2d(X, W, padding=8, padding_mode="reflect"), ValueError, r"reflect padding 8 must be smaller than the input size 8"),
        (lambda: conv2d(X, W, padding=9, padding_mode="circular"), ValueError, r"^conv2d: circular padding 9 must be at most the input size 8"),
        (lambda: conv2d(np.ones((1, 3, 8, 4)), W, padding=(1, 5), padding_mode="circular"), ValueError, r"circular padding 5 must be at most the input size 4"),
        (lambda: conv2d_naive(X, W, padding=9, padding_mode="circular"), ValueError, r"^conv2d_naive: circular padding 9 must be at most the input size 8"),
        (lambda: conv1d(np.ones((1, 1, 3)), np.ones((1, 1, 1)), padding=4, padding_mode="circular"), ValueError, r"^conv1d: circular padding 4 must be at most the input size 3"),
        (lambda: ref.conv2d_backward(np.ones((1, 4, 24, 24)), X, W, padding=9, padding_mode="circular"), ValueError, r"^conv2d_backward: circular padding 9 must be at most the input size 8"),
        (lambda: pad2d(X, (0, 9), mode="circular"), ValueError, r"circular padding 9 must be at most the input size 8"),
        (lambda: conv2d(X, np.ones((4, 3, 0, 3))), ValueError, r"^conv2d: the kernel must be at least 1 wide on every axis, got w of shape \(4, 3, 0, 3\)"),
        (lambda: conv2d(X, np.ones((4, 3, 3, 0)), padding=1), ValueError, r"kernel must be at least 1 wide on every axis, got w of shape \(4, 3, 3, 0\)"),
        (lambda: conv2d_naive(X, np.ones((4, 3, 0, 0))), ValueError, r"^conv2d_naive: the kernel must be at least 1 wide.*\(4, 3, 0, 0\)"),
        (lambda: conv1d(np.ones((1, 3, 8)), np.ones((4, 3, 0))), ValueError, r"kernel must be at least 1 wide.*\(4, 3, 0\)"),
        (lambda: conv2d("image", W), TypeError, r"x must be a numeric array.*str"),
        (lambda: conv2d(X, np.full((4, 3, 3, 3), "a")), TypeError, r"w must be a numeric array"),
        (lambda: conv2d(X, W, stride=1.5), TypeError, r"stride must be an int or a tuple of 2 ints, got 1.5"),
        (lambda: conv2d(X, W, padding=(1, 2, 3)), TypeError, r"padding must be an int or a tuple of 2 ints"),
        (lambda: conv2d(X, W, groups=1.0), TypeError, r"groups must be a positive int"),
        (lambda: conv2d(X.astype(complex), W), TypeError, r"real-valued"),
        (lambda: pad2d(X, 1, mode="edge"), ValueError, r"mode must be one of"),
        (lambda: pad2d(X, -1), ValueError, r"padding must be non-negative, got -1"),
        (lambda: pad2d(X[0], 1), ValueError, r"\(N, C, H, W\)"),
    ],
)
def test_errors_name_the_problem(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_circular_padding_may_equal_the_input_size():
    # PyTorch wraps around at most once: padding == size is the largest it allows (and we too).
    rng = np.random.default_rng(6)
    x, w = rng.normal(size=(1, 2, 3, 4)), rng.normal(size=(2, 2, 2, 3))
    got = conv2d(x, w, padding=(3, 4), padding_mode="circular")
    want = torch_conv(F.conv2d, x, w, None, 1, (3, 4), 1, 1, "circular", 2)
    assert got.shape == (1, 2, 8, 10)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    with pytest.raises(RuntimeError, match="wrapping around more than once"):
        F.pad(torch.tensor(x), (5, 5, 3, 3), mode="circular")


def test_error_names_the_function():
    with pytest.raises(ValueError, match=r"^conv2d: "):
        conv2d(np.ones((3, 8, 8)), W)
    with pytest.raises(ValueError, match=r"^conv2d_naive: "):
        conv2d_naive(X, W, stride=0)


def test_arguments_are_not_modified():
    rng = np.random.default_rng(5)
    x, w, b = rng.normal(size=(2, 2, 6, 6)), rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3)
    copies = [a.copy() for a in (x, w, b)]
    for mode in MODES:
        conv2d(x, w, b, padding=1, padding_mode=mode)
        conv2d_naive(x, w, b, padding=1, padding_mode=mode)
        pad2d(x, 1, mode)
    conv2d(x, w, b)  # no padding: the windows are views of x itself
    for a, c in zip((x, w, b), copies):
        np.testing.assert_array_equal(a, c)
    # the output is a fresh array that owns its memory, so writing to it cannot reach x
    y = conv2d(x, np.ones((1, 2, 1, 1)))
    y[...] = 0
    np.testing.assert_array_equal(x, copies[0])


# ------------------------------------------------------- the stride-1 shifted-product fast path
