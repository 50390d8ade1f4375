"""The grading kernel's side: answers run in the worker, only data comes back.

nbgrader's autograde runs the release's setup and test cells in the notebook's kernel, which is
*trusted*: no student code ever runs there. ``SplitExecute`` (``coursecnn.grader.preprocessors``)
sends each answer cell as a call to ``answer(...)`` below, which runs the student's source in a
worker process (``coursecnn.grader.worker``, boxed by ``coursecnn.grader.box``) and binds in the
kernel only the names the exercise's stub declares:

- a function becomes an ``Answer``: calling it sends the arguments as values, runs the student's
  function in the worker and returns its result as a value; an argument the function changed in
  place fails the check at once (the kernel's own copy is never touched);
- data (a number, an array) is bound as a copy.

No builtin and no other name is ever bound, and nothing crosses but data (``coursecnn.grader.wire``).

An answer that runs past the cell's time or CPU limit costs one timeout: its worker is stopped,
the answer's names are marked as stopped (calling them fails at once), and the next use of any
other answer starts a fresh worker that replays the setup and the other answers.

Every event an instructor should see (a limit hit, a worker that died, a forbidden import, a
shadowed builtin) is appended to the log file ``answer(log=...)`` names
(``coursecnn.grader.flags``).
"""

import ast
import builtins
import os
import socket
import subprocess
import sys
import time

from . import flags as _flags
from . import wire
from .box import Limits, worker_command

__all__ = ["answer", "Answer", "GradingTimeout", "LimitExceeded", "WorkerGone", "session"]


class GradingTimeout(TimeoutError):
    """Student code ran past the time allowed for the cell."""


class LimitExceeded(RuntimeError):
    """Student code used more CPU time than its answer is allowed."""


class WorkerGone(RuntimeError):
    """The worker process ended, or sent something that is not a message."""


_BOOT_SECONDS = 60.0  # for a worker to start (sandbox, interpreter, NumPy) on a busy machine
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _tree_cpu(pid):
    """CPU seconds used by ``pid`` and every process under it (0 where /proc cannot tell)."""
    total, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            with open(f"/proc/{p}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])   # utime, stime
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except (OSError, ValueError, IndexError):
            continue
    return total / _TICK


def _builtin_exception(name):
    exc = getattr(builtins, name, None)
    if isinstance(exc, type) and issubclass(exc, Exception) and exc not in (SystemExit, KeyboardInterrupt):
        return exc
    return None


class StudentError(Exception):
    """An exception of a type that is not a builtin one, raised by the student's code."""


class _Worker:
    def __init__(self, session, limits):
        self.session = session
        self.limits = limits
        self.proc = self.sock = None
        self.history = []          # (label, source, n_setup, names) of the answers run here, in order
        self.functions = {}        # name -> label of the answer that defined it
        self.live = set()          # labels of the answers the current process has run
        self.poisoned = session.poisoned  # label -> why; shared: a loop is a loop in every worker
        self.cpu_mark = 0.0
        self.booting = None        # when a spawned process's first message is still to be read

    # -- process ------------------------------------------------------------------------------

    def spawn(self):
        """Start the process; its first message is read later (``_start``), so it can boot while
        the kernel runs the setup cells."""
        parent, child = socket.socketpair()
        cmd = worker_command(child.fileno(), self.limits, sandboxed=self.session.sandboxed)
        self.proc = subprocess.Popen(cmd, pass_fds=(child.fileno(),), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        child.close()
        self.sock = parent
        self.functions = {}
        self.live = set()
        self.cpu_mark = 0.0
        self.booting = time.monotonic()

    def _start(self):
        if self.proc is None:
            self.spawn()
        # Booting is the grader's cost, not the student's: it gets its own allowance.
        saved = self.session.deadline
        self.session.deadline = max(saved or 0, self.booting + _BOOT_SECONDS)
        try:
            hello = self._receive()
        finally:
            self.session.deadline = saved
        self.booting = None
        if not hello.get("ok"):
            err = hello.get("error") or {}
            self.stop()
            raise WorkerGone(f"the worker could not start: {err.get('msg', 'no reason')}")

    def cpu(self):
        """CPU seconds of the live process (0 when there is none)."""
        return _tree_cpu(self.proc.pid) if self.proc is not None else 0.0

    def stop(self):
        if self.proc is not None:
            self.session.spent += self.cpu()  # its CPU is not counted anywhere once it is killed
            self.proc.kill()
            self.proc.wait()
            self.sock.close()
        self.proc = self.sock = None

    def _check_cpu(self):
        used = _tree_cpu(self.proc.pid) - self.cpu_mark
        if used > self.limits.cpu:
            raise LimitExceeded(f"used more than {self.limits.cpu:g} s of CPU time")

    def _receive(self):
        wait = wire.waiter(self.sock, self.session.current_deadline, self._check_cpu)
        try:
            header, blobs = wire.receive(self.sock, wait)
            values = wire.unpack(header, blobs)
        except wire.WireTimeout as exc:
            raise GradingTimeout(str(exc)) from None
        except wire.WireBroken as exc:
            raise WorkerGone(str(exc)) from None
        header["values"] = values
        return header

    def request(self, header, values=None):
        header, blobs = wire.pack(header, values)
        try:
            wire.send(self.sock, header, blobs)
        except OSError as exc:
            raise WorkerGone(f"the student's process ended ({exc})") from None
        reply = self._receive()
        self.session.account()
        out = reply.get("out")
        if isinstance(out, str) and out and self.session.echo(self):
            sys.stdout.write(out[:20_000])
        if not reply.get("ok"):
            raise self._exception(reply.get("error") or {})
        return reply

    def _exception(self, info):
        name, text = str(info.get("type", "Exception")), str(info.get("msg", ""))
        if name == "MemoryError":
            self.session.flag("limit", self.session.current_label, "memory limit reached (MemoryError)")
        if "may not be used in this exercise" in text:
            self.session.flag("forbidden import", self.session.current_label, text[:200])
        elif any(w in text for w in ("Read-only file system", "Permission denied", "Operation not permitted")):
            self.session.flag("sandbox refused", self.session.current_label, f"{name}: {text[:200]}")
        cls = _builtin_exception(name)
        exc = cls(text) if cls is not None else StudentError(f"{name}: {text}")
        exc.remote_traceback = str(info.get("tb", ""))
        return exc

    # -- answers ------------------------------------------------------------------------------

    def _exec(self, label, source, upto, names):
        setup = needed_setup(self.session.setup[:upto], source)
        self.cpu_mark = _tree_cpu(self.proc.pid)
        reply = self.request({"op": "exec", "source": source, "label": label, "setup": setup,
                              "names": list(names)})
        self.live.add(label)
        for name in reply.get("functions", []):
            if name in names:
                self.functions[str(name)] = label
        return reply

    def ensure(self):
        """A live worker that has run every answer of the history (restarting it if needed)."""
        if self.proc is not None and self.booting is not None and not self.history:
            self._start()  # spawned ahead by prestart: read its first message now
            return
        if self.proc is not None and self.proc.poll() is None and not (self.live & set(self.poisoned)):
            return
        self.stop()
        saved = self.session.deadline
        self.session.deadline = time.monotonic() + self.session.timeout
        try:
            self._start()
            for label, source, upto, names in self.history:
                if label in self.poisoned:
                    continue
                try:
                    self._exec(label, source, upto, names)
                except (GradingTimeout, WorkerGone, LimitExceeded):
                    self.poisoned[label] = "stopped while it was run again"
                    self.stop()
                    self._start()
                except Exception:  # noqa: BLE001 (its error was shown when it first ran)
                    pass
        finally:
            self.session.deadline = saved

    def run(self, label, source, names):
        self.ensure()
        upto = len(self.session.setup)
        self.history.append((label, source, upto, tuple(names)))
        try:
            return self._exec(label, source, upto, names)
        except (GradingTimeout, WorkerGone, LimitExceeded) as exc:
            self._fail(label, exc)
            raise self._stopped(label) from None

    def _fail(self, label, exc):
        if isinstance(exc, GradingTimeout):
            why = "it ran past the time allowed for the cell (an endless loop?)"
            self.session.flag("limit", label, "time limit of the cell reached")
        elif isinstance(exc, LimitExceeded):
            why = f"it {exc}"
            self.session.flag("limit", label, f"CPU limit: {exc}")
        else:
            why = f"the process running it ended ({exc})"
            self.session.flag("worker death", label, str(exc)[:200])
        if label is not None:
            self.poisoned[label] = why
        self.stop()

    def _stopped(self, label):
        return GradingTimeout(f"your code was stopped: {self.poisoned.get(label, 'it failed')}; "
                              "it is not run again")

    def call(self, name, op, values, extra=None):
        self.ensure()
        label = self.functions.get(name)
        if label is None:
            for lbl, msg in self.poisoned.items():
                raise GradingTimeout(f"{name} is not available: your code in {lbl} was stopped ({msg})")
            raise NameError(f"name {name!r} is not defined")
        if label in self.poisoned:
            raise self._stopped(label)
        self.session.current_label = label
        self.cpu_mark = _tree_cpu(self.proc.pid)
        try:
            return self.request(dict({"op": op, "name": name}, **(extra or {})), values)
        except (GradingTimeout, WorkerGone, LimitExceeded) as exc:
            self._fail(label, exc)
            raise self._stopped(label) from None


class Answer:
    """A function an answer cell defined; it lives in the student's worker process.

    Calling it sends the arguments by value and returns the result by value. Nothing else can be
    done with it: it has no attributes to read, and it is never passed to the student's code.
    """

    __slots__ = ("_worker", "_name")

    def __init__(self, worker, name):
        object.__setattr__(self, "_worker", worker)
        object.__setattr__(self, "_name", name)

    def __call__(self, *args, **kwargs):
        values = {"args": list(args), "kwargs": {str(k): v for k, v in kwargs.items()}}
        try:
            wire.encode(values, [])
        except wire.NotData as exc:
            raise TypeError(f"{self._name}: {exc}") from None
        reply = self._worker.call(self._name, "call", values)
        mutated = reply.get("mutated") or []
        if mutated:
            self._worker.session.flag("mutated input", self._worker.functions.get(self._name),
                                      f"{self._name} changed {', '.join(map(str, mutated))}")
            which = ", ".join(f"argument {m[2:]!r}" if str(m).startswith("k:") else f"argument {int(m) + 1}"
                              for m in mutated)
            raise AssertionError(f"{self._name} changed its input in place ({which}); "
                                 "it must leave its arguments as they are and return new arrays")
        return reply["values"].get("result")

    def _task(self, task, *args, **kwargs):
        """Run the course's trusted routine ``task`` (``coursecnn.grader.tasks``) on this function,
        in the worker; its result comes back as data."""
        values = {"args": list(args), "kwargs": {str(k): v for k, v in kwargs.items()}}
        reply = self._worker.call(self._name, "task", values, {"task": str(task)})
        return reply["values"].get("result")

    def __getattr__(self, attr):
        raise AttributeError(f"{self._name} is your function, graded in its own process: "
                             f"only calls reach it (no attribute {attr!r})")

    def __setattr__(self, name, value):
        raise AttributeError(f"{self._name} cannot be changed by the checks")

    def __repr__(self):
        return f"<{self._name}, from your answer>"


class Session:
    def __init__(self, timeout, sandboxed, log=None):
        self.timeout = float(timeout)
        self.sandboxed = bool(sandboxed)
        self.log = log
        self.setup = []
        self.workers = {}
        self.poisoned = {}
        self.deadline = None
        self.current_label = None
        self.spent = 0.0           # CPU seconds of the workers stopped so far
        # The kernel's own CPU is counted from here when it graded another submission before
        # (a reused kernel), from its start otherwise.
        self.kernel_mark = _FRESHENED.pop() if _FRESHENED else 0.0
        self.in_kernel = False
        import atexit

        atexit.register(self.account)
        try:
            ip = get_ipython()  # noqa: F821 (defined inside an IPython kernel)
            ip.events.register("pre_run_cell", self._new_cell)
            self.in_kernel = True
        except NameError:
            pass
        self._new_cell()

    def _new_cell(self, *_):
        # The time left for student code in this cell: a little under the executor's own limit,
        # so a loop is stopped here (one clean error) before the kernel is interrupted.
        self.deadline = time.monotonic() + max(1.0, 0.85 * self.timeout - 0.5)

    def current_deadline(self):
        return self.deadline

    def echo(self, worker):
        # The plain worker reruns answers the ordinary one has shown already.
        return not worker.limits.plain

    def worker(self, limits):
        key = (limits.plain, limits.memory, limits.cpu)
        if key not in self.workers:
            self.workers[key] = _Worker(self, limits)
        return self.workers[key]

    def account(self):
        """Write the workers' CPU seconds beside the log (the grader adds them to the report:
        a sandboxed worker's CPU time is not counted in the kernel's)."""
        if not self.log:
            return
        total = self.spent + sum(w.cpu() for w in self.workers.values())
        own = _self_cpu() - self.kernel_mark
        try:
            _flags.write_stats(self.log, {"worker_cpu_s": round(total, 3), "kernel_cpu_s": round(own, 3)})
        except OSError:
            pass

    def flag(self, kind, label, evidence):
        if self.log:
            _flags.record(self.log, kind, label, evidence)


_SESSION = None


def session(timeout=120, sandboxed=True, log=None):
    global _SESSION
    if _SESSION is None:
        _SESSION = Session(timeout, sandboxed, log)
    elif log and not _SESSION.log:
        _SESSION.log = log
    return _SESSION


_FRESHENED = []


def _self_cpu():
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def fresh(path=None):
    """Empty a kernel that graded another submission: stop its workers, forget its session, clear
    the namespace, and move to this submission's folder (``SplitExecute.reuse_kernel``)."""
    global _SESSION
    if _SESSION is not None:
        for worker in _SESSION.workers.values():
            worker.stop()
        _SESSION.account()
        try:
            get_ipython().events.unregister("pre_run_cell", _SESSION._new_cell)  # noqa: F821
        except (NameError, ValueError):
            pass
        _SESSION = None
    try:
        get_ipython().reset(new_session=False)  # noqa: F821
    except NameError:
        pass
    if path:
        os.chdir(path)
    _FRESHENED[:] = [_self_cpu()]


def needed_setup(cells, source):
    """The statements of the setup ``cells`` that the answer ``source`` needs, as sources: those
    that define a name it reads (inside its functions too), followed back through the cells.

    The worker runs only these: an answer that reads ``np`` does not pay for ``import torch``.
    Magics and statements nobody needs (plots, seeds, prints) are left out.
    """
    import ast

    from ..course import _MAGIC, _names

    need = set(_names(source)[1]) | set(_names(source)[0])
    kept = []
    for cell in reversed(list(cells)):
        text = _MAGIC.sub("", str(cell))
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        lines = text.split("\n")
        chunk = []
        for stmt in reversed(tree.body):
            first = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])])
            segment = "\n".join(lines[first - 1:stmt.end_lineno])
            defined, used = _names(segment)
            if defined & need:
                chunk.insert(0, segment)
                need = (need - defined) | used
        if chunk:
            kept.insert(0, "\n".join(chunk))
    return kept


def prestart(timeout=120, sandboxed=True, log=None, plain=False):
    """Start the ordinary worker (and the NumPy-only one when ``plain``) while the setup cells
    run, so the first answer does not wait for it. ``SplitExecute`` puts this call in front of
    the notebook's first setup cell."""
    s = session(timeout, sandboxed, log)
    kinds = [Limits()] + ([Limits(plain=True)] if plain else [])
    for limits in kinds:
        worker = s.worker(limits)
        if worker.proc is None:
            worker.spawn()


def _render(exc):
    tb = getattr(exc, "remote_traceback", "")
    if tb:
        try:
            exc._render_traceback_ = lambda: tb.rstrip("\n").split("\n")
        except AttributeError:
            pass
    return exc


def _bind(ns, worker, reply, declared):
    functions = set(reply.get("functions", []))
    for name in declared:
        if name in functions:
            ns[name] = Answer(worker, name)
        elif name in reply["values"]:
            ns[name] = reply["values"][name]
    refused = reply.get("refused") or {}
    if refused:
        name, why = next(iter(refused.items()))
        raise TypeError(f"{name}: {why}")


def shadowed_builtins(source):
    """Builtin names an answer's source binds at its top level (``def range``, ``sum = ...``)."""
    from .rules import defined_names

    return sorted(n for n in defined_names(source) if hasattr(builtins, n))


def answer(label, source, setup=(), declared=(), limits=None, timeout=120, sandboxed=True, ns=None,
           log=None, others=()):
    """Run an answer cell's ``source`` in the student's worker and bind what it must define.

    Args:
        label (str): the cell's grade_id, for messages.
        source (str): the student's code.
        setup (list of str): the setup cells' sources since the previous answer (trusted; the worker
            runs the statements of them the answer needs, ``needed_setup``).
        declared (list of str): the names the exercise's stub declares: the only names bound in
            ``ns``. A builtin name is never bound.
        limits (dict, optional): ``{"plain": bool, "memory": bytes, "cpu": seconds}``
            (``coursecnn.grader.box.Limits``). Default: ``Limits()``.
        timeout (float): the executor's per-cell limit in seconds.
        sandboxed (bool): run the workers under bubblewrap.
        ns (dict, optional): the namespace to bind in. Default: the IPython user namespace.
        log (str, optional): the file that collects what the instructor should see.
        others (list of str): the names other exercises declare (defining them here is flagged).
    """
    s = session(timeout, sandboxed, log)
    s.timeout = float(timeout)
    if not s.in_kernel:  # outside IPython (tests): each answer starts a "cell"
        s._new_cell()
    s.current_label = label
    s.setup.extend(str(x) for x in setup)
    limits = Limits(**(limits or {}))
    declared = [n for n in declared if not hasattr(builtins, n)]
    shadowed = shadowed_builtins(source)
    if shadowed:
        s.flag("shadowed builtin", label, ", ".join(shadowed))
    from .rules import defined_names

    foreign = sorted(set(defined_names(source)) & (set(others) - set(declared)))
    if foreign:
        s.flag("other exercise's names", label, ", ".join(foreign))
    if ns is None:
        ns = get_ipython().user_ns  # noqa: F821
    for name in declared:  # a failed answer leaves no earlier value behind
        ns.pop(name, None)
    # Every answer also runs in an ordinary worker, where later answers may build on it; a
    # NumPy-only answer is bound from a worker of its own that can import nothing else.
    ordinary = s.worker(Limits(memory=limits.memory, cpu=limits.cpu))
    try:
        reply = ordinary.run(label, source, declared)
    except Exception as exc:  # noqa: BLE001 (the student's error, shown as theirs)
        raise _render(exc) from None
    if not limits.plain:
        _bind(ns, ordinary, reply, declared)
        return
    plain = s.worker(limits)
    try:
        reply = plain.run(label, source, declared)
    except Exception as exc:  # noqa: BLE001
        print("(this exercise is graded with NumPy and the standard library only)", file=sys.stderr)
        raise _render(exc) from None
    _bind(ns, plain, reply, declared)
