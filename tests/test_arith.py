"""coursecnn.arith against the lectures' numbers, PyTorch's shapes, and its error messages."""

import pytest
import torch
from hypothesis import given, settings, strategies as st

from coursecnn import arith
from coursecnn.arith import (
    conv_mults,
    conv_output_size,
    conv_params,
    fc_params,
    pool_output_size,
    receptive_field,
    separable_conv_mults,
    transposed_conv_output_size,
)


# --- the lectures' numbers -----------------------------------------------------------------------

def test_seven_by_seven_with_three_by_three():
    assert conv_output_size(7, 3, stride=1) == 5
    assert conv_output_size(7, 3, stride=2) == 3
    with pytest.raises(ValueError, match=r"2\.33 doesn't fit"):
        conv_output_size(7, 3, stride=3)
    # the non-strict form floors like PyTorch
    assert conv_output_size(7, 3, stride=3, strict=False) == 2


def test_zero_padding_keeps_size_and_ten_filters_have_760_params():
    assert conv_output_size(32, 5, stride=1, padding=2) == 32
    assert conv_params(3, 10, 5) == 760
    assert conv_params(3, 10, (5, 5), bias=False) == 750
    # padding (F - 1) / 2 keeps the size for every odd F
    for f in (1, 3, 5, 7):
        assert conv_output_size(32, f, padding=(f - 1) // 2) == 32


def test_alexnet_conv1_and_pools():
    assert conv_output_size(227, 11, stride=4) == 55
    assert conv_params(3, 96, 11) == 34_944 == 96 * (11 * 11 * 3) + 96
    assert pool_output_size(55, 3, stride=2) == 27
    assert conv_output_size(27, 5, padding=2) == 27
    assert pool_output_size(27, 3, stride=2) == 13
    assert conv_output_size(13, 3, padding=1) == 13
    assert pool_output_size(13, 3, stride=2) == 6
    assert fc_params(6 * 6 * 256, 4096) == 37_752_832
    assert fc_params(4096, 1000, bias=False) == 4_096_000


def test_one_by_one_convolution():
    # 56x56x64 with 32 filters of 1x1x64 -> 56x56x32; each output is a 64-long dot product
    assert conv_output_size(56, 1) == 56
    assert conv_params(64, 32, 1) == 32 * 64 + 32
    assert conv_mults(64, 32, 1, 56) == 56 * 56 * 32 * 64


def test_depthwise_separable_lecture_numbers():
    # lecture 002: a 12x12x3 input, 5x5 kernels, no padding -> 8x8, 256 output channels
    out = conv_output_size(12, 5)
    assert out == 8
    assert conv_mults(3, 256, 5, out) == 1_228_800
    assert separable_conv_mults(3, 256, 5, out) == 53_952 == 4_800 + 49_152
    assert separable_conv_mults(3, 256, (5, 5), (8, 8)) == 53_952
    # depthwise is a grouped conv with groups=C: counted by conv_mults it gives the 4,800
    assert conv_mults(3, 3, 5, 8, groups=3) == 4_800
    assert conv_mults(3, 256, 1, 8) == 49_152


def test_receptive_field_growth():
    assert receptive_field([]) == 1
    assert receptive_field([(3, 1)]) == 3
    assert receptive_field([(3, 1)] * 2) == 5
    assert receptive_field([(3, 1)] * 3) == 7
    assert receptive_field([(3, 2), (3, 2)]) == 3 + 2 * 2
    assert receptive_field([(3, 1, 2)]) == 5  # dilation 2 spreads a 3-tap kernel over 5
    assert receptive_field([[3, 1, 1], (3, 1, 2), (3, 1, 4)]) == 15


def test_transposed_inverts_conv():
    for n in range(1, 12):
        for f in (1, 2, 3, 5):
            for s in (1, 2, 3):
                for p in range(0, f):
                    try:
                        m = conv_output_size(n, f, stride=s, padding=p)
                    except ValueError:
                        continue
                    assert transposed_conv_output_size(m, f, stride=s, padding=p) == n


# --- agreement with PyTorch's shapes -----------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 12), f=st.integers(1, 5), s=st.integers(1, 3), p=st.integers(0, 2), d=st.integers(1, 2)
)
def test_conv_output_size_matches_torch(n, f, s, p, d):
    extent = d * (f - 1) + 1
    if extent > n + 2 * p:
        with pytest.raises(ValueError, match=f"kernel_size {f}"):
            conv_output_size(n, f, s, p, d, strict=False)
        return
    x = torch.zeros(1, 1, n, n, dtype=torch.float64)
    w = torch.zeros(1, 1, f, f, dtype=torch.float64)
    expected = torch.nn.functional.conv2d(x, w, stride=s, padding=p, dilation=d).shape[-1]
    assert conv_output_size(n, f, s, p, d, strict=False) == expected
    if (n + 2 * p - extent) % s == 0:
        assert conv_output_size(n, f, s, p, d) == expected
    else:
        with pytest.raises(ValueError, match="doesn't fit"):
            conv_output_size(n, f, s, p, d)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 12), f=st.integers(1, 4), s=st.integers(1, 3), p=st.integers(0, 2))
def test_pool_output_size_matches_torch(n, f, s, p):
    if 2 * p > f or f > n + 2 * p:
        with pytest.raises(ValueError):
            pool_output_size(n, f, s, p, strict=False)
        return
    x = torch.zeros(1, 1, n, n, dtype=torch.float64)
    expected = torch.nn.functional.max_pool2d(x, f, stride=s, padding=p).shape[-1]
    assert pool_output_size(n, f, s, p, strict=False) == expected


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 6), f=st.integers(1, 4), s=st.integers(1, 3), p=st.integers(0, 2),
    op=st.integers(0, 2), d=st.integers(1, 2),
)
def test_transposed_conv_output_size_matches_torch(n, f, s, p, op, d):
    x = torch.zeros(1, 1, n, n, dtype=torch.float64)
    w = torch.zeros(1, 1, f, f, dtype=torch.float64)
    try:
        expected = torch.nn.functional.conv_transpose2d(
            x, w, stride=s, padding=p, output_padding=op, dilation=d
        ).shape[-1]
    except RuntimeError:
        with pytest.raises(ValueError):
            transposed_conv_output_size(n, f, s, p, op, d)
        return
    assert transposed_conv_output_size(n, f, s, p, op, d) == expected


def test_conv_params_match_torch_modules():
    for c, k, f, g, bias in [(3, 10, 5, 1, True), (4, 6, (3, 2), 2, False), (8, 8, 3, 8, True)]:
        module = torch.nn.Conv2d(c, k, f, groups=g, bias=bias)
        assert conv_params(c, k, f, bias=bias, groups=g) == sum(p.numel() for p in module.parameters())
    assert fc_params(7, 3) == sum(p.numel() for p in torch.nn.Linear(7, 3).parameters())


def test_pool_stride_defaults_to_kernel_size():
    assert pool_output_size(32, 2) == 16
    assert pool_output_size(6, 3) == 2
    with pytest.raises(ValueError, match=r"\(7 \+ 2\*0 - 2\)/2 \+ 1 = 3\.50 doesn't fit"):
        pool_output_size(7, 2)


# --- errors ------------------------------------------------------------------------------------

def test_kernel_larger_than_padded_input():
    with pytest.raises(ValueError, match=r"kernel_size 5 is larger than the padded input 3"):
        conv_output_size(3, 5)
    with pytest.raises(ValueError, match=r"dilation 3 spreads it over 7"):
        conv_output_size(5, 3, dilation=3)
    assert conv_output_size(3, 5, padding=1) == 1


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: conv_output_size(7, 3, stride=0), "stride must be positive.*got 0"),
        (lambda: conv_output_size(7, 3, padding=-1), "padding must be at least 0, got -1"),
        (lambda: conv_output_size(7, 3, dilation=0), "dilation must be positive.*got 0"),
        (lambda: conv_output_size(0, 3), "n must be positive.*got 0"),
        (lambda: conv_output_size(7, 0), "kernel_size must be positive.*got 0"),
        (lambda: pool_output_size(7, 3, stride=-2), "stride must be positive.*got -2"),
        (lambda: pool_output_size(8, 2, padding=2), "padding 2 is more than half the window"),
        (lambda: conv_params(3, 10, (5, 0)), "kernel_size must be positive.*got 0"),
        (lambda: conv_params(3, 10, 3, groups=2), r"in_channels \(3\) and out_channels \(10\).*groups \(2\)"),
        (lambda: conv_mults(3, 256, 5, 0), "out_hw must be positive.*got 0"),
        (lambda: transposed_conv_output_size(3, 3, stride=2, output_padding=2), "output_padding 2 must be smaller than stride \\(2\\)"),
        (lambda: transposed_conv_output_size(1, 1, padding=1), "removes the whole output"),
        (lambda: receptive_field([(3, 0)]), r"layers\[0\] stride must be positive.*got 0"),
        (lambda: receptive_field([(3,)]), r"layers\[0\] must be \(kernel_size, stride\)"),
    ],
)
def test_bad_values_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(
    "call",
    [
        lambda: conv_output_size(7.0, 3),
        lambda: conv_output_size("7", 3),
        lambda: conv_output_size(7, 3, stride=True),
        lambda: conv_params(3, 10, (5, 5, 5)),
        lambda: conv_params(3, 10, "5"),
        lambda: receptive_field("33"),
        lambda: receptive_field(3),
    ],
)
def test_non_integers_are_refused(call):
    with pytest.raises(TypeError):
        call()


def test_arith_does_not_import_numpy():
    import subprocess
    import sys

    code = "import sys, coursecnn.arith; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
