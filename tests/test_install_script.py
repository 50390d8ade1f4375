"""tools/install.sh: clear failures, and a .venv is trusted only when its marker was written last."""

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tools" / "install.sh"


def run(env_path, venv, extra_env=None):
    env = {"PATH": str(env_path), "VENV": str(venv), "HOME": os.environ.get("HOME", "/tmp")}
    env.update(extra_env or {})
    return subprocess.run(["/bin/bash", str(SCRIPT)], cwd=ROOT, env=env, capture_output=True, text=True)


def fake_python(bindir, pip_ok):
    """A stand-in python3 that passes the version check, makes a venv, and whose pip fails or succeeds."""
    bindir.mkdir(parents=True, exist_ok=True)
    venv_python = "#!/bin/bash\n" + ("exit 0\n" if pip_ok else "echo 'pip: no network' >&2; exit 1\n")
    script = f"""#!/bin/bash
if [ "$1" = "-c" ]; then exit 0; fi
if [ "$1" = "--version" ]; then echo "Python 3.11.0"; exit 0; fi
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
  mkdir -p "$3/bin"; cp "{bindir}/venv-python" "$3/bin/python"; chmod +x "$3/bin/python"; exit 0
fi
exit 1
"""
    (bindir / "venv-python").write_text(venv_python)
    (bindir / "python3").write_text(script)
    (bindir / "python3").chmod(0o755)
    for tool in ("cat", "sha256sum", "cut", "rm", "mkdir", "cp", "chmod"):
        src = subprocess.run(["/bin/bash", "-c", f"command -v {tool}"], capture_output=True, text=True).stdout.strip()
        if src.startswith("/") and not (bindir / tool).exists():
            (bindir / tool).symlink_to(src)


def test_no_python_is_a_clear_error(tmp_path):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    for tool in ("cat", "sha256sum", "cut"):
        src = subprocess.run(["/bin/bash", "-c", f"command -v {tool}"], capture_output=True, text=True).stdout.strip()
        (empty / tool).symlink_to(src)
    r = run(empty, tmp_path / "venv")
    assert r.returncode != 0
    assert "Python 3.10 or newer" in r.stderr


def test_failed_install_leaves_no_marker_and_is_redone(tmp_path):
    bindir = tmp_path / "bin"
    fake_python(bindir, pip_ok=False)
    venv = tmp_path / "venv"
    venv.mkdir()
    (venv / "half-installed").write_text("left by an interrupted run")
    r = run(bindir, venv)
    assert r.returncode != 0
    assert "installing the dependencies" in r.stderr and "failed" in r.stderr
    assert not (venv / "half-installed").exists(), "an untrusted .venv must be rebuilt from nothing"
    assert not (venv / ".coursecnn-install-ok").exists()


def test_marker_is_written_last_and_then_trusted(tmp_path):
    bindir = tmp_path / "bin"
    fake_python(bindir, pip_ok=True)
    venv = tmp_path / "venv"
    r = run(bindir, venv)
    # The final report line imports coursecnn with the (fake) venv python: it prints nothing, that is fine.
    assert r.returncode == 0, r.stderr
    marker = venv / ".coursecnn-install-ok"
    assert marker.exists()
    (venv / "sentinel").write_text("kept")
    r = run(bindir, venv)
    assert r.returncode == 0 and "installing" not in r.stdout, "a complete install is not redone"
    assert (venv / "sentinel").exists()
