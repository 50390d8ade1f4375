"""The public API under typical mistakes (issue 17): every call either matches PyTorch or raises a
``ValueError``/``TypeError`` whose message names the argument at fault. Nothing else escapes, and
no argument is modified.

Each probe takes a valid call (shapes and hyperparameters drawn by hypothesis) and makes one
mistake a student makes: a wrong rank, channels-last images, a nested list, a bool, complex,
object or integer dtype, a NaN or an inf, an empty axis, a zero or negative stride, a negative
padding, a kernel larger than the input, a non-contiguous or read-only array. PyTorch, given the
same (mistaken) input as float64, is the oracle:

- for the mistakes PyTorch accepts with a well-defined answer (an empty batch, NaN, inf, lists,
  integer arrays, strided or read-only arrays) the result must match it;
- for the others a result must match PyTorch as well, or the call must refuse with a message
  that names the argument.

The grading checks, the data readers and ``train``/``evaluate``/``summary`` get the same
mistakes with their own oracle (a failed check is an ``AssertionError``; training must not run on
NaN). ``COURSECNN_PROBE_REPORT=path`` writes the probe counts there.
"""

import collections
import json
import os
import re
import struct
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import coursecnn.ref as ref
import coursecnn.torch as ct
from coursecnn import arith, cli, fast, grading
from coursecnn.data import read_idx, resize_area

# (op, mistake): why it fails today, with the "ref" helper's pending work of issue 17 (coursecnn.ref
# and coursecnn.torch ops). The property tests skip these; test_waiting_for_ref runs each as a
# strict xfail, so a fix makes it XPASS and fail: then delete its line here.
def _waiting(reason, *cases):
    return {tuple(case.split(" ")): reason for case in cases}


# NaN and inf probes make NumPy warn on purpose
pytestmark = pytest.mark.filterwarnings(
    "ignore:invalid value:RuntimeWarning", "ignore:overflow:RuntimeWarning", "ignore:divide by zero:RuntimeWarning",
    "ignore:The given NumPy array is not writable:UserWarning",  # torch.as_tensor of the read-only probes
)

STATS = collections.Counter()

# The families of issue 26, each with its share of calls that end well (a correct result or a
# clear error): the code added after issue 17. The others keep their module as family.
FAMILIES = ("fast", "interpolate", "batch_norm2d", "load_photo", "cli")


def _family(op):
    for family, marks in (("fast", ("fast.",)), ("interpolate", ("interpolate",)), ("batch_norm2d", ("batch_norm",)),
                          ("load_photo", ("load_photo",)), ("cli", ("cli",))):
        if any(mark in op for mark in marks):
            return family
    return op.split(".")[0]


def _count(op, mistake, outcome):
    STATS["probes"] += 1
    STATS[outcome] += 1
    STATS[f"op:{op}"] += 1
    STATS[f"mistake:{mistake}"] += 1
    STATS[f"family:{_family(op)}:{outcome}"] += 1


def family_table(stats):
    """Per family: calls, correct results, clear errors, and the share of the two."""
    rows = collections.defaultdict(collections.Counter)
    for key, n in stats.items():
        if key.startswith("family:"):
            _, family, outcome = key.split(":")
            rows[family][outcome] += n
    lines = []
    for family in sorted(rows, key=lambda f: (f not in FAMILIES, f)):
        c = rows[family]
        total = sum(c.values())
        good = c["correct"] + c["clear_error"]
        lines.append(f"{family:14s} {total:5d} calls  {c['correct']:5d} correct  {c['clear_error']:5d} named errors  "
                     f"{good / total:7.1%} end well" + ("" if good == total else f"  ({dict(c)})"))
    return "\n".join(lines)


@pytest.fixture(scope="module", autouse=True)
def _report_probes():
    # Thousands of tiny torch calls: one thread avoids waking the pool for each (50x faster on
    # a busy 2-core machine); the setting is restored for the other modules.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
    print("\nprobes by family (a correct result or a named error ends well):\n" + family_table(STATS))
    path = os.environ.get("COURSECNN_PROBE_REPORT")
    if path:
        with open(path, "w") as f:
            json.dump(dict(STATS), f, indent=1, sort_keys=True)


# --- mistakes on arrays ----------------------------------------------------------------------------
# Each returns the mistaken value, or None where the mistake does not apply. "match" mistakes are
# ones torch answers: a refusal is then a failure too.


def _strided(a):
    big = np.repeat(a, 2, axis=-1) if a.ndim else a
    return big[..., ::2] if a.ndim else a


def _read_only(a):
    a = np.array(a)
    a.setflags(write=False)
    return a


def _poke(a, value, rng):
    if a.size == 0:
        return None
    a = np.array(a, dtype=np.float64)
    a.flat[rng.integers(a.size)] = value
    return a


ARRAY_MISTAKES = {
    # name: (function(array, rng), must match torch when torch answers)
    "rank_drop": (lambda a, rng: a[0] if a.ndim >= 1 and len(a) else None, False),
    "rank_add": (lambda a, rng: a[None], False),
    "nhwc": (lambda a, rng: np.moveaxis(a, 1, -1) if a.ndim >= 3 else None, False),
    "list": (lambda a, rng: a.tolist(), True),
    "bool": (lambda a, rng: a > 0, False),
    "complex": (lambda a, rng: a.astype(np.complex128), False),
    "object": (lambda a, rng: a.astype(object), False),
    "int": (lambda a, rng: np.rint(3 * a).astype(np.int64), True),
    "nan": (lambda a, rng: _poke(a, np.nan, rng), True),
    "inf": (lambda a, rng: _poke(a, rng.choice([np.inf, -np.inf]), rng), True),
    "empty_N": (lambda a, rng: a[:0] if a.ndim >= 2 else None, True),
    "empty_C": (lambda a, rng: a[:, :0] if a.ndim >= 3 else None, False),
    "empty_H": (lambda a, rng: a[..., :0, :] if a.ndim >= 3 else None, False),
    "empty_last": (lambda a, rng: a[..., :0] if a.ndim >= 1 else None, True),
    "noncontig": (lambda a, rng: _strided(a), True),
    "readonly": (lambda a, rng: _read_only(a), True),
}

# the words a message may use to name each argument (conv ops call the input x and the kernel w)
ALIASES = {
    "x": {"x", "input", "image", "images", "logits"},
    "w": {"w", "kernel", "kernels", "weight", "weights"},
    "dy": {"dy", "gradient", "grad"},
    "b": {"b", "bias"},
}


def _names(message, names):
    words = set(re.findall(r"[A-Za-z_]+", message))
    return bool(words & names)


def _float64(v):
    """The value PyTorch is given: float64 (complex stays complex), or None when NumPy cannot."""
    try:
        a = np.asarray(v)
        if a.dtype == object:
            a = a.astype(np.float64)
        return torch.as_tensor(a.astype(np.complex128 if np.iscomplexobj(a) else np.float64))
    except (TypeError, ValueError):
        return None


def _numpy(r):
    if isinstance(r, torch.Tensor):
        return r.detach().cpu().numpy()
    if isinstance(r, (tuple, list)):
        return type(r)(_numpy(v) for v in r)
    return np.asarray(r) if r is not None else None


def _same(ours, want):
    if isinstance(want, (tuple, list)):
        return isinstance(ours, (tuple, list)) and len(ours) == len(want) and all(map(_same, ours, want))
    if want is None:
        return ours is None
    ours, want = np.asarray(ours), np.asarray(want)
    if ours.shape != want.shape or np.iscomplexobj(ours):
        return False
    return np.allclose(ours.astype(np.float64), want.astype(np.float64), rtol=1e-7, atol=1e-9, equal_nan=True)


def _snapshot(args):
    return {k: (np.array(v, copy=True) if isinstance(v, np.ndarray) else v) for k, v in args.items()}


def _unchanged(before, after):
    for k, v in before.items():
        if isinstance(v, np.ndarray) and not np.array_equal(v, after[k], equal_nan=v.dtype.kind in "fc"):
            return k
    return None


def _judge(op, mistake, args, targets, must_match):
    """Run ``op`` on ``args`` and check the outcome; return a failure message or None."""
    before = _snapshot(args)
    try:
        want = _numpy(op.oracle(args))
        torch_ok = True
    except Exception:  # torch refuses too: only a clear error from ours is right
        want, torch_ok = None, False
    try:
        ours = _numpy(op.run(args))
    except (ValueError, TypeError) as exc:
        msg = str(exc)
        if must_match and torch_ok and mistake.split(":")[-1] not in op.may_refuse:
            _count(op.name, mistake, "wrong")
            return f"{op.name} refused a {mistake} input torch answers: {type(exc).__name__}: {msg}"
        if not _names(msg, targets):
            _count(op.name, mistake, "unclear")
            return f"{op.name}, {mistake}: the message does not name {sorted(targets)}: {type(exc).__name__}: {msg}"
        _count(op.name, mistake, "clear_error")
        return None
    except Exception as exc:  # anything else escaping is a defect
        _count(op.name, mistake, "escaped")
        return f"{op.name}, {mistake}: {type(exc).__name__} escaped: {exc}"
    changed = _unchanged(before, args)
    if changed:
        _count(op.name, mistake, "modified")
        return f"{op.name}, {mistake}: modified its argument {changed}"
    if not torch_ok or not _same(ours, want):
        _count(op.name, mistake, "wrong")
        shape = getattr(np.asarray(ours) if not isinstance(ours, tuple) else ours[0], "shape", None)
        return f"{op.name}, {mistake}: returned a result (shape {shape}) that torch {'refuses' if not torch_ok else 'disagrees with'}"
    _count(op.name, mistake, "correct")
    return None


# --- the ops ------------------------------------------------------------------------------------


class Op:
    def __init__(self, name, run, oracle, base, arrays=("x",), params=(), may_refuse=()):
        self.name, self.run, self.oracle, self.base = name, run, oracle, base
        self.arrays, self.params = arrays, params
        self.may_refuse = may_refuse  # mistakes this op may refuse even where torch answers


def _t(v):
    return None if v is None else _float64(v)


def _conv_base(dim, transpose=False, fft=False):
    def base(rng):
        n, c, k = rng.integers(1, 3), rng.integers(1, 4), rng.integers(1, 4)
        f = tuple(int(v) for v in rng.integers(1, 4, dim))
        s = 1 if fft else int(rng.integers(1, 3))
        p = 0 if fft else int(rng.integers(0, 2))
        size = tuple(int(fi + rng.integers(0, 4)) for fi in f)
        x = rng.normal(size=(n, c, *size))
        w = rng.normal(size=(c, k, *f) if transpose else (k, c, *f))
        if transpose and any((h - 1) * s + fi - 2 * p < 1 for h, fi in zip(size, f)):
            p = 0  # padding would crop the whole output
        b = rng.normal(size=k) if rng.random() < 0.5 else None
        return dict(x=x, w=w, b=b, stride=s, padding=p)

    return base


def _conv(fn, tfn, dim, transpose=False, fft=False, name=None):
    def run(a):
        if fft:
            return fn(a["x"], a["w"], a["b"])
        return fn(a["x"], a["w"], a["b"], stride=a["stride"], padding=a["padding"])

    def oracle(a):
        return tfn(_t(a["x"]), _t(a["w"]), _t(a["b"]), stride=a["stride"], padding=a["padding"])

    # conv2d_fft may refuse non-finite input (the issue allows it: a transform spreads NaN everywhere)
    may_refuse = ("nan", "inf") if fft else ()
    return Op(name, run, oracle, _conv_base(dim, transpose, fft), ("x", "w"), () if fft else ("stride", "padding"), may_refuse)


def _wide_conv_base(rng):
    """Channels times kernel width of 32 or more with stride 1: fast's shifted path, where an
    empty batch once raised IndexError (issue 26)."""
    n, c, k, f = int(rng.integers(1, 3)), int(rng.integers(11, 17)), int(rng.integers(1, 4)), int(rng.choice([3, 5]))
    size = (f + int(rng.integers(0, 4)), f + int(rng.integers(0, 4)))
    b = rng.normal(size=k) if rng.random() < 0.5 else None
    return dict(x=rng.normal(size=(n, c, *size)), w=rng.normal(size=(k, c, f, f)), b=b, stride=1,
                padding=int(rng.integers(0, 2)))


def _with_base(op, base):
    op.base = base
    return op


def _conv_backward(fn, dim, name, conv_base=None):
    conv = {1: F.conv1d, 2: F.conv2d}[dim]

    def base(rng):
        a = (conv_base or _conv_base(dim))(rng)
        a.pop("b")
        y = conv(torch.as_tensor(a["x"]), torch.as_tensor(a["w"]), stride=a["stride"], padding=a["padding"])
        a["dy"] = rng.normal(size=tuple(y.shape))
        return a

    def run(a):
        return fn(a["dy"], a["x"], a["w"], stride=a["stride"], padding=a["padding"])

    def oracle(a):
        x, w = _t(a["x"]).requires_grad_(), _t(a["w"]).requires_grad_()
        y = conv(x, w, stride=a["stride"], padding=a["padding"])
        dy = _t(a["dy"])
        y.backward(dy)
        return x.grad, w.grad, dy.sum(dim=tuple(i for i in range(dy.ndim) if i != 1))

    return Op(name, run, oracle, base, ("dy", "x"), ("stride", "padding"))


def _pool_base(rng):
    n, c = rng.integers(1, 3), rng.integers(1, 3)
    k = int(rng.integers(1, 4))
    p = int(rng.integers(0, k // 2 + 1))
    size = (int(k + rng.integers(0, 4)), int(k + rng.integers(0, 4)))
    s = int(rng.integers(1, 3))
    return dict(x=rng.normal(size=(n, c, *size)), kernel_size=k, stride=s, padding=p)


def _pool(fn, tfn, name):
    def run(a):
        return fn(a["x"], a["kernel_size"], stride=a["stride"], padding=a["padding"])

    def oracle(a):
        return tfn(_t(a["x"]), a["kernel_size"], stride=a["stride"], padding=a["padding"])

    return Op(name, run, oracle, _pool_base, ("x",), ("kernel_size", "stride", "padding"))


def _pool_backward(fn, tfn, name):
    def base(rng):
        a = _pool_base(rng)
        y = tfn(torch.as_tensor(a["x"]), a["kernel_size"], stride=a["stride"], padding=a["padding"])
        a["dy"] = rng.normal(size=tuple(y.shape))
        return a

    def run(a):
        return fn(a["dy"], a["x"], a["kernel_size"], stride=a["stride"], padding=a["padding"])

    def oracle(a):
        x = _t(a["x"]).requires_grad_()
        tfn(x, a["kernel_size"], stride=a["stride"], padding=a["padding"]).backward(_t(a["dy"]))
        return x.grad

    return Op(name, run, oracle, base, ("dy", "x"), ("kernel_size", "stride", "padding"))


def _elementwise(fn, tfn, name, grad=False, shape_rank=(1, 3)):
    def base(rng):
        rank = int(rng.integers(shape_rank[0], shape_rank[1] + 1))
        return dict(x=rng.normal(size=tuple(int(v) for v in rng.integers(1, 4, rank))))

    def oracle(a):
        x = _t(a["x"])
        if x.is_complex():
            raise TypeError("complex")
        if not grad:
            return tfn(x)
        x.requires_grad_()
        tfn(x).backward(torch.ones_like(x))
        return x.grad

    return Op(name, lambda a: fn(a["x"]), oracle, base, ("x",))


def _ref_conv2d_layer():
    def run(a):
        k, c = a["w"].shape[0], a["w"].shape[1] if np.ndim(a["w"]) == 4 else 1
        layer = ref.Conv2d(c, k, a["w"].shape[2:], stride=a["stride"], padding=a["padding"], bias=a["b"] is not None)
        layer.params["weight"] = np.asarray(a["w"], dtype=np.float64)
        if a["b"] is not None:
            layer.params["bias"] = np.asarray(a["b"], dtype=np.float64)
        return layer.forward(a["x"])

    def oracle(a):
        return F.conv2d(_t(a["x"]), _t(a["w"]), _t(a["b"]), stride=a["stride"], padding=a["padding"])

    return Op("ref.Conv2d", run, oracle, _conv_base(2), ("x",), ("stride", "padding"))


def _cross_entropy(fn, name):
    def base(rng):
        n, k = int(rng.integers(1, 5)), int(rng.integers(2, 5))
        return dict(x=rng.normal(size=(n, k)), target=rng.integers(0, k, n))

    def oracle(a):
        return F.cross_entropy(_t(a["x"]), torch.as_tensor(np.asarray(a["target"])))

    return Op(name, lambda a: fn(a["x"], a["target"]), oracle, base, ("x",))


def _pad2d():
    def base(rng):
        a = dict(x=rng.normal(size=(1, 2, int(rng.integers(2, 5)), int(rng.integers(2, 5)))))
        a["padding"] = int(rng.integers(0, 2))
        a["mode"] = str(rng.choice(["zeros", "replicate", "reflect"]))
        return a

    def oracle(a):
        x, p = _t(a["x"]), a["padding"]
        if x.ndim != 4:
            raise ValueError("rank")
        if not isinstance(p, int) or isinstance(p, bool) or p < 0:
            raise ValueError("padding")
        mode = {"zeros": "constant", "replicate": "replicate", "reflect": "reflect"}[a["mode"]]
        return F.pad(x, (p, p, p, p), mode=mode)

    return Op("ref.pad2d", lambda a: ref.pad2d(a["x"], a["padding"], a["mode"]), oracle, base, ("x",), ("padding",))


def _with_indices(fn=ref.max_pool2d_with_indices, name="ref.max_pool2d_with_indices"):
    def run(a):
        return fn(a["x"], a["kernel_size"], stride=a["stride"], padding=a["padding"])

    def oracle(a):
        y, i = F.max_pool2d(_t(a["x"]), a["kernel_size"], a["stride"], a["padding"], return_indices=True)
        return y, i

    return Op(name, run, oracle, _pool_base, ("x",), ("kernel_size", "stride", "padding"))


INTERP_MODES = [("nearest", None), ("bilinear", False), ("bilinear", True), ("bicubic", False), ("bicubic", True)]


def _interp_base(rng):
    x = rng.normal(size=tuple(int(v) for v in rng.integers(1, 3, 2)) + tuple(int(v) for v in rng.integers(1, 6, 2)))
    if rng.random() < 0.5:
        return dict(x=x, size=(int(rng.integers(1, 9)), int(rng.integers(1, 9))), scale_factor=None)
    factors = [1.5, 2.0, 3.0] + ([0.5] if min(x.shape[2:]) >= 2 else [])
    return dict(x=x, size=None, scale_factor=float(rng.choice(factors)))


def _interp_name(mode, align, what="interpolate", module="ref"):
    return f"{module}.{what}[{mode}{'' if align is None else ', align_corners=' + str(align)}]"


def _interpolate(mode, align, module=ref):
    def run(a):
        return module.interpolate(a["x"], size=a["size"], scale_factor=a["scale_factor"], mode=mode, align_corners=align)

    def oracle(a):
        return F.interpolate(_t(a["x"]), size=a["size"], scale_factor=a["scale_factor"], mode=mode,
                             align_corners=align)

    name = _interp_name(mode, align, module="ref" if module is ref else "ct")
    return Op(name, run, oracle, _interp_base, ("x",), ("size", "scale_factor"))


def _interpolate_backward(mode, align):
    kw = dict(mode=mode, align_corners=align)

    def base(rng):
        a = _interp_base(rng)
        y = F.interpolate(torch.as_tensor(a["x"]), size=a["size"], scale_factor=a["scale_factor"], **kw)
        a["dy"] = rng.normal(size=tuple(y.shape))
        return a

    def run(a):
        return ref.interpolate_backward(a["dy"], np.shape(a["x"]), size=a["size"], scale_factor=a["scale_factor"], **kw)

    def oracle(a):
        x = _t(a["x"]).requires_grad_()
        F.interpolate(x, size=a["size"], scale_factor=a["scale_factor"], **kw).backward(_t(a["dy"]))
        return x.grad

    return Op(_interp_name(mode, align, "interpolate_backward"), run, oracle, base, ("dy",), ("size", "scale_factor"))


def _batch_norm(training, module=ref):
    def base(rng):
        c = int(rng.integers(1, 4))
        x = rng.normal(size=(int(rng.integers(2, 4)), c, int(rng.integers(1, 4)), int(rng.integers(1, 4))))
        return dict(x=x, running_mean=rng.normal(size=c), running_var=rng.random(c) + 0.1, weight=rng.normal(size=c),
                    bias=rng.normal(size=c), eps=1e-5)

    def run(a):
        return module.batch_norm2d(a["x"], a["running_mean"], a["running_var"], a["weight"], a["bias"],
                                   training=training, eps=a["eps"])

    def oracle(a):
        stats = (None, None) if training else (_t(a["running_mean"]), _t(a["running_var"]))
        return F.batch_norm(_t(a["x"]), *stats, _t(a["weight"]), _t(a["bias"]), training=training, eps=a["eps"])

    arrays = ("x", "weight") if training else ("x", "running_var")
    # an infinite weight may be refused: torch's x * a + (bias - mean * a) makes it NaN, the
    # lecture's formula +-inf, and neither is an answer
    name = f"{'ref' if module is ref else 'ct'}.batch_norm2d[training={training}]"
    return Op(name, run, oracle, base, arrays, ("eps",), may_refuse=("inf",))


OPS = {
    op.name: op
    for op in [
        _conv(ref.conv1d, F.conv1d, 1, name="ref.conv1d"),
        _conv(ref.conv2d, F.conv2d, 2, name="ref.conv2d"),
        _conv(ref.conv3d, F.conv3d, 3, name="ref.conv3d"),
        _conv(ref.conv2d_naive, F.conv2d, 2, name="ref.conv2d_naive"),
        _conv(ref.conv_transpose2d, F.conv_transpose2d, 2, transpose=True, name="ref.conv_transpose2d"),
        _conv(ref.conv_transpose2d_naive, F.conv_transpose2d, 2, transpose=True, name="ref.conv_transpose2d_naive"),
        _conv(ref.conv2d_fft, F.conv2d, 2, fft=True, name="ref.conv2d_fft"),
        _conv(ct.conv1d, F.conv1d, 1, name="ct.conv1d"),
        _conv(ct.conv2d, F.conv2d, 2, name="ct.conv2d"),
        _conv(ct.conv_transpose2d, F.conv_transpose2d, 2, transpose=True, name="ct.conv_transpose2d"),
        _conv_backward(ref.conv1d_backward, 1, "ref.conv1d_backward"),
        _conv_backward(ref.conv2d_backward, 2, "ref.conv2d_backward"),
        _conv_backward(ref.conv2d_backward_naive, 2, "ref.conv2d_backward_naive"),
        _ref_conv2d_layer(),
        _pool(ref.max_pool2d, F.max_pool2d, "ref.max_pool2d"),
        _pool(ref.max_pool2d_naive, F.max_pool2d, "ref.max_pool2d_naive"),
        _pool(ref.avg_pool2d, F.avg_pool2d, "ref.avg_pool2d"),
        _pool(ref.avg_pool2d_naive, F.avg_pool2d, "ref.avg_pool2d_naive"),
        _pool(ct.max_pool2d, F.max_pool2d, "ct.max_pool2d"),
        _pool(ct.avg_pool2d, F.avg_pool2d, "ct.avg_pool2d"),
        _pool_backward(ref.max_pool2d_backward, F.max_pool2d, "ref.max_pool2d_backward"),
        _pool_backward(ref.max_pool2d_backward_naive, F.max_pool2d, "ref.max_pool2d_backward_naive"),
        _pool_backward(ref.avg_pool2d_backward, F.avg_pool2d, "ref.avg_pool2d_backward"),
        _with_indices(),
        _pad2d(),
        # issue 26: fast, interpolation and batch norm
        _conv(fast.conv1d, F.conv1d, 1, name="fast.conv1d"),
        _conv(fast.conv2d, F.conv2d, 2, name="fast.conv2d"),
        _conv(fast.conv3d, F.conv3d, 3, name="fast.conv3d"),
        _conv(fast.conv_transpose2d, F.conv_transpose2d, 2, transpose=True, name="fast.conv_transpose2d"),
        _with_base(_conv(fast.conv2d, F.conv2d, 2, name="fast.conv2d[shifted]"), _wide_conv_base),
        _conv_backward(fast.conv1d_backward, 1, "fast.conv1d_backward"),
        _conv_backward(fast.conv2d_backward, 2, "fast.conv2d_backward"),
        _conv_backward(fast.conv2d_backward, 2, "fast.conv2d_backward[shifted]", _wide_conv_base),
        _pool(fast.max_pool2d, F.max_pool2d, "fast.max_pool2d"),
        _pool(fast.avg_pool2d, F.avg_pool2d, "fast.avg_pool2d"),
        _pool_backward(fast.max_pool2d_backward, F.max_pool2d, "fast.max_pool2d_backward"),
        _pool_backward(fast.avg_pool2d_backward, F.avg_pool2d, "fast.avg_pool2d_backward"),
        _with_indices(fast.max_pool2d_with_indices, "fast.max_pool2d_with_indices"),
        *[_interpolate(mode, align) for mode, align in INTERP_MODES],
        _interpolate_backward("nearest", None),
        _interpolate_backward("bilinear", False),
        _batch_norm(True),
        _batch_norm(False),
        # the siblings in coursecnn.torch, and fast's N-max pooling
        *[_interpolate(mode, align, ct) for mode, align in INTERP_MODES],
        _batch_norm(True, ct),
        _batch_norm(False, ct),
        _elementwise(ref.relu, torch.relu, "ref.relu"),
        _elementwise(ref.relu_grad, torch.relu, "ref.relu_grad", grad=True),
        _elementwise(ref.sigmoid, torch.sigmoid, "ref.sigmoid"),
        _elementwise(ref.sigmoid_grad, torch.sigmoid, "ref.sigmoid_grad", grad=True),
        _elementwise(ref.tanh, torch.tanh, "ref.tanh"),
        _elementwise(ref.tanh_grad, torch.tanh, "ref.tanh_grad", grad=True),
        _elementwise(ref.leaky_relu, F.leaky_relu, "ref.leaky_relu"),
        _elementwise(ref.softmax, lambda x: torch.softmax(x, -1), "ref.softmax"),
        _elementwise(ref.log_softmax, lambda x: torch.log_softmax(x, -1), "ref.log_softmax"),
        _elementwise(ct.relu, torch.relu, "ct.relu"),
        _cross_entropy(ref.cross_entropy, "ref.cross_entropy"),
        _cross_entropy(ct.cross_entropy, "ct.cross_entropy"),
    ]
}

# mistakes on the integer hyperparameters: (name, value maker, argument named)
PARAM_MISTAKES = {
    "stride0": ("stride", lambda a: 0),
    "stride_neg": ("stride", lambda a: -1),
    "stride_float": ("stride", lambda a: 1.5),
    "stride_bool": ("stride", lambda a: True),
    "padding_neg": ("padding", lambda a: -1),
    "padding_str": ("padding", lambda a: "same1"),
    "kernel_size0": ("kernel_size", lambda a: 0),
    "kernel_size_big": ("kernel_size", lambda a: max(np.shape(a["x"])[-2:]) + 2 * a.get("padding", 0) + 1),
    "kernel_size_list3": ("kernel_size", lambda a: [2, 2, 2]),
    # interpolation (the other of size and scale_factor is left out) and batch norm
    "size0": ("size", lambda a: 0),
    "size_neg": ("size", lambda a: (-2, 3)),
    "size_float": ("size", lambda a: 2.5),
    "size_triple": ("size", lambda a: (2, 3, 4)),
    "size_huge": ("size", lambda a: 10**6),
    "padding_huge": ("padding", lambda a: 10**5),
    "scale_nan": ("scale_factor", lambda a: float("nan")),
    "scale_neg": ("scale_factor", lambda a: -2.0),
    "scale_str": ("scale_factor", lambda a: "2"),
    "scale_huge": ("scale_factor", lambda a: 1e9),
    "eps0": ("eps", lambda a: 0.0),
    "eps_neg": ("eps", lambda a: -1e-3),
    "eps_nan": ("eps", lambda a: float("nan")),
    "eps_str": ("eps", lambda a: "1e-5"),
}


def _kernel_too_big(a, rng):
    """A kernel larger than the (padded) input, for the conv ops."""
    w = np.asarray(a["w"])
    big = tuple(s + 2 * a.get("padding", 0) + 1 for s in np.shape(a["x"])[2:])
    return rng.normal(size=(*w.shape[:2], *big))


def _mistakes_for(op):
    # an empty first axis of w is K = 0, which w:empty_K covers
    names = [f"{arr}:{m}" for arr in op.arrays for m in ARRAY_MISTAKES if (arr, m) != ("w", "empty_N")]
    names += [m for m, (param, _) in PARAM_MISTAKES.items() if param in op.params]
    if op.name.startswith("ct."):
        # coursecnn.torch's convolutions and pooling are torch's own calls, without budgets: a
        # padding of 10**5 ends in torch's allocator, as it does in torch
        names = [m for m in names if m != "padding_huge"]
    if "w" in op.arrays:
        names += ["w:kernel_big", "w:empty_K"]
    return names


def _apply(op, mistake, args, rng):
    """``(args, targets, must_match)`` with the mistake made, or None where it does not apply."""
    args = dict(args)
    if mistake in PARAM_MISTAKES:
        param, make = PARAM_MISTAKES[mistake]
        args[param] = make(args)
        targets = {param}
        if param in ("size", "scale_factor"):
            args["scale_factor" if param == "size" else "size"] = None
            targets |= {"max_bytes"}  # a huge size is refused by the memory budget
        if mistake == "padding_huge":
            # a budget, half the kernel, or (backward passes) a dy that no longer fits the output
            targets |= {"max_bytes", "max_steps", "kernel", "kernel_size", "dy"}
        if mistake == "kernel_size_big":
            targets |= {"padding", "kernel", "window", "x"}
        return args, targets, False
    arr, m = mistake.split(":")
    if m == "kernel_big":
        args["w"] = _kernel_too_big(args, rng)
        return args, {"w", "kernel", "kernel_size", "padding", "x", "input"}, False
    if m == "empty_K":
        args["w"] = np.asarray(args["w"])[:0]
        if args.get("b") is not None:
            args["b"] = np.asarray(args["b"])[:0]
        return args, {"w", "kernel", "kernels", "K"}, False
    fn, must_match = ARRAY_MISTAKES[m]
    value = fn(np.asarray(args[arr]), rng)
    if value is None:
        return None
    args[arr] = value
    if m == "empty_N" and arr == "x" and "dy" in args:
        args["dy"] = np.asarray(args["dy"])[:0]  # a backward pass of an empty batch: dy is empty too
    targets = set(ALIASES.get(arr, {arr}))
    if m in ("nhwc", "rank_drop", "rank_add", "empty_C", "empty_H", "empty_last", "empty_N"):
        # a changed shape may first show as a mismatch with the other arrays
        targets |= {"w", "dy", "kernel", "kernel_size", "channel", "channels", "padding", "x", "target", "dim"}
    return args, targets, must_match


PROBE_SETTINGS = settings(
    max_examples=20, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)


@pytest.mark.parametrize("op_name", sorted(OPS))
@PROBE_SETTINGS
@given(data=st.data())
def test_typical_mistakes_match_torch_or_name_the_argument(op_name, data):
    op = OPS[op_name]
    mistakes = list(_mistakes_for(op))
    mistake = data.draw(st.sampled_from(mistakes), label="mistake")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    made = _apply(op, mistake, op.base(rng), rng)
    if made is None:
        return
    failure = _judge(op, mistake, *made)
    assert failure is None, failure


@pytest.mark.parametrize("op_name", sorted(OPS))
def test_every_mistake_once(op_name):
    """Each applicable mistake once per op, with fixed shapes: nothing left to chance."""
    op = OPS[op_name]
    failures = []
    for i, mistake in enumerate(_mistakes_for(op)):
        rng = np.random.default_rng(i)
        made = _apply(op, mistake, op.base(rng), rng)
        if made is not None:
            failure = _judge(op, mistake, *made)
            if failure:
                failures.append(failure)
    assert not failures, "\n".join(failures)


# --- arith: sizes and counts against torch's own layers --------------------------------------------


def _torch_length(n, k, s, p, d):
    return F.conv1d(torch.zeros(1, 1, n), torch.zeros(1, 1, k), stride=s, padding=p, dilation=d).shape[-1]


BAD_INTS = {"zero": 0, "neg": -2, "float": 2.5, "bool": True, "str": "3", "none": None, "numpy": np.int64(2)}


@PROBE_SETTINGS
@given(
    o=st.integers(1, 6), k=st.integers(1, 5), s=st.integers(1, 3), p=st.integers(0, 2), d=st.integers(1, 2),
    field=st.sampled_from(["n", "kernel_size", "stride", "padding", "dilation"]), bad=st.sampled_from(sorted(BAD_INTS)),
)
def test_conv_output_size_mistakes(o, k, s, p, d, field, bad):
    n = (o - 1) * s + d * (k - 1) + 1 - 2 * p  # an exact tiling: the strict formula answers
    if n < 1:
        return
    args = dict(n=n, kernel_size=k, stride=s, padding=p, dilation=d)
    assert arith.conv_output_size(**args) == _torch_length(n, k, s, p, d) == o
    args[field] = BAD_INTS[bad]
    try:
        got = arith.conv_output_size(**args)
    except (ValueError, TypeError) as exc:
        assert _names(str(exc), {field, "fit", "fits", "kernel"}), str(exc)
        _count("arith.conv_output_size", bad, "clear_error")
        return
    try:
        want = _torch_length(*(args[f] for f in ("n", "kernel_size", "stride", "padding", "dilation")))
    except Exception:
        want = None
    _count("arith.conv_output_size", bad, "correct" if got == want else "wrong")
    assert got == want and bad == "numpy", (args, got, want)


@PROBE_SETTINGS
@given(
    c=st.integers(1, 6), k=st.integers(1, 6), f=st.integers(1, 5), g=st.sampled_from([1, 2, 3]),
    bias=st.sampled_from([True, False, "no", 0, 1, None]), field=st.sampled_from(["none", "c", "k", "f"]),
    bad=st.sampled_from(sorted(BAD_INTS)),
)
def test_conv_params_matches_torch_or_refuses(c, k, f, g, bias, field, bad):
    args = dict(in_channels=c * g, out_channels=k * g, kernel_size=f, bias=bias, groups=g)
    if field != "none":
        args[{"c": "in_channels", "k": "out_channels", "f": "kernel_size"}[field]] = BAD_INTS[bad]
    try:
        got = arith.conv_params(**args)
    except (ValueError, TypeError) as exc:
        named = {"in_channels", "out_channels", "kernel_size", "bias", "groups"}
        assert _names(str(exc), named), str(exc)
        _count("arith.conv_params", f"{field}:{bad}", "clear_error")
        return
    assert isinstance(bias, bool), f"bias={bias!r} was accepted"
    layer = torch.nn.Conv2d(args["in_channels"], args["out_channels"], args["kernel_size"], bias=bias, groups=g)
    _count("arith.conv_params", f"{field}:{bad}", "correct")
    assert got == sum(p.numel() for p in layer.parameters())


# --- grading: a failed check is an AssertionError, a right answer passes -----------------------------


@PROBE_SETTINGS
@given(data=st.data())
def test_check_close_on_mistaken_answers(data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    expected = rng.normal(size=tuple(int(v) for v in rng.integers(1, 4, int(rng.integers(1, 4)))))
    mistake = data.draw(st.sampled_from(sorted(ARRAY_MISTAKES)), label="mistake")
    actual = ARRAY_MISTAKES[mistake][0](expected, rng)
    if actual is None:
        return
    as_array = np.asarray(actual)
    right = (
        as_array.dtype.kind in "fiu"
        and as_array.shape == expected.shape
        and np.allclose(as_array.astype(float), expected, rtol=1e-6, atol=1e-8)
    )
    try:
        grading.check_close(actual, expected)
        passed = True
    except AssertionError as exc:
        assert str(exc), "an empty AssertionError"
        passed = False
    _count("grading.check_close", mistake, "correct" if passed == right else "wrong")
    assert passed == right, f"check_close {'passed' if passed else 'failed'} a {mistake} answer"


# --- data readers --------------------------------------------------------------------------------


@PROBE_SETTINGS
@given(data=st.data())
def test_read_idx_on_damaged_files(data, tmp_path_factory):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    shape = tuple(int(v) for v in rng.integers(0, 4, int(rng.integers(1, 4))))
    good = struct.pack(">I", 0x0800 | len(shape)) + struct.pack(f">{len(shape)}I", *shape) + bytes(int(np.prod(shape)))
    how = data.draw(st.sampled_from(["cut", "extend", "flip_header", "huge_dim"]), label="damage")
    raw = bytearray(good)
    if how == "cut":
        raw = raw[: int(rng.integers(0, len(raw) + 1))]
    elif how == "extend":
        raw += bytes(int(rng.integers(0, 5)))
    elif how == "flip_header":
        raw[int(rng.integers(0, 4 + 4 * len(shape)))] ^= 1 << int(rng.integers(0, 8))
    else:
        raw[4:8] = struct.pack(">I", int(rng.choice([2**16, 2**31, 2**32 - 1])))
    path = tmp_path_factory.mktemp("idx") / "file"
    path.write_bytes(bytes(raw))
    try:
        array = read_idx(path)
    except ValueError as exc:
        assert str(path) in str(exc)
        _count("data.read_idx", how, "clear_error")
        return
    n_values = len(raw) - 4 - 4 * array.ndim
    _count("data.read_idx", how, "correct" if array.nbytes == n_values else "wrong")
    assert array.nbytes == n_values, (bytes(raw[:16]), array.shape)


def _resize_oracle(image, size):
    h, w = (size, size) if isinstance(size, int) else size
    return h, w


@PROBE_SETTINGS
@given(data=st.data())
def test_resize_area_mistakes(data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    image = rng.random((int(rng.integers(1, 6)), int(rng.integers(1, 6))))
    size = int(rng.integers(1, 4))
    mistake = data.draw(st.sampled_from(sorted(ARRAY_MISTAKES) + ["size0", "size_neg", "size_float", "size_bool"]))
    if mistake.startswith("size"):
        size = {"size0": 0, "size_neg": -2, "size_float": 2.5, "size_bool": True}[mistake]
        targets, must = {"size"}, False
    else:
        image = ARRAY_MISTAKES[mistake][0](image, rng)
        if image is None:
            return
        targets, must = {"image"}, ARRAY_MISTAKES[mistake][1] and not mistake.startswith("empty")
    try:
        out = resize_area(image, size)
    except (ValueError, TypeError) as exc:
        ok = _names(str(exc), targets) and not must
        _count("data.resize_area", mistake, "clear_error" if ok else "unclear")
        assert ok, str(exc)
        return
    a = np.asarray(image)
    ok = a.dtype.kind in "fiub" and out.shape[:2] == _resize_oracle(a, size) and a.size > 0
    if ok and np.isfinite(a.astype(float)).all():
        ok = np.isclose(out.mean(), a.astype(float).mean())
    elif ok:
        ok = not np.isfinite(out).all()  # a NaN or inf is not averaged away
    _count("data.resize_area", mistake, "correct" if ok else "wrong")
    assert ok, f"resize_area accepted a {mistake} image"


# --- train, evaluate and summary -------------------------------------------------------------------


def _tiny_model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Flatten(), torch.nn.Linear(2 * 4 * 4, 3))


TRAIN_MISTAKES = sorted(set(ARRAY_MISTAKES) - {"empty_last"}) + ["labels_float", "labels_2d", "labels_out", "labels_list"]


@settings(max_examples=15, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_train_on_mistaken_data(data):
    from coursecnn.train import train

    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    x = rng.normal(size=(6, 1, 6, 6)).astype(np.float32)
    y = rng.integers(0, 3, 6)
    mistake = data.draw(st.sampled_from(TRAIN_MISTAKES), label="mistake")
    targets = {"images", "training", "data", "train", "layer", "x"}
    if mistake.startswith("labels"):
        y = {"labels_float": y.astype(float), "labels_2d": y[:, None], "labels_out": y + 3, "labels_list": y.tolist()}[mistake]
        targets = {"labels", "label"}
    else:
        x = ARRAY_MISTAKES[mistake][0](x, rng)
    must_refuse = mistake in ("nan", "inf", "empty_N", "empty_C", "empty_H", "complex", "labels_float", "labels_2d", "labels_out")
    model = _tiny_model()
    before = [p.detach().clone() for p in model.parameters()]
    try:
        history = train(model, (x, y), epochs=1, batch_size=4, device="cpu", progress=False)
    except (ValueError, TypeError) as exc:
        ok = _names(str(exc), targets)
        _count("train", mistake, "clear_error" if ok else "unclear")
        assert ok, f"{mistake}: {exc}"
        assert all(torch.equal(a, b) for a, b in zip(before, model.parameters())), "a refused run changed the weights"
        return
    ok = not must_refuse and all(np.isfinite(history.train_loss))
    _count("train", mistake, "correct" if ok else "wrong")
    assert ok, f"train ran on a {mistake} input: {history.train_loss}"


@PROBE_SETTINGS
@given(
    shape=st.one_of(
        st.tuples(st.integers(-2, 8), st.integers(-2, 12), st.integers(-2, 12)),
        st.lists(st.one_of(st.integers(0, 8), st.floats(0, 8), st.booleans()), max_size=5),
        st.sampled_from([(8, 8, 1), (1, 8), "1x8x8", None]),
    )
)
def test_summary_on_mistaken_shapes(shape):
    from coursecnn.models import summary

    try:
        result = summary(_tiny_model(), shape)
    except (ValueError, TypeError) as exc:
        ok = _names(str(exc), {"input_shape", "layer", "summary"})
        _count("models.summary", type(shape).__name__, "clear_error" if ok else "unclear")
        assert ok, str(exc)
        return
    ok = tuple(shape)[-3:] == (1, 6, 6) and result.rows[-1].output_shape == (3,)
    _count("models.summary", type(shape).__name__, "correct" if ok else "wrong")
    assert ok, (shape, result)


@settings(max_examples=10, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_load_photo_on_damaged_files(data, tmp_path_factory):
    from coursecnn.data import load_photo
    from coursecnn.data.photo import photo_path

    raw = photo_path().read_bytes()
    how = data.draw(st.sampled_from(["cut", "garbage", "flip", "empty"]), label="damage")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    if how == "cut":
        raw = raw[: int(rng.integers(0, len(raw) // 2))]
    elif how == "garbage":
        raw = rng.bytes(int(rng.integers(1, 200)))
    elif how == "flip":
        raw = bytearray(raw)
        for i in rng.integers(0, 600, 8):  # the header: markers, sizes, tables
            raw[int(i)] ^= 0xFF
        raw = bytes(raw)
    else:
        raw = b""
    path = tmp_path_factory.mktemp("photo") / "photo.jpg"
    path.write_bytes(raw)
    try:
        image = load_photo(path, size=16)
    except ValueError as exc:
        ok = str(path) in str(exc)
        _count("data.load_photo", how, "clear_error" if ok else "unclear")
        assert ok, str(exc)
        return
    ok = image.shape == (16, 16) and np.isfinite(image).all() and image.min() >= 0 and image.max() <= 1
    _count("data.load_photo", how, "correct" if ok else "wrong")
    assert ok


@pytest.fixture(scope="module")
def _checkpoint_bytes(tmp_path_factory):
    from coursecnn.train import make_optimizer, save_checkpoint

    model = _tiny_model()
    opt = make_optimizer(model, "sgd", lr=0.1)
    model(torch.zeros(2, 1, 6, 6)).sum().backward()
    opt.step()
    path = save_checkpoint(tmp_path_factory.mktemp("ckpt") / "c.pt", model, opt, 1, None)
    return path.read_bytes()


@settings(max_examples=15, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_load_checkpoint_resumes_or_refuses_never_half(data, _checkpoint_bytes, tmp_path_factory):
    from coursecnn.train import load_checkpoint, make_optimizer

    raw = bytearray(_checkpoint_bytes)
    how = data.draw(st.sampled_from(["cut", "flip", "adam", "other_model", "intact"]), label="damage")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    torch.manual_seed(1)
    model = _tiny_model() if how != "other_model" else torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3))
    opt = make_optimizer(model, "adam" if how == "adam" else "sgd", lr=0.1)
    if how == "cut":
        raw = raw[: int(rng.integers(0, len(raw)))]
    elif how == "flip":
        for i in rng.integers(0, len(raw), 4):
            raw[int(i)] ^= 0xFF
    path = tmp_path_factory.mktemp("ckpt") / "c.pt"
    path.write_bytes(bytes(raw))
    before = [t.clone() for t in model.state_dict().values()]
    try:
        info = load_checkpoint(path, model, opt)
    except ValueError as exc:
        unchanged = all(torch.equal(a, b) for a, b in zip(before, model.state_dict().values())) and not opt.state
        ok = str(path) in str(exc) and unchanged
        _count("train.load_checkpoint", how, "clear_error" if ok else "wrong")
        assert ok, f"{how}: {exc} (model unchanged: {unchanged})"
        return
    ok = info["epoch"] == 1 and how in ("intact", "flip")  # a flip may hit bytes nobody reads
    _count("train.load_checkpoint", how, "correct" if ok else "wrong")
    assert ok, f"load_checkpoint accepted a {how} file"


# --- load_photo on every kind of file (issue 26) ----------------------------------------------------

PHOTO_KINDS = ["gray8", "rgb8", "gray16", "rgba", "la", "palette", "bilevel", "float01", "int32", "jpeg", "bmp",
               "float_out", "float_nan", "over_budget", "bomb", "size0", "size_neg", "gray_str"]


def _photo_file(kind, rng, folder):
    """``(path, expected pixels in [0, 1] or None for a refusal, extra kwargs, targets)``."""
    h, w = int(rng.integers(2, 24)), int(rng.integers(2, 24))
    u8 = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    path = folder / f"{kind}.png"
    if kind in ("gray8", "size0", "size_neg", "gray_str", "over_budget", "bomb"):
        Image.fromarray(u8[..., 0]).save(path)
        pixels = u8[..., 0] / 255
    elif kind == "rgb8":
        Image.fromarray(u8).save(path)
        pixels = u8 / 255
    elif kind == "gray16":
        a = rng.integers(0, 65536, (h, w), dtype=np.uint16)
        Image.fromarray(a).save(path)
        pixels = a / 65535
    elif kind == "rgba":
        Image.fromarray(u8).convert("RGBA").save(path)
        pixels = u8 / 255
    elif kind == "la":
        Image.fromarray(u8[..., 0]).convert("LA").save(path)
        pixels = u8[..., 0] / 255
    elif kind in ("palette", "bilevel", "jpeg", "bmp"):
        mode, suffix = {"palette": ("P", ".png"), "bilevel": ("1", ".png"), "jpeg": ("RGB", ".jpg"), "bmp": ("RGB", ".bmp")}[kind]
        path = path.with_suffix(suffix)
        Image.fromarray(u8).convert(mode).save(path)
        with Image.open(path) as img:  # what the file holds, decoded by Pillow alone
            pixels = np.asarray(img.convert("L" if mode == "1" else "RGB")) / 255
    elif kind in ("float01", "float_out", "float_nan"):
        f = rng.random((h, w)).astype(np.float32)
        if kind == "float_out":
            f *= 255
        if kind == "float_nan":
            f[0, 0] = np.nan
        path = path.with_suffix(".tif")
        Image.fromarray(f, mode="F").save(path)
        pixels = f.astype(np.float64) if kind == "float01" else None
    elif kind == "int32":
        a = rng.integers(0, 65536, (h, w)).astype(np.int32)
        path = path.with_suffix(".tif")
        Image.fromarray(a).save(path)
        pixels = a / 65535
    kwargs, targets = {}, {str(path)}
    if kind in ("over_budget", "bomb"):
        kwargs, pixels = ({"max_bytes": 1000} if kind == "over_budget" else {}), None
    if kind in ("size0", "size_neg"):
        kwargs, pixels, targets = {"size": 0 if kind == "size0" else (-2, 3)}, None, {"size"}
    if kind == "gray_str":
        kwargs, pixels, targets = {"gray": "yes"}, None, {"gray"}
    return path, pixels, kwargs, targets


@settings(max_examples=30, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_load_photo_on_every_kind_of_file(data, tmp_path_factory):
    from coursecnn.data import load_photo

    kind = data.draw(st.sampled_from(PHOTO_KINDS), label="kind")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    path, pixels, kwargs, targets = _photo_file(kind, rng, tmp_path_factory.mktemp("photo"))
    kwargs.setdefault("gray", bool(rng.integers(2)))
    if "size" not in kwargs and rng.random() < 0.6:
        kwargs["size"] = (int(rng.integers(1, 12)), int(rng.integers(1, 12)))
    with pytest.MonkeyPatch.context() as mp:
        if kind == "bomb":  # Pillow's limit, made small enough to trip on a small file
            mp.setattr(Image, "MAX_IMAGE_PIXELS", (Image.open(path).size[0] * Image.open(path).size[1] - 1) // 2)
        try:
            image = load_photo(path, **kwargs)
        except (ValueError, TypeError) as exc:
            ok = pixels is None and any(t in str(exc) for t in targets)
            _count("data.load_photo", kind, "clear_error" if ok else "unclear")
            assert ok, f"{kind}: {exc}"
            return
    want = pixels
    if want is not None and kwargs.get("size") is not None:
        want = resize_area(want, kwargs["size"])
    if want is not None and want.ndim == 3 and kwargs["gray"]:
        want = want @ [0.299, 0.587, 0.114]
    elif want is not None and want.ndim == 2 and not kwargs["gray"]:
        want = np.repeat(want[..., None], 3, axis=2)
    ok = want is not None and image.shape == want.shape and np.allclose(image, want, rtol=0, atol=1e-9)
    _count("data.load_photo", kind, "correct" if ok else "wrong")
    assert ok, f"load_photo gave a wrong image for a {kind} file"


# --- the command line (issue 26) -------------------------------------------------------------------

# name: (argv, exit status of the right answer (None: must be an error), words one of which the error
# names, modules missing as in an install without the [dev] extra)
CLI_CASES = {
    "version": (["--version"], 0, (), ()),
    "check_pooling": (["course", "check", "--chapters", "pooling"], 0, (), ()),
    "check_unknown_chapter": (["course", "check", "--chapters", "nochapter"], None, ("chapter",), ()),
    "unknown_command": (["build"], None, ("invalid choice", "COMMAND"), ()),
    "edition_kind": (["edition", "teacher", "--out", "OUT"], None, ("kind",), ()),
    "validate_nothing": (["validate"], None, ("NOTEBOOK",), ()),
    "validate_missing_file": (["validate", "nope.ipynb"], None, ("nope.ipynb",), ()),
    "validate_timeout0": (["validate", "x.ipynb", "--timeout", "0"], None, ("--timeout",), ()),
    "validate_timeout_neg": (["validate", "x.ipynb", "--timeout", "-1"], None, ("--timeout",), ()),
    "validate_timeout_word": (["validate", "x.ipynb", "--timeout", "soon"], None, ("--timeout",), ()),
    "build_timeout0": (["course", "build", "OUT", "--timeout", "0"], None, ("--timeout",), ()),
    "build_timeout_neg": (["course", "build", "OUT", "--timeout", "-5"], None, ("--timeout",), ()),
    "build_timeout_float": (["course", "build", "OUT", "--timeout", "1.5"], None, ("--timeout",), ()),
    "validate_without_dev": (["validate", "x.ipynb"], None, ("[dev]",), ("nbformat", "nbclient")),
    "build_without_dev": (["course", "build", "OUT"], None, ("[dev]",), ("nbclient", "nbclient.util", "nbformat")),
}


def _run_cli(argv, blocked, capsys):
    with pytest.MonkeyPatch.context() as mp:
        for name in blocked:
            mp.setitem(sys.modules, name, None)
        try:
            code = cli.main(argv)
        except SystemExit as exc:
            code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def _judge_cli(name, tmp_path, capsys):
    argv, right, words, blocked = CLI_CASES[name]
    argv = [str(tmp_path / "OUT") if a == "OUT" else a for a in argv]
    code, out, err = _run_cli(argv, blocked, capsys)
    if right is not None:
        outcome = "correct" if code == right else "wrong"
    else:
        last = (err.strip() or out.strip()).splitlines()[-1] if (err.strip() or out.strip()) else ""
        named = code not in (0, None) and any(w in last for w in words) and "Traceback" not in err
        outcome = "clear_error" if named else "unclear"
    _count(f"cli.{argv[0] if argv else 'none'}", name, outcome)
    return outcome, code, err


@settings(max_examples=15, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(name=st.sampled_from(sorted(CLI_CASES)))
def test_the_command_line_on_mistaken_arguments(name, tmp_path_factory, capsys):
    outcome, code, err = _judge_cli(name, tmp_path_factory.mktemp("cli"), capsys)
    assert outcome in ("correct", "clear_error"), f"{name}: exit {code}: {err}"


def test_every_command_line_mistake_once(tmp_path, capsys):
    failures = []
    for i, name in enumerate(sorted(CLI_CASES)):
        outcome, code, err = _judge_cli(name, tmp_path / str(i), capsys)
        if outcome not in ("correct", "clear_error"):
            failures.append(f"{name}: exit {code}: {err}")
    assert not failures, "\n".join(failures)
