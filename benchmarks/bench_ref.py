"""How fast is the NumPy reference? coursecnn.ref.conv2d / conv2d_backward (and the pooling
functions) against PyTorch on the CPU, with the same number of threads.

    .venv/bin/python benchmarks/bench_ref.py                 # 1 thread, float32, results written
    .venv/bin/python benchmarks/bench_ref.py --threads 2 --dtypes float32,float64 --reps 15

The thread count has to reach NumPy's BLAS before NumPy is imported, so this script sets
OMP_NUM_THREADS / OPENBLAS_NUM_THREADS / MKL_NUM_THREADS first and imports NumPy afterwards.
Each measurement alternates PyTorch and NumPy calls, so that both see the same machine load,
and reports the best run of each with their ratio (ours / torch), and the medians.
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
    return parser.parse_args(argv)


ARGS = parse_args()
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)

import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from coursecnn import ref  # noqa: E402

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
TARGETS = {"forward": 2.0, "backward": 3.0}


def paired_times(ours, theirs, reps):
    """Alternate the two calls ``reps`` times. Returns a dict of times in ms: the best (least
    disturbed) run of each and their ratio, which is the headline on a shared machine where
    other work only ever adds time, and the medians with the median of the per-pair ratios."""
    ours()
    theirs()  # warm-up: allocations, BLAS buffers, oneDNN primitives
    t_ours, t_theirs = [], []
    for i in range(reps):
        for fn, store in (((ours, t_ours), (theirs, t_theirs)) if i % 2 == 0 else ((theirs, t_theirs), (ours, t_ours))):
            start = time.perf_counter()
            fn()
            store.append(time.perf_counter() - start)
    return dict(
        ours_ms=min(t_ours) * 1e3,
        torch_ms=min(t_theirs) * 1e3,
        ratio=min(t_ours) / min(t_theirs),
        ours_median_ms=statistics.median(t_ours) * 1e3,
        torch_median_ms=statistics.median(t_theirs) * 1e3,
        median_ratio=statistics.median(a / b for a, b in zip(t_ours, t_theirs)),
    )


def report(rows, name, op, kind, dtype, shape, times):
    rows.append(dict(case=name, op=op, kind=kind, dtype=np.dtype(dtype).name, shape=shape, **times))
    print(f"  {name:14s} {op:20s} {np.dtype(dtype).name}: ours {times['ours_ms']:9.2f} ms  torch "
          f"{times['torch_ms']:9.2f} ms  ratio {times['ratio']:5.2f}  (medians {times['ours_median_ms']:.2f} / "
          f"{times['torch_median_ms']:.2f}, pair ratio {times['median_ratio']:.2f})", flush=True)


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
        fwd = paired_times(
            lambda: ref.conv2d(x, w, b, stride=s, padding=p),
            lambda: F.conv2d(xt, wt, bt, stride=s, padding=p),
            reps,
        )
        # PyTorch's own backward kernel (what autograd calls): dx, dw and db in one call
        bwd = paired_times(
            lambda: ref.conv2d_backward(dy, x, w, stride=s, padding=p),
            lambda: torch.ops.aten.convolution_backward(
                dyt, xt, wt, [ws[0]], [s, s], [p, p], [1, 1], False, [0, 0], 1, [True, True, True]
            ),
            reps,
        )
        for op, times in (("forward", fwd), ("backward", bwd)):
            report(rows, name, f"conv2d {op}", op, dtype, f"x {xs}, w {ws}, stride {s}, pad {p}", times)
    return rows


def pool_rows(dtype, reps, only):
    needed = ("max_pool2d", "avg_pool2d", "max_pool2d_backward", "avg_pool2d_backward")
    if not all(hasattr(ref, f) for f in needed):
        print("  (coursecnn.ref has no pooling yet: skipped)")
        return []
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
        switches = idx.numpy()
        cases = [
            ("max_pool2d forward", "forward", lambda: ref.max_pool2d(x, k, s), lambda: F.max_pool2d(xt, k, s)),
            ("avg_pool2d forward", "forward", lambda: ref.avg_pool2d(x, k, s), lambda: F.avg_pool2d(xt, k, s)),
            # Given x alone, ours must find every window's maximum again; PyTorch's kernel is
            # handed the indices its forward pass saved, and only scatters dy.
            ("max_pool2d backward", "backward", lambda: ref.max_pool2d_backward(dy, x, k, s),
             lambda: torch.ops.aten.max_pool2d_with_indices_backward(dyt, xt, [k, k], [s, s], [0, 0], [1, 1], False, idx)),
            # Like for like: both handed the saved switches (ours also checks them).
            ("max_pool2d backward, saved switches", "backward",
             lambda: ref.max_pool2d_backward(dy, x, k, s, indices=switches),
             lambda: torch.ops.aten.max_pool2d_with_indices_backward(dyt, xt, [k, k], [s, s], [0, 0], [1, 1], False, idx)),
            ("avg_pool2d backward", "backward", lambda: ref.avg_pool2d_backward(dy, x, k, s),
             lambda: torch.ops.aten.avg_pool2d_backward(dyt, xt, [k, k], [s, s], [0, 0], False, True, None)),
        ]
        for op, kind, ours_fn, theirs_fn in cases:
            report(rows, name, op, kind, dtype, f"x {xs}, kernel {k}, stride {s}", paired_times(ours_fn, theirs_fn, reps))
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


def markdown(result):
    m = result["machine"]
    lines = [
        "# coursecnn.ref against PyTorch on the CPU",
        "",
        f"`benchmarks/bench_ref.py`, {result['threads']} thread(s) for both NumPy's BLAS and PyTorch, "
        f"{result['reps']} alternating runs of each. Machine: {m['cpu']}, {m['cores']} cores, "
        f"load average {m['load_average_before']} before and {m['load_average']} after; "
        f"NumPy {m['numpy']}, PyTorch {m['torch']}.",
        "",
        "Times are the best run (the machine is shared: other work only adds time); ratio = ours / "
        "torch of those; the median of the per-pair ratios is shown beside it. Targets: forward "
        f"within {TARGETS['forward']:g}x, backward within {TARGETS['backward']:g}x.",
        "",
        "| case | op | dtype | ours (ms) | torch (ms) | ratio | median pair ratio | target |",
        "|---|---|---|---:|---:|---:|---:|---|",
    ]
    for r in result["rows"]:
        target = TARGETS[r["kind"]]
        ok = "met" if r["ratio"] <= target else "MISSED"
        lines.append(f"| {r['case']} | {r['op']} | {r['dtype']} | {r['ours_ms']:.2f} | {r['torch_ms']:.2f} | "
                     f"{r['ratio']:.2f} | {r['median_ratio']:.2f} | {ok} (<= {target:g}) |")
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
    result = dict(threads=ARGS.threads, reps=ARGS.reps, machine=info, targets=TARGETS, rows=rows)
    if not ARGS.no_write:
        out = Path(__file__).resolve().parent / "results"
        out.mkdir(exist_ok=True)
        (out / "ref_cpu.json").write_text(json.dumps(result, indent=2) + "\n")
        (out / "ref_cpu.md").write_text(markdown(result))
        print(f"wrote {out / 'ref_cpu.json'} and {out / 'ref_cpu.md'}")
    missed = [r for r in rows if r["ratio"] > TARGETS[r["kind"]]]
    for r in missed:
        print(f"  target missed: {r['case']} {r['op']} {r['dtype']}: {r['ratio']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
