"""The grading kernel's side of split execution (see ``coursecnn.remote`` for the idea).

nbgrader's autograde runs every cell in the kernel; our executor (``coursecnn.autograde``) sends
an answer cell not as code but as a call to ``answer(...)`` below. ``answer`` runs the student's
source in a worker process (sandboxed, see ``coursecnn.sandbox``), after the setup cells that
came before it, and binds every name the answer defined in the kernel's namespace: data as a copy,
functions and classes as ``Answer`` proxies that call into the worker.

An answer that runs past the cell's time limit (an endless loop) costs one timeout: its worker is
stopped, the answer's names are marked as timed out (calling them fails at once), and the next use
of any other answer starts a fresh worker that replays the setup and the other answers.
"""

import os
import socket
import subprocess
import sys
import time

from .remote import Channel, GradingTimeout, RemoteError, RemoteObject, WorkerGone
from .sandbox import worker_command

__all__ = ["answer", "Answer", "session"]

_DATA = (type(None), bool, int, float, complex, str, bytes)


class _Worker:
    def __init__(self, session, plain):
        self.session = session
        self.plain = plain
        self.proc = None
        self.channel = None
        self.history = []          # (label, source, n_setup) of the answers run here, in order
        self.names = {}            # name -> (label, RemoteObject) from the latest run
        self.setup_sent = 0
        self.live = set()          # labels of the answers the current process has run
        self.poisoned = session.poisoned  # label -> why; shared: a loop is a loop in every worker

    def _start(self):
        parent, child = socket.socketpair()
        cmd = worker_command(child.fileno(), plain=self.plain, sandboxed=self.session.sandboxed)
        self.proc = subprocess.Popen(cmd, pass_fds=(child.fileno(),), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        child.close()
        self.channel = Channel(parent, trusted=True, deadline=self.session.current_deadline)
        self.channel.echo = not self.plain  # the plain worker reruns answers already shown
        self.setup_sent = 0
        self.names = {}
        self.live = set()

    def stop(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.channel.sock.close()
        self.proc = self.channel = None

    def _exec(self, label, source, upto, quiet):
        setup = self.session.setup[self.setup_sent:upto]
        result = self.channel.request({"op": "exec", "source": source, "label": label, "setup": setup,
                                       "quiet": quiet})
        self.setup_sent = upto
        self.live.add(label)
        if isinstance(result, dict):
            for name, value in result.items():
                self.names[name] = (label, value)
        return result

    def ensure(self):
        """A live worker that has run every answer of the history (restarting it if needed)."""
        if self.proc is not None and self.proc.poll() is None and not (self.live & set(self.poisoned)):
            return
        self.stop()
        self._start()
        saved = self.session.deadline
        self.session.deadline = time.monotonic() + self.session.timeout
        try:
            for label, source, upto in self.history:
                if label in self.poisoned:
                    continue
                try:
                    self._exec(label, source, upto, quiet=True)
                except (GradingTimeout, WorkerGone):
                    self.poisoned[label] = "stopped while it was run again"
                    self.stop()
                    self._start()
                except Exception:  # noqa: BLE001 (its error was shown when it first ran)
                    pass
        finally:
            self.session.deadline = saved

    def run(self, label, source):
        self.ensure()
        upto = len(self.session.setup)
        self.history.append((label, source, upto))
        try:
            return self._exec(label, source, upto, quiet=False)
        except (GradingTimeout, WorkerGone) as exc:
            self._fail(label, exc)
            raise self._stopped(label) from None

    def _fail(self, label, exc):
        why = ("it ran past the time allowed for the cell (an endless loop?)" if isinstance(exc, GradingTimeout)
               else f"the process running it ended ({exc})")
        if label is not None:
            self.poisoned[label] = why
        self.stop()

    def _stopped(self, label):
        return GradingTimeout(f"your code was stopped: {self.poisoned.get(label, 'it failed')}; "
                              "it is not run again")

    def resolve(self, name):
        self.ensure()
        if name not in self.names:
            for lbl, msg in self.poisoned.items():
                raise GradingTimeout(f"{name} is not available: your code in {lbl} was stopped ({msg})")
            raise NameError(f"name {name!r} is not defined")
        return self.names[name]

    def call(self, name, how, *args, **kwargs):
        label, target = self.resolve(name)
        if label in self.poisoned:
            raise self._stopped(label)
        try:
            return how(target, *args, **kwargs)
        except (GradingTimeout, WorkerGone) as exc:
            self._fail(label, exc)
            raise self._stopped(label) from None


class Answer:
    """A name an answer cell defined, living in the student's worker process."""

    __slots__ = ("_worker", "_name")

    def __init__(self, worker, name):
        object.__setattr__(self, "_worker", worker)
        object.__setattr__(self, "_name", name)

    def __call__(self, *args, **kwargs):
        return self._worker.call(self._name, lambda t, *a, **k: t(*a, **k), *args, **kwargs)

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return self._worker.call(self._name, lambda t: getattr(t, attr))

    def __repr__(self):
        return f"<{self._name}, from your answer>"


class Session:
    def __init__(self, timeout, sandboxed):
        self.timeout = float(timeout)
        self.sandboxed = bool(sandboxed)
        self.setup = []
        self.workers = {}
        self.poisoned = {}
        self.deadline = None
        try:
            ip = get_ipython()  # noqa: F821 (defined inside an IPython kernel)
            ip.events.register("pre_run_cell", self._new_cell)
        except NameError:
            pass
        self._new_cell()

    def _new_cell(self, *_):
        # The time left for student code in this cell: a little under the executor's own limit,
        # so a loop is stopped here (one clean error) before the kernel is interrupted.
        self.deadline = time.monotonic() + max(1.0, 0.85 * self.timeout - 0.5)

    def current_deadline(self):
        return self.deadline

    def worker(self, plain):
        if plain not in self.workers:
            self.workers[plain] = _Worker(self, plain)
        return self.workers[plain]


_SESSION = None


def session(timeout=120, sandboxed=True):
    global _SESSION
    if _SESSION is None:
        _SESSION = Session(timeout, sandboxed)
    return _SESSION


def _bind(ns, worker, names, expected):
    for name, value in names.items():
        # An answer may define the names its exercise asks for, and new ones; it may not replace
        # what the instructor's cells defined (np, ref, the test data), or the checks would use
        # the student's versions.
        if name in ns and name not in expected and not isinstance(ns[name], Answer):
            continue
        if isinstance(value, RemoteObject):
            ns[name] = Answer(worker, name)
        else:
            ns[name] = value


def _render(exc):
    tb = getattr(exc, "remote_traceback", "")
    if tb:
        try:
            exc._render_traceback_ = lambda: tb.rstrip("\n").split("\n")
        except AttributeError:
            pass
    return exc


def answer(label, source, setup=(), expected=(), plain=False, timeout=120, sandboxed=True, ns=None):
    """Run an answer cell's ``source`` in the student's worker and bind what it defines in ``ns``.

    Args:
        label (str): the cell's grade_id, for messages.
        source (str): the student's code.
        setup (list of str): the setup cells' sources since the previous answer.
        expected (list of str): the names the exercise asks for (the solution's definitions); they
            may replace names the instructor's cells defined. Other names may not.
        plain (bool): the exercise forbids ``coursecnn`` and ``torch``: the answer also runs in a
            worker without them, and its names are bound from there.
        timeout (float): the executor's per-cell limit in seconds.
        sandboxed (bool): run the workers under bubblewrap.
        ns (dict, optional): the namespace to bind in. Default: the IPython user namespace.
    """
    s = session(timeout, sandboxed)
    s.setup.extend(str(x) for x in setup)
    if ns is None:
        ns = get_ipython().user_ns  # noqa: F821
    normal = s.worker(False)
    try:
        names = normal.run(label, source)
    except Exception as exc:  # noqa: BLE001 (the student's error, shown as theirs)
        raise _render(exc) from None
    if not plain:
        _bind(ns, normal, names, set(expected))
        return
    try:
        names = s.worker(True).run(label, source)
    except Exception as exc:  # noqa: BLE001
        for name in names:
            if isinstance(ns.get(name), Answer):
                ns.pop(name, None)
        print("(this exercise is graded without coursecnn and torch)", file=sys.stderr)
        raise _render(exc) from None
    _bind(ns, s.worker(True), names, set(expected))
