"""``coursecnn grade``: nbgrader's autograde for many students at once.

``grade_assignment(course, assignment, jobs=N)`` autogrades every submission in
``course/submitted/<student>/<assignment>/`` with the real nbgrader (its Python API, the course's
``nbgrader_config.py``), ``jobs`` students at a time in separate processes, and writes
``course/grade_report_<assignment>.csv`` (student, score, max score, seconds, status).

Student code runs in bubblewrap's sandbox (``coursecnn.sandbox``); where bubblewrap cannot run,
grading refuses to start unless ``unsandboxed=True`` (``--unsandboxed``) says to go on anyway.
"""

import csv
import multiprocessing
import os
import sys
import time
from pathlib import Path

from . import sandbox

__all__ = ["grade_assignment", "GradeError"]


class GradeError(RuntimeError):
    """The course or the request is not gradable (a one-line reason)."""


def _load_config(course):
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()


def _api(course):
    from nbgrader.apps import NbGraderAPI

    os.chdir(course)
    return NbGraderAPI(config=_load_config(course))


_STATE = {}


def _init_worker(course, unsandboxed):
    if unsandboxed:
        os.environ["COURSECNN_UNSANDBOXED"] = "1"
    # One thread per process: the jobs already use the cores.
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = "1"
    _STATE["api"] = _api(course)


def _grade_one(args):
    assignment, student = args
    api = _STATE["api"]
    start = time.monotonic()
    for attempt in range(4):
        result = api.autograde(assignment, student, force=True, create=True)
        text = f"{result.get('error') or ''}\n{result.get('log') or ''}"
        if result.get("success") or "database is locked" not in text:
            break
        time.sleep(0.5 + attempt)  # another job was writing the gradebook: try again
    return student, bool(result.get("success")), time.monotonic() - start, (result.get("error") or "")[-2000:]


def _scores(course, assignment):
    from nbgrader.api import Gradebook, MissingEntry

    # nbgrader runs `alembic` by name: find it beside this Python, as nbgrader_config.py does.
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    out = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        try:
            max_score = gb.find_assignment(assignment).max_score
        except MissingEntry:
            return out, 0.0
        for student in gb.students:
            try:
                out[student.id] = gb.find_submission(assignment, student.id).score
            except MissingEntry:
                pass
    return out, max_score


def grade_assignment(course, assignment, jobs=1, students=None, unsandboxed=False, echo=print):
    """grade_assignment(course, assignment, jobs=1, students=None, unsandboxed=False, echo=print) -> list

    Autograde the submissions of one assignment, ``jobs`` at a time.

    Args:
        course (str or Path): the course folder (with ``nbgrader_config.py``).
        assignment (str): the assignment name, e.g. ``"pooling"``.
        jobs (int): how many students to grade in parallel (one process each; about one per
            core). Default: ``1``.
        students (list of str, optional): only these students. Default: every folder in
            ``submitted/`` that holds this assignment.
        unsandboxed (bool): grade even where bubblewrap cannot sandbox student code. Default:
            ``False`` (refuse).
        echo (callable): receives one line per graded student. Default: ``print``.

    Returns:
        list of dict: one per student, ``{"student", "score", "max_score", "seconds", "status"}``,
        also written to ``course/grade_report_<assignment>.csv``.
    """
    course = Path(course).resolve()
    if not (course / "nbgrader_config.py").is_file():
        raise GradeError(f"{course} has no nbgrader_config.py: build the course first (coursecnn course build)")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise GradeError(f"--jobs must be a positive whole number, got {jobs!r}")
    if not (course / "release" / assignment).is_dir() and not (course / "source" / assignment).is_dir():
        raise GradeError(f"no assignment {assignment!r} in {course}/source")
    if not unsandboxed and not sandbox.available():
        raise GradeError(f"{sandbox.unavailable_reason()}. Refusing to run student code without a "
                         "sandbox; pass --unsandboxed to grade anyway")
    submitted = course / "submitted"
    found = sorted(p.parent.name for p in submitted.glob(f"*/{assignment}") if p.is_dir()) if submitted.is_dir() else []
    if students:
        missing = sorted(set(students) - set(found))
        if missing:
            raise GradeError(f"no submission of {assignment!r} from: {', '.join(missing)}")
        found = [s for s in found if s in set(students)]
    if not found:
        raise GradeError(f"no submissions of {assignment!r} in {submitted}")
    ctx = multiprocessing.get_context("spawn")
    rows = []
    start = time.monotonic()
    with ctx.Pool(min(jobs, len(found)), initializer=_init_worker, initargs=(str(course), unsandboxed)) as pool:
        for student, ok, seconds, error in pool.imap_unordered(_grade_one, [(assignment, s) for s in found]):
            rows.append({"student": student, "seconds": round(seconds, 2),
                         "status": "graded" if ok else f"failed: {error.strip().splitlines()[-1] if error.strip() else 'see the log'}"})
    scores, max_score = _scores(course, assignment)
    for row in rows:
        row["score"] = scores.get(row["student"])
        row["max_score"] = max_score
    rows.sort(key=lambda r: r["student"])
    for row in rows:
        echo(f"{row['student']}: {row['score']} / {row['max_score']} ({row['seconds']:.1f} s) {row['status']}")
    total = time.monotonic() - start
    echo(f"{len(rows)} submissions of {assignment} in {total:.1f} s with {jobs} job(s)")
    with open(course / f"grade_report_{assignment}.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["student", "score", "max_score", "seconds", "status"])
        writer.writeheader()
        writer.writerows(rows)
    return rows


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use `coursecnn grade`")
