"""coursecnn.ref.max_unpool2d: output_size is checked as PyTorch checks it.

PyTorch (``torch.nn.functional._unpool_output_size``) takes the default size per axis,
``(H_in - 1) * stride - 2 * padding + kernel_size``, and accepts a given size strictly within
``stride`` of it: ``default - stride < H < default + stride``. Sizes outside that range would
re-read the flat switches in a plane of the wrong width and put values in the wrong cells.
"""

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from coursecnn.ref import max_pool2d_with_indices, max_unpool2d

# (H_in, W_in, kernel_size, stride, padding): square and rectangular, padded, stride 1.
GEOMETRIES = [
    (2, 2, 2, 2, 0),
    (3, 4, 3, 2, 1),
    (3, 2, (2, 3), (2, 3), (0, 1)),
    (4, 3, 3, 1, 1),
]


def _pairs(v):
    return v if isinstance(v, tuple) else (v, v)


def allowed_range(h_in, k, s, p):
    default = (h_in - 1) * s - 2 * p + k
    return default - s + 1, default + s - 1


def distinct_switches(n, c, in_hw, out_hw, seed):
    """Different flat indices into each (H, W) plane (no two values land in one cell)."""
    rng = np.random.default_rng(seed)
    count, plane = in_hw[0] * in_hw[1], out_hw[0] * out_hw[1]
    assert plane >= count
    sw = np.stack([rng.permutation(plane)[:count] for _ in range(n * c)])
    return sw.reshape(n, c, *in_hw).astype(np.int64)


@pytest.mark.parametrize("h_in, w_in, k, s, p", GEOMETRIES)
def test_boundary_sizes_are_allowed_and_match_torch(h_in, w_in, k, s, p):
    (kh, kw), (sh, sw_), (ph, pw) = _pairs(k), _pairs(s), _pairs(p)
    rows = allowed_range(h_in, kh, sh, ph)
    cols = allowed_range(w_in, kw, sw_, pw)
    y = np.random.default_rng(1).standard_normal((2, 3, h_in, w_in))
    for seed, size in enumerate(itertools.product(rows, cols)):
        switches = distinct_switches(2, 3, (h_in, w_in), size, seed)
        expected = F.max_unpool2d(torch.tensor(y), torch.tensor(switches), k, s, p, output_size=size)
        got = max_unpool2d(y, switches, k, s, p, output_size=size)
        assert got.shape == (2, 3) + size and got.dtype == np.float64
        np.testing.assert_array_equal(got, expected.numpy())
        # the 4-tuple form (N, C, H, W) means the same
        np.testing.assert_array_equal(max_unpool2d(y, switches, k, s, p, output_size=(2, 3) + size), got)


@pytest.mark.parametrize("h_in, w_in, k, s, p", GEOMETRIES)
def test_sizes_just_outside_the_range_are_refused_like_torch(h_in, w_in, k, s, p):
    (kh, kw), (sh, sw_), (ph, pw) = _pairs(k), _pairs(s), _pairs(p)
    (lo_h, hi_h), (lo_w, hi_w) = allowed_range(h_in, kh, sh, ph), allowed_range(w_in, kw, sw_, pw)
    y = np.ones((1, 1, h_in, w_in))
    switches = np.zeros((1, 1, h_in, w_in), dtype=np.int64)
    for size, axis, lo, hi, bad in [
        ((lo_h - 1, lo_w), "H", lo_h, hi_h, lo_h - 1),
        ((hi_h + 1, lo_w), "H", lo_h, hi_h, hi_h + 1),
        ((lo_h, lo_w - 1), "W", lo_w, hi_w, lo_w - 1),
        ((lo_h, hi_w + 1), "W", lo_w, hi_w, hi_w + 1),
    ]:
        if bad < 1:
            continue  # a size below 1 is refused as not positive (checked below)
        with pytest.raises(ValueError, match="invalid output_size"):
            F.max_unpool2d(torch.tensor(y), torch.tensor(switches), k, s, p, output_size=size)
        expected = (
            rf"output_size \({size[0]}, {size[1]}\) does not fit this pooling: its {axis} must be in "
            rf"\[{lo}, {hi}\] .* got {bad}$"
        )
        with pytest.raises(ValueError, match=expected):
            max_unpool2d(y, switches, k, s, p, output_size=size)


def test_the_audit_case_7x7_after_2x2_pooling_of_4x4():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    y, switches = max_pool2d_with_indices(x, 2)
    # used to return a 7x7 map with the maxima in the wrong cells
    with pytest.raises(ValueError, match=r"output_size \(7, 7\) does not fit this pooling: its H must be in \[3, 5\].*got 7"):
        max_unpool2d(y, switches, 2, output_size=(7, 7))
    with pytest.raises(ValueError, match=r"its W must be in \[3, 5\].*got 6"):
        max_unpool2d(y, switches, 2, output_size=(1, 1, 4, 6))
    # the sizes that do fit still work: 4 (the default) and 5 (a 5x5 map pools to 2x2 too)
    assert max_unpool2d(y, switches, 2, output_size=(4, 4)).shape == (1, 1, 4, 4)
    assert max_unpool2d(y, switches, 2, output_size=(5, 5)).shape == (1, 1, 5, 5)


def test_a_too_small_size_names_output_size():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    y, switches = max_pool2d_with_indices(x, 2)
    # before, this was reported as switches out of range for a 2x2 plane
    with pytest.raises(ValueError, match=r"output_size \(2, 2\) does not fit this pooling: its H must be in \[3, 5\].*got 2"):
        max_unpool2d(y, switches, 2, output_size=(2, 2))
    # 3 is allowed (a 3x3 map pooled with ceil_mode gives 2x2), but switches from a 4x4 map do
    # not fit a 3x3 plane, and that is what the message says (PyTorch refuses them too)
    with pytest.raises(ValueError, match=r"switches must lie in \[0, 9\) for a plane of size \(3, 3\), got values from 5 to 15"):
        max_unpool2d(y, switches, 2, output_size=(3, 3))


def test_ceil_mode_switches_round_trip_at_the_smallest_size():
    # a 3x3 map max-pooled 2x2 with ceil_mode has a 2x2 result: unpooling to (3, 3) (the
    # smallest size allowed) puts every maximum back where it was
    x = torch.tensor(np.random.default_rng(0).permutation(18).reshape(2, 1, 3, 3), dtype=torch.float64)
    y, idx = F.max_pool2d(x, 2, ceil_mode=True, return_indices=True)
    assert y.shape[2:] == (2, 2)
    got = max_unpool2d(y.numpy(), idx.numpy(), 2, output_size=(3, 3))
    np.testing.assert_array_equal(got, F.max_unpool2d(y, idx, 2, output_size=(3, 3)).numpy())
    np.testing.assert_array_equal(got[got != 0], x.numpy()[got != 0])


@pytest.mark.parametrize(
    "output_size, error, match",
    [
        (5, TypeError, r"output_size must be a tuple \(H, W\) or \(N, C, H, W\), got 5$"),
        ("55", TypeError, r"output_size must be a tuple \(H, W\) or \(N, C, H, W\), got a str"),
        ((5,), ValueError, r"output_size must be \(H, W\) or \(N, C, H, W\), got \(5,\)"),
        ((1, 5, 5), ValueError, r"output_size must be \(H, W\) or \(N, C, H, W\), got \(1, 5, 5\)"),
        ((5, 4.0), TypeError, r"output_size must hold ints .* got \(5, 4.0\)"),
    ],
)
def test_output_size_forms(output_size, error, match):
    y, switches = max_pool2d_with_indices(np.arange(16.0).reshape(1, 1, 4, 4), 2)
    with pytest.raises(error, match=match):
        max_unpool2d(y, switches, 2, output_size=output_size)


def test_output_size_as_torch_size_or_array():
    y, switches = max_pool2d_with_indices(np.arange(16.0).reshape(1, 1, 4, 4), 2)
    assert max_unpool2d(y, switches, 2, output_size=torch.Size([1, 1, 5, 4])).shape == (1, 1, 5, 4)
    assert max_unpool2d(y, switches, 2, output_size=np.array([4, 5])).shape == (1, 1, 4, 5)


def test_inputs_are_not_modified():
    y, switches = max_pool2d_with_indices(np.arange(16.0).reshape(1, 1, 4, 4), 2)
    kept = y.copy(), switches.copy()
    max_unpool2d(y, switches, 2, output_size=(5, 5))
    np.testing.assert_array_equal(y, kept[0])
    np.testing.assert_array_equal(switches, kept[1])


@pytest.mark.parametrize("h, w, k, s, p", [(5, 6, 2, 2, 0), (7, 7, 3, 2, 1), (4, 5, 3, 1, 1)])
def test_unpool_gradient_matches_torch_and_finite_differences(h, w, k, s, p):
    """Unpooling is linear in y: its gradient gathers dx back at the switches. Overlapping
    windows (stride < kernel) may share a switch, where the later write wins in both."""
    from coursecnn.ref import numerical_gradient, relative_error

    rng = np.random.default_rng(h * 10 + w)
    x = rng.permutation(2 * 3 * h * w).reshape(2, 3, h, w) / 7.0  # no ties
    y, switches = max_pool2d_with_indices(x, k, s, p)
    size = (h, w)
    out = max_unpool2d(y, switches, k, s, p, output_size=size)
    r = rng.normal(size=out.shape)  # L = sum(r * unpool(y))
    t = torch.tensor(y, requires_grad=True)
    out_t = F.max_unpool2d(t, torch.from_numpy(switches), k, s, p, output_size=size)
    np.testing.assert_array_equal(out, out_t.detach().numpy())
    (out_t * torch.from_numpy(r)).sum().backward()
    numeric = numerical_gradient(lambda v: float(np.sum(r * max_unpool2d(v, switches, k, s, p, output_size=size))), y)
    # PyTorch's gradient is r gathered at each switch.
    gathered = np.take_along_axis(r.reshape(2, 3, -1), switches.reshape(2, 3, -1), axis=-1).reshape(y.shape)
    np.testing.assert_array_equal(t.grad.numpy(), gathered)
    # Where two windows share a switch, only one write survives, so only the entries with a switch
    # of their own have a well-defined derivative; there, finite differences agree with PyTorch.
    flat = switches.reshape(6, -1)
    own = np.array([[np.sum(row == v) == 1 for v in row] for row in flat]).reshape(y.shape)
    assert own.any() and (s < k or own.all())
    assert relative_error(numeric[own], t.grad.numpy()[own]) < 1e-7
