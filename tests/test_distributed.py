"""coursecnn.distributed: two processes with DDP (gloo on the CPU) end with identical weights."""

import pytest
import torch

from coursecnn import distributed


def _weights(path):
    return torch.load(path, map_location="cpu", weights_only=True)


def test_two_ranks_end_with_identical_trained_weights(tmp_path):
    save = str(tmp_path / "rank{rank}.pt")
    distributed.launch(2, ["--model", "tiny", "--limit", "512", "--batch-size", "32", "--lr", "3e-3",
                           "--backend", "gloo", "--save", save])
    w0, w1 = _weights(tmp_path / "rank0.pt"), _weights(tmp_path / "rank1.pt")
    torch.manual_seed(0)
    initial = distributed.build_model("tiny").state_dict()
    assert w0.keys() == w1.keys() == initial.keys()
    for name in w0:
        assert torch.equal(w0[name], w1[name]), f"ranks disagree on {name}"
    assert any(not torch.equal(w0[name], initial[name]) for name in w0), "the weights did not change"


def test_setup_outside_torchrun_explains(monkeypatch):
    for key in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(RuntimeError, match="missing RANK.*torchrun"):
        distributed.setup()


def test_bad_arguments():
    with pytest.raises(ValueError, match="nprocs must be a positive int, got 0"):
        distributed.launch(0)
    with pytest.raises(ValueError, match="'lenet5' or 'tiny', got 'vgg'"):
        distributed.build_model("vgg")


def test_free_port_is_a_port():
    assert 0 < distributed.free_port() < 65536
