"""Plain and fast NumPy against PyTorch on the CPU: coursecnn.ref (the readable reference),
coursecnn.fast (the same functions tuned for speed) and torch.nn.functional, on the same shapes,
with the same number of threads, in one table.

    .venv/bin/python benchmarks/bench_ref.py                 # 1 thread, float32, results written
    .venv/bin/python benchmarks/bench_ref.py --threads 2 --dtypes float32,float64 --reps 15

The thread count has to reach NumPy's BLAS before NumPy is imported, so this script sets
OMP_NUM_THREADS / OPENBLAS_NUM_THREADS / MKL_NUM_THREADS first and imports NumPy afterwards.
Each measurement rotates the three calls, so that all see the same machine load, and reports
the best run of each with the ratios (ours / torch), and the medians.
"""

import argparse
import os
import sys


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="threads for both NumPy's BLAS and PyTorch (default 1)")
    parser.add_argument("--dtypes", default="float32", help="comma-separated: float32,float64 (default float32)")
    parser.add_argument("--reps", type=int, default=9, help="timed repetitions per case (default 9)")
    parser.add_argument("--only", default="", help="comma-separated case names to run (default: all)")
    parser.add_argument("--no-write", action="store_true", help="print only; do not write benchmarks/results/")
    parser.add_argument("--keep-openblas-env", action="store_true",
                        help="keep OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE if set (default: drop them, see README)")
    return parser.parse_args(argv)


ARGS = parse_args()
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)
# A machine-wide OPENBLAS_CORETYPE makes OpenBLAS use another CPU's kernels (Haswell's AVX2 on an
# AVX-512 machine: a third slower), while PyTorch's oneDNN still uses the real CPU's. Like the
# thread counts, it is read once, when NumPy loads OpenBLAS, so it goes before the import.
OPENBLAS_OVERRIDES = {} if ARGS.keep_openblas_env else {
    var: os.environ.pop(var) for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if var in os.environ}

import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from coursecnn import fast, ref  # noqa: E402

torch.set_num_threads(ARGS.threads)

# (name, x shape, w shape, stride, padding): the shapes the book talks about
CONV_CASES = [
    ("LeNet C1", (64, 1, 32, 32), (6, 1, 5, 5), 1, 0),
    ("middle 3x3", (32, 64, 32, 32), (64, 64, 3, 3), 1, 1),
    ("AlexNet CONV1", (8, 3, 227, 227), (96, 3, 11, 11), 4, 0),
    ("CS231n 31x31", (100, 3, 31, 31), (25, 3, 3, 3), 2, 1),
]
# (name, x shape, kernel_size, stride)
POOL_CASES = [
    ("LeNet S2", (64, 6, 28, 28), 2, 2),
    ("AlexNet POOL1", (8, 96, 55, 55), 3, 2),
]
# ours / torch. fast: conv2d forward 1.5x, backward 2x, max pooling forward plus backward 2x
# (issue 16); the plain reference: 5x everywhere, measured and printed, not tuned at the cost of
# reading. Rows with no target of their own are shown for information.
TARGETS = {
    "fast": {"conv2d forward": 1.5, "conv2d backward": 2.0, "max_pool2d forward+backward": 2.0},
    "ref": {"conv2d forward": 5.0, "conv2d backward": 5.0, "max_pool2d forward+backward": 5.0},
}
IMPLS = ("ref", "fast", "torch")


def rotated_times(fns, reps):
    """Call each of ``fns`` (a dict name -> callable) ``reps`` times, rotating the order so that
    all see the same load. Returns, per name, the best (least disturbed) and the median time in
    ms, and the ratios of the best times to torch's."""
    names = list(fns)
    for fn in fns.values():
        fn()  # warm-up: allocations, BLAS buffers, oneDNN primitives
    times = {name: [] for name in names}
    for i in range(reps):
        order = names[i % len(names):] + names[: i % len(names)]
        for name in order:
            start = time.perf_counter()
            fns[name]()
            times[name].append(time.perf_counter() - start)
    out = {}
    for name in names:
        out[f"{name}_ms"] = min(times[name]) * 1e3
        out[f"{name}_median_ms"] = statistics.median(times[name]) * 1e3
    for name in ("ref", "fast"):
        out[f"{name}_ratio"] = out[f"{name}_ms"] / out["torch_ms"]
    return out


def report(rows, name, op, dtype, shape, times):
    rows.append(dict(case=name, op=op, dtype=np.dtype(dtype).name, shape=shape, **times))
    print(f"  {name:14s} {op:28s} {np.dtype(dtype).name}: ref {times['ref_ms']:9.2f}  fast {times['fast_ms']:9.2f}  "
          f"torch {times['torch_ms']:9.2f} ms   ref/torch {times['ref_ratio']:5.2f}  fast/torch "
          f"{times['fast_ratio']:5.2f}", flush=True)


def conv_rows(dtype, reps, only):
    rows = []
    rng = np.random.default_rng(0)
    for name, xs, ws, s, p in CONV_CASES:
        if only and name not in only:
            continue
        x = rng.standard_normal(xs).astype(dtype)
        w = rng.standard_normal(ws).astype(dtype)
        b = rng.standard_normal(ws[0]).astype(dtype)
        xt, wt, bt = (torch.from_numpy(a) for a in (x, w, b))
        dy = rng.standard_normal(F.conv2d(xt, wt, bt, stride=s, padding=p).shape).astype(dtype)
        dyt = torch.from_numpy(dy)
        fwd = rotated_times(dict(
            ref=lambda: ref.conv2d(x, w, b, stride=s, padding=p),
            fast=lambda: fast.conv2d(x, w, b, stride=s, padding=p),
            torch=lambda: F.conv2d(xt, wt, bt, stride=s, padding=p),
        ), reps)
        # PyTorch's own backward kernel (what autograd calls): dx, dw and db in one call
        bwd = rotated_times(dict(
            ref=lambda: ref.conv2d_backward(dy, x, w, stride=s, padding=p),
            fast=lambda: fast.conv2d_backward(dy, x, w, stride=s, padding=p),
            torch=lambda: torch.ops.aten.convolution_backward(
                dyt, xt, wt, [ws[0]], [s, s], [p, p], [1, 1], False, [0, 0], 1, [True, True, True]
            ),
        ), reps)
        for op, times in (("conv2d forward", fwd), ("conv2d backward", bwd)):
            report(rows, name, op, dtype, f"x {xs}, w {ws}, stride {s}, pad {p}", times)
    return rows


def pool_rows(dtype, reps, only):
    rows = []
    rng = np.random.default_rng(1)
    for name, xs, k, s in POOL_CASES:
        if only and name not in only:
            continue
        x = rng.standard_normal(xs).astype(dtype)
        xt = torch.from_numpy(x)
        y, idx = F.max_pool2d(xt, k, s, return_indices=True)
        dy = rng.standard_normal(tuple(y.shape)).astype(dtype)
        dyt = torch.from_numpy(dy)

        def ours_max(mod):
            # a training step's pair: the forward pass saves the switches, the backward scatters
            def step():
                _, switches = mod.max_pool2d_with_indices(x, k, s)
                mod.max_pool2d_backward(dy, x, k, s, indices=switches)
            return step

        def torch_max():
            _, i = torch.ops.aten.max_pool2d_with_indices(xt, [k, k], [s, s], [0, 0], [1, 1], False)
            torch.ops.aten.max_pool2d_with_indices_backward(dyt, xt, [k, k], [s, s], [0, 0], [1, 1], False, i)

        cases = [
            ("max_pool2d forward", dict(ref=lambda: ref.max_pool2d(x, k, s), fast=lambda: fast.max_pool2d(x, k, s),
                                        torch=lambda: F.max_pool2d(xt, k, s))),
            ("max_pool2d forward+backward", dict(ref=ours_max(ref), fast=ours_max(fast), torch=torch_max)),
            ("avg_pool2d forward", dict(ref=lambda: ref.avg_pool2d(x, k, s), fast=lambda: fast.avg_pool2d(x, k, s),
                                        torch=lambda: F.avg_pool2d(xt, k, s))),
            ("avg_pool2d backward", dict(
                ref=lambda: ref.avg_pool2d_backward(dy, x, k, s), fast=lambda: fast.avg_pool2d_backward(dy, x, k, s),
                torch=lambda: torch.ops.aten.avg_pool2d_backward(dyt, xt, [k, k], [s, s], [0, 0], False, True, None))),
        ]
        for op, fns in cases:
            report(rows, name, op, dtype, f"x {xs}, kernel {k}, stride {s}", rotated_times(fns, reps))
    return rows


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return dict(cpu=cpu, cores=os.cpu_count(), python=platform.python_version(), numpy=np.__version__,
                torch=torch.__version__, load_average=load_average())


def load_average():
    """The 1, 5 and 15 minute load averages, rounded (None where the system has none)."""
    return [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None


def _verdict(impl, row):
    target = TARGETS[impl].get(row["op"])
    if target is None:
        return "-"
    return f"{'met' if row[impl + '_ratio'] <= target else 'MISSED'} (<= {target:g})"


def _openblas_note(m):
    dropped = m.get("openblas_overrides_dropped")
    if not dropped:
        return "OpenBLAS chose its kernels for this CPU."
    env = ", ".join(f"`{k}={v}`" for k, v in dropped.items())
    verb = "was" if len(dropped) == 1 else "were"
    return f"OpenBLAS chose its kernels for this CPU: the machine's {env} {verb} dropped (see the README)."


def markdown(result):
    m = result["machine"]
    lines = [
        "# coursecnn.ref and coursecnn.fast against PyTorch on the CPU",
        "",
        f"`benchmarks/bench_ref.py`, {result['threads']} thread(s) for both NumPy's BLAS and PyTorch, "
        f"{result['reps']} rotating runs of each. Machine: {m['cpu']}, {m['cores']} cores, "
        f"load average {m['load_average_before']} before and {m['load_average']} after; "
        f"NumPy {m['numpy']}, PyTorch {m['torch']}. {_openblas_note(m)}",
        "",
        "Times are the best run (the machine is shared: other work only adds time); the ratios are "
        "ours / torch of those. Targets (issue 16): `fast` conv2d forward within 1.5x, backward within "
        "2x, max pooling forward plus backward within 2x; the plain `ref` within 5x.",
        "",
        "| case | op | dtype | ref (ms) | fast (ms) | torch (ms) | ref / torch | fast / torch | ref target "
        "| fast target |",
        "|---|---|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in result["rows"]:
        lines.append(f"| {r['case']} | {r['op']} | {r['dtype']} | {r['ref_ms']:.2f} | {r['fast_ms']:.2f} | "
                     f"{r['torch_ms']:.2f} | {r['ref_ratio']:.2f} | {r['fast_ratio']:.2f} | "
                     f"{_verdict('ref', r)} | {_verdict('fast', r)} |")
    lines.append("")
    return "\n".join(lines)


def main():
    dtypes = [np.dtype(d.strip()).type for d in ARGS.dtypes.split(",") if d.strip()]
    only = {s.strip() for s in ARGS.only.split(",") if s.strip()}
    load_before = load_average()
    print(f"bench_ref: {ARGS.threads} thread(s), dtypes {ARGS.dtypes}, {ARGS.reps} reps, load {load_before}")
    rows = []
    for dtype in dtypes:
        rows += conv_rows(dtype, ARGS.reps, only)
        rows += pool_rows(dtype, ARGS.reps, only)
    info = machine()
    info["load_average_before"] = load_before
    info["openblas_overrides_dropped"] = OPENBLAS_OVERRIDES
    result = dict(threads=ARGS.threads, reps=ARGS.reps, machine=info, targets=TARGETS, rows=rows)
    if not ARGS.no_write:
        out = Path(__file__).resolve().parent / "results"
        out.mkdir(exist_ok=True)
        (out / "ref_cpu.json").write_text(json.dumps(result, indent=2) + "\n")
        (out / "ref_cpu.md").write_text(markdown(result))
        print(f"wrote {out / 'ref_cpu.json'} and {out / 'ref_cpu.md'}")
    for impl in ("ref", "fast"):
        for r in rows:
            if _verdict(impl, r).startswith("MISSED"):
                print(f"  target missed: {impl} {r['case']} {r['op']} {r['dtype']}: {r[impl + '_ratio']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
