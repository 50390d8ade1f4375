"""coursecnn.data: the bundled digits, the IDX reader, the photograph and the loaders."""

import gzip
import shutil
import struct

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from coursecnn.data import digit_loaders, load_digit_split, load_digits, load_mnist, load_photo, make_loader, read_idx, resize_area
from coursecnn.data import mnist as mnist_module


# --- the bundled digits -------------------------------------------------------------------------


def test_bundled_split_sizes_dtypes_and_range():
    x, y = load_digits("train")
    assert x.shape == (8000, 1, 28, 28) and x.dtype == np.float32
    assert y.shape == (8000,) and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0
    xt, yt = load_digits("test")
    assert xt.shape == (2000, 1, 28, 28) and yt.shape == (2000,)
    assert set(np.unique(y)) == set(range(10)) == set(np.unique(yt))


def test_split_is_stratified_and_disjoint():
    x, y = load_digits("train", normalize=False)
    xt, yt = load_digits("test", normalize=False)
    # every class keeps the same share (20 %, to rounding) in the test set
    counts, test_counts = np.bincount(y, minlength=10), np.bincount(yt, minlength=10)
    np.testing.assert_allclose(test_counts / (counts + test_counts), 0.2, atol=0.001)
    # no test image also sits in the training set
    train_rows = {row.tobytes() for row in x.reshape(len(x), -1)}
    overlap = sum(row.tobytes() in train_rows for row in xt.reshape(len(xt), -1))
    assert overlap <= 5, f"{overlap} test digits duplicate training digits"


def test_split_all_is_train_then_test():
    xa, ya = load_digits("all", normalize=False)
    x, y = load_digits("train", normalize=False)
    xt, yt = load_digits("test", normalize=False)
    assert xa.shape == (10000, 1, 28, 28) and xa.dtype == np.uint8
    np.testing.assert_array_equal(xa, np.concatenate([x, xt]))
    np.testing.assert_array_equal(ya, np.concatenate([y, yt]))


def test_digits_look_like_digits():
    # a nearest-class-mean classifier already beats 75 % on real MNIST; noise would give ~10 %
    x, y = load_digits("train")
    xt, yt = load_digits("test")
    means = np.stack([x[y == k].mean(axis=0).ravel() for k in range(10)])
    d = ((xt.reshape(len(xt), -1)[:, None, :] - means[None]) ** 2).sum(-1)
    assert (d.argmin(1) == yt).mean() > 0.75


def test_pad_to_32_centres_the_digit():
    x, _ = load_digits("test")
    x32, _ = load_digits("test", pad_to=32)
    assert x32.shape == (2000, 1, 32, 32)
    np.testing.assert_array_equal(x32[:, :, 2:30, 2:30], x)
    assert x32[:, :, :2].sum() == 0 and x32[:, :, :, 30:].sum() == 0


def test_as_tensor_and_fresh_copies():
    x, y = load_digits("test", as_tensor=True)
    assert isinstance(x, torch.Tensor) and x.dtype == torch.float32 and y.dtype == torch.int64
    x[:] = 7  # writing to one result must not touch the next
    x2, _ = load_digits("test", as_tensor=True)
    assert x2.max() == 1.0
    a, _ = load_digits("test", normalize=False)
    a[:] = 0
    assert load_digits("test", normalize=False)[0].max() == 255


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"split": "validation"}, ValueError, "'train', 'test', 'all'"),
        ({"pad_to": 20}, ValueError, "at least the image size 28, got 20"),
        ({"pad_to": 32.0}, TypeError, "pad_to must be an int"),
        ({"pad_to": True}, TypeError, "pad_to must be an int"),
    ],
)
def test_load_digits_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        load_digits(**kwargs)


def test_checksum_matches_shipped_file():
    assert mnist_module._sha256(mnist_module.MNIST_PATH) == mnist_module.MNIST_SHA256


def test_corrupt_file_is_refused(tmp_path):
    bad = tmp_path / "mnist_digits.npz"
    shutil.copy(mnist_module.MNIST_PATH, bad)
    data = bytearray(bad.read_bytes())
    data[len(data) // 2] ^= 0xFF  # flip one byte in the middle
    bad.write_bytes(bytes(data))
    with pytest.raises(OSError, match="corrupt: SHA-256 is [0-9a-f]{64}, expected"):
        mnist_module._verified_arrays(bad, mnist_module.MNIST_SHA256)
    with pytest.raises(FileNotFoundError, match="missing"):
        mnist_module._verified_arrays(tmp_path / "nothing.npz", mnist_module.MNIST_SHA256)


def test_shipped_file_is_small():
    assert mnist_module.MNIST_PATH.stat().st_size < 3_000_000


# --- IDX files ----------------------------------------------------------------------------------


def _idx_bytes(array, type_code=0x08):
    array = np.asarray(array)
    dtype = {0x08: ">u1", 0x0B: ">i2", 0x0D: ">f4"}[type_code]
    header = struct.pack(">I", (type_code << 8) | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(dtype).tobytes()


def _write_mnist(directory, n=5, prefix="train", gz=False, rng=None):
    rng = rng or np.random.default_rng(0)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    for name, array in ((f"{prefix}-images-idx3-ubyte", images), (f"{prefix}-labels-idx1-ubyte", labels)):
        data = _idx_bytes(array)
        if gz:
            (directory / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (directory / name).write_bytes(data)
    return images, labels


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_reads_raw_and_gzipped(tmp_path, gz):
    images, labels = _write_mnist(tmp_path, n=6, prefix="t10k", gz=gz)
    x, y = load_mnist(tmp_path, kind="test")
    assert x.shape == (6, 1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(np.rint(x[:, 0] * 255).astype(np.uint8), images)
    np.testing.assert_array_equal(y, labels)
    x32, _ = load_mnist(tmp_path, kind="t10k", pad_to=32, as_tensor=True)
    assert tuple(x32.shape) == (6, 1, 32, 32)


def test_read_idx_other_types(tmp_path):
    a = np.arange(-6, 6, dtype=np.int16).reshape(3, 4)
    (tmp_path / "a.idx").write_bytes(_idx_bytes(a, 0x0B))
    np.testing.assert_array_equal(read_idx(tmp_path / "a.idx"), a)
    f = np.linspace(0, 1, 5, dtype=np.float32)
    (tmp_path / "f.idx").write_bytes(_idx_bytes(f, 0x0D))
    np.testing.assert_array_equal(read_idx(tmp_path / "f.idx"), f)


def test_read_idx_errors(tmp_path):
    good = _idx_bytes(np.zeros((2, 28, 28), np.uint8))
    p = tmp_path / "x"
    p.write_bytes(good[:-1])
    with pytest.raises(ValueError, match=r"truncated IDX file: a header of shape \(2, 28, 28\)"):
        read_idx(p)
    p.write_bytes(good + b"\0")
    with pytest.raises(ValueError, match="too long"):
        read_idx(p)
    p.write_bytes(good[:6])
    with pytest.raises(ValueError, match="truncated IDX header"):
        read_idx(p)
    p.write_bytes(b"\0\0")
    with pytest.raises(ValueError, match="shorter than the 4-byte magic"):
        read_idx(p)
    p.write_bytes(good)
    with pytest.raises(ValueError, match="wrong magic number 2051, expected 2049"):
        read_idx(p, expected_magic=2049)
    p.write_bytes(b"PK\3\4" + good[4:])
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(p)
    p.write_bytes(gzip.compress(good)[:-8])
    with pytest.raises(ValueError, match="corrupt or truncated gzip"):
        read_idx(p)
    with pytest.raises(FileNotFoundError, match="IDX file not found"):
        read_idx(tmp_path / "missing")


def test_load_mnist_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="MNIST directory not found"):
        load_mnist(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        load_mnist(tmp_path)
    with pytest.raises(ValueError, match="kind must be 'train' or 'test'"):
        load_mnist(tmp_path, kind="val")
    _write_mnist(tmp_path, n=4)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(_idx_bytes(np.zeros(3, np.uint8)))
    with pytest.raises(ValueError, match="holds 4 images but .* holds 3 labels"):
        load_mnist(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(_idx_bytes(np.array([1, 2, 3, 12], np.uint8)))
    with pytest.raises(ValueError, match="digits 0..9, found 12"):
        load_mnist(tmp_path)
    # images where labels should be: the magic number tells them apart
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(_idx_bytes(np.zeros((4, 28, 28), np.uint8)))
    with pytest.raises(ValueError, match="wrong magic number 2051, expected 2049"):
        load_mnist(tmp_path)


# --- the photograph -----------------------------------------------------------------------------


def test_load_photo_gray_and_colour():
    gray = load_photo()
    assert gray.shape == (600, 512) and gray.dtype == np.float64
    assert 0 <= gray.min() < 0.2 and 0.8 < gray.max() <= 1
    colour = load_photo(size=(60, 40), gray=False)
    assert colour.shape == (60, 40, 3)
    # gray is the luma of the colour image, so resizing commutes with it
    np.testing.assert_allclose(load_photo(size=(60, 40)), colour @ [0.299, 0.587, 0.114], atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(
    h=st.integers(1, 12), w=st.integers(1, 12), oh=st.integers(1, 12), ow=st.integers(1, 12), seed=st.integers(0, 99)
)
def test_resize_area_keeps_the_mean(h, w, oh, ow, seed):
    image = np.random.default_rng(seed).random((h, w))
    before = image.copy()
    out = resize_area(image, (oh, ow))
    assert out.shape == (oh, ow)
    np.testing.assert_allclose(out.mean(), image.mean(), rtol=1e-10)
    assert image.min() - 1e-12 <= out.min() and out.max() <= image.max() + 1e-12
    np.testing.assert_array_equal(image, before)


def test_resize_area_errors():
    with pytest.raises(ValueError, match="2 dimensions .* got 1"):
        resize_area(np.zeros(4), 2)
    with pytest.raises(ValueError, match="size must be positive .* got 0"):
        resize_area(np.zeros((4, 4)), 0)


# --- loaders ------------------------------------------------------------------------------------


def test_make_loader_is_reproducible_and_covers_everything():
    x, y = np.arange(20.0).reshape(20, 1, 1, 1), np.arange(20)

    def order(seed):
        return torch.cat([yb for _, yb in make_loader(x, y, batch_size=6, shuffle=True, seed=seed)]).tolist()

    assert order(1) == order(1) != order(2)
    assert sorted(order(1)) == list(range(20))
    batches = [len(yb) for _, yb in make_loader(x, y, batch_size=6)]
    assert batches == [6, 6, 6, 2]


def test_make_loader_errors():
    with pytest.raises(ValueError, match="same N, got shapes"):
        make_loader(np.zeros((5, 1, 2, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="batch_size must be positive"):
        make_loader(np.zeros((5, 1, 2, 2)), np.zeros(5), batch_size=0)


def test_digit_loaders_shapes():
    train_loader, test_loader = digit_loaders(batch_size=128)
    xb, yb = next(iter(train_loader))
    assert tuple(xb.shape) == (128, 1, 32, 32) and tuple(yb.shape) == (128,)
    assert sum(len(yb) for _, yb in test_loader) == 2000


def test_load_digit_split_is_both_halves():
    x, y, xt, yt = load_digit_split(pad_to=32, as_tensor=True)
    assert [tuple(a.shape) for a in (x, y, xt, yt)] == [(8000, 1, 32, 32), (8000,), (2000, 1, 32, 32), (2000,)]
    np.testing.assert_array_equal(xt.numpy(), load_digits("test", pad_to=32)[0])


def test_docstring_examples_run():
    # the examples that need MNIST's own files skip every line, so none fails with a NameError
    import doctest
    import importlib

    for name in ("idx", "mnist", "loaders", "photo"):
        module = importlib.import_module(f"coursecnn.data.{name}")
        result = doctest.testmod(module, verbose=False)
        assert result.failed == 0, name
