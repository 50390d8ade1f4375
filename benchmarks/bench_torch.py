"""How fast is coursecnn.torch? ``ct.conv2d`` forward + backward (im2col, a matrix product and
fold, with the book's backward) against ``F.conv2d`` (cuDNN on CUDA, PyTorch's own kernels on
the CPU), and the two pools against theirs.

    .venv/bin/python benchmarks/bench_torch.py              # CUDA if available, else the CPU
    .venv/bin/python benchmarks/bench_torch.py --device cpu --threads 2 --reps 21

Writes ``benchmarks/results/torch_<device>.json`` and ``.md``. The target on a GPU is a
forward + backward within 1.5x of cuDNN; on the CPU the numbers are for information. Calls of
the two implementations alternate so that both see the same machine load; the report gives
each one's median and the median of the per-pair ratios (ours / torch). On CUDA, TF32 is
switched off for both (cuDNN would otherwise round float32 products to 10 mantissa bits while
our matrix products keep full precision).
"""

import argparse
import os
import sys


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="cuda, mps or cpu (default: the best available)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for PyTorch (default 1)")
    parser.add_argument("--dtype", default="float32", help="float32 or float64 (default float32)")
    parser.add_argument("--reps", type=int, default=11, help="timed repetitions per case (default 11)")
    parser.add_argument("--no-write", action="store_true", help="print only; do not write benchmarks/results/")
    return parser.parse_args(argv)


ARGS = parse_args()
os.environ["OMP_NUM_THREADS"] = str(ARGS.threads)  # before torch starts its thread pool

import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import coursecnn  # noqa: E402
import coursecnn.torch as ct  # noqa: E402

torch.set_num_threads(ARGS.threads)

# (name, x shape, w shape, stride, padding)
CONV_CASES = [
    ("LeNet C1", (64, 1, 32, 32), (6, 1, 5, 5), 1, 0),
    ("AlexNet CONV1", (8, 3, 227, 227), (96, 3, 11, 11), 4, 0),
]
# (name, x shape, kernel_size, stride)
POOL_CASES = [
    ("LeNet S2", (64, 6, 28, 28), 2, 2),
    ("AlexNet POOL1", (8, 96, 55, 55), 3, 2),
]
GPU_TARGET = 1.5


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()
    elif device.type == "mps":
        torch.mps.synchronize()


def step(f, inputs, dy):
    """One forward and backward; the gradients are dropped between calls."""
    for t in inputs:
        t.grad = None
    f(*inputs).backward(dy)


def timed(device, f, inputs, dy):
    sync(device)
    start = time.perf_counter()
    step(f, inputs, dy)
    sync(device)
    return time.perf_counter() - start


def compare(device, ours, theirs, inputs, reps):
    dy = torch.randn_like(theirs(*inputs))
    for _ in range(3):  # warm-up: allocator, cuDNN's algorithm choice, lazy initialisation
        step(ours, inputs, dy)
        step(theirs, inputs, dy)
    t_ours, t_theirs, ratios = [], [], []
    for _ in range(reps):
        a = timed(device, ours, inputs, dy)
        b = timed(device, theirs, inputs, dy)
        t_ours.append(a)
        t_theirs.append(b)
        ratios.append(a / b)
    return {
        "ours_ms": 1e3 * statistics.median(t_ours),
        "torch_ms": 1e3 * statistics.median(t_theirs),
        "ratio": statistics.median(ratios),
    }


def main():
    device = coursecnn.device(ARGS.device)
    dtype = {"float32": torch.float32, "float64": torch.float64}[ARGS.dtype]
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cudnn.benchmark = True
    torch.manual_seed(0)
    rows = []
    for name, xs, ws, s, p in CONV_CASES:
        x = torch.randn(xs, device=device, dtype=dtype, requires_grad=True)
        w = torch.randn(ws, device=device, dtype=dtype, requires_grad=True)
        b = torch.randn(ws[0], device=device, dtype=dtype, requires_grad=True)
        r = compare(
            device,
            lambda x, w, b: ct.conv2d(x, w, b, stride=s, padding=p),
            lambda x, w, b: F.conv2d(x, w, b, stride=s, padding=p),
            (x, w, b),
            ARGS.reps,
        )
        rows.append({"op": "conv2d", "case": name, "x": list(xs), "w": list(ws), "stride": s, "padding": p, **r})
    for name, xs, k, s in POOL_CASES:
        x = torch.randn(xs, device=device, dtype=dtype, requires_grad=True)
        for op, ours, theirs in (("max_pool2d", ct.max_pool2d, F.max_pool2d), ("avg_pool2d", ct.avg_pool2d, F.avg_pool2d)):
            r = compare(device, lambda x: ours(x, k, s), lambda x: theirs(x, k, s), (x,), ARGS.reps)
            rows.append({"op": op, "case": name, "x": list(xs), "kernel_size": k, "stride": s, **r})

    header = f"{'op':<11} {'case':<14} {'ours ms':>9} {'torch ms':>9} {'ratio':>6}"
    print(f"coursecnn.torch vs torch.nn.functional, forward + backward, {device}, {ARGS.dtype}")
    print(header)
    for r in rows:
        print(f"{r['op']:<11} {r['case']:<14} {r['ours_ms']:9.3f} {r['torch_ms']:9.3f} {r['ratio']:6.2f}")
    if ARGS.no_write:
        return

    if device.type == "cuda":
        hardware = torch.cuda.get_device_name(device)
    else:
        hardware = f"{platform.processor() or platform.machine()}, {ARGS.threads} thread(s)"
    meta = {
        "device": device.type,
        "hardware": hardware,
        "dtype": ARGS.dtype,
        "threads": ARGS.threads,
        "reps": ARGS.reps,
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "gpu_target_ratio": GPU_TARGET,
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "load_average_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"torch_{device.type}.json").write_text(json.dumps({"meta": meta, "results": rows}, indent=2) + "\n")

    lines = [
        f"# coursecnn.torch vs torch.nn.functional on {device.type}",
        "",
        f"Forward + backward (gradients of every input), median of {ARGS.reps} alternating runs, "
        f"{ARGS.dtype}, {hardware}, PyTorch {torch.__version__}, {meta['date']}. "
        "Ratio: median of ours / torch per pair (below 1 means ours is faster).",
        "",
        f"Load average (1 min) when the run ended: {meta['load_average_1min']:.1f} on "
        f"{os.cpu_count()} cores. On a busy machine the times are noisy; the alternating pairs "
        "keep the ratios fairer than the times.",
        "",
        "| op | case | ours (ms) | torch (ms) | ratio |",
        "|---|---|---:|---:|---:|",
    ]
    lines += [f"| {r['op']} | {r['case']} | {r['ours_ms']:.3f} | {r['torch_ms']:.3f} | {r['ratio']:.2f} |" for r in rows]
    lines.append("")
    if device.type == "cuda":
        worst = max(r["ratio"] for r in rows if r["op"] == "conv2d")
        verdict = "met" if worst <= GPU_TARGET else "NOT met"
        lines.append(f"GPU target: conv2d within {GPU_TARGET}x of cuDNN: {verdict} (worst ratio {worst:.2f}).")
    else:
        lines.append(
            f"Measured on the {device.type}; no GPU was available when this was recorded, so the GPU "
            f"target (conv2d forward + backward within {GPU_TARGET}x of cuDNN) is not measured here. "
            "Run `make bench` (or this script) on a CUDA machine to get `torch_cuda.md`."
        )
    (out / f"torch_{device.type}.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {out / f'torch_{device.type}.json'} and .md")


if __name__ == "__main__":
    main()
