"""CPU seconds per submission, measured the same way for two versions of the grader.

Run with each version's own environment, from its own checkout; it builds a course from that
checkout's chapters, hands in N copies of the reference solutions (and N untouched releases) per
chapter, grades them in one `grade_assignment(jobs=1)` call (so the grading process's one-time
start is spread over 2N submissions) and prints JSON: per chapter, CPU seconds per submission of
the grading process and everything it waited for (nbgrader, the kernels), plus the sandboxed
workers' CPU, which no parent counts (they run in their own PID namespace): the current grader's
workers report it themselves (flags/*.stats.json); for the grader before a25ac01's successor it is
estimated as one worker start, measured from inside the sandbox.

    .venv/bin/python benchmarks/bench_grading_compare.py --chapters pooling architectures --n 6
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from coursecnn.course import build_course  # noqa: E402
from test_nbgrader_e2e import reference_answers, submit  # noqa: E402

try:
    from coursecnn.grader import box as sandbox  # noqa: E402
    from coursecnn.grader.batch import grade_assignment  # noqa: E402
    CURRENT = True
except ImportError:  # the grader before coursecnn.grader
    from coursecnn import sandbox  # noqa: E402
    from coursecnn.grade import grade_assignment  # noqa: E402
    CURRENT = False


def _children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _worker_start_cpu():
    code = ("import resource\nimport numpy, torch\nfrom coursecnn import ref, arith\n"
            "r = resource.getrusage(resource.RUSAGE_SELF); print(r.ru_utime + r.ru_stime)")
    runs = [float(subprocess.run(sandbox._base_command(False) + [sys.executable, "-c", code],
                                 capture_output=True, text=True, check=True).stdout) for _ in range(3)]
    return sorted(runs)[1]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--chapters", nargs="+", default=["pooling", "architectures"])
    p.add_argument("--n", type=int, default=6)
    args = p.parse_args()
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]
    course = Path(tempfile.mkdtemp(prefix="coursecnn-cmp-")) / "course"
    build_course(course, chapters=args.chapters, timeout=120, course_id="cmp")
    out = {"current": CURRENT, "load_before": os.getloadavg()[0], "chapters": {}}
    worker_est = None if CURRENT else _worker_start_cpu()
    for ch in args.chapters:
        subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "generate_assignment", ch],
                       cwd=course, check=True, capture_output=True)
        ref = reference_answers(json.loads((course / "source" / ch / f"{ch}.ipynb").read_text()))
        for i in range(args.n):
            submit(course, ch, f"ref{i:02d}", ref)
            submit(course, ch, f"blank{i:02d}", {})
        cpu0, t0 = _children_cpu(), time.monotonic()
        rows = grade_assignment(course, ch, jobs=1, echo=lambda s: None)
        cpu = _children_cpu() - cpu0
        n = len(rows)
        if CURRENT:
            workers = sum(json.loads(p.read_text()).get("worker_cpu_s", 0)
                          for p in (course / "flags" / ch).glob("*.stats.json"))
        else:
            workers = worker_est * n
        out["chapters"][ch] = {"submissions": n, "scores": sorted({r["score"] for r in rows}),
                               "cpu_per_submission": round((cpu + workers) / n, 2),
                               "of_which_workers": round(workers / n, 2),
                               "wall_per_submission": round((time.monotonic() - t0) / n, 2)}
    out["load_after"] = os.getloadavg()[0]
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
