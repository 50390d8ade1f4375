"""The wire between the grading kernel and the student's worker: plain data, nothing else.

What may cross, both ways: ``None``, booleans, integers, floats, complex numbers, strings, bytes,
tuples, lists, dicts (of those), NumPy arrays and scalars of numeric dtypes, and PyTorch tensors
(sent as their values). Anything else (a function, a generator, a module, an object of a class)
is refused with ``NotData``: no reference to a live object ever crosses, so neither side can call,
iterate or read attributes of the other's objects. Decoding builds fresh objects; nothing is
unpickled.

A message is length-prefixed: a JSON header, then raw byte blobs (array contents). This module
needs only the standard library and NumPy: the worker imports it where ``coursecnn`` is hidden.
"""

import json
import select
import struct
import sys
import time

import numpy as np

MAX_MESSAGE = 512 * 2 ** 20   # one message, header and blobs: a bound on what a worker can send
MAX_DEPTH = 32                # nesting of lists, tuples and dicts
NUMERIC_KINDS = "biufc"       # bool, int, uint, float, complex: no object, void or string dtypes


class NotData(TypeError):
    """A value that cannot cross the wire (it is not plain data)."""


class WireBroken(RuntimeError):
    """The other side ended, or sent something that is not a message."""


class WireTimeout(TimeoutError):
    """No reply before the deadline."""


def _kind(obj):
    cls = type(obj)
    return cls.__name__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__name__}"


def encode(obj, blobs, depth=0):
    """``obj`` as a JSON-able tree; array contents are appended to ``blobs``."""
    if depth > MAX_DEPTH:
        raise NotData(f"values nested deeper than {MAX_DEPTH} levels cannot be graded")
    if obj is None or type(obj) in (bool, str):
        return obj
    if type(obj) is int:
        return {"t": "int", "v": int.__repr__(obj)}
    if type(obj) is float:
        return {"t": "float", "v": float.__repr__(obj)}
    if type(obj) is complex:
        return {"t": "complex", "v": [float.__repr__(obj.real), float.__repr__(obj.imag)]}
    if type(obj) is bytes:
        blobs.append(obj)
        return {"t": "bytes", "b": len(blobs) - 1}
    if isinstance(obj, (np.ndarray, np.generic)) and type(obj).__module__ == "numpy":
        if obj.dtype.kind not in NUMERIC_KINDS or obj.dtype.fields is not None:
            raise NotData(f"an array of dtype {obj.dtype} cannot be graded: use numbers")
        arr = np.array(obj, order="C", copy=True)  # a plain ndarray of our own (no subclass)
        blobs.append(arr.tobytes())
        return {"t": "nd", "dtype": arr.dtype.str, "shape": list(arr.shape), "b": len(blobs) - 1,
                "scalar": isinstance(obj, np.generic)}
    if isinstance(obj, tuple) and hasattr(obj, "_fields") and type(obj).__module__ != "builtins":
        return {"t": "tuple", "v": [encode(v, blobs, depth + 1) for v in tuple.__iter__(obj)]}
    if type(obj) in (tuple, list):
        return {"t": type(obj).__name__, "v": [encode(v, blobs, depth + 1) for v in obj]}
    if type(obj) is dict:
        return {"t": "dict", "k": [encode(k, blobs, depth + 1) for k in dict.keys(obj)],
                "v": [encode(v, blobs, depth + 1) for v in dict.values(obj)]}
    torch = sys.modules.get("torch")
    if torch is not None and type(obj) in (getattr(torch, "Tensor", None), getattr(torch.nn, "Parameter", None)):
        t = torch.Tensor.detach(obj).cpu()
        if t.dtype == torch.bfloat16 or t.dtype == torch.float16:
            t = t.float()
        return {"t": "tensor", "a": encode(t.numpy(), blobs, depth + 1)}
    if torch is not None and type(obj) is getattr(torch, "Size", None):
        return {"t": "tuple", "v": [int(v) for v in tuple.__iter__(obj)]}
    raise NotData(f"a {_kind(obj)} cannot be graded: only numbers, strings, tuples, lists, dicts "
                  "and arrays of numbers cross to the checks")


def decode(tree, blobs, depth=0):
    """The value ``encode`` made ``tree`` from: new objects, built from data only."""
    if depth > MAX_DEPTH + 2:
        raise WireBroken("a value nested too deep")
    if tree is None or type(tree) in (bool, str):
        return tree
    if type(tree) is not dict:
        raise WireBroken(f"a malformed value ({type(tree).__name__})")
    t = tree.get("t")
    try:
        if t == "int":
            return int(str(tree["v"]))
        if t == "float":
            return float(str(tree["v"]))
        if t == "complex":
            return complex(float(str(tree["v"][0])), float(str(tree["v"][1])))
        if t == "bytes":
            return bytes(blobs[int(tree["b"])])
        if t == "nd":
            dtype = np.dtype(str(tree["dtype"]))
            if dtype.kind not in NUMERIC_KINDS or dtype.fields is not None:
                raise WireBroken(f"a refused dtype {dtype}")
            shape = tuple(int(n) for n in tree["shape"])
            arr = np.frombuffer(blobs[int(tree["b"])], dtype=dtype).reshape(shape).copy()
            return arr[()] if tree.get("scalar") else arr
        if t in ("tuple", "list"):
            items = [decode(v, blobs, depth + 1) for v in tree["v"]]
            return tuple(items) if t == "tuple" else items
        if t == "dict":
            return {decode(k, blobs, depth + 1): decode(v, blobs, depth + 1) for k, v in zip(tree["k"], tree["v"])}
        if t == "tensor":
            arr = decode(tree["a"], blobs, depth + 1)
            try:
                import torch
            except ImportError:  # a NumPy-only worker: the values, as an array
                return arr
            return torch.from_numpy(np.array(arr))
    except (KeyError, IndexError, ValueError, TypeError) as exc:
        raise WireBroken(f"a malformed value ({exc})") from None
    raise WireBroken(f"an unknown value tag {t!r}")


def pack(header, values=None):
    """(header dict, blobs) for a message whose ``values`` (a dict) are encoded as data."""
    blobs = []
    if values is not None:
        header = dict(header, values={str(k): encode(v, blobs) for k, v in values.items()})
    return header, blobs


def unpack(header, blobs):
    """The ``values`` of a received message, decoded."""
    values = header.get("values") or {}
    if type(values) is not dict:
        raise WireBroken("a malformed message")
    return {str(k): decode(v, blobs) for k, v in values.items()}


def send(sock, header, blobs=()):
    head = json.dumps(header).encode()
    parts = [struct.pack(">II", len(head), len(blobs)), head]
    for b in blobs:
        parts += [struct.pack(">Q", len(b)), b]
    sock.sendall(b"".join(parts))


def _read(sock, n, wait):
    chunks, left = [], n
    while left:
        if wait is not None:
            wait()
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise WireBroken("the other side ended")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def receive(sock, wait=None):
    """One message: (header, blobs). ``wait()`` is called before each read; it blocks until the
    socket is readable, or raises (a deadline, a limit)."""
    head_len, nblobs = struct.unpack(">II", _read(sock, 8, wait))
    if head_len > MAX_MESSAGE or nblobs > 100_000:
        raise WireBroken("an oversized message")
    try:
        header = json.loads(_read(sock, head_len, wait))
    except ValueError:
        raise WireBroken("a malformed message") from None
    if type(header) is not dict:
        raise WireBroken("a malformed message")
    blobs, total = [], head_len
    for _ in range(nblobs):
        (size,) = struct.unpack(">Q", _read(sock, 8, wait))
        total += size
        if total > MAX_MESSAGE:
            raise WireBroken("an oversized message")
        blobs.append(_read(sock, size, wait))
    return header, blobs


def waiter(sock, deadline, check=None, every=0.2):
    """A ``wait`` for ``receive``: returns when ``sock`` is readable; raises ``WireTimeout`` at the
    absolute ``deadline()``; calls ``check()`` every ``every`` seconds meanwhile (a limit)."""
    def wait():
        while True:
            limit = deadline() if deadline is not None else None
            left = None if limit is None else limit - time.monotonic()
            if left is not None and left <= 0:
                raise WireTimeout("ran past the time allowed for this cell")
            step = every if left is None else min(every, left)
            if select.select([sock], [], [], step)[0]:
                return
            if check is not None:
                check()
    return wait
