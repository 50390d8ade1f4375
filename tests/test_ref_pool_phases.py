"""The fast pools' less travelled paths: inputs split into blocks of planes (large inputs, forced
here with a tiny block size) and N-max pooling of inputs with infinities (the sorting path)."""

import numpy as np
import pytest

from coursecnn.ref import _phases, pool

# (kernel_size, stride, padding): overlapping, non-overlapping, rectangular, stride > kernel.
SETUPS = [((3, 3), (2, 2), (1, 1)), (2, None, 0), ((3, 2), (1, 2), (1, 0)), (1, 2, 0)]


@pytest.mark.parametrize("k, s, p", SETUPS)
def test_blocks_of_planes_agree_with_the_loops(monkeypatch, k, s, p):
    # Values from {-2, ..., 2}: many ties, so the first-maximum rule matters in every block.
    rng = np.random.default_rng(0)
    x = rng.integers(-2, 3, size=(2, 5, 9, 8)).astype(float)
    monkeypatch.setattr(_phases, "BLOCK_BYTES", 100)  # a block of 1 plane (9 x 8 x 8 bytes)
    y = pool.max_pool2d(x, k, s, p)
    dy = rng.normal(size=y.shape)
    np.testing.assert_allclose(pool.max_pool2d_backward(dy, x, k, s, p), pool.max_pool2d_backward_naive(dy, x, k, s, p), atol=1e-14)
    n = 1 if k == 1 else 2
    if p == 0:
        np.testing.assert_allclose(pool.nmax_pool2d(x, k, n, s, p), pool.nmax_pool2d_naive(x, k, n, s, p), atol=1e-14)
        np.testing.assert_allclose(
            pool.nmax_pool2d_backward(dy, x, k, n, s, p), pool.nmax_pool2d_backward_naive(dy, x, k, n, s, p), atol=1e-14
        )


def test_blocks_give_the_same_array_as_one_piece(monkeypatch):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 4, 7, 7)).astype(np.float32)
    dy = rng.normal(size=(3, 4, 3, 3)).astype(np.float32)
    whole = pool.max_pool2d_backward(dy, x, 3, 2)
    monkeypatch.setattr(_phases, "BLOCK_BYTES", 500)  # 2 planes of 196 bytes a block, 6 blocks
    blocked = pool.max_pool2d_backward(dy, x, 3, 2)
    assert blocked.dtype == np.float32 and blocked.shape == x.shape
    np.testing.assert_array_equal(blocked, whole)


def test_nmax_with_infinities_takes_the_sorting_path():
    x = np.random.default_rng(2).normal(size=(1, 2, 6, 6))
    x[0, 0, 0, 0] = x[0, 0, 0, 1] = np.inf  # two infinities in one window, n = 1 takes one
    x[0, 1, 3, 3] = -np.inf
    dy = np.ones((1, 2, 3, 3))
    for n in (1, 2, 3):
        np.testing.assert_array_equal(pool.nmax_pool2d(x, 2, n), pool.nmax_pool2d_naive(x, 2, n))
        np.testing.assert_array_equal(pool.nmax_pool2d_backward(dy, x, 2, n), pool.nmax_pool2d_backward_naive(dy, x, 2, n))
