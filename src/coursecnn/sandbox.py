"""The sandbox student code runs in while it is graded: bubblewrap (``bwrap``).

``worker_command()`` is the command line that starts the student's worker process
(``coursecnn.remote``). Under bubblewrap the worker sees:

- the operating system's ``/usr`` (read-only), the Python installation and the environment
  (read-only), and the ``coursecnn`` package's own folder (read-only), nothing else of the disk:
  not the repository, the book's sources, the course folder, the gradebook or other students'
  files;
- an empty, private ``/tmp`` (its scratch space, the only place it can write, capped in size);
- no network (a new network namespace with no interfaces), its own process and IPC namespaces,
  no capabilities, and an unprivileged user id.

With ``plain=True`` the packages an exercise forbids (``coursecnn`` and ``torch``) are hidden too,
so ``import torch`` finds nothing.

Without bubblewrap (``available()`` is False) grading refuses to start unless the instructor asks
for ``unsandboxed`` grading: the worker is then an ordinary process. The checks still run in a
process student code never touched, but file and network access are not limited.
"""

import functools
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

__all__ = ["available", "worker_command", "SandboxUnavailable", "HIDDEN_IN_PLAIN"]

HIDDEN_IN_PLAIN = ("coursecnn", "torch", "torchvision", "functorch")
_SCRATCH_BYTES = 64 * 2 ** 20


class SandboxUnavailable(RuntimeError):
    """Bubblewrap is missing or cannot create its namespaces on this machine."""


def _bwrap():
    return shutil.which("bwrap")


def _package_dir(name):
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]).resolve()


def _bind_args(plain):
    """bwrap arguments that make the read-only view of the disk described above."""
    args = []
    seen = set()

    def ro(path):
        path = Path(path).resolve()
        if not path.exists() or any(path == s or path.is_relative_to(s) for s in seen):
            return
        seen.add(path)
        args.extend(["--ro-bind", str(path), str(path)])

    ro("/usr")
    for link in ("bin", "lib", "lib64", "sbin"):
        p = Path("/") / link
        if p.is_symlink():
            args.extend(["--symlink", os.readlink(p), str(p)])
        elif p.exists():
            ro(p)
    for f in ("/etc/ld.so.cache", "/etc/localtime", "/etc/nsswitch.conf"):
        if Path(f).exists():
            args.extend(["--ro-bind", f, f])
    ro(sys.base_prefix)
    ro(sys.prefix)
    # The package itself: only its own folder, so the repository around an editable install
    # (book/, course/, tests/) stays out of sight.
    for name in ("coursecnn",):
        found = _package_dir(name)
        if found is not None and not plain:
            ro(found)
    if plain:
        purelib = Path(sysconfig.get_paths()["purelib"])
        for name in HIDDEN_IN_PLAIN:
            found = _package_dir(name)
            if found is not None and any(found.is_relative_to(s) for s in seen):
                args.extend(["--tmpfs", str(found)])
        del purelib
    return args


def _base_command(plain):
    return [
        _bwrap(), "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
        "--uid", "65534", "--gid", "65534", "--hostname", "sandbox",
        # the scratch /tmp first: an environment or package that lives under /tmp (a clone
        # there, as CI may make) is then bound on top of it instead of hidden by it
        "--proc", "/proc", "--dev", "/dev",
        "--size", str(_SCRATCH_BYTES), "--tmpfs", "/tmp",
        *_bind_args(plain),
        "--remount-ro", "/",  # the sandbox's own root too: /tmp is the only place to write
        "--chdir", "/tmp", "--clearenv",
        "--setenv", "PATH", f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "--setenv", "HOME", "/tmp", "--setenv", "TMPDIR", "/tmp",
        "--setenv", "PYTHONDONTWRITEBYTECODE", "1",
        "--setenv", "OMP_NUM_THREADS", "1", "--setenv", "MKL_NUM_THREADS", "1",
        "--setenv", "OPENBLAS_NUM_THREADS", "1", "--setenv", "MPLBACKEND", "Agg",
        # notebooks may ask whether they are being autograded
        *(["--setenv", "NBGRADER_EXECUTION", os.environ["NBGRADER_EXECUTION"]]
          if os.environ.get("NBGRADER_EXECUTION") else []),
    ]


@functools.lru_cache(maxsize=None)
def _probe():
    """None when bubblewrap runs here, else the reason it does not."""
    if _bwrap() is None:
        return "bubblewrap (bwrap) is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    try:
        done = subprocess.run([*_base_command(False), sys.executable, "-c", "print('ok')"],
                              capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap failed to start: {exc}"
    if done.returncode != 0 or done.stdout.strip() != "ok":
        why = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return f"bubblewrap cannot create a sandbox here ({why}); user namespaces may be disabled"
    return None


def available():
    """True when bubblewrap can sandbox the student's worker on this machine."""
    return _probe() is None


def unavailable_reason():
    """Why ``available()`` is False (None when it is True)."""
    return _probe()


def worker_command(fd, plain=False, sandboxed=True):
    """The command line that starts a student worker serving the socket ``fd``.

    Args:
        fd (int): the inherited socket's file descriptor.
        plain (bool): hide ``coursecnn`` and ``torch`` (exercises that forbid them). Default: False.
        sandboxed (bool): run under bubblewrap. Raises ``SandboxUnavailable`` when it cannot.
            Default: True.
    """
    # The worker is remote.py run as a script: it needs only the standard library and NumPy, so
    # it starts even where coursecnn itself is hidden.
    script = Path(__file__).with_name("remote.py").read_text()
    if plain:
        # An import blocker for a clear message; under the sandbox the packages' files are hidden
        # as well, so undoing the blocker finds nothing.
        script = _PLAIN_BLOCKER + script
    if not sandboxed:
        return [sys.executable, "-c", script, str(fd)]
    reason = _probe()
    if reason is not None:
        raise SandboxUnavailable(reason)
    return [*_base_command(plain), sys.executable, "-c", script, str(fd)]


_PLAIN_BLOCKER = (
    "import sys\n"
    "class _Block:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    f"        if name.split('.')[0] in {HIDDEN_IN_PLAIN!r}:\n"
    "            raise ImportError(f'{name} may not be used in this exercise (NumPy only)')\n"
    "sys.meta_path.insert(0, _Block())\n"
)
