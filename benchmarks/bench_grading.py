"""Grading a class: autograde time per submission, serial and in parallel, and the extrapolation
to 300 students x 7 chapters. Also the score table (expected and actual) and feedback sizes.

Builds a course from every chapter with exercises, hands in four submissions per chapter
(reference: full marks; blank: 0; partial: exercise 1 only; syntax: a syntax error in
exercise 2), grades them all with `coursecnn grade --jobs 1`, then again with `--jobs 2`, and
writes ``benchmarks/results/grading.json`` and ``.md``.

    python benchmarks/bench_grading.py [--chapters pooling convolution] [--jobs 1 2]

Targets: 300 students x 7 chapters in at most 90 minutes on an idle 2-core machine, and at most
half the CPU time per submission of the grader before coursecnn.grader (a25ac01, measured side by
side: see benchmarks/README.md). CPU per submission is the grading process's own, its kernel's,
and the sandboxed workers' (which report their CPU seconds themselves: they run in their own PID
namespace, where nothing else counts them). Wall times on a shared machine include the time other
programs held the cores.
"""

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from coursecnn.course import build_course, chapter_notebooks  # noqa: E402
from coursecnn.editions import find_root  # noqa: E402
from coursecnn.grader.batch import grade_assignment  # noqa: E402
from test_nbgrader_e2e import reference_answers, scores, submit  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--chapters", nargs="+", default=None)
    p.add_argument("--jobs", nargs="+", type=int, default=[1, 2])
    p.add_argument("--timeout", type=int, default=120)
    args = p.parse_args()
    chapters = args.chapters or list(chapter_notebooks(find_root()))
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]
    work = Path(tempfile.mkdtemp(prefix="coursecnn-bench-"))
    course = work / "course"
    build_course(course, chapters=chapters, timeout=args.timeout, course_id="bench")
    expected = {}
    for ch in chapters:
        subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "generate_assignment", ch],
                       cwd=course, check=True, capture_output=True)
        src = json.loads((course / "source" / ch / f"{ch}.ipynb").read_text())
        ref = reference_answers(src)
        ids = sorted(ref)
        pts = {}
        for cell in src["cells"]:
            meta = cell["metadata"].get("nbgrader") or {}
            if meta.get("grade"):
                pts[meta["grade_id"].replace("-tests", "")] = float(meta["points"])
        ex = lambda gid: gid.replace("-solution", "")  # noqa: E731
        submit(course, ch, "reference", ref)
        submit(course, ch, "blank", {})
        submit(course, ch, "partial", {ids[0]: ref[ids[0]]})
        submit(course, ch, "syntax", dict(ref, **{ids[1]: ref[ids[1]] + "\n    return (("}))
        total = sum(pts.values())
        expected[ch] = {"reference": total, "blank": 0.0, "partial": pts[ex(ids[0])],
                        "syntax": total - pts[ex(ids[1])]}
    runs = {}
    load_before = os.getloadavg()[0]
    for jobs in args.jobs:
        start = time.monotonic()
        per, cpu_by = {}, {}
        for ch in chapters:
            rows = grade_assignment(course, ch, jobs=jobs, echo=lambda s: None)
            per[ch] = {r["student"]: r["seconds"] for r in rows}
            cpu_by[ch] = round(sum(r["cpu_seconds"] for r in rows) / len(rows), 2)
        wall = time.monotonic() - start
        n = sum(len(v) for v in per.values())
        cpu = sum(cpu_by[ch] * len(per[ch]) for ch in chapters)
        k = len(chapters)
        runs[jobs] = {"wall_s": round(wall, 1), "submissions": n, "per_submission_wall_s": round(wall / n, 2),
                      "cpu_s": round(cpu, 1), "per_submission_cpu_s": round(cpu / n, 2),
                      "cpu_per_submission_by_chapter": cpu_by,
                      # on an otherwise idle 2-core machine: the CPU time, shared by two cores
                      "extrapolated_300_idle_2core_min": round(cpu / n * 300 * k / 2 / 60, 1),
                      "seconds_by_chapter": per,
                      "extrapolated_300_from_wall_min": round(wall / n * 300 * k / 60, 1)}
        print(f"--jobs {jobs}: {n} submissions in {wall:.1f} s, {wall / n:.2f} s each, {cpu / n:.2f} CPU s each; "
              f"300 students x {k} chapters: {runs[jobs]['extrapolated_300_idle_2core_min']:.0f} min on an idle 2-core machine")
    actual = {ch: {s: total for s, (total, _) in scores(course, ch).items()} for ch in chapters}
    for ch in chapters:
        subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "generate_feedback", ch], cwd=course,
                       capture_output=True)
    sizes = {str(p.relative_to(course / "feedback")): p.stat().st_size for p in (course / "feedback").rglob("*.html")}
    result = {"load_before": load_before,
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "chapters": chapters, "runs": runs, "expected": expected, "actual": actual,
        "feedback_bytes": {"max": max(sizes.values()), "mean": round(sum(sizes.values()) / len(sizes)),
                           "files": sizes},
    }
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "grading.json").write_text(json.dumps(result, indent=1) + "\n")
    lines = ["# Grading benchmark", "", f"{result['when']} on {result['machine']}", "",
             "| chapter | " + " | ".join(expected[chapters[0]]) + " |", "|---" * (1 + len(expected[chapters[0]])) + "|"]
    for ch in chapters:
        lines.append(f"| {ch} | " + " | ".join(f"{actual[ch].get(s)} (expected {e})" for s, e in expected[ch].items()) + " |")
    k = len(chapters)
    lines += ["", f"| jobs | submissions | wall (s) | wall per submission (s) | CPU per submission (s) | "
              f"300 x {k} from wall (min) | 300 x {k} from CPU, idle 2 cores (min) |", "|---|---|---|---|---|---|---|"]
    for jobs, r in runs.items():
        lines.append(f"| {jobs} | {r['submissions']} | {r['wall_s']} | {r['per_submission_wall_s']} | "
                     f"{r['per_submission_cpu_s']} | {r['extrapolated_300_from_wall_min']} | "
                     f"{r['extrapolated_300_idle_2core_min']} |")
    first = runs[next(iter(runs))]
    lines += ["", "CPU seconds per submission, by chapter (first run): " + ", ".join(
        f"{ch} {v}" for ch, v in first["cpu_per_submission_by_chapter"].items()) + "."]
    load = os.getloadavg()
    lines += ["", "CPU per submission: the grading process, its kernel and the sandboxed workers (their own "
              "count of their CPU seconds)."]
    lines += ["", f"Load average before: {load_before:.1f}; when done: {load[0]:.1f} (other programs shared the "
              "cores: wall times are upper bounds)."]
    lines += ["", f"Feedback files: largest {result['feedback_bytes']['max']} bytes, mean {result['feedback_bytes']['mean']} bytes.", ""]
    (out / "grading.md").write_text("\n".join(lines))
    print("\n".join(lines))
    shutil.rmtree(work, ignore_errors=True)
    bad = [(ch, s) for ch in chapters for s, e in expected[ch].items() if actual[ch].get(s) != e]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
