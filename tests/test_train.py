"""coursecnn.train: the loop, reproducibility, checkpoints and resuming, evaluation, plots, errors."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
from torch import nn

from coursecnn.data import load_digit_split, make_loader
from coursecnn.train import History, evaluate, load_checkpoint, make_optimizer, plot_history, save_checkpoint, train


def small_net(seed=0, dropout=0.25):
    """A small CNN with dropout (so the test also covers the random draws inside an epoch)."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 4, 5, stride=2),  # 28 -> 12
        nn.ReLU(),
        nn.MaxPool2d(2),  # 12 -> 6
        nn.Flatten(),
        nn.Dropout(dropout),
        nn.Linear(4 * 6 * 6, 10),
    )


@pytest.fixture(scope="module")
def digits():
    x, y, xt, yt = load_digit_split()
    return x[:600], y[:600], xt[:300], yt[:300]


def weights(model):
    return [p.detach().clone() for p in model.state_dict().values()]


def same(a, b):
    return len(a) == len(b) and all(torch.equal(u, v) for u, v in zip(a, b))


def test_training_learns_and_records_history(digits):
    model = small_net()
    history = train(model, digits, epochs=3, lr=3e-3, device="cpu", progress=False)
    assert isinstance(history, History) and len(history) == history.epochs == 3
    for name in ("train_loss", "train_acc", "test_loss", "test_acc", "time"):
        assert len(getattr(history, name)) == 3
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.test_acc[-1] > 0.6  # chance is 0.1
    assert history.total_time == pytest.approx(sum(history.time))
    # the recorded test numbers are what evaluate() gives on the final weights
    loss, acc = evaluate(model, digits[2], digits[3])
    assert loss == pytest.approx(history.test_loss[-1]) and acc == pytest.approx(history.test_acc[-1])


def test_same_seed_same_weights_different_seed_different(digits):
    runs = []
    for seed in (0, 0, 1):
        model = small_net()
        train(model, digits, epochs=2, device="cpu", seed=seed, progress=False)
        runs.append(weights(model))
    assert same(runs[0], runs[1])
    assert not same(runs[0], runs[2])
    assert not same(runs[0], weights(small_net()))  # it trained


def test_train_leaves_the_callers_rng_alone(digits):
    model = small_net()  # seeds the global RNG itself, so build it first
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train(model, (digits[0][:64], digits[1][:64]), epochs=1, device="cpu", progress=False)
    assert torch.equal(torch.rand(3), expected)


def test_does_not_modify_the_data(digits):
    copies = [np.copy(a) for a in digits]
    train(small_net(), digits, epochs=1, device="cpu", progress=False)
    for a, b in zip(digits, copies):
        np.testing.assert_array_equal(a, b)


class Interrupt(nn.Module):
    """Wraps a model and raises KeyboardInterrupt at its ``at``-th training forward pass."""

    def __init__(self, inner, at):
        super().__init__()
        self.inner, self.at, self.calls = inner, at, 0

    def forward(self, x):
        if self.training:
            self.calls += 1
            if self.calls == self.at:
                raise KeyboardInterrupt
        return self.inner(x)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_resume_after_interruption_matches_uninterrupted_run(digits, tmp_path, optimizer):
    kwargs = dict(epochs=3, lr=1e-2, optimizer=optimizer, batch_size=100, device="cpu", progress=False)
    reference = small_net()
    full = train(reference, digits, **kwargs)

    ckpt = tmp_path / "run.pt"
    # 600 examples in batches of 100: the 15th forward pass is in the middle of the third epoch
    with pytest.raises(KeyboardInterrupt):
        train(Interrupt(small_net(), at=15), digits, checkpoint=ckpt, **kwargs)
    assert load_checkpoint(ckpt, Interrupt(small_net(), at=0))["epoch"] == 2

    resumed_model = Interrupt(small_net(seed=99), at=0)  # different initial weights: the checkpoint decides
    resumed = train(resumed_model, digits, checkpoint=ckpt, resume=True, **kwargs)
    assert same(weights(resumed_model.inner), weights(reference))
    assert resumed.train_loss == full.train_loss and resumed.test_acc == full.test_acc
    # resuming a finished run does nothing more
    again = train(resumed_model, digits, checkpoint=ckpt, resume=True, **kwargs)
    assert len(again) == 3 and same(weights(resumed_model.inner), weights(reference))


def test_cosine_schedule_decays_to_zero_and_resumes(digits, tmp_path):
    seen = []

    def factory(params):
        opt = torch.optim.SGD(params, lr=0.1)
        original = opt.step

        def step(*args, **kwargs):
            seen.append(opt.param_groups[0]["lr"])
            return original(*args, **kwargs)

        opt.step = step
        return opt

    x, y = digits[0][:200], digits[1][:200]
    train(small_net(), (x, y), epochs=2, batch_size=50, device="cpu", progress=False, optimizer=factory, schedule="cosine")
    # 8 steps in all: lr = 0.1 * (1 + cos(pi * t / 8)) / 2 at step t
    np.testing.assert_allclose(seen, [0.05 * (1 + np.cos(np.pi * t / 8)) for t in range(8)], rtol=1e-12)

    kwargs = dict(epochs=3, lr=1e-2, batch_size=100, device="cpu", progress=False, schedule="cosine")
    reference = small_net()
    train(reference, digits, **kwargs)
    ckpt = tmp_path / "cos.pt"
    with pytest.raises(KeyboardInterrupt):
        train(Interrupt(small_net(), at=9), digits, checkpoint=ckpt, **kwargs)
    resumed = Interrupt(small_net(seed=5), at=0)
    train(resumed, digits, checkpoint=ckpt, resume=True, **kwargs)
    assert same(weights(resumed.inner), weights(reference))


def test_resume_without_a_file_starts_afresh(digits, tmp_path):
    ckpt = tmp_path / "new.pt"
    history = train(small_net(), digits, epochs=1, device="cpu", progress=False, checkpoint=ckpt, resume=True)
    assert len(history) == 1 and ckpt.is_file()


def test_resume_refuses_another_seed(digits, tmp_path):
    ckpt = tmp_path / "s.pt"
    train(small_net(), digits, epochs=1, device="cpu", progress=False, checkpoint=ckpt, seed=3)
    with pytest.raises(ValueError, match="seed=3, this run has seed=0"):
        train(small_net(), digits, epochs=2, device="cpu", progress=False, checkpoint=ckpt, resume=True)


def test_checkpoint_round_trip(tmp_path):
    model, other = small_net(0), small_net(1)
    opt = make_optimizer(model, "adam")
    model(torch.zeros(2, 1, 28, 28)).sum().backward()
    opt.step()
    history = History([1.0], [0.5], [1.1], [0.4], [2.0])
    path = save_checkpoint(tmp_path / "sub" / "c.pt", model, opt, 1, history, note="x")
    opt2 = make_optimizer(other, "adam")
    info = load_checkpoint(path, other, opt2)
    assert info["epoch"] == 1 and info["history"] == history and info["extra"] == {"note": "x"}
    assert same(weights(model), weights(other))
    assert opt2.state_dict()["state"][0]["step"] == 1
    assert not (tmp_path / "sub" / "c.pt.tmp").exists()


def test_checkpoint_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="checkpoint not found"):
        load_checkpoint(tmp_path / "none.pt", small_net())
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a readable coursecnn checkpoint"):
        load_checkpoint(tmp_path / "junk.pt", small_net())
    torch.save({"a": 1}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a coursecnn checkpoint"):
        load_checkpoint(tmp_path / "other.pt", small_net())
    save_checkpoint(tmp_path / "m.pt", small_net(), None, 0, None)
    with pytest.raises(ValueError, match="does not fit this model"):
        load_checkpoint(tmp_path / "m.pt", nn.Linear(3, 2))
    with pytest.raises(ValueError, match="no optimizer state"):
        model = small_net()
        load_checkpoint(tmp_path / "m.pt", model, make_optimizer(model))


def test_data_forms_agree(digits):
    x, y, xt, yt = digits
    results = []
    for data in ((x, y, xt, yt), ((x, y), (xt, yt)), (torch.as_tensor(x), torch.as_tensor(y), xt, yt)):
        model = small_net(dropout=0.0)
        history = train(model, data, epochs=1, batch_size=50, device="cpu", progress=False)
        results.append((weights(model), history.test_acc))
    for w, acc in results[1:]:
        assert same(w, results[0][0]) and acc == results[0][1]
    history = train(small_net(), (x, y), epochs=1, device="cpu", progress=False)
    assert history.test_acc == [] and len(history.train_acc) == 1


def test_dataloaders_and_optimizer_factory(digits):
    x, y, xt, yt = digits
    loaders = (make_loader(x, y, batch_size=64, shuffle=True), make_loader(xt, yt, batch_size=100))
    model = small_net()
    history = train(
        model, loaders, epochs=2, device="cpu", progress=False, optimizer=lambda p: torch.optim.Adam(p, lr=3e-3)
    )
    assert len(history.test_acc) == 2 and history.test_acc[-1] > 0.4
    assert evaluate(model, loaders[1]) == pytest.approx((history.test_loss[-1], history.test_acc[-1]))


def test_progress_bars_run(digits, capsys):
    train(small_net(), digits, epochs=2, batch_size=100, device="cpu", progress=True)
    err = capsys.readouterr().err
    assert "epoch 2/2" in err and "12/12" in err and "test_acc=" in err


def test_evaluate_restores_mode():
    model = small_net()
    model.train()
    evaluate(model, np.zeros((3, 1, 28, 28)), np.zeros(3, dtype=int))
    assert model.training
    model.eval()
    evaluate(model, np.zeros((3, 1, 28, 28)), np.zeros(3, dtype=int))
    assert not model.training


def test_sgd_weight_decay_and_momentum_reach_the_optimizer():
    opt = make_optimizer(small_net(), "sgd", lr=0.05, momentum=0.5, weight_decay=1e-3)
    assert isinstance(opt, torch.optim.SGD)
    assert opt.defaults["lr"] == 0.05 and opt.defaults["momentum"] == 0.5 and opt.defaults["weight_decay"] == 1e-3
    assert isinstance(make_optimizer(small_net(), "adam", weight_decay=1e-4), torch.optim.Adam)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"epochs": 0}, ValueError, "epochs must be at least 1, got 0"),
        ({"epochs": 1.5}, TypeError, "epochs must be an int, got 1.5"),
        ({"optimizer": "rmsprop"}, ValueError, "'sgd', 'adam' or a factory.*got 'rmsprop'"),
        ({"optimizer": lambda p: 3}, TypeError, "must return a torch.optim.Optimizer, got int"),
        ({"lr": 0}, ValueError, "lr must be positive, got 0"),
        ({"lr": float("nan")}, TypeError, "lr must be a finite number"),
        ({"batch_size": 0}, ValueError, "batch_size must be at least 1, got 0"),
        ({"weight_decay": -1}, ValueError, "weight_decay must be non-negative, got -1"),
        ({"resume": True}, ValueError, "resume=True needs a checkpoint path"),
        ({"schedule": "step"}, ValueError, r"schedule must be one of \('constant', 'cosine'\), got 'step'"),
    ],
)
def test_bad_arguments(digits, kwargs, error, match):
    kwargs = {"epochs": 1, "progress": False, "device": "cpu", **kwargs}
    with pytest.raises(error, match=match):
        train(small_net(), digits, **kwargs)


@pytest.mark.parametrize(
    "data, error, match",
    [
        ("digits", TypeError, "data must be .* got a str"),
        ((1, 2, 3), ValueError, "sequence of 3 items"),
        ((np.zeros(5), np.zeros(5, int)), ValueError, r"images must be shaped \(N, C, H, W\).* got shape \(5,\)"),
        (
            (np.zeros((16, 28, 28)), np.zeros(16, int)),
            ValueError,
            r"^training data: images must be \(N, C, H, W\), got shape \(16, 28, 28\); add a channel axis with x\[:, None\]$",
        ),
        (
            (np.zeros((4, 1, 28, 28)), np.zeros(4, int), torch.zeros(3, 28, 28), torch.zeros(3, dtype=torch.long)),
            ValueError,
            r"^test data: images must be \(N, C, H, W\), got shape \(3, 28, 28\); add a channel axis",
        ),
        ((np.zeros((2, 1, 1, 28, 28)), np.zeros(2, int)), ValueError, r"images must be shaped \(N, C, H, W\).* got shape \(2, 1, 1, 28, 28\)"),
        ((np.zeros((5, 1, 28, 28)), np.zeros(4, int)), ValueError, "5 images but 4 labels"),
        ((np.zeros((5, 1, 28, 28)), np.zeros((5, 1), int)), ValueError, r"labels must be shaped \(N,\)"),
        ((np.zeros((5, 1, 28, 28)), np.zeros(5)), TypeError, "integer class indices, got dtype torch.float64"),
        ((np.zeros((0, 1, 28, 28)), np.zeros(0, int)), ValueError, "no examples"),
        ((np.array([["a"]]), np.zeros(1, int)), TypeError, "numeric"),
    ],
)
def test_bad_data(data, error, match):
    with pytest.raises(error, match=match):
        train(small_net(), data, epochs=1, progress=False, device="cpu")


class Counting(nn.Module):
    """Counts training forward passes (and returns what ``inner`` returns); the eval-mode pass
    that checks the input size before training is not counted."""

    def __init__(self, inner):
        super().__init__()
        self.inner, self.calls = inner, 0

    def forward(self, x):
        self.calls += int(self.training)
        return self.inner(x)


@pytest.mark.parametrize("bad, where", [(14, "training"), (-1, "training"), (10, "test"), (-100, "test")])
def test_labels_outside_the_models_classes(digits, bad, where):
    x, y, xt, yt = (np.copy(a) for a in digits)
    (y if where == "training" else yt)[-1] = bad  # the last example: its batch would come late
    model = Counting(small_net())
    before = weights(model)
    with pytest.raises(
        ValueError, match=rf"^{where} data: labels must be in \[0, 10\) for a model with 10 outputs, got {bad}$"
    ):
        train(model, (x, y, xt, yt), epochs=1, batch_size=50, device="cpu", progress=False)
    # found at the first batch, before any step: the weights are as they were
    assert model.calls == 1 and same(weights(model), before)


def test_labels_checked_against_the_models_outputs_not_a_fixed_10(digits):
    x, y = digits[0][:100], digits[1][:100] % 3
    model = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 3))
    assert len(train(model, (x, y), epochs=1, device="cpu", progress=False)) == 1
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\) for a model with 3 outputs, got 9"):
        train(model, (x, digits[1][:100]), epochs=1, device="cpu", progress=False)


def test_labels_from_a_loader_are_checked_batch_by_batch(digits):
    x, y = digits[0][:100], np.copy(digits[1][:100])
    y[60] = 12
    loader = make_loader(x, y, batch_size=50)
    with pytest.raises(ValueError, match=r"^training data: labels must be in \[0, 10\) for a model with 10 outputs, got 12$"):
        train(small_net(), (loader, None), epochs=1, device="cpu", progress=False)
    with pytest.raises(ValueError, match=r"^evaluate: labels must be in \[0, 10\) for a model with 10 outputs, got 12$"):
        evaluate(small_net(), loader)


def test_evaluate_checks_rank_and_labels():
    model = small_net()
    with pytest.raises(ValueError, match=r"^evaluate: images must be \(N, C, H, W\), got shape \(3, 28, 28\); add a channel axis with x\[:, None\]$"):
        evaluate(model, np.zeros((3, 28, 28)), np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match=r"^evaluate: labels must be in \[0, 10\) for a model with 10 outputs, got 14$"):
        evaluate(model, np.zeros((3, 1, 28, 28)), np.array([0, 14, 3]))
    with pytest.raises(ValueError, match=r"evaluate: labels must be in \[0, 10\).* got -1$"):
        evaluate(model, np.zeros((3, 1, 28, 28)), np.array([0, -1, 3]))


def test_a_model_must_return_two_dimensional_logits(digits):
    model = nn.Conv2d(1, 10, 28)  # (N, 10, 1, 1): no flatten
    with pytest.raises(ValueError, match=r"^train: the model must return logits shaped \(N, K\), got shape \(64, 10, 1, 1\)$"):
        train(model, digits, epochs=1, device="cpu", progress=False)
    with pytest.raises(ValueError, match=r"^evaluate: the model must return logits shaped \(N, K\), got shape \(3, 10, 1, 1\)$"):
        evaluate(model, np.zeros((3, 1, 28, 28)), np.zeros(3, dtype=int))


def test_docstring_examples_run():
    import doctest

    import coursecnn.train as module

    result = doctest.testmod(module, verbose=False)
    assert result.failed == 0 and result.attempted >= 10


def test_bad_model():
    with pytest.raises(TypeError, match="torch.nn.Module, got function"):
        train(lambda x: x, (np.zeros((2, 1, 28, 28)), np.zeros(2, int)), epochs=1)


def test_plot_history():
    history = History([0.9, 0.5, 0.3], [0.7, 0.85, 0.9], [0.8, 0.5, 0.4], [0.75, 0.86, 0.88], [1, 1, 1])
    fig = plot_history(history)
    loss_ax, acc_ax = fig.axes
    assert [line.get_label() for line in loss_ax.lines] == ["train", "test"]
    np.testing.assert_array_equal(loss_ax.lines[1].get_ydata(), history.test_loss)
    np.testing.assert_array_equal(acc_ax.lines[0].get_ydata(), history.train_acc)
    assert acc_ax.get_ylabel() == "accuracy"
    import matplotlib.pyplot as plt

    fig2, axes = plt.subplots(1, 2)
    assert plot_history(history, ax=axes) is fig2
    with pytest.raises(TypeError, match="expects a History"):
        plot_history({"train_loss": [1]})
    with pytest.raises(ValueError, match="pair of matplotlib Axes"):
        plot_history(history, ax=[axes[0]])
    plt.close("all")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_training_on_cuda_matches_cpu_closely(digits):
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    cpu, gpu = small_net(dropout=0.0), small_net(dropout=0.0)
    train(cpu, digits, epochs=1, device="cpu", progress=False, optimizer="sgd", lr=0.01)
    history = train(gpu, digits, epochs=1, device="cuda", progress=False, optimizer="sgd", lr=0.01)
    assert next(gpu.parameters()).is_cuda and len(history) == 1
    for a, b in zip(weights(cpu), weights(gpu)):
        torch.testing.assert_close(b.cpu(), a, rtol=1e-3, atol=1e-4)
