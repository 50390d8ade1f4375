"""Memory budgets: what a call that a budget lets through really allocates.

Every function that allocates in proportion to its arguments checks an estimate against
``max_bytes`` (1 GiB by default) before it starts. For each budget this script finds the largest
call of one shape family that the budget lets through (a bisection on the estimate alone, which
runs nothing), then runs that call in a fresh process and measures its peak memory (the rise of
the peak resident set over the memory held just before the call, the inputs made before; Linux
only). Memory that is allocated but never written (np.zeros of a sparse result) does not count
as resident, so a peak may stay below the estimate.
A ratio near or below 1 means the estimate covers what the call really uses.

    .venv/bin/python benchmarks/bench_budgets.py                  # max_bytes = 256 MiB
    .venv/bin/python benchmarks/bench_budgets.py --limit-mib 1024 # the default budget itself
    .venv/bin/python benchmarks/bench_budgets.py --only interpolate --no-write

The peaks scale with the limit (the allocations are proportional to the arguments), so the
256 MiB run tells what the default 1 GiB lets through: about ``4 x`` its numbers.
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

RESULTS = Path(__file__).parent / "results"

# name: (setup, the call; both formatted with n, the size searched for, and LIMIT, max_bytes)
CASES = {
    "ref.conv2d (3x3, 16->32 channels, batch n)": (
        "x = rng.normal(size=({n}, 16, 32, 32)); w = rng.normal(size=(32, 16, 3, 3))",
        "ref.conv2d(x, w, padding=1, max_bytes=LIMIT)"),
    "fast.conv2d (3x3, 16->32 channels, batch n)": (
        "x = rng.normal(size=({n}, 16, 32, 32)); w = rng.normal(size=(32, 16, 3, 3))",
        "fast.conv2d(x, w, padding=1, max_bytes=LIMIT)"),
    "ref.conv2d (4096 1x1 kernels, n x n image)": (
        "x = rng.normal(size=(1, 1, {n}, {n})); w = rng.normal(size=(4096, 1, 1, 1))",
        "ref.conv2d(x, w, max_bytes=LIMIT)"),
    "fast.conv2d (4096 1x1 kernels, n x n image)": (
        "x = rng.normal(size=(1, 1, {n}, {n})); w = rng.normal(size=(4096, 1, 1, 1))",
        "fast.conv2d(x, w, max_bytes=LIMIT)"),
    "ref.conv2d_backward (3x3, 16->32 channels, batch n)": (
        "x = rng.normal(size=({n}, 16, 32, 32)); w = rng.normal(size=(32, 16, 3, 3)); dy = rng.normal(size=({n}, 32, 32, 32))",
        "ref.conv2d_backward(dy, x, w, padding=1, max_bytes=LIMIT)"),
    "fast.conv2d_backward (3x3, 16->32 channels, batch n)": (
        "x = rng.normal(size=({n}, 16, 32, 32)); w = rng.normal(size=(32, 16, 3, 3)); dy = rng.normal(size=({n}, 32, 32, 32))",
        "fast.conv2d_backward(dy, x, w, padding=1, max_bytes=LIMIT)"),
    "ref.conv_transpose2d (8x8 input, stride n)": (
        "x = rng.normal(size=(1, 4, 8, 8)); w = rng.normal(size=(4, 4, 3, 3))",
        "ref.conv_transpose2d(x, w, stride={n}, max_bytes=LIMIT)"),
    "fast.conv_transpose2d (8x8 input, stride n)": (
        "x = rng.normal(size=(1, 4, 8, 8)); w = rng.normal(size=(4, 4, 3, 3))",
        "fast.conv_transpose2d(x, w, stride={n}, max_bytes=LIMIT)"),
    "ref.conv2d_fft (8->8 channels, 64x64, batch n)": (
        "x = rng.normal(size=({n}, 8, 64, 64)); w = rng.normal(size=(8, 8, 3, 3))",
        "ref.conv2d_fft(x, w, max_bytes=LIMIT)"),
    "ref.conv2d_as_matrix (3x3 kernel, n x n input)": (
        "k = rng.normal(size=(3, 3))",
        "ref.conv2d_as_matrix(k, {n} + 2, max_bytes=LIMIT)"),
    "ref.interpolate (bilinear, 2x4 maps of 16x16 to n x n)": (
        "x = rng.normal(size=(2, 4, 16, 16))",
        "ref.interpolate(x, size={n}, mode='bilinear', max_bytes=LIMIT)"),
    "ref.interpolate_backward (bilinear, n x n to 16x16)": (
        "dy = rng.normal(size=(2, 4, {n}, {n}))",
        "ref.interpolate_backward(dy, (2, 4, 16, 16), size={n}, mode='bilinear', max_bytes=LIMIT)"),
    "ref.interpolation_matrix (n to n)": (
        "",
        "ref.interpolation_matrix({n}, {n}, 'bilinear', max_bytes=LIMIT)"),
    "resize_area (64x64x3 to n x n)": (
        "image = rng.random((64, 64, 3))",
        "resize_area(image, {n}, max_bytes=LIMIT)"),
    "load_photo (an n x n RGB PNG, full size)": (
        "path = png({n})",
        "load_photo(path, gray=False, max_bytes=LIMIT)"),
    "load_photo (an n x n RGB PNG, size=64)": (
        "path = png({n})",
        "load_photo(path, size=64, gray=False, max_bytes=LIMIT)"),
}

PRELUDE = """
import numpy as np
from PIL import Image
from coursecnn import fast, ref
from coursecnn.data import load_photo, resize_area
rng = np.random.default_rng(0)
LIMIT = {limit}
FOLDER = {folder!r}

def png(n):
    path = f"{{FOLDER}}/photo_{{n}}.png"
    import os
    if not os.path.exists(path):
        Image.new("RGB", (n, n), (10, 200, 30)).save(path, compress_level=1)
    return path
"""

class _Estimate(Exception):
    pass


def _estimate(setup, call, n, limit, folder, namespace):
    """The budget's estimate for the call with this n, in this process; nothing is run (the
    budget check raises first)."""
    code = setup.format(n=n) + "\n" + call.format(n=n)
    try:
        exec(code, dict(namespace))
    except _Estimate as e:
        return e.args[0]
    raise RuntimeError(f"no budget was checked by {call}")


def _probe_namespace(limit, folder):
    import coursecnn._checks as checks
    from coursecnn.data import photo
    from coursecnn.ref import conv_forms, upsample

    def record(fname, nbytes, max_bytes, what, cheaper):
        raise _Estimate(nbytes)

    for module in (checks, photo, conv_forms, upsample):
        module.memory_budget = record
    namespace = {}
    exec(PRELUDE.format(limit=limit, folder=folder), namespace)
    return namespace


# The measurement: the peak resident set's rise during the call.
MEASURE = PRELUDE + """
{setup}
def status(field):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(field + ":"))
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # resets the peak (VmHWM) to the memory held now: the imports' peak is forgotten
before = status("VmRSS")
result = {call}
print(max(0, status("VmHWM") - before))
"""


def _run(template, setup, call, n, limit, folder):
    code = template.format(limit=limit, folder=folder, setup=setup.format(n=n), call=call.format(n=n))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1])


def largest_n(setup, call, limit, folder, namespace):
    """The largest n whose estimate is within ``limit``, and that estimate."""
    def fits(n):
        return _estimate(setup, call, n, limit, folder, namespace) <= limit

    lo, hi = 1, 2
    while fits(hi):
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return lo, _estimate(setup, call, lo, limit, folder, namespace)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--limit-mib", type=int, default=256, help="max_bytes for every call, in MiB (default: 256)")
    p.add_argument("--only", help="only the cases whose name contains this")
    p.add_argument("--no-write", action="store_true", help="print only")
    args = p.parse_args()
    limit = args.limit_mib * 2**20
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        namespace = _probe_namespace(limit, folder)
        for name, (setup, call) in CASES.items():
            if args.only and args.only not in name:
                continue
            n, estimate = largest_n(setup, call, limit, folder, namespace)
            peak = _run(MEASURE, setup, call, n, limit, folder)
            rows.append(dict(case=name, n=n, estimate_mib=estimate / 2**20, peak_mib=peak / 2**20,
                             peak_over_estimate=peak / estimate))
            print(f"{name:55s} n={n:6d}  estimate {estimate / 2**20:7.1f} MiB  peak {peak / 2**20:7.1f} MiB  "
                  f"({peak / estimate:.2f} of the estimate)", flush=True)
    if args.no_write:
        return
    RESULTS.mkdir(exist_ok=True)
    stem = RESULTS / f"budgets_{args.limit_mib}mib"
    stem.with_suffix(".json").write_text(json.dumps(dict(limit_mib=args.limit_mib, rows=rows), indent=1) + "\n")
    lines = [f"# Memory budgets at max_bytes = {args.limit_mib} MiB", "",
             "The largest call of each family the budget lets through, its estimate and its measured peak.", "",
             "| case | n | estimate (MiB) | peak (MiB) | peak / estimate |", "|---|---|---|---|---|"]
    lines += [f"| {r['case']} | {r['n']} | {r['estimate_mib']:.1f} | {r['peak_mib']:.1f} | {r['peak_over_estimate']:.2f} |"
              for r in rows]
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
