"""coursecnn.fast: every function against its coursecnn.ref twin (results and errors), and the
speed tricks' own paths and knobs (shifted products, chunked dw, blocks of phase planes), which
only this file may touch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st

from coursecnn import fast, ref
from coursecnn.fast import _phases, conv as fast_conv
from coursecnn.fast._shifted import conv2d_shifted, worth_it
from coursecnn.fast._windows import im2col, pad_spatial
from test_ref_conv import conv_case, torch_conv
from test_ref_conv_backward import check_against_torch, torch_grads

NAIVE_NAMES = ("conv2d_naive", "conv2d_backward_naive", "conv_transpose2d_naive")


def test_fast_has_ref_signatures():
    import inspect

    for name in fast.__all__:
        assert inspect.signature(getattr(fast, name)) == inspect.signature(getattr(ref, name)), name


@pytest.mark.parametrize("nd", [1, 2, 3])
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_conv_forward_and_backward_match_ref(nd, data):
    x, w, b, stride, padding, dilation, groups, mode = data.draw(conv_case(nd=nd))
    name = {1: "conv1d", 2: "conv2d", 3: "conv3d"}[nd]
    want = getattr(ref, name)(x, w, b, stride, padding, dilation, groups, mode)
    got = getattr(fast, name)(x, w, b, stride, padding, dilation, groups, mode)
    np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-11)
    dy = np.random.default_rng(nd).normal(size=want.shape)
    for a, c in zip(getattr(fast, name + "_backward")(dy, x, w, stride, padding, dilation, groups, mode),
                    getattr(ref, name + "_backward")(dy, x, w, stride, padding, dilation, groups, mode)):
        np.testing.assert_allclose(a, c, rtol=1e-11, atol=1e-11)


def test_conv_transpose_matches_ref():
    rng = np.random.default_rng(3)
    x, w, b = rng.normal(size=(2, 4, 3, 4)), rng.normal(size=(4, 3, 3, 2)), rng.normal(size=6)
    for args in [(2, 1, 1, 2, (2, 1)), (1, 0, 1, 2, (2, 2)), (3, 0, 0, 2, 1)]:
        np.testing.assert_allclose(fast.conv_transpose2d(x, w, b, *args), ref.conv_transpose2d(x, w, b, *args),
                                   rtol=1e-12, atol=1e-12)


POOL_SETUPS = [((3, 3), (2, 2), (1, 1)), (2, None, 0), ((3, 2), (1, 2), (1, 0)), (1, 2, 0), (3, 1, 1)]


@pytest.mark.parametrize("k, s, p", POOL_SETUPS)
@pytest.mark.parametrize("special", ["none", "ties", "nan", "inf"])
def test_pools_match_ref(k, s, p, special):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(2, 3, 9, 8))
    if special == "ties":
        x = rng.integers(-2, 3, size=x.shape).astype(float)
    elif special == "nan":
        x[0, 0, 1, 1] = x[1, 2, 4, 4:6] = np.nan
    elif special == "inf":
        x[0, 1] = -np.inf
        x[1, 0, 3, 3] = np.inf
    y, sw = ref.max_pool2d_with_indices(x, k, s, p)
    yf, swf = fast.max_pool2d_with_indices(x, k, s, p)
    np.testing.assert_array_equal(yf, y)
    np.testing.assert_array_equal(swf, sw)
    np.testing.assert_array_equal(fast.max_pool2d(x, k, s, p), y)
    dy = rng.normal(size=y.shape)
    np.testing.assert_allclose(fast.max_pool2d_backward(dy, x, k, s, p), ref.max_pool2d_backward(dy, x, k, s, p))
    np.testing.assert_allclose(fast.max_pool2d_backward(dy, x, k, s, p, indices=sw),
                               ref.max_pool2d_backward(dy, x, k, s, p))
    np.testing.assert_allclose(fast.avg_pool2d(x, k, s, p), ref.avg_pool2d(x, k, s, p), rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(fast.avg_pool2d_backward(dy, x, k, s, p), ref.avg_pool2d_backward(dy, x, k, s, p),
                               rtol=1e-14, atol=1e-14)
    if p == 0 or special == "none":
        n = 1 if k == 1 else 2
        np.testing.assert_allclose(fast.nmax_pool2d(x, k, n, s, p), ref.nmax_pool2d(x, k, n, s, p), atol=1e-14)
        np.testing.assert_allclose(fast.nmax_pool2d_backward(dy, x, k, n, s, p),
                                   ref.nmax_pool2d_backward(dy, x, k, n, s, p), atol=1e-14)


def test_empty_batches_are_empty_results():
    x, w = np.zeros((0, 3, 8, 8)), np.ones((4, 3, 3, 3))
    assert fast.conv2d(x, w, padding=1).shape == (0, 4, 8, 8)
    dx, dw, db = fast.conv2d_backward(np.zeros((0, 4, 6, 6)), x, w)
    assert dx.shape == x.shape and not dw.any() and not db.any()
    assert fast.max_pool2d(x, 2).shape == (0, 3, 4, 4)
    assert fast.max_pool2d_backward(np.zeros((0, 3, 4, 4)), x, 2).shape == x.shape
    assert fast.avg_pool2d_backward(np.zeros((0, 3, 4, 4)), x, 2).shape == x.shape


@pytest.mark.parametrize(
    "c, k, groups, kernel, padding, dilation, mode",
    [
        (16, 5, 1, (3, 3), 1, 1, "zeros"),
        (12, 4, 1, (2, 3), (0, 2), (2, 1), "zeros"),
        (32, 6, 2, (3, 2), (1, 0), (1, 3), "reflect"),
        (11, 3, 1, (4, 3), (2, 1), 1, "replicate"),
        (32, 8, 4, (5, 4), 2, (1, 2), "circular"),
        (33, 2, 1, (2, 1), 0, 1, "zeros"),
    ],
)
def test_shifted_path_matches_torch(c, k, groups, kernel, padding, dilation, mode):
    # enough channels x kernel columns for conv2d to take the stride-1 shifted-product path
    rng = np.random.default_rng(c + k)
    x = rng.normal(size=(3, c, 9, 8))
    w = rng.normal(size=(k, c // groups) + kernel)
    b = rng.normal(size=k)
    assert worth_it(w, (1, 1))
    got = fast.conv2d(x, w, b, 1, padding, dilation, groups, mode)
    want = torch_conv(F.conv2d, x, w, b, 1, padding, dilation, groups, mode, 2)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert got.flags.c_contiguous and got.flags.writeable
    # a non-contiguous input (a transposed view) gives the same answer
    xt = np.ascontiguousarray(x.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)
    np.testing.assert_allclose(fast.conv2d(xt, w, b, 1, padding, dilation, groups, mode), got, rtol=1e-13, atol=1e-13)


def test_shifted_and_im2col_paths_agree_in_float32():
    rng = np.random.default_rng(9)
    x = rng.normal(size=(2, 16, 10, 10)).astype(np.float32)
    w = rng.normal(size=(8, 16, 3, 3)).astype(np.float32)
    xp = pad_spatial(x, (1, 1))
    a = conv2d_shifted(xp, w, 1, (1, 1), (10, 10), 1)
    np.testing.assert_allclose(conv2d_shifted(xp, w, 1, (1, 1), (10, 10), 2), a, rtol=1e-5, atol=1e-5)
    cols = im2col(xp, 1, (3, 3), (1, 1), (1, 1), (10, 10))
    b = np.matmul(w.reshape(1, 8, -1), cols).reshape(2, 8, 10, 10)
    assert a.dtype == np.float32
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    "c, k, groups, kernel, padding, dilation, mode",
    [
        (8, 16, 1, (3, 3), 1, 1, "zeros"),
        (6, 12, 1, (2, 3), (0, 2), (2, 1), "reflect"),
        (8, 32, 2, (3, 2), (1, 0), (1, 2), "zeros"),
        (4, 33, 1, (2, 1), 1, 1, "replicate"),
    ],
)
def test_stride_one_dx_through_the_flipped_kernel_path(c, k, groups, kernel, padding, dilation, mode):
    # enough kernels x kernel columns that dx is computed as a forward conv with the flipped kernel
    rng = np.random.default_rng(c * k)
    x, w = rng.normal(size=(2, c, 7, 8)), rng.normal(size=(k, c // groups) + kernel)
    assert worth_it(np.empty((c, k // groups) + kernel), (1, 1))
    case = (x, w, None, 1, (padding,) * 2 if isinstance(padding, int) else padding, dilation, groups, mode)
    check_against_torch(2, case, seed=c + k, backward=fast.conv2d_backward)


@pytest.mark.parametrize("c, kernel, stride, groups", [(2, (3, 3), 1, 1), (32, (3, 3), 1, 2), (16, (2, 3), 2, 1)])
@pytest.mark.parametrize("images", [1, 2, 5])
def test_chunks_of_images_give_the_same_results(monkeypatch, c, kernel, stride, groups, images):
    # both passes work a few images at a time in reused buffers: 5 images in chunks of 1, of 2
    # (the last chunk is short, so stale values from the one before sit in the buffers) or whole;
    # c = 32 takes the shifted paths, c = 2 and stride 2 the im2col ones
    rng = np.random.default_rng(c + images)
    x, w, b = rng.normal(size=(5, c, 7, 6)), rng.normal(size=(8, c // groups) + kernel), rng.normal(size=8)
    assert worth_it(w, (stride, stride)) == (c == 32)
    monkeypatch.setattr(fast_conv, "_images_per_chunk", lambda xp, *rest, **kw: min(len(xp), images))
    y = fast.conv2d(x, w, b, stride, 1, 1, groups)
    np.testing.assert_allclose(y, torch_conv(F.conv2d, x, w, b, stride, (1, 1), (1, 1), groups, "zeros", 2),
                               rtol=1e-12, atol=1e-12)
    dy = rng.normal(size=y.shape)
    got = fast.conv2d_backward(dy, x, w, stride, 1, 1, groups)
    want = torch_grads(2, x, w, None, dy, (stride, stride), (1, 1), (1, 1), groups, "zeros")
    for a, e in zip(got, want):
        np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-12)


def test_chunk_size_follows_the_budget(monkeypatch):
    monkeypatch.setattr(fast_conv, "CHUNK_BYTES", 1000)
    xp, w = np.zeros((10, 4, 5, 5), np.float32), np.zeros((2, 2, 3, 2))
    # im2col: 2 groups of 2 * 3 * 2 rows by 4 columns, 96 values, 384 bytes an image: 2 fit
    assert fast_conv._images_per_chunk(xp, w, 2, (2, 2), shifted=False) == 2
    # shifted: 4 planes of 25 pixels copied twice, 200 values, 800 bytes: 1 fits
    assert fast_conv._images_per_chunk(xp, w, 2, (2, 2), shifted=True) == 1
    # one image over the budget still runs, and never more than the batch
    assert fast_conv._images_per_chunk(xp.astype(np.float64), w, 2, (3, 3), shifted=True) == 1
    monkeypatch.setattr(fast_conv, "CHUNK_BYTES", 10**9)
    assert fast_conv._images_per_chunk(xp, w, 2, (2, 2), shifted=False) == 10


# (kernel_size, stride, padding): overlapping, non-overlapping, rectangular, stride > kernel.
SETUPS = [((3, 3), (2, 2), (1, 1)), (2, None, 0), ((3, 2), (1, 2), (1, 0)), (1, 2, 0)]


@pytest.mark.parametrize("k, s, p", SETUPS)
def test_blocks_of_planes_agree_with_the_loops(monkeypatch, k, s, p):
    # Values from {-2, ..., 2}: many ties, so the first-maximum rule matters in every block.
    rng = np.random.default_rng(0)
    x = rng.integers(-2, 3, size=(2, 5, 9, 8)).astype(float)
    monkeypatch.setattr(_phases, "BLOCK_BYTES", 100)  # a block of 1 plane (9 x 8 x 8 bytes)
    y = fast.max_pool2d(x, k, s, p)
    dy = rng.normal(size=y.shape)
    np.testing.assert_allclose(fast.max_pool2d_backward(dy, x, k, s, p), ref.max_pool2d_backward_naive(dy, x, k, s, p), atol=1e-14)
    n = 1 if k == 1 else 2
    if p == 0:
        np.testing.assert_allclose(fast.nmax_pool2d(x, k, n, s, p), ref.nmax_pool2d_naive(x, k, n, s, p), atol=1e-14)
        np.testing.assert_allclose(
            fast.nmax_pool2d_backward(dy, x, k, n, s, p), ref.nmax_pool2d_backward_naive(dy, x, k, n, s, p), atol=1e-14
        )


def test_blocks_give_the_same_array_as_one_piece(monkeypatch):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 4, 7, 7)).astype(np.float32)
    dy = rng.normal(size=(3, 4, 3, 3)).astype(np.float32)
    whole = fast.max_pool2d_backward(dy, x, 3, 2)
    monkeypatch.setattr(_phases, "BLOCK_BYTES", 500)  # 2 planes of 196 bytes a block, 6 blocks
    blocked = fast.max_pool2d_backward(dy, x, 3, 2)
    assert blocked.dtype == np.float32 and blocked.shape == x.shape
    np.testing.assert_array_equal(blocked, whole)


def test_nmax_with_infinities_takes_the_sorting_path():
    x = np.random.default_rng(2).normal(size=(1, 2, 6, 6))
    x[0, 0, 0, 0] = x[0, 0, 0, 1] = np.inf  # two infinities in one window, n = 1 takes one
    x[0, 1, 3, 3] = -np.inf
    dy = np.ones((1, 2, 3, 3))
    for n in (1, 2, 3):
        np.testing.assert_array_equal(fast.nmax_pool2d(x, 2, n), ref.nmax_pool2d_naive(x, 2, n))
        np.testing.assert_array_equal(fast.nmax_pool2d_backward(dy, x, 2, n), ref.nmax_pool2d_backward_naive(dy, x, 2, n))


def test_ref_holds_no_speed_knobs():
    # the reference is read first: no memory strides, cache sizes or thresholds in it
    from pathlib import Path

    import coursecnn.ref

    for path in Path(coursecnn.ref.__file__).parent.glob("*.py"):
        text = path.read_text()
        for knob in ("as_strided", ".strides", "BLOCK_BYTES", "_LIMIT", "worth_it", "_phases", "_shifted"):
            assert knob not in text, (path.name, knob)


def test_scratch_is_reused_per_role_and_thread(monkeypatch):
    import threading

    from coursecnn.fast import _scratch

    a = _scratch.scratch("test-role", (4, 5), np.float32)
    b = _scratch.scratch("test-role", (2, 3), np.float64)  # smaller: the same memory again
    assert np.shares_memory(a, b) and b.shape == (2, 3) and b.dtype == np.float64
    c = _scratch.scratch("test-role", (100,), np.float64)  # larger: a new block, kept from now on
    assert not np.shares_memory(a, c) and np.shares_memory(c, _scratch.scratch("test-role", (7,), np.int32))
    assert not np.shares_memory(c, _scratch.scratch("other-role", (100,), np.float64))
    seen = []
    t = threading.Thread(target=lambda: seen.append(_scratch.scratch("test-role", (100,), np.float64)))
    t.start()
    t.join()
    assert not np.shares_memory(seen[0], c)  # each thread has its own blocks
    monkeypatch.setattr(_scratch, "KEEP_BYTES", 1000)
    big = _scratch.scratch("big-role", (1000,), np.float64)  # 8000 bytes: not kept
    assert not np.shares_memory(big, _scratch.scratch("big-role", (1000,), np.float64))


@pytest.mark.parametrize("c, stride", [(2, 2), (32, 1)])
def test_results_never_share_the_scratch(c, stride):
    # the scratch of one call is overwritten by the next: nothing returned may point into it
    rng = np.random.default_rng(c)
    x1, x2 = rng.normal(size=(2, c, 8, 8)), rng.normal(size=(2, c, 8, 8))
    w = rng.normal(size=(4, c, 3, 3))
    y1 = fast.conv2d(x1, w, stride=stride)
    grads1 = fast.conv2d_backward(np.ones_like(y1), x1, w, stride=stride)
    kept = [y1.copy()] + [g.copy() for g in grads1]
    fast.conv2d(x2, w, stride=stride)
    fast.conv2d_backward(np.ones_like(y1), x2, w, stride=stride)
    for now, before in zip([y1, *grads1], kept):
        np.testing.assert_array_equal(now, before)
