"""constraints.txt, the lock of the book and test toolchain: complete, exact, and used."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "constraints.txt"


def _name(req):
    return re.split(r"[<>=!~\[; ]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def pins():
    out = {}
    for line in LOCK.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.\-]+)", line)
        assert m, f"constraints.txt: {line!r} is not an exact pin 'name==version'"
        out[m.group(1).lower().replace("_", "-")] = m.group(2)
    return out


def test_every_dependency_is_pinned_exactly():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in meta["dependencies"] + meta["optional-dependencies"]["dev"]}
    locked = pins()
    assert not wanted - set(locked), f"not in constraints.txt: {sorted(wanted - set(locked))}"
    assert "coursecnn" not in locked


def test_torch_and_the_themes():
    locked = pins()
    assert locked["torch"] == "2.13.0"
    # pydata-sphinx-theme 0.17 binds the phone menu to a hidden button (pydata-sphinx-theme#2451)
    major, minor = (int(v) for v in locked["pydata-sphinx-theme"].split(".")[:2])
    assert (major, minor) < (0, 17), locked["pydata-sphinx-theme"]
    assert "sphinx-book-theme" in locked and "jupyter-book" in locked and "playwright" in locked


def test_install_uses_the_lock_and_a_new_lock_reinstalls():
    script = (ROOT / "tools" / "install.sh").read_text()
    assert '-c constraints.txt' in script
    assert re.search(r"want=\$\(cat [^)]*constraints\.txt", script), "the install marker ignores the lock"
    assert "lock:" in (ROOT / "Makefile").read_text() and (ROOT / "tools" / "lock.sh").exists()
