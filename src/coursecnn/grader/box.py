"""The box a student's worker runs in: bubblewrap's sandbox, and limits the worker cannot lift.

``worker_command(fd, limits)`` is the command line that starts the worker
(``coursecnn.grader.worker``). Under bubblewrap the worker sees:

- the operating system's ``/usr`` and the Python installation, read-only;
- the packages the exercise allows, read-only: for an ordinary exercise the course's environment
  (``coursecnn`` without its bundled data sets, ``torch``, NumPy, ...); for a NumPy-only exercise
  (``allow: numpy``) the standard library and NumPy only, every other installed package hidden;
- the worker's own code (this folder), read-only;
- an empty, private ``/tmp`` (capped in size), the only place it can write;
- no network, its own process and IPC namespaces, no capabilities, an unprivileged user id.

Inside, before any student code, the worker caps its address space (``Limits.memory``) and
installs a seccomp filter that refuses new processes and raised limits. The kernel adds the CPU
limit from outside: it reads the worker's CPU time while it waits and stops it past
``Limits.cpu`` seconds per answer (``coursecnn.grader.kernel``).

Without bubblewrap (``available()`` is False) grading refuses to start unless the instructor asks
for ``unsandboxed`` grading: the worker is then an ordinary process with the same limits and
import hook, but it can read the disk.
"""

import dataclasses
import functools
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

__all__ = ["Limits", "available", "unavailable_reason", "worker_command", "SandboxUnavailable"]

_SCRATCH_BYTES = 64 * 2 ** 20
_HERE = Path(__file__).resolve().parent


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one answer may use. Defaults hold for every exercise unless its cell metadata says
    otherwise (``metadata.coursecnn.limits``: ``memory_mb``, ``cpu_s``).

    Attributes:
        memory (int): bytes of address space for the worker process. Default: 2 GiB.
        cpu (float): CPU seconds for running the answer cell, and for each call a test makes to
            one of its functions. Default: 20.
        processes (int): processes the worker may hold: 1, itself (threads are allowed).
        plain (bool): NumPy and the standard library only. Default: False.
    """

    memory: int = 2 * 2 ** 30
    cpu: float = 20.0
    processes: int = 1
    plain: bool = False

    @classmethod
    def from_meta(cls, meta, plain=False):
        """Limits from a cell's ``metadata.coursecnn`` dict (``limits: {memory_mb, cpu_s}``)."""
        lim = (meta or {}).get("limits") or {}
        kw = {"plain": bool(plain)}
        if "memory_mb" in lim:
            kw["memory"] = int(lim["memory_mb"]) * 2 ** 20
        if "cpu_s" in lim:
            kw["cpu"] = float(lim["cpu_s"])
        return cls(**kw)


class SandboxUnavailable(RuntimeError):
    """Bubblewrap is missing or cannot create its namespaces on this machine."""


def _bwrap():
    return shutil.which("bwrap")


def _package_dir(name):
    import importlib.util

    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]).resolve()


def _site_dirs():
    dirs = []
    for prefix in {sys.prefix, sys.base_prefix}:
        for key in ("purelib", "platlib"):
            d = Path(sysconfig.get_paths(vars={"base": prefix, "platbase": prefix})[key])
            if d.is_dir() and d.resolve() not in dirs:
                dirs.append(d.resolve())
    return dirs


def _bind_args(plain):
    """bwrap arguments that make the read-only view of the disk described above."""
    args = []
    seen = set()

    def ro(path, dest=None):
        path = Path(path).resolve()
        if not path.exists():
            return
        args.extend(["--ro-bind", str(path), str(dest or path)])

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
    for prefix in dict.fromkeys([Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve()]):
        if not any(prefix.is_relative_to(s) for s in seen):
            seen.add(prefix)
            ro(prefix)
    package = _package_dir("coursecnn") or _HERE.parent
    if plain:
        # Every installed package hidden (an empty folder over each site-packages), then NumPy
        # put back: `import scipy` finds nothing, and neither does `import coursecnn`.
        numpy = _package_dir("numpy")
        for site in _site_dirs():
            args.extend(["--tmpfs", str(site)])
        if numpy is not None:
            ro(numpy)
            libs = numpy.parent / "numpy.libs"
            if libs.is_dir():
                ro(libs)
        if not any(package.is_relative_to(s) for s in seen):
            args.extend(["--tmpfs", str(package)])  # an editable install's source: hidden too
        ro(_HERE)
    else:
        # The package itself: only its own folder, so the repository around an editable install
        # (book/, course/, tests/) stays out of sight; its data sets hidden (test labels stay with
        # the checks: the kernel sends the worker the inputs a task needs).
        ro(package)
        for data in sorted((package / "data").glob("*.npz")):
            args.extend(["--ro-bind", "/dev/null", str(data)])
        ro(_HERE)
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


def worker_command(fd, limits=Limits(), sandboxed=True):
    """The command line that starts a student worker serving the socket ``fd``.

    Args:
        fd (int): the inherited socket's file descriptor.
        limits (Limits): memory, CPU and what may be imported. Default: ``Limits()``.
        sandboxed (bool): run under bubblewrap. Raises ``SandboxUnavailable`` when it cannot.
            Default: True.
    """
    config = json.dumps({"plain": limits.plain, "memory": limits.memory})
    # -I: no PYTHONPATH, no user site-packages, no current folder on the path; the worker's own
    # folder is put first by hand.
    boot = (f"import sys; sys.path.insert(0, {str(_HERE)!r}); import worker, os; "
            "worker.main(sys.argv); os._exit(0)")
    cmd = [sys.executable, "-I", "-c", boot, str(fd), config]
    if not sandboxed:
        return cmd
    # No probe here: the grader checked `available()` before the kernel started, and a worker
    # that cannot start says so in its first message (the kernel reports it).
    if _bwrap() is None:
        raise SandboxUnavailable(_probe())
    return [*_base_command(limits.plain), *cmd]
