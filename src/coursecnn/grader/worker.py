"""The student's worker: runs answer cells and calls their functions, answering only with data.

Started by the grading kernel (``coursecnn.grader.kernel``) as ``python -I worker.py FD CONFIG``
inside the sandbox (``coursecnn.grader.box``), with this folder as its only code of ours. Before
any student code runs it limits its own memory, refuses new processes and raised limits
(``seccomp``) and, for a NumPy-only exercise, blocks every import but the standard library and
NumPy. Then it serves the kernel's requests on the socket ``FD``, one at a time:

- ``exec``: run the setup cells (quietly) and an answer cell; report which of the names the
  exercise declares it defined: functions by name, data by value;
- ``call``: call one of those functions with arguments that arrive as values; the result goes
  back as a value, with the positions of any argument it changed in place;
- ``task``: run one of the course's trusted routines (``coursecnn.grader.tasks``) on a function of
  the answer (train the student's model, say) and send back its numbers.

Everything the kernel receives is data (``wire``); it never calls or reads anything here.
"""

import builtins
import io
import json
import os
import resource
import socket
import sys
import traceback

import numpy as np

try:  # imported as coursecnn.grader.worker (documentation, tests)
    from . import seccomp, wire
except ImportError:  # run in the sandbox, with only this folder of ours on the path
    import seccomp
    import wire

_NS = {"__name__": "__main__", "__builtins__": builtins}
_MAX_OUTPUT = 20_000


class _Capture(io.TextIOBase):
    def __init__(self):
        self.parts, self.size = [], 0

    def write(self, s):
        s = str(s)
        if self.size < _MAX_OUTPUT:
            self.parts.append(s[:_MAX_OUTPUT - self.size])
            self.size += len(s)
        return len(s)

    def writable(self):
        return True

    def text(self):
        return "".join(self.parts)


class _PlainOnly:
    """An import hook for NumPy-only exercises: the standard library and NumPy, nothing else.
    (Under the sandbox the other packages' files are not even there; this gives the message.)"""

    allowed = set(getattr(sys, "stdlib_module_names", ())) | {"numpy", "wire", "seccomp", "worker"}

    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top not in self.allowed and not top.startswith("_"):
            raise ImportError(f"{top} may not be used in this exercise (NumPy and the standard library only)")
        return None


def _limit(config):
    mem = config.get("memory")
    if mem:
        resource.setrlimit(resource.RLIMIT_AS, (int(mem), int(mem)))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(256, nofile), min(256, nofile)))


def _run(source, label):
    # Keep the text where inspect (and tracebacks) can find it.
    import linecache

    linecache.cache[label] = (len(source), None, source.splitlines(True), label)
    exec(compile(source, label, "exec"), _NS)  # noqa: S102 (running the student's code is this process's job)


def _student_traceback(exc):
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    here = os.path.dirname(os.path.abspath(__file__))
    return "".join(ln for ln in lines if here not in ln)[-4000:]


def _arrays(values):
    """{position: array} of the top-level array arguments (``"0"``, ``"1"``, ``"k:name"``)."""
    found = {str(i): a for i, a in enumerate(values.get("args", [])) if isinstance(a, np.ndarray)}
    found.update({f"k:{k}": v for k, v in values.get("kwargs", {}).items() if isinstance(v, np.ndarray)})
    return found


def _function(name):
    fn = _NS.get(name)
    if not callable(fn):
        raise NameError(f"name {name!r} is not defined")
    return fn


def _handle(msg, values):
    op = msg.get("op")
    if op == "exec":
        for i, src in enumerate(msg.get("setup", [])):
            try:
                _run(str(src), f"<setup {i}>")
            except BaseException:  # noqa: BLE001 (a setup cell this process cannot run: the kernel has it)
                pass
        _run(str(msg.get("source", "")), f"<answer {msg.get('label', '')}>")
        functions, data, refused = [], {}, {}
        for name in msg.get("names", []):
            if name not in _NS:
                continue
            value = _NS[name]
            if callable(value):
                functions.append(name)
            else:
                try:
                    wire.encode(value, [])
                    data[name] = value
                except wire.NotData as exc:
                    refused[name] = str(exc)
        return {"functions": functions, "refused": refused}, data
    if op == "call":
        fn = _function(str(msg.get("name")))
        args, kwargs = list(values.get("args", [])), dict(values.get("kwargs", {}))
        before = {k: v.copy() for k, v in _arrays(values).items()}
        result = fn(*args, **kwargs)
        changed = [k for k, v in _arrays(values).items()
                   if not (v.shape == before[k].shape and np.array_equal(v, before[k], equal_nan=True))]
        return {"mutated": changed}, {"result": result}
    if op == "task":
        from coursecnn.grader import tasks

        routine = tasks.TASKS.get(str(msg.get("task")))
        if routine is None:
            raise LookupError(f"no task {msg.get('task')!r}")
        fn = _function(str(msg.get("name")))
        return {}, {"result": routine(fn, *values.get("args", []), **values.get("kwargs", {}))}
    raise PermissionError(f"unknown operation {op!r}")


def serve(sock):
    while True:
        try:
            msg, blobs = wire.receive(sock)
            values = wire.unpack(msg, blobs)
        except wire.WireBroken:
            return
        out = _Capture()
        old = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = out
        try:
            header, data = _handle(msg, values)
            header, rblobs = wire.pack(dict(header, ok=True), data)
        except BaseException as exc:  # noqa: BLE001 (student code may raise anything)
            if isinstance(exc, wire.NotData):
                what = "your function's result" if msg.get("op") == "call" else "a value of your answer"
                exc = TypeError(f"{what} cannot be graded: {exc}")
            header, rblobs = {"ok": False, "error": {
                "type": type(exc).__name__, "msg": str(exc)[:4000], "tb": _student_traceback(exc)}}, []
        finally:
            sys.stdout, sys.stderr = old
        text = out.text()
        if text:
            header["out"] = text
        wire.send(sock, header, rblobs)


def main(argv):
    fd, config = int(argv[1]), json.loads(argv[2])
    sock = socket.socket(fileno=fd)
    _limit(config)
    if config.get("plain"):
        sys.meta_path.insert(0, _PlainOnly())
    why = seccomp.install()
    if why is not None and config.get("need_seccomp", True):
        wire.send(sock, {"ok": False, "error": {"type": "RuntimeError", "msg": f"no process limit: {why}", "tb": ""}})
        return
    wire.send(sock, {"ok": True, "ready": True})
    serve(sock)


if __name__ == "__main__":
    main(sys.argv)
    os._exit(0)  # threads the student started do not keep the worker alive
