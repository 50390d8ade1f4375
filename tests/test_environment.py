"""pyproject.toml and environment.yml must list the same dependencies."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _norm(req):
    return re.sub(r"\s+", "", req).lower()


def pyproject_requirements():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(meta["dependencies"])
    for extra in meta.get("optional-dependencies", {}).values():
        reqs += extra
    return {_norm(r) for r in reqs}


def environment_requirements():
    text = (ROOT / "environment.yml").read_text()
    block = text.split("- pip:", 1)[1]
    reqs = re.findall(r"^\s+-\s+(\S.*?)\s*$", block, flags=re.M)
    return {_norm(r) for r in reqs if not r.startswith("-e")}


def test_environment_yml_matches_pyproject():
    assert environment_requirements() == pyproject_requirements()


def test_torch_is_pinned_everywhere():
    assert "torch==2.13.0" in pyproject_requirements()
    assert "torch==2.13.0" in environment_requirements()


def test_drift_is_detected(tmp_path, monkeypatch):
    """The comparison above must be able to fail: drop one line and it sees the difference."""
    env = (ROOT / "environment.yml").read_text().replace("      - tqdm>=4.66\n", "")
    assert env != (ROOT / "environment.yml").read_text()
    block = env.split("- pip:", 1)[1]
    reqs = {_norm(r) for r in re.findall(r"^\s+-\s+(\S.*?)\s*$", block, flags=re.M) if not r.startswith("-e")}
    assert pyproject_requirements() - reqs == {"tqdm>=4.66"}
