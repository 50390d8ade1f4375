import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from coursecnn.ref import numerical_gradient, relative_error
from coursecnn.ref import pool
from coursecnn.ref.pool import (
    avg_pool2d,
    avg_pool2d_backward,
    avg_pool2d_backward_naive,
    avg_pool2d_naive,
    max_pool2d,
    max_pool2d_backward,
    max_pool2d_backward_naive,
    max_pool2d_naive,
    max_pool2d_with_indices,
    max_unpool2d,
    nmax_pool2d,
    nmax_pool2d_backward,
    nmax_pool2d_backward_naive,
    nmax_pool2d_naive,
    pool_output_shape,
    pool_switches_mask,
)

# (H, W, kernel_size, stride, padding): square and rectangular, overlapping and not, padded,
# and sizes where the last window does not fit (floored).
CASES = [
    (4, 4, 2, None, 0),
    (5, 7, 2, None, 0),
    (7, 7, 3, 2, 1),
    (6, 5, (3, 2), (1, 2), (1, 1)),
    (4, 4, 2, 1, 1),
    (8, 6, (2, 3), (3, 1), (0, 1)),
]


def distinct(shape, seed=0):
    """Values without ties (a shuffled range, scaled), so max pooling is differentiable."""
    rng = np.random.default_rng(seed)
    return rng.permutation(int(np.prod(shape))).reshape(shape) / 7.0 - 3.0


def fewest_real_values(hw, k, s, p):
    """The fewest real (unpadded) input values any pooling window holds, counted with loops."""
    out = pool_output_shape((1, 1) + tuple(hw), k, s, p)[2:]
    counts = []
    for i in range(out[0]):
        for j in range(out[1]):
            rows = [r for r in range(i * s[0] - p[0], i * s[0] - p[0] + k[0]) if 0 <= r < hw[0]]
            cols = [c for c in range(j * s[1] - p[1], j * s[1] - p[1] + k[1]) if 0 <= c < hw[1]]
            counts.append(len(rows) * len(cols))
    return min(counts)


# ----------------------------------------------------------------- the lectures' worked examples

# Lecture 000 ("Subsampling - maxpooling"): 2x2 max pooling of this grid gives 20 30 / 112 37.
GRID_000 = np.array([[12, 20, 30, 0], [8, 12, 2, 0], [34, 70, 37, 4], [112, 100, 25, 12]], float)
# Lecture 001 (max, average and N-max pooling, size 2): only the first output row "0.5 0.6"
# survives in the slide text; the rest is computed here.
GRID_001 = np.array([[0.5, 0.2, 0, 0.2], [0, 0, 0.6, 0], [0, 0.4, 0, 0.2], [0, 0, 0.6, 0]])
# Lecture 004 ("max pool with 2x2 filters and stride 2"): 1 1 2 4 / 5 6 7 8 / 3 2 1 0 / 1 2 3 4.
GRID_004 = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], float)


def test_lecture_000_max_pool():
    y = max_pool2d(GRID_000[None, None], 2)[0, 0]
    np.testing.assert_array_equal(y, [[20, 30], [112, 37]])


def test_lecture_001_max_avg_nmax():
    x = GRID_001[None, None]
    np.testing.assert_allclose(max_pool2d(x, 2)[0, 0], [[0.5, 0.6], [0.4, 0.6]])
    np.testing.assert_allclose(avg_pool2d(x, 2)[0, 0], [[0.175, 0.2], [0.1, 0.2]])
    np.testing.assert_allclose(nmax_pool2d(x, 2, n=2)[0, 0], [[0.35, 0.4], [0.2, 0.4]])
    # n = 1 is max pooling; n = 4 (the whole 2x2 window) is average pooling.
    np.testing.assert_allclose(nmax_pool2d(x, 2, n=1), max_pool2d(x, 2))
    np.testing.assert_allclose(nmax_pool2d(x, 2, n=4), avg_pool2d(x, 2))


def test_lecture_004_max_pool():
    y = max_pool2d(GRID_004[None, None], 2, stride=2)[0, 0]
    np.testing.assert_array_equal(y, [[6, 8], [3, 4]])


def test_lecture_000_gradient_goes_to_the_maxima():
    dx = max_pool2d_backward(np.ones((1, 1, 2, 2)), GRID_000[None, None], 2)[0, 0]
    expected = np.zeros((4, 4))
    expected[0, 1] = expected[0, 2] = expected[3, 0] = expected[2, 2] = 1
    np.testing.assert_array_equal(dx, expected)
    # Average pooling spreads 1/m = 1/4 over every window.
    np.testing.assert_array_equal(avg_pool2d_backward(np.ones((1, 1, 2, 2)), GRID_000[None, None], 2), 0.25)


# ----------------------------------------------------------------- parity with PyTorch (float64)


@pytest.mark.parametrize("h, w, k, s, p", CASES)
def test_max_pool_matches_torch_forward_backward_indices(h, w, k, s, p):
    x = distinct((2, 3, h, w))
    t = torch.tensor(x, requires_grad=True)
    y, idx = F.max_pool2d(t, k, s, p, return_indices=True)
    dy = np.random.default_rng(1).normal(size=tuple(y.shape))
    y.backward(torch.tensor(dy))
    np.testing.assert_allclose(max_pool2d(x, k, s, p), y.detach().numpy(), rtol=1e-12)
    mine, switches = max_pool2d_with_indices(x, k, s, p)
    np.testing.assert_allclose(mine, y.detach().numpy(), rtol=1e-12)
    np.testing.assert_array_equal(switches, idx.numpy())
    np.testing.assert_allclose(max_pool2d_backward(dy, x, k, s, p), t.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("h, w, k, s, p", CASES)
def test_avg_pool_matches_torch_forward_backward(h, w, k, s, p):
    x = np.random.default_rng(2).normal(size=(2, 3, h, w))
    t = torch.tensor(x, requires_grad=True)
    y = F.avg_pool2d(t, k, s, p)
    dy = np.random.default_rng(3).normal(size=tuple(y.shape))
    y.backward(torch.tensor(dy))
    np.testing.assert_allclose(avg_pool2d(x, k, s, p), y.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(avg_pool2d_backward(dy, x, k, s, p), t.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_ties_follow_torch():
    # Every window full of equal values: PyTorch takes the first in row-major order.
    x = np.zeros((1, 2, 4, 6))
    x[0, 1, :2, :2] = 5.0
    t = torch.tensor(x, requires_grad=True)
    y, idx = F.max_pool2d(t, 2, 1, return_indices=True)
    y.sum().backward()
    np.testing.assert_array_equal(max_pool2d_with_indices(x, 2, 1)[1], idx.numpy())
    np.testing.assert_array_equal(max_pool2d_backward(np.ones(y.shape), x, 2, 1), t.grad.numpy())
    np.testing.assert_array_equal(max_pool2d_backward_naive(np.ones(y.shape), x, 2, 1), t.grad.numpy())


@pytest.mark.parametrize("h, w, k, s, p", [(4, 4, 2, None, 0), (6, 7, 3, 2, 1), (5, 6, (2, 3), (2, 3), (1, 1))])
def test_max_unpool_matches_torch(h, w, k, s, p):
    x = distinct((2, 2, h, w), seed=4)
    y, idx = F.max_pool2d(torch.tensor(x), k, s, p, return_indices=True)
    mine_y, switches = max_pool2d_with_indices(x, k, s, p)
    # PyTorch's default size, then the exact input size.
    for size in (None, (h, w)):
        try:
            expected = F.max_unpool2d(y, idx, k, s, p, output_size=size).numpy()
        except RuntimeError:
            # The default size can be too small for the switches (here 6x7 -> 3x4 -> 5x7):
            # PyTorch refuses, and so do we, naming the valid range.
            with pytest.raises(ValueError, match="switches must lie in"):
                max_unpool2d(mine_y, switches, k, s, p, output_size=size)
            continue
        np.testing.assert_array_equal(max_unpool2d(mine_y, switches, k, s, p, output_size=size), expected)


def test_unpool_puts_the_maxima_back_and_zeros_elsewhere():
    x = GRID_000[None, None]
    y, switches = max_pool2d_with_indices(x, 2)
    u = max_unpool2d(y, switches, 2)
    mask = pool_switches_mask(x, 2)
    np.testing.assert_array_equal(u, np.where(mask, x, 0.0))
    assert mask.sum() == 4
    # Pooling the unpooled map gives the pooled values again.
    np.testing.assert_array_equal(max_pool2d(u, 2), y)
    # output_size may also be given with the leading (N, C).
    assert max_unpool2d(y, switches, 2, output_size=(1, 1, 5, 5)).shape == (1, 1, 5, 5)


# ----------------------------------------------------------------- naive twins agree (hypothesis)


@st.composite
def pool_setups(draw):
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    p = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    h = draw(st.integers(max(1, k[0] - 2 * p[0]), 7))
    w = draw(st.integers(max(1, k[1] - 2 * p[1]), 7))
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    ties = draw(st.booleans())
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    # With ties on, values come from {-1, 0, 1} so many windows hold equal maxima.
    x = rng.integers(-1, 2, size=(n, c, h, w)).astype(float) if ties else rng.normal(size=(n, c, h, w))
    return x, k, s, p, rng


@settings(max_examples=40, deadline=None)
@given(pool_setups())
def test_naive_and_fast_agree(setup):
    x, k, s, p, rng = setup
    kept = x.copy()
    y = max_pool2d(x, k, s, p)
    dy = rng.normal(size=y.shape)
    np.testing.assert_allclose(max_pool2d_naive(x, k, s, p), y)
    np.testing.assert_allclose(avg_pool2d_naive(x, k, s, p), avg_pool2d(x, k, s, p), atol=1e-14)
    np.testing.assert_allclose(max_pool2d_backward_naive(dy, x, k, s, p), max_pool2d_backward(dy, x, k, s, p), atol=1e-14)
    np.testing.assert_allclose(avg_pool2d_backward_naive(dy, x, k, s, p), avg_pool2d_backward(dy, x, k, s, p), atol=1e-14)
    # With padding, n may be at most the number of real values in the emptiest border window.
    fewest = fewest_real_values(x.shape[2:], k, s, p)
    for n in {1, fewest, int(rng.integers(1, fewest + 1))}:
        np.testing.assert_allclose(nmax_pool2d_naive(x, k, n, s, p), nmax_pool2d(x, k, n, s, p), atol=1e-14)
        np.testing.assert_allclose(
            nmax_pool2d_backward_naive(dy, x, k, n, s, p), nmax_pool2d_backward(dy, x, k, n, s, p), atol=1e-14
        )
    if fewest < k[0] * k[1]:
        # One more would average in the -inf padding: both versions refuse.
        for f in (nmax_pool2d, nmax_pool2d_naive):
            with pytest.raises(ValueError, match=f"n={fewest + 1} is larger than the {fewest} real input values"):
                f(x, k, fewest + 1, s, p)
    assert y.shape == pool_output_shape(x.shape, k, s, p)
    np.testing.assert_array_equal(x, kept)


@settings(max_examples=25, deadline=None)
@given(pool_setups())
def test_max_pool_matches_torch_on_random_setups(setup):
    x, k, s, p, rng = setup
    t = torch.tensor(x, requires_grad=True)
    y, idx = F.max_pool2d(t, k, s, p, return_indices=True)
    dy = rng.normal(size=tuple(y.shape))
    y.backward(torch.tensor(dy))
    mine, switches = max_pool2d_with_indices(x, k, s, p)
    np.testing.assert_array_equal(mine, y.detach().numpy())
    np.testing.assert_array_equal(switches, idx.numpy())
    np.testing.assert_allclose(max_pool2d_backward(dy, x, k, s, p), t.grad.numpy(), atol=1e-14)
    # With the saved switches (ours or PyTorch's), the backward pass only scatters dy.
    for saved in (switches, idx.numpy()):
        np.testing.assert_allclose(max_pool2d_backward(dy, x, k, s, p, indices=saved), t.grad.numpy(), atol=1e-14)


def test_backward_with_switches_adds_where_windows_overlap():
    # 3x3 windows at stride 1 on a peak: all four windows pick the centre entry.
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 2] = 5.0
    y, sw = max_pool2d_with_indices(x, 3, 1)
    np.testing.assert_array_equal(sw, np.full((1, 1, 2, 2), 6))
    dy = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    dx = max_pool2d_backward(dy, x, 3, 1, indices=sw)
    assert dx[0, 0, 1, 2] == 10.0 and dx.sum() == 10.0
    np.testing.assert_array_equal(dx, max_pool2d_backward(dy, x, 3, 1))
    # float32 in, float32 out, as without the switches.
    x32, dy32 = x.astype(np.float32), dy.astype(np.float32)
    assert max_pool2d_backward(dy32, x32, 3, 1, indices=sw).dtype == np.float32


def test_nmax_limits_and_padding():
    x = distinct((1, 2, 5, 5), seed=5)
    k, s = 3, 2
    np.testing.assert_allclose(nmax_pool2d(x, k, 1, s, 1), max_pool2d(x, k, s, 1))
    np.testing.assert_allclose(nmax_pool2d(x, k, 9, s), avg_pool2d(x, k, s))
    # With padding 1, the corner windows of a 3x3 kernel hold 4 real values: n up to 4 works.
    np.testing.assert_allclose(nmax_pool2d(x, k, 4, s, 1), nmax_pool2d_naive(x, k, 4, s, 1))
    with pytest.raises(ValueError, match="n=5 is larger than the 4 real input values"):
        nmax_pool2d(x, k, 5, s, 1)
    # n = 1's gradient is max pooling's.
    dy = np.random.default_rng(6).normal(size=(1, 2, 3, 3))
    np.testing.assert_allclose(nmax_pool2d_backward(dy, x, k, 1, s, 1), max_pool2d_backward(dy, x, k, s, 1))


# ----------------------------------------------------------------- finite differences


def _fd_check(forward, backward, x, **kw):
    # Positive upstream gradients of size 0.5 to 1.5: small or cancelling ones would make the
    # relative error measure only the round-off of the differences.
    dy = np.random.default_rng(7).uniform(0.5, 1.5, size=forward(x, **kw).shape)
    # Pooling is linear between kinks, so centered differences are exact for any step that
    # crosses no kink; eps=1e-4 (values are 1/7 apart) keeps round-off far below 1e-7.
    numeric = numerical_gradient(lambda v: np.sum(forward(v, **kw) * dy), x, eps=1e-4)
    return relative_error(backward(dy, x, **kw), numeric)


@pytest.mark.parametrize("k, s, p", [(2, None, 0), (3, 2, 1), ((2, 3), 1, (1, 0))])
def test_backward_passes_match_finite_differences(k, s, p):
    # Distinct values spaced far more than eps apart, so no maximum changes under the step.
    x = distinct((1, 2, 5, 6), seed=8)
    kw = dict(kernel_size=k, stride=s, padding=p)
    assert _fd_check(max_pool2d, max_pool2d_backward, x, **kw) < 1e-7
    assert _fd_check(avg_pool2d, avg_pool2d_backward, x, **kw) < 1e-7
    kw_n = dict(kw, padding=0)
    for n in (2, 3):
        fwd = lambda v, **a: nmax_pool2d(v, n=n, **a)  # noqa: E731
        bwd = lambda d, v, **a: nmax_pool2d_backward(d, v, n=n, **a)  # noqa: E731
        assert _fd_check(fwd, bwd, x, **kw_n) < 1e-7


@pytest.mark.parametrize(
    "k, s, p, ns",
    [
        # 3x3 windows at stride 2 with padding 1 on 5x6: the corner windows hold 2x2 = 4 real values.
        (3, 2, 1, (2, 3, 4)),
        # Rectangular: rows as above (2 real at the border), 4-wide windows at stride 3 with
        # padding 1 on 6 columns start at -1 and 2 (3 and 4 real): the emptiest holds 2 * 3 = 6.
        ((3, 4), (2, 3), (1, 1), (2, 4, 6)),
    ],
)
def test_padded_nmax_backward_matches_finite_differences_and_naive(k, s, p, ns):
    x = distinct((2, 2, 5, 6), seed=10)
    two = lambda v: v if isinstance(v, tuple) else (v, v)  # noqa: E731
    # the largest n tried fills the emptiest border window exactly
    assert fewest_real_values(x.shape[2:], two(k), two(s), two(p)) == max(ns)
    kw = dict(kernel_size=k, stride=s, padding=p)
    dy = np.random.default_rng(11).normal(size=nmax_pool2d(x, n=1, **kw).shape)
    for n in ns:
        fwd = lambda v, **a: nmax_pool2d(v, n=n, **a)  # noqa: E731
        bwd = lambda d, v, **a: nmax_pool2d_backward(d, v, n=n, **a)  # noqa: E731
        assert _fd_check(fwd, bwd, x, **kw) < 1e-7
        np.testing.assert_allclose(
            nmax_pool2d_backward(dy, x, n=n, **kw), nmax_pool2d_backward_naive(dy, x, n=n, **kw), rtol=1e-14, atol=1e-15
        )
        np.testing.assert_allclose(nmax_pool2d(x, n=n, **kw), nmax_pool2d_naive(x, n=n, **kw), rtol=1e-14)


# ----------------------------------------------------------------- errors, dtypes, no mutation


@pytest.mark.parametrize(
    "call, err, match",
    [
        (lambda: max_pool2d(np.ones((3, 4, 4)), 2), ValueError, r"\(N, C, H, W\).*shape \(3, 4, 4\)"),
        (lambda: avg_pool2d(np.ones((1, 1, 4, 4)), 0), ValueError, "kernel_size must be positive.*got 0"),
        (lambda: max_pool2d(np.ones((1, 1, 4, 4)), 2, stride=0), ValueError, "stride must be positive.*got 0"),
        (lambda: max_pool2d(np.ones((1, 1, 4, 4)), 2, padding=-1), ValueError, "padding must be non-negative.*-1"),
        (lambda: max_pool2d(np.ones((1, 1, 4, 4)), 3, padding=2), ValueError, r"padding 2 is more than half the window \(kernel_size 3\)"),
        (lambda: max_pool2d(np.ones((1, 1, 4, 4)), 5), ValueError, r"along the height, kernel_size 5 is larger than the padded input 4"),
        (lambda: avg_pool2d(np.ones((1, 1, 4, 4)), (2, 7), padding=(0, 1)), ValueError, r"along the width, kernel_size 7 is larger than the padded input 6"),
        (lambda: max_pool2d(np.ones((1, 1, 4, 4)), 2.5), TypeError, "kernel_size must be an int"),
        (lambda: max_pool2d("abc", 2), TypeError, "numeric"),
        (lambda: max_pool2d(np.array([[[["a"]]]]), 1), TypeError, "numeric"),
        (lambda: nmax_pool2d(np.ones((1, 1, 4, 4)), 2, 5), ValueError, "n must be from 1 to 4.*got 5"),
        (lambda: nmax_pool2d(np.ones((1, 1, 4, 4)), 2, 0), ValueError, "got 0"),
        (lambda: nmax_pool2d(np.ones((1, 1, 4, 4)), 2, 1.5), TypeError, "n must be an int"),
        (lambda: max_pool2d_backward(np.ones((1, 1, 3, 3)), np.ones((1, 1, 4, 4)), 2), ValueError, r"dy must have the output's shape \(1, 1, 2, 2\)"),
        (lambda: avg_pool2d_backward(np.ones((1, 1, 2)), np.ones((1, 1, 4, 4)), 2), ValueError, "dy must have 4 dimensions"),
        (lambda: max_unpool2d(np.ones((1, 1, 2, 2)), np.zeros((1, 1, 2, 2)), 2), TypeError, "integer"),
        (lambda: max_unpool2d(np.ones((1, 1, 2, 2)), np.zeros((1, 1, 2, 1), int), 2), ValueError, r"pooled output's shape \(1, 1, 2, 2\)"),
        (lambda: max_pool2d_backward(np.ones((1, 1, 2, 2)), np.ones((1, 1, 4, 4)), 2, indices=np.zeros((1, 1, 2, 2))), TypeError, "indices must be an integer array"),
        (lambda: max_pool2d_backward(np.ones((1, 1, 2, 2)), np.ones((1, 1, 4, 4)), 2, indices=np.zeros((1, 1, 4), int)), ValueError, r"indices must have the pooled output's shape \(1, 1, 2, 2\), got \(1, 1, 4\)"),
        (lambda: max_pool2d_backward(np.ones((1, 1, 2, 2)), np.ones((1, 1, 4, 4)), 2, indices=np.full((1, 1, 2, 2), -1)), ValueError, r"indices must lie in \[0, 16\)"),
        # Window (0, 1) covers columns 2 and 3; index 0 is column 0.
        (lambda: max_pool2d_backward(np.ones((1, 1, 2, 2)), np.ones((1, 1, 4, 4)), 2, indices=np.array([[[[0, 0], [8, 10]]]])), ValueError, r"indices\[0, 0, 0, 1\] = 0 lies outside its 2x2 window"),
        (lambda: max_unpool2d(np.ones((1, 1, 2, 2)), np.full((1, 1, 2, 2), 16), 2), ValueError, r"\[0, 16\)"),
        (lambda: pool_output_shape((1, 4, 4), 2), ValueError, r"x_shape must hold 4 non-negative ints \(N, C, H, W\), got \(1, 4, 4\)"),
        (lambda: pool_output_shape((1, 1, 4, 4, 4), 2), ValueError, r"x_shape must hold 4 non-negative ints \(N, C, H, W\), got \(1, 1, 4, 4, 4\)"),
        (lambda: pool_output_shape((1, 1, 1, 4), 2), ValueError, r"pool_output_shape: along the height, kernel_size 2 is larger than the padded input 1"),
    ],
)
def test_errors(call, err, match):
    with pytest.raises(err, match=match):
        call()


def test_pool_output_shape_negative_size_names_the_value():
    with pytest.raises(ValueError, match=r"x_shape.*\(1, 1, -4, 4\)"):
        pool_output_shape((1, 1, -4, 4), 2)


def test_pool_output_shape_of_a_non_sequence_names_the_expected_form():
    with pytest.raises((TypeError, ValueError), match=r"x_shape.*\(N, C, H, W\).*4"):
        pool_output_shape(4, 2)


def test_no_argument_is_modified_and_dtypes():
    x = distinct((2, 2, 6, 6), seed=9)
    dy = np.ones((2, 2, 3, 3))
    kept_x, kept_dy = x.copy(), dy.copy()
    for f in (max_pool2d, avg_pool2d, max_pool2d_naive, avg_pool2d_naive, pool_switches_mask):
        f(x, 2)
    nmax_pool2d(x, 2, 2)
    for b in (max_pool2d_backward, avg_pool2d_backward, max_pool2d_backward_naive, avg_pool2d_backward_naive):
        b(dy, x, 2)
    nmax_pool2d_backward(dy, x, 2, 3)
    y, sw = max_pool2d_with_indices(x, 2)
    kept_y, kept_sw = y.copy(), sw.copy()
    max_unpool2d(y, sw, 2)
    max_pool2d_backward(dy, x, 2, indices=sw)
    for a, b in ((x, kept_x), (dy, kept_dy), (y, kept_y), (sw, kept_sw)):
        np.testing.assert_array_equal(a, b)
    # Integers are promoted to float64; float32 stays float32.
    assert max_pool2d(np.arange(16).reshape(1, 1, 4, 4), 2).dtype == np.float64
    assert avg_pool2d(np.ones((1, 1, 4, 4), np.float32), 2).dtype == np.float32
    assert sw.dtype == np.int64


def test_output_shape_floors_like_torch():
    assert pool_output_shape((2, 3, 7, 7), 2) == (2, 3, 3, 3)
    assert pool_output_shape((1, 1, 224, 224), 2) == (1, 1, 112, 112)
    # AlexNet's pools: 55 -> 27 -> ... with 3x3 windows at stride 2.
    assert pool_output_shape((1, 96, 55, 55), 3, 2) == (1, 96, 27, 27)
    assert pool_output_shape((1, 256, 13, 13), 3, 2) == (1, 256, 6, 6)
