import re

import pytest
import torch

import coursecnn


def test_version_is_a_version_string():
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", coursecnn.__version__)


def test_device_picks_the_best_available(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert coursecnn.device() == torch.device("cpu")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert coursecnn.device() == torch.device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert coursecnn.device() == torch.device("cuda")


def test_device_prefer(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert coursecnn.device("cpu") == torch.device("cpu")
    with pytest.raises(RuntimeError, match="cuda"):
        coursecnn.device("cuda")
    with pytest.raises(ValueError, match="'cuda', 'mps' or 'cpu'"):
        coursecnn.device("tpu")
