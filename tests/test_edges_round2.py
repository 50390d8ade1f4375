"""Nothing silent, round 2 (issue 26): the edges of the code added since issue 17.

Empty batches through every path of ``fast``; interpolation (a dense matrix product in the
explanation) against NaN and inf, and its dtype; the budgets, which must cover the output as
well as the columns and refuse a NaN or a string as ``max_bytes``; photographs of 16 bits, of
floats and of huge sizes; checkpoints that cannot be written; batch norm's ``eps``; the FFT's
dynamic range; and the command line without the ``[dev]`` extra.
"""

import itertools
import sys
import time
import tracemalloc
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from coursecnn import cli, fast, ref
from coursecnn.data import load_photo, resize_area

RNG = np.random.default_rng(26)


# ------------------------------------------------------------------ fast with an empty batch


@pytest.mark.parametrize("c", [1, 3, 8, 16, 32, 64])
def test_every_fast_conv_path_takes_an_empty_batch(c):
    """16 channels and a 3x3 kernel take the shifted stride-1 path, which once read the first
    image of an empty batch; every channel count, stride and kernel size goes through here."""
    for s, f in itertools.product([1, 2, 3], [1, 3, 5]):
        x, w = np.zeros((0, c, 12, 12)), RNG.normal(size=(4, c, f, f))
        y = fast.conv2d(x, w, stride=s)
        assert y.shape == ref.conv2d(x, w, stride=s).shape == (0, 4) + y.shape[2:]
        dy = np.zeros(y.shape)
        for got, want in zip(fast.conv2d_backward(dy, x, w, stride=s), ref.conv2d_backward(dy, x, w, stride=s)):
            assert got.shape == want.shape and not got.any()
        x1, w1 = np.zeros((0, c, 12)), RNG.normal(size=(4, c, f))
        assert fast.conv1d(x1, w1, stride=s).shape == ref.conv1d(x1, w1, stride=s).shape
        y1 = fast.conv1d(x1, w1, stride=s)
        assert [a.shape for a in fast.conv1d_backward(np.zeros(y1.shape), x1, w1, stride=s)] == [x1.shape, w1.shape, (4,)]
        x3, w3 = np.zeros((0, c, 6, 6, 6)), RNG.normal(size=(2, c, min(f, 3), min(f, 3), min(f, 3)))
        y3 = fast.conv3d(x3, w3, stride=s)
        assert y3.shape == ref.conv3d(x3, w3, stride=s).shape
        assert [a.shape for a in fast.conv3d_backward(np.zeros(y3.shape), x3, w3, stride=s)] == [x3.shape, w3.shape, (2,)]
        xt, wt = np.zeros((0, c, 5, 5)), RNG.normal(size=(c, 2, f, f))
        assert fast.conv_transpose2d(xt, wt, stride=s).shape == ref.conv_transpose2d(xt, wt, stride=s).shape
        # groups: depthwise, and two groups where the channels allow it
        for g in {1, c} | ({2} if c % 2 == 0 else set()):
            wg = RNG.normal(size=(2 * g, c // g, f, f))
            yg = fast.conv2d(x, wg, stride=s, groups=g)
            assert yg.shape == ref.conv2d(x, wg, stride=s, groups=g).shape
            assert fast.conv2d_backward(np.zeros(yg.shape), x, wg, stride=s, groups=g)[1].shape == wg.shape


@pytest.mark.parametrize("c", [1, 3, 16, 64])
def test_every_fast_pooling_path_takes_an_empty_batch(c):
    x = np.zeros((0, c, 12, 12))
    for k, s in itertools.product([2, 3, 5], [1, 2, 3]):
        for name in ("max_pool2d", "avg_pool2d"):
            y = getattr(fast, name)(x, k, stride=s)
            assert y.shape == getattr(ref, name)(x, k, stride=s).shape
            dx = getattr(fast, name + "_backward")(np.zeros(y.shape), x, k, stride=s)
            assert dx.shape == x.shape
        y, idx = fast.max_pool2d_with_indices(x, k, stride=s)
        assert y.shape == idx.shape == ref.max_pool2d(x, k, stride=s).shape
        assert fast.max_pool2d_backward(np.zeros(y.shape), x, k, stride=s, indices=idx).shape == x.shape
        y = fast.nmax_pool2d(x, k, 2, stride=s)
        assert fast.nmax_pool2d_backward(np.zeros(y.shape), x, k, 2, stride=s).shape == x.shape


def test_fast_nmax_pooling_with_a_large_window_is_quick_and_equal():
    x = RNG.normal(size=(2, 3, 48, 48))
    start = time.perf_counter()
    y = fast.nmax_pool2d(x, 24, 3)
    dx = fast.nmax_pool2d_backward(np.ones(y.shape), x, 24, 3)
    assert time.perf_counter() - start < 2  # pairwise ranking of 576 taps took seconds
    np.testing.assert_array_equal(y, ref.nmax_pool2d(x, 24, 3))
    np.testing.assert_array_equal(dx, ref.nmax_pool2d_backward(np.ones(y.shape), x, 24, 3))


# --------------------------------------------------------------- interpolation, NaN and dtype

INTERP = [("nearest", None), ("bilinear", False), ("bilinear", True), ("bicubic", False), ("bicubic", True)]


def _same_as_torch(ours, want):
    """Non-finite exactly where torch's are, and equal elsewhere."""
    mask = np.isfinite(want)
    assert np.array_equal(np.isfinite(ours), mask), (np.flatnonzero(~np.isfinite(ours)), np.flatnonzero(~mask))
    tol = 1e-4 if ours.dtype == np.float32 else 1e-10  # float32 sums of up to a few dozen terms
    np.testing.assert_allclose(ours[mask], want[mask], rtol=tol, atol=tol)


@pytest.mark.parametrize("mode,align", INTERP)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_interpolate_keeps_nan_and_inf_local_like_torch(mode, align, bad):
    for (h, w), size, dtype in itertools.product([(5, 7), (1, 3), (4, 4)], [(7, 9), (2, 3), (10, 14), (4, 4)],
                                                 [np.float64, np.float32]):
        if dtype == np.float32 and mode == "bicubic":
            continue  # float32 weights at exact pixel positions: see the note in the report
        x = RNG.normal(size=(2, 3, h, w)).astype(dtype)
        x[1, 2, h // 2, w // 2] = bad
        kw = dict(size=size, mode=mode, align_corners=align)
        xt = torch.tensor(x, requires_grad=True)
        yt = F.interpolate(xt, **kw)
        y = ref.interpolate(x, **kw)
        assert y.dtype == dtype
        _same_as_torch(y, yt.detach().numpy())
        dy = RNG.normal(size=y.shape).astype(dtype)
        dy[0, 1, 0, -1] = bad
        yt.backward(torch.tensor(dy))
        dx = ref.interpolate_backward(dy, x.shape, **kw)
        assert dx.dtype == dtype
        _same_as_torch(dx, xt.grad.numpy())


def test_one_nan_reaches_as_few_outputs_as_in_torch():
    """The issue's case: the dense product turned one NaN into a whole map (140 NaN, torch 4)."""
    x = np.ones((1, 1, 7, 10))
    x[0, 0, 3, 4] = np.nan
    for mode in ("nearest", "bilinear"):
        y = ref.interpolate(x, scale_factor=2, mode=mode)
        want = F.interpolate(torch.tensor(x), scale_factor=2, mode=mode).numpy()
        assert np.isnan(y).sum() == np.isnan(want).sum() <= 16
        dy = np.ones(y.shape)
        dy[0, 0, 5, 7] = np.nan
        xt = torch.ones(x.shape, dtype=torch.float64, requires_grad=True)
        F.interpolate(xt, scale_factor=2, mode=mode).backward(torch.tensor(dy))
        dx = ref.interpolate_backward(dy, x.shape, scale_factor=2, mode=mode)
        assert np.isnan(dx).sum() == np.isnan(xt.grad.numpy()).sum() <= 4


def test_interpolate_keeps_float32_and_makes_integers_float64():
    x = RNG.normal(size=(1, 2, 3, 3))
    assert ref.interpolate(x.astype(np.float32), size=5, mode="bilinear").dtype == np.float32
    assert ref.interpolate_backward(np.ones((1, 2, 5, 5), np.float32), x.shape, size=5).dtype == np.float32
    assert ref.interpolate(np.arange(9).reshape(1, 1, 3, 3), size=4).dtype == np.float64


@pytest.mark.parametrize("call", [
    lambda: ref.interpolate(np.ones((1, 1, 4, 4)), size=100000),
    lambda: ref.interpolate(np.ones((1, 1, 4, 4)), scale_factor=1e6, mode="bilinear"),
    lambda: ref.interpolate_backward(np.broadcast_to(0.0, (1, 1, 10**5, 10**5)), (1, 1, 4, 4), size=10**5),
    lambda: ref.interpolate_naive(np.ones((1, 1, 4, 4)), size=10**4, max_steps=float("inf")),
    lambda: ref.interpolation_matrix(10**5, 10**5),
])
def test_interpolation_checks_its_memory_first(call):
    with pytest.raises(ValueError, match=r"would need about [\d.]+ GiB, more than max_bytes=1\.0 GiB; use"):
        call()


def test_interpolate_naive_checks_its_time_first():
    with pytest.raises(ValueError, match="interpolate_naive: the loops would run about 1e\\+08 iterations.*use interpolate"):
        ref.interpolate_naive(np.ones((1, 1, 4, 4)), size=10**4)


# ------------------------------------------------------------------------------- budgets


def test_the_conv_budget_counts_the_output():
    """A 1x1 convolution has few columns but 4096 output maps: 30.5 GiB that NumPy failed on."""
    x = np.broadcast_to(0.0, (1, 1, 1000, 1000))  # never allocated: the check comes first
    for mod in (ref, fast):
        with pytest.raises(ValueError, match=r"conv2d: the im2col matrix, the padded input and the output would need "
                                             r"about 30\.5 GiB.*fewer kernels"):
            mod.conv2d(x, np.ones((4096, 1, 1, 1)))
        with pytest.raises(ValueError, match="conv_transpose2d: the columns and the output would need"):
            mod.conv_transpose2d(np.ones((1, 1, 8, 8)), np.ones((1, 1, 3, 3)), stride=10**4)
        assert mod.conv2d(np.ones((1, 1, 8, 8)), np.ones((64, 1, 1, 1))).shape == (1, 64, 8, 8)
    with pytest.raises(ValueError, match="conv_transpose2d_naive: the columns and the output"):
        ref.conv_transpose2d_naive(np.ones((1, 1, 8, 8)), np.ones((1, 1, 3, 3)), stride=10**4)


BUDGETED = {
    "ref.conv2d": lambda mb: ref.conv2d(np.ones((1, 1, 4, 4)), np.ones((1, 1, 2, 2)), max_bytes=mb),
    "fast.conv2d": lambda mb: fast.conv2d(np.ones((1, 1, 4, 4)), np.ones((1, 1, 2, 2)), max_bytes=mb),
    "fast.conv2d_backward": lambda mb: fast.conv2d_backward(np.ones((1, 1, 3, 3)), np.ones((1, 1, 4, 4)),
                                                            np.ones((1, 1, 2, 2)), max_bytes=mb),
    "ref.conv_transpose2d": lambda mb: ref.conv_transpose2d(np.ones((1, 1, 4, 4)), np.ones((1, 1, 2, 2)), max_bytes=mb),
    "ref.conv2d_fft": lambda mb: ref.conv2d_fft(np.ones((1, 1, 4, 4)), np.ones((1, 1, 2, 2)), max_bytes=mb),
    "ref.conv2d_as_matrix": lambda mb: ref.conv2d_as_matrix(np.ones((2, 2)), 4, max_bytes=mb),
    "ref.interpolate": lambda mb: ref.interpolate(np.ones((1, 1, 4, 4)), size=8, max_bytes=mb),
    "ref.interpolation_matrix": lambda mb: ref.interpolation_matrix(4, 8, max_bytes=mb),
    "resize_area": lambda mb: resize_area(np.ones((4, 4)), 2, max_bytes=mb),
    "load_photo": lambda mb: load_photo(size=8, max_bytes=mb),
}


@pytest.mark.parametrize("name", sorted(BUDGETED))
def test_max_bytes_is_checked(name):
    """NaN compared False with every estimate and turned the budget off; '1GB' raised a raw
    comparison TypeError. Both are refused with the argument's name; inf means no limit."""
    call = BUDGETED[name]
    for bad, kind in [(float("nan"), ValueError), ("1GB", TypeError), (True, TypeError), (-1, ValueError), (0, ValueError)]:
        with pytest.raises(kind, match=r"max_bytes must be a (positive )?number of bytes"):
            call(bad)
    assert call(float("inf")) is not None and call(10**9) is not None and call(None) is not None


def test_max_steps_is_checked():
    for bad, kind in [(float("nan"), ValueError), ("many", TypeError)]:
        with pytest.raises(kind, match=r"conv2d_naive: max_steps must be a (positive )?number of iterations"):
            ref.conv2d_naive(np.ones((1, 1, 4, 4)), np.ones((1, 1, 2, 2)), max_steps=bad)


# ------------------------------------------------------------------------------ batch norm


@pytest.mark.parametrize("eps", [0, 0.0, -1e-5])
def test_batch_norm_refuses_a_non_positive_eps_in_training_like_torch(eps):
    x = np.ones((2, 3, 4, 4))  # constant channels: variance 0, so eps=0 gave NaN with a warning
    with pytest.raises(ValueError, match="eps must be"):
        F.batch_norm(torch.tensor(x), None, None, training=True, eps=eps)
    for fn in (ref.batch_norm2d, ref.batch_norm2d_naive):
        with pytest.raises(ValueError, match="eps must be"):
            fn(x, eps=eps)
    with pytest.raises(ValueError, match="eps must be"):
        ref.batch_norm2d_backward(np.ones_like(x), x, eps=eps)
    assert not ref.batch_norm2d(x).any()  # the default eps: a constant channel becomes 0


def test_batch_norm_keeps_eps_zero_in_evaluation_like_torch():
    x = RNG.normal(size=(2, 3, 4, 4))
    mean, var = RNG.normal(size=3), RNG.random(3) + 0.5
    want = F.batch_norm(torch.tensor(x), torch.tensor(mean), torch.tensor(var), training=False, eps=0.0).numpy()
    np.testing.assert_allclose(ref.batch_norm2d(x, mean, var, training=False, eps=0.0), want, rtol=1e-12)


# --------------------------------------------------------------------- the FFT's dynamic range


def test_fft_falls_back_to_conv2d_where_the_transform_would_lose_the_digits():
    x = np.ones((1, 1, 10, 10))
    x[0, 0, 2, 2] = 1e20  # the case: -1567 where the answer is 4
    with pytest.warns(RuntimeWarning, match="computed with conv2d instead"):
        y = ref.conv2d_fft(x, np.ones((1, 1, 2, 2)))
    assert y[0, 0, -1, -1] == 4 and np.array_equal(y, ref.conv2d(x, np.ones((1, 1, 2, 2))))
    for dtype in (np.float32, np.float64):
        x, w = RNG.normal(size=(2, 3, 12, 12)).astype(dtype), RNG.normal(size=(4, 3, 3, 3)).astype(dtype)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # an ordinary input takes the transform, silently
            y = ref.conv2d_fft(x, w)
        assert y.dtype == dtype
        np.testing.assert_allclose(y, ref.conv2d(x, w), atol=1e-4 if dtype == np.float32 else 1e-12)
    sparse = np.zeros((1, 1, 12, 12))
    sparse[0, 0, 6, 6] = 1.0  # windows of zeros get exactly 0, not a trace of rounding
    y = ref.conv2d_fft(sparse, RNG.normal(size=(2, 1, 3, 3)))
    assert (y[:, :, :4, :] == 0).all()


# -------------------------------------------------------------------------------- photographs


def test_a_16_bit_png_is_divided_by_65535(tmp_path):
    a = (np.arange(12 * 10).reshape(12, 10) * 543).astype(np.uint16)
    Image.fromarray(a).save(tmp_path / "g16.png")
    assert Image.open(tmp_path / "g16.png").mode.startswith("I;16")
    np.testing.assert_allclose(load_photo(tmp_path / "g16.png"), a / 65535, rtol=1e-12)
    np.testing.assert_allclose(load_photo(tmp_path / "g16.png", size=(6, 5)), resize_area(a / 65535, (6, 5)), rtol=1e-12)
    colour = load_photo(tmp_path / "g16.png", gray=False)
    assert colour.shape == (12, 10, 3) and np.array_equal(colour[..., 0], colour[..., 2])


def test_a_float_tiff_in_0_1_is_taken_as_it_is(tmp_path):
    f = (np.arange(120).reshape(12, 10) / 119).astype(np.float32)
    Image.fromarray(f, mode="F").save(tmp_path / "f.tif")
    np.testing.assert_allclose(load_photo(tmp_path / "f.tif"), f, rtol=1e-7)
    Image.fromarray(f * 255, mode="F").save(tmp_path / "f255.tif")
    with pytest.raises(ValueError, match=r"f255.tif holds floating-point pixels from 0 to 255.*rescale it"):
        load_photo(tmp_path / "f255.tif")
    f[3, 3] = np.nan
    Image.fromarray(f, mode="F").save(tmp_path / "nan.tif")
    with pytest.raises(ValueError, match="nan.tif holds NaN or infinite pixel values"):
        load_photo(tmp_path / "nan.tif")


def test_palette_alpha_and_gray_alpha_images(tmp_path):
    rgb = RNG.integers(0, 256, (9, 7, 3), dtype=np.uint8)
    Image.fromarray(rgb).convert("RGBA").save(tmp_path / "rgba.png")
    np.testing.assert_allclose(load_photo(tmp_path / "rgba.png", gray=False), rgb / 255)
    Image.fromarray(rgb[..., 0]).convert("LA").save(tmp_path / "la.png")
    np.testing.assert_allclose(load_photo(tmp_path / "la.png"), rgb[..., 0] / 255)
    Image.fromarray(rgb).convert("P").save(tmp_path / "p.png")
    assert load_photo(tmp_path / "p.png", size=3, gray=False).shape == (3, 3, 3)


def test_a_big_image_is_resized_before_it_becomes_float64(tmp_path):
    Image.new("RGB", (3000, 2000), (10, 200, 30)).save(tmp_path / "big.png")
    tracemalloc.start()
    try:
        y = load_photo(tmp_path / "big.png", size=16, gray=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_allclose(y[5, 5], np.array([10, 200, 30]) / 255)
    assert peak < 40 * 2**20  # a float64 copy first would be 137 MiB


def test_a_decompression_bomb_or_an_image_over_budget_is_refused_by_name(tmp_path, monkeypatch):
    Image.new("L", (2000, 1500)).save(tmp_path / "wide.png")  # 6 kB that decode to 3 Mpx
    with pytest.raises(ValueError, match=r"load_photo: decoding .*wide.png \(2000x1500 pixels\) to float64 would need "
                                         r"about 28\.6 MiB, more than max_bytes=1\.0 MiB; pass size=\.\.\."):
        load_photo(tmp_path / "wide.png", max_bytes=2**20)
    with pytest.raises(ValueError, match=r"load_photo: decoding .*wide.png \(2000x1500 pixels\) and resizing it to 4000x4000 would need"):
        load_photo(tmp_path / "wide.png", size=4000, max_bytes=2**27)
    assert load_photo(tmp_path / "wide.png", size=8, max_bytes=2**25).shape == (8, 8)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10**5)  # Pillow's own limit, made small
    with pytest.raises(ValueError, match=r"wide.png is refused as a decompression bomb.*shrunk with an image tool"):
        load_photo(tmp_path / "wide.png", size=8)


def test_resize_area_keeps_nan_and_inf_local_and_checks_its_memory():
    image = np.ones((6, 6))
    image[1, 1], image[4, 4], image[4, 5] = np.nan, np.inf, -np.inf
    out = resize_area(image, 3)
    assert np.isnan(out[0, 0]) and np.isnan(out[2, 2]) and (out[[0, 0, 1, 1, 2, 2], [1, 2, 0, 1, 0, 1]] == 1).all()
    image[4, 5] = 1.0
    assert resize_area(image, 3)[2, 2] == np.inf
    with pytest.raises(ValueError, match="resize_area: resizing 6x6 to 100000x100000 would need"):
        resize_area(image, 100000)


# --------------------------------------------------------------------------------- checkpoints


def _tiny():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2))


@pytest.mark.parametrize("where", ["folder", "under_a_file", "deeper_under_a_file", "not_a_path"])
def test_a_checkpoint_path_that_cannot_be_written_stops_before_the_first_step(tmp_path, where, monkeypatch):
    from coursecnn import train as train_module

    (tmp_path / "notes.txt").write_text("x")
    checkpoint = {"folder": tmp_path, "under_a_file": tmp_path / "notes.txt" / "c.pt",
                  "deeper_under_a_file": tmp_path / "notes.txt" / "runs" / "c.pt", "not_a_path": 12}[where]
    steps = []
    monkeypatch.setattr(train_module, "_check_finite_images", lambda *a: steps.append("checked"))
    x, y = np.random.default_rng(0).random((8, 1, 2, 2)).astype(np.float32), np.arange(8) % 2
    with pytest.raises((ValueError, TypeError), match="checkpoint"):
        train_module.train(_tiny(), (x, y), epochs=1, checkpoint=checkpoint, progress=False, device="cpu")
    assert steps == []  # refused before even the data checks, so before any step
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]  # and nothing written


def test_save_checkpoint_leaves_no_temporary_file(tmp_path, monkeypatch):
    from coursecnn.train import save_checkpoint

    model = _tiny()
    with pytest.raises(ValueError, match="save_checkpoint: path must name a file, got the folder"):
        save_checkpoint(tmp_path, model, None, 1, None)

    def broken_save(obj, f):
        open(f, "wb").write(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(tmp_path / "c.pt", model, None, 1, None)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------- command line


@pytest.mark.parametrize("argv, blocked", [
    (["validate", "x.ipynb"], ("nbformat", "nbclient")),
    (["course", "build", "OUT"], ("nbclient", "nbclient.util", "nbformat")),
])
def test_the_notebook_commands_without_the_dev_extra_print_one_line(argv, blocked, monkeypatch, capsys, tmp_path):
    for name in blocked:
        monkeypatch.setitem(sys.modules, name, None)  # import now fails as in an install without them
    argv = [str(tmp_path / a) if a == "OUT" else a for a in argv]
    assert cli.main(argv) == 1
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert out == "" and len(lines) == 1, err
    assert lines[0].startswith(f"coursecnn: error: `coursecnn {' '.join(argv[:2]) if argv[0] == 'course' else 'validate'}` "
                               "needs the notebook tools of the [dev] extra")
    assert "pip install 'coursecnn[dev]'" in lines[0]
    assert not (tmp_path / "OUT").exists()


@pytest.mark.parametrize("value", ["0", "-1", "1.5", "soon"])
def test_one_timeout_rule_for_validate_and_course_build(value, capsys, tmp_path):
    errors = []
    for argv in (["validate", "x.ipynb", "--timeout", value], ["course", "build", str(tmp_path / "c"), "--timeout", value]):
        with pytest.raises(SystemExit) as info:
            cli.main(argv)
        assert info.value.code == 2
        errors.append(capsys.readouterr().err.strip().splitlines()[-1].split(": error: ", 1)[1])
    assert errors[0] == errors[1] == f"argument --timeout: must be a positive whole number of seconds, got {value!r}"
    assert not (tmp_path / "c").exists()


# ------------------------------------------------- found by the property test over the public API


def test_fast_keeps_a_nan_where_torch_keeps_it():
    """The shifted dw multiplies x at places no window reaches by a dy of 0, and the pooling
    backward passes multiply dy by 0/1 masks: 0 * NaN is NaN in both, where torch has none."""
    x, w = RNG.normal(size=(2, 14, 6, 5)), RNG.normal(size=(3, 14, 3, 3))
    x[1, 4, 0, 4] = np.nan  # a corner: only one tap of one window reads it
    dy = RNG.normal(size=(2, 3, 4, 3))
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    F.conv2d(xt, wt).backward(torch.tensor(dy))
    _, dw, _ = fast.conv2d_backward(dy, x, w)
    assert np.array_equal(np.isnan(dw), np.isnan(wt.grad.numpy())) and np.isnan(dw).sum() == 3
    x = RNG.normal(size=(1, 2, 6, 6))
    dy = RNG.normal(size=(1, 2, 3, 3))
    dy[0, 1, 1, 1] = np.nan
    for name, tfn in (("max_pool2d_backward", F.max_pool2d), ("avg_pool2d_backward", F.avg_pool2d)):
        xt = torch.tensor(x, requires_grad=True)
        tfn(xt, 2).backward(torch.tensor(dy))
        got = getattr(fast, name)(dy, x, 2)
        assert np.array_equal(np.isnan(got), np.isnan(xt.grad.numpy())), name
    got = fast.nmax_pool2d_backward(dy, x, 2, 2)
    assert np.isnan(got).sum() == 2


def test_batch_norm_of_an_empty_batch_and_an_infinite_weight():
    x = np.zeros((0, 3, 4, 4))
    assert ref.batch_norm2d(x).shape == tuple(F.batch_norm(torch.tensor(x), None, None, training=True).shape)
    with pytest.raises(ValueError, match="batch_norm2d: weight holds an infinity.*give a finite weight"):
        ref.batch_norm2d(RNG.normal(size=(2, 3, 2, 2)), weight=np.array([1.0, np.inf, 1.0]))


def test_fft_of_an_empty_batch_is_empty():
    assert ref.conv2d_fft(np.zeros((0, 2, 5, 5)), np.ones((3, 2, 2, 2))).shape == (0, 3, 4, 4)
