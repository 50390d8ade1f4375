"""Nothing silent (issue 17): divergence, input fit and devices in ``train``; checkpoints that
resume or refuse; ``load_photo`` and ``read_idx`` on bad files; the budget, the float32 warning
and the bar of ``numerical_gradient``; ``relative_error`` at huge magnitudes; ``check_close`` on
complex and boolean answers; ``conv_params``' ``bias``. Tiny models and data: a few seconds."""

import struct
import time
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from coursecnn.arith import conv_params
from coursecnn.data import load_photo, read_idx
from coursecnn.data.photo import photo_path
from coursecnn.grading import check_close
from coursecnn.models import LeNet5
from coursecnn.ref import numerical_gradient, relative_error
from coursecnn.train import load_checkpoint, make_optimizer, save_checkpoint, train


def tiny_net(seed=0, size=8):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * (size - 2) ** 2, 3))


def tiny_data(n=24, size=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 1, size, size)).astype(np.float32), rng.integers(0, 3, n)


def weights(model):
    return [t.detach().clone() for t in model.state_dict().values()]


def same(a, b):
    return len(a) == len(b) and all(torch.equal(u, v) for u, v in zip(a, b))


FAST = dict(device="cpu", progress=False, batch_size=8)


# --- train: divergence ----------------------------------------------------------------------------


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_huge_learning_rate_stops_with_epoch_batch_and_advice(tmp_path, optimizer):
    x, y = tiny_data()
    ckpt = tmp_path / "run.pt"
    with pytest.raises(ValueError, match=r"^train: the training loss is .* at epoch 1, batch \d+: .*smaller learning rate"):
        train(tiny_net(), (x, y), epochs=3, lr=1e6, optimizer=optimizer, checkpoint=ckpt, **FAST)
    assert not ckpt.exists()  # no checkpoint of a diverged model


def test_divergence_in_a_later_epoch_keeps_the_last_good_checkpoint(tmp_path):
    x, y = tiny_data()

    class Blowup(nn.Module):  # fine for two epochs, then its logits become NaN
        def __init__(self):
            super().__init__()
            self.inner, self.calls = tiny_net(), 0

        def forward(self, x):
            self.calls += int(self.training)
            out = self.inner(x)
            return out * float("nan") if self.calls > 7 else out

    ckpt = tmp_path / "run.pt"
    with pytest.raises(ValueError, match=r"loss is nan at epoch 3, batch 2: the training diverged"):
        train(Blowup(), (x, y), epochs=4, checkpoint=ckpt, **FAST)  # 3 batches per epoch
    assert load_checkpoint(ckpt, Blowup())["epoch"] == 2


def test_nan_images_and_nan_weights_are_named_before_training():
    x, y = tiny_data()
    bad = x.copy()
    bad[5, 0, 1, 1] = np.nan
    with pytest.raises(ValueError, match=r"^training data: the images hold 1 NaN or inf values \(the first in image 5\)"):
        train(tiny_net(), (bad, y), epochs=1, **FAST)
    with pytest.raises(ValueError, match=r"^test data: the images hold"):
        train(tiny_net(), (x, y, bad, y), epochs=1, **FAST)
    model = tiny_net()
    with torch.no_grad():
        model[3].bias[1] = float("inf")
    with pytest.raises(ValueError, match=r"weights hold NaN or inf before training \('3.bias'\)"):
        train(model, (x, y), epochs=1, **FAST)


def test_nan_images_from_a_loader_stop_at_their_batch():
    from coursecnn.data import make_loader

    x, y = tiny_data()
    x[20, 0, 0, 0] = np.inf
    loader = make_loader(x, y, batch_size=8)  # image 20 is in the third batch
    with pytest.raises(ValueError, match=r"loss is .* at epoch 1, batch 3: that batch's images hold NaN or inf"):
        train(tiny_net(), (loader, None), epochs=1, device="cpu", progress=False)


def test_save_checkpoint_refuses_a_non_finite_model(tmp_path):
    model = tiny_net()
    with torch.no_grad():
        model[0].weight[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match=r"'0.weight' holds NaN or inf"):
        save_checkpoint(tmp_path / "c.pt", model, None, 1, None)
    assert not (tmp_path / "c.pt").exists()


def test_guards_keep_seeded_runs_bit_identical():
    x, y = tiny_data()
    a, b = tiny_net(), tiny_net()
    ha = train(a, (x, y), epochs=2, **FAST)
    hb = train(b, (x, y), epochs=2, **FAST)
    assert same(weights(a), weights(b)) and ha.train_loss == hb.train_loss


# --- train: input size and layout, devices --------------------------------------------------------


def test_lenet_on_28x28_digits_says_pad_to_32_before_any_step():
    x, y = np.zeros((4, 1, 28, 28), np.float32), np.zeros(4, int)
    model = LeNet5()
    before = weights(model)
    with pytest.raises(ValueError, match=r"^train: layer 'features.c5' \(Conv2d\) failed .*LeNet5 expects input \(1, 32, 32\).*pad_to=32$"):
        train(model, (x, y), epochs=1, **FAST)
    assert same(weights(model), before)


def test_evaluate_checks_the_image_size_too():
    from coursecnn.train import evaluate

    with pytest.raises(ValueError, match=r"^evaluate: layer 'features.c5'.*the evaluation images are 28x28: load the digits with pad_to=32$"):
        evaluate(LeNet5(), np.zeros((4, 1, 28, 28), np.float32), np.zeros(4, int))


def test_channels_last_images_get_a_permute_hint():
    x, y = np.zeros((4, 32, 32, 1), np.float32), np.zeros(4, int)
    with pytest.raises(ValueError, match=r"^train: layer 'features.c1' .*channels-last, \(H, W, C\) = \(32, 32, 1\).*permute\(0, 3, 1, 2\)"):
        train(LeNet5(), (x, y), epochs=1, **FAST)
    # test images of another size than the training images are checked too
    good = np.zeros((4, 1, 32, 32), np.float32)
    with pytest.raises(ValueError, match=r"^train: .*the test images are 28x28: load the digits with pad_to=32"):
        train(LeNet5(), (good, y, np.zeros((4, 1, 28, 28), np.float32), y), epochs=1, **FAST)


def test_images_from_a_loader_are_checked_at_the_first_batch():
    from coursecnn.data import make_loader

    loader = make_loader(np.zeros((8, 1, 28, 28), np.float32), np.zeros(8, int), batch_size=4)
    with pytest.raises(ValueError, match=r"^train: layer 'features.c5'.*pad_to=32"):
        train(LeNet5(), (loader, None), epochs=1, device="cpu", progress=False)


def test_read_only_arrays_train_without_warnings():
    from coursecnn.data import make_loader

    x, y = tiny_data()
    x.setflags(write=False)
    y.setflags(write=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(train(tiny_net(), (x, y, x, y), epochs=1, **FAST)) == 1
        make_loader(x, y, batch_size=8)


def test_a_double_model_trains_on_double_images():
    x, y = tiny_data()
    model = tiny_net().double()
    assert len(train(model, (x, y), epochs=1, **FAST)) == 1


@pytest.mark.parametrize(
    "device, match",
    [
        ("gpu", r"device must be 'cpu', 'cuda', 'cuda:N' or 'mps', got 'gpu'; available here: 'cpu'"),
        ("cuda:x", r"device must be 'cpu', 'cuda', 'cuda:N' or 'mps', got 'cuda:x'"),
        ("xla", r"device must be 'cpu', 'cuda', 'cuda:N' or 'mps', got 'xla'"),
    ],
)
def test_unknown_devices_list_the_available_ones(device, match):
    x, y = tiny_data()
    with pytest.raises(ValueError, match=match):
        train(tiny_net(), (x, y), epochs=1, device=device, progress=False)
    with pytest.raises(TypeError, match="device must be a string"):
        train(tiny_net(), (x, y), epochs=1, device=0.5, progress=False)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message of a machine without CUDA")
@pytest.mark.parametrize("device", ["cuda", "cuda:0", "cuda:3", torch.device("cuda")])
def test_cuda_without_cuda_is_named(device):
    x, y = tiny_data()
    with pytest.raises(ValueError, match=r"is not available: this machine has no CUDA GPU.*available here: 'cpu'"):
        train(tiny_net(), (x, y), epochs=1, device=device, progress=False)


def test_cpu_spellings_are_accepted():
    x, y = tiny_data()
    for device in ("cpu", torch.device("cpu"), "cpu:0"):
        assert len(train(tiny_net(), (x, y), epochs=1, device=device, progress=False)) == 1


# --- checkpoints: resume or refuse ---------------------------------------------------------------


@pytest.fixture
def sgd_checkpoint(tmp_path):
    x, y = tiny_data()
    path = tmp_path / "sgd.pt"
    train(tiny_net(), (x, y), epochs=1, optimizer="sgd", lr=0.01, checkpoint=path, **FAST)
    return path


def test_an_sgd_checkpoint_resumed_with_adam_is_refused_and_nothing_changes(sgd_checkpoint):
    x, y = tiny_data()
    model = tiny_net(seed=5)
    before = weights(model)
    with pytest.raises(ValueError, match=r"written by the optimizer SGD, this run uses Adam.*optimizer='sgd'"):
        train(model, (x, y), epochs=2, optimizer="adam", checkpoint=sgd_checkpoint, resume=True, **FAST)
    assert same(weights(model), before)
    # load_checkpoint directly, also for files without the optimizer's name (older ones)
    state = torch.load(sgd_checkpoint, weights_only=True)
    del state["optimizer_type"]
    torch.save(state, sgd_checkpoint)
    adam = make_optimizer(model, "adam")
    with pytest.raises(ValueError, match="another kind of optimizer than this Adam"):
        load_checkpoint(sgd_checkpoint, model, adam)
    assert same(weights(model), before) and not adam.state
    # the right kind resumes
    info = load_checkpoint(sgd_checkpoint, model, make_optimizer(model, "sgd"))
    assert info["epoch"] == 1 and not same(weights(model), before)


def test_another_architecture_is_refused_with_the_differences_listed(sgd_checkpoint):
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 36, 3))
    before = weights(model)
    with pytest.raises(ValueError, match=r"shapes differ: 0.weight: saved \(2, 1, 3, 3\), model \(4, 1, 3, 3\)"):
        load_checkpoint(sgd_checkpoint, model)
    with pytest.raises(ValueError, match=r"missing from the checkpoint: 4.weight, 4.bias"):
        load_checkpoint(sgd_checkpoint, nn.Sequential(*tiny_net(), nn.Linear(3, 3)))
    assert same(weights(model), before)


def test_optimizer_state_of_other_parameters_is_refused(sgd_checkpoint):
    model = tiny_net()
    other = torch.optim.SGD([model[0].weight], lr=0.1, momentum=0.9)  # one group of 1, not 4
    with pytest.raises(ValueError, match=r"optimizer groups of \[4\] parameters, this optimizer \[1\]"):
        load_checkpoint(sgd_checkpoint, model, other)


def test_a_truncated_or_nan_checkpoint_gets_a_clear_error(sgd_checkpoint, tmp_path):
    raw = sgd_checkpoint.read_bytes()
    cut = tmp_path / "cut.pt"
    cut.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match=r"not a readable coursecnn checkpoint: .* so it is truncated"):
        load_checkpoint(cut, tiny_net())
    cut.write_bytes(b"")
    with pytest.raises(ValueError, match="could not read its 0 bytes"):
        load_checkpoint(cut, tiny_net())
    state = torch.load(sgd_checkpoint, weights_only=True)
    state["model"]["3.bias"][0] = float("nan")
    torch.save(state, cut)
    model = tiny_net()
    before = weights(model)
    with pytest.raises(ValueError, match=r"holds NaN or inf in '3.bias'"):
        load_checkpoint(cut, model)
    assert same(weights(model), before)


# --- data ----------------------------------------------------------------------------------------


def test_load_photo_reads_a_path(tmp_path):
    from PIL import Image

    rgb = np.zeros((6, 4, 3), np.uint8)
    rgb[..., 0] = 255
    Image.fromarray(rgb).save(tmp_path / "red.png")
    colour = load_photo(tmp_path / "red.png", gray=False)
    assert colour.shape == (6, 4, 3) and np.all(colour[..., 0] == 1) and np.all(colour[..., 1:] == 0)
    np.testing.assert_allclose(load_photo(str(tmp_path / "red.png"), size=2), 0.299)
    Image.fromarray(rgb[..., 0]).convert("L").save(tmp_path / "gray.png")
    assert load_photo(tmp_path / "gray.png", gray=False).shape == (6, 4, 3)


def test_load_photo_keeps_the_old_call_forms():
    np.testing.assert_array_equal(load_photo(16), load_photo(size=16))
    np.testing.assert_array_equal(load_photo((12, 10), False), load_photo(size=(12, 10), gray=False))
    np.testing.assert_array_equal(load_photo(photo_path(), 16), load_photo(size=16))


def test_load_photo_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"^load_photo: no such file: cat.jpg$"):
        load_photo("cat.jpg")
    (tmp_path / "notes.jpg").write_text("not a picture")
    with pytest.raises(ValueError, match=r"notes.jpg is not an image file"):
        load_photo(tmp_path / "notes.jpg")
    raw = photo_path().read_bytes()
    (tmp_path / "cut.jpg").write_bytes(raw[: len(raw) // 3])
    with pytest.raises(ValueError, match=r"cut.jpg is a damaged or truncated image"):
        load_photo(tmp_path / "cut.jpg")
    with pytest.raises(ValueError, match="must be an image file, got the directory"):
        load_photo(tmp_path)
    with pytest.raises(TypeError, match="path must be a file path"):
        load_photo(b"cat.jpg")
    with pytest.raises(TypeError, match="gray must be True or False"):
        load_photo(gray="no")


def test_read_idx_rejects_a_header_whose_size_overflows(tmp_path):
    # 65536**4 values is 2**64: an int64 product wraps to 0 and used to match an empty body
    header = struct.pack(">I", 0x0804) + struct.pack(">4I", *(65536,) * 4)
    (tmp_path / "x.idx").write_bytes(header)
    with pytest.raises(ValueError, match=r"truncated IDX file: a header of shape \(65536, 65536, 65536, 65536\)"):
        read_idx(tmp_path / "x.idx")


# --- gradient checking ---------------------------------------------------------------------------


def test_numerical_gradient_stops_above_its_budget_before_working():
    calls = []

    def slow(v):
        calls.append(1)
        time.sleep(0.01)  # at least 0.01 s a call: 2 * 400 calls are at least 8 s
        return float(v.sum())

    with pytest.raises(ValueError, match=r"800 calls of f .* would take about .* more than max_seconds=1; .*small input.*max_seconds="):
        numerical_gradient(slow, np.zeros((20, 20)), max_seconds=1)
    assert len(calls) <= 2  # timed, then refused: no loop ran
    g = numerical_gradient(slow, np.zeros(3), max_seconds=60, progress=False)
    np.testing.assert_allclose(g, 1.0)


def test_numerical_gradient_budget_argument_is_checked():
    for bad in (0, -1, "60", True):
        with pytest.raises(ValueError, match="max_seconds must be a positive number"):
            numerical_gradient(np.sum, np.zeros(2), max_seconds=bad)


def test_numerical_gradient_warns_on_float32_functions():
    x = np.array([1.0, 2.0, 3.0])
    with pytest.warns(RuntimeWarning, match=r"f returns float32 .*round-off error of about .*compute f in float64"):
        g = numerical_gradient(lambda v: np.float32((v**2).sum()), x)
    assert relative_error(g, 2 * x) > 1e-3  # the warning is deserved
    with pytest.warns(RuntimeWarning, match="float32"):
        numerical_gradient(lambda v: torch.as_tensor(v, dtype=torch.float32).square().sum(), x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        numerical_gradient(lambda v: np.float32((v**2).sum()), x, eps=1e-2)  # a step float32 can resolve
        g64 = numerical_gradient(lambda v: (v**2).sum(), x)
    assert relative_error(g64, 2 * x) < 1e-9


def test_numerical_gradient_shows_a_bar_only_for_long_runs(capsys):
    numerical_gradient(lambda v: float(v.sum()), np.zeros(5))
    assert "numerical_gradient" not in capsys.readouterr().err  # quick: no bar

    def slowish(v):
        time.sleep(0.3)
        return float(v.sum())

    numerical_gradient(slowish, np.zeros(2))  # a 1.2 s loop: past the bar's 1 s delay
    assert "numerical_gradient" in capsys.readouterr().err


def test_numerical_gradient_rejects_non_numeric_results():
    with pytest.raises(TypeError, match="f must return a real number"):
        numerical_gradient(lambda v: "x", np.zeros(2))
    with pytest.raises(TypeError, match="complex"):
        numerical_gradient(lambda v: v.sum() + 1j, np.zeros(2))


@pytest.mark.parametrize(
    "a, b, expected",
    [([1e200], [2e200], 1 / 3), ([1e-200], [3e-200], 0.5), ([1e308, -1e308], [-1e308, 1e308], 1.0), ([0.0], [0.0], 0.0)],
)
def test_relative_error_at_extreme_magnitudes(a, b, expected):
    assert relative_error(a, b) == pytest.approx(expected, rel=1e-12)
    assert relative_error(a, b, elementwise=True) == pytest.approx(expected, rel=1e-12)


def test_relative_error_of_non_finite_input_is_nan():
    assert np.isnan(relative_error([np.nan], [1.0])) and np.isnan(relative_error([np.inf], [np.inf]))


# --- grading and arith ---------------------------------------------------------------------------


def test_check_close_fails_on_complex_and_boolean_answers():
    expected = np.array([1.0, 2.0])
    with pytest.raises(AssertionError, match=r"your output is complex \(dtype complex128\) \(imaginary part 5 at index \[0\]\)"):
        check_close(expected + 5j, expected)
    with pytest.raises(AssertionError, match=r"is complex .*keep the real part with .real"):
        check_close(expected + 0j, expected)  # even when the imaginary parts are zero
    with pytest.raises(AssertionError, match=r"holds True/False values \(dtype bool\); expected numbers"):
        check_close(np.array([True, True]), np.ones(2))
    with pytest.raises(AssertionError, match="complex"):
        check_close(torch.tensor([1.0 + 1j, 2.0]), expected)
    check_close(np.array([True, False]), np.array([True, False]))  # booleans where booleans are expected
    check_close(expected + 1j, expected + 1j)  # complex references compare as complex numbers
    with pytest.raises(AssertionError, match=r"got 1\+2j, expected 1\+1j"):
        check_close(expected + 2j, expected + 1j)


def test_conv_params_bias_must_be_a_bool():
    assert conv_params(3, 10, 5, bias=False) == 750
    for bad in ("no", 0, None):
        with pytest.raises(TypeError, match="bias must be True or False"):
            conv_params(3, 10, 5, bias=bad)
