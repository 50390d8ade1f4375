"""``coursecnn grade``: nbgrader's autograde for a class, on one machine or on many.

``grade_assignment(course, assignment, jobs=N)`` autogrades every submission in
``course/submitted/<student>/<assignment>/`` with the real nbgrader (its Python API, the course's
``nbgrader_config.py``), ``jobs`` students at a time in separate processes, and writes
``course/grade_report_<assignment>.csv``: student, score, max score, seconds, CPU seconds,
status and what was flagged (``coursecnn.grader.flags``).

When one machine is not enough, ``shard=(K, N)`` grades the K-th of N disjoint shares of the
students (every N-th, in name order). Each shard is an ordinary unit of work for a scheduler that
already exists (a Slurm job array, a Kubernetes indexed Job): copy the course folder to each,
grade one shard there, then ``merge_gradebooks`` brings the shards' grades, autograded notebooks
and flags into one course. ``export_flags`` writes one row per student with, per assignment, the
score and what was flagged.
"""

import csv
import multiprocessing
import os
import resource
import shutil
import sqlite3
import sys
import time
from pathlib import Path

from . import box, flags

__all__ = ["grade_assignment", "merge_gradebooks", "export_flags", "parse_shard", "GradeError"]


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
    import atexit

    from .preprocessors import shutdown_warm_kernel

    atexit.register(shutdown_warm_kernel)  # the kernel kept between submissions goes with us
    if unsandboxed:
        os.environ["COURSECNN_UNSANDBOXED"] = "1"
    # One thread per process: the jobs already use the cores.
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = "1"
    _STATE["api"] = _api(course)


def _cpu():
    # This process only: the kernel (kept between submissions) and the sandboxed workers report
    # their own CPU seconds beside the flags, and the report adds them.
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def _grade_one(args):
    assignment, student = args
    api = _STATE["api"]
    start, cpu0 = time.monotonic(), _cpu()
    for attempt in range(4):
        result = api.autograde(assignment, student, force=True, create=True)
        text = f"{result.get('error') or ''}\n{result.get('log') or ''}"
        if result.get("success") or "database is locked" not in text:
            break
        time.sleep(0.5 + attempt)  # another job was writing the gradebook: try again
    return (student, bool(result.get("success")), time.monotonic() - start, _cpu() - cpu0,
            (result.get("error") or "")[-2000:])


def _alembic_on_path():
    # nbgrader runs `alembic` by name: find it beside this Python, as nbgrader_config.py does.
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")


def _scores(course, assignment):
    from nbgrader.api import Gradebook, MissingEntry

    _alembic_on_path()
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


def parse_shard(text):
    """``"2/4"`` -> ``(2, 4)``: the second of four shares; a clear ``GradeError`` otherwise."""
    try:
        k, n = (int(p) for p in str(text).split("/"))
    except ValueError:
        raise GradeError(f"--shard must look like K/N (the K-th of N shares, e.g. 1/4), got {text!r}") from None
    if not 1 <= k <= n:
        raise GradeError(f"--shard K/N needs 1 <= K <= N, got {text!r}")
    return k, n


def _flags_dir(course):
    return course / "flags"


def grade_assignment(course, assignment, jobs=1, students=None, unsandboxed=False, shard=None, echo=print):
    """grade_assignment(course, assignment, jobs=1, students=None, unsandboxed=False, shard=None, echo=print) -> list

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
        shard (tuple, optional): ``(K, N)``: only the K-th of N shares of the students (every N-th
            in name order, starting at the K-th). Default: all of them.
        echo (callable): receives one line per graded student. Default: ``print``.

    Returns:
        list of dict: one per student, ``{"student", "score", "max_score", "seconds",
        "cpu_seconds", "status", "flags"}``, also written to ``course/grade_report_<assignment>.csv``
        (``grade_report_<assignment>.shard-K-of-N.csv`` for a shard).
    """
    course = Path(course).resolve()
    if not (course / "nbgrader_config.py").is_file():
        raise GradeError(f"{course} has no nbgrader_config.py: build the course first (coursecnn course build)")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise GradeError(f"--jobs must be a positive whole number, got {jobs!r}")
    if not (course / "release" / assignment).is_dir():
        if (course / "source" / assignment).is_dir():
            raise GradeError(f"{assignment!r} has no release: run `nbgrader generate_assignment {assignment}` first")
        raise GradeError(f"no assignment {assignment!r} in {course}/source")
    if not unsandboxed and not box.available():
        raise GradeError(f"{box.unavailable_reason()}. Refusing to run student code without a "
                         "sandbox; pass --unsandboxed to grade anyway")
    submitted = course / "submitted"
    found = sorted(p.parent.name for p in submitted.glob(f"*/{assignment}") if p.is_dir()) if submitted.is_dir() else []
    if students:
        missing = sorted(set(students) - set(found))
        if missing:
            raise GradeError(f"no submission of {assignment!r} from: {', '.join(missing)}")
        found = [s for s in found if s in set(students)]
    if shard is not None:
        k, n = shard
        found = found[k - 1::n]
    if not found:
        raise GradeError(f"no submissions of {assignment!r} in {submitted}"
                         + (f" for shard {shard[0]}/{shard[1]}" if shard else ""))
    ctx = multiprocessing.get_context("spawn")
    rows = []
    start = time.monotonic()
    with ctx.Pool(min(jobs, len(found)), initializer=_init_worker, initargs=(str(course), unsandboxed)) as pool:
        for student, ok, seconds, cpu, error in pool.imap_unordered(_grade_one, [(assignment, s) for s in found]):
            last = error.strip().splitlines()[-1] if error.strip() else "see the log"
            rows.append({"student": student, "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
                         "status": "graded" if ok else f"failed: {last}"})
        pool.close()
        pool.join()  # the processes end on their own, shutting their kernels down
    scores, max_score = _scores(course, assignment)
    for row in rows:
        row["score"] = scores.get(row["student"])
        row["max_score"] = max_score
        # The kernel and the sandboxed workers count their own CPU seconds.
        stats = flags.read_stats(flags.log_path(_flags_dir(course), assignment, row["student"]))
        row["cpu_seconds"] = round(row["cpu_seconds"] + float(stats.get("worker_cpu_s", 0.0))
                                   + float(stats.get("kernel_cpu_s", 0.0)), 2)
        row["flags"] = flags.summary(_student_flags(course, assignment, row["student"]))
    rows.sort(key=lambda r: r["student"])
    for row in rows:
        note = f" [flagged: {row['flags']}]" if row["flags"] else ""
        echo(f"{row['student']}: {row['score']} / {row['max_score']} ({row['seconds']:.1f} s, "
             f"{row['cpu_seconds']:.1f} CPU-s) {row['status']}{note}")
    total = time.monotonic() - start
    echo(f"{len(rows)} submissions of {assignment} in {total:.1f} s with {jobs} job(s)")
    suffix = f".shard-{shard[0]}-of-{shard[1]}" if shard else ""
    with open(course / f"grade_report_{assignment}{suffix}.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["student", "score", "max_score", "seconds", "cpu_seconds",
                                                "status", "flags"])
        writer.writeheader()
        writer.writerows(rows)
    return rows


def _student_flags(course, assignment, student):
    folder = _flags_dir(course) / assignment
    events = []
    for path in sorted(folder.glob(f"{student}.jsonl")) + sorted(folder.glob(f"{student}.*.jsonl")):
        if path.name.endswith(".stats.jsonl"):
            continue
        events.extend(flags.read(path))
    return events


# Tables that hold a student's submission, in the order their rows depend on each other.
_SUBMISSION_TABLES = ("submitted_assignment", "submitted_notebook", "grade", "comment")


def merge_gradebooks(course, shards, echo=print):
    """merge_gradebooks(course, shards, echo=print) -> int

    Bring the grades of shard courses into ``course``: each shard is a copy of the course folder
    in which some students were graded (``grade_assignment(..., shard=(K, N))``). For every
    submission a shard graded, its rows in ``gradebook.db`` replace the course's, and its
    ``autograded/<student>/`` notebooks and ``flags/`` logs are copied over.

    Args:
        course (str or Path): the course to merge into.
        shards (list of str or Path): the shard course folders.
        echo (callable): receives one line per shard.

    Returns:
        int: the number of submissions merged.
    """
    course = Path(course).resolve()
    main_db = course / "gradebook.db"
    if not main_db.is_file():
        raise GradeError(f"{course} has no gradebook.db to merge into")
    merged = 0
    con = sqlite3.connect(str(main_db))
    try:
        known_notebooks = {r[0] for r in con.execute("select id from notebook")}
        for shard in shards:
            shard = Path(shard).resolve()
            db = shard / "gradebook.db"
            if not db.is_file():
                raise GradeError(f"{shard} has no gradebook.db: is it a graded shard of the course?")
            src = sqlite3.connect(str(db))
            subs = src.execute("select id, assignment_id, student_id from submitted_assignment").fetchall()
            notebooks = {r[0] for r in src.execute("select notebook_id from submitted_notebook")}
            if not notebooks <= known_notebooks:
                raise GradeError(f"{shard} was generated from another copy of the course (its notebooks "
                                 "are not this gradebook's): copy the course folder after generate_assignment")
            with con:
                for (student,) in src.execute("select distinct student_id from submitted_assignment"):
                    row = src.execute("select * from student where id = ?", (student,)).fetchone()
                    con.execute(f"insert or ignore into student values ({', '.join('?' * len(row))})", row)
                for sub_id, assignment_id, student in subs:
                    # The course's own copy of this submission goes first.
                    old = [r[0] for r in con.execute(
                        "select id from submitted_assignment where assignment_id = ? and student_id = ?",
                        (assignment_id, student))]
                    for old_id in old:
                        nbs = [r[0] for r in con.execute("select id from submitted_notebook where assignment_id = ?", (old_id,))]
                        for nb in nbs:
                            con.execute("delete from grade where notebook_id = ?", (nb,))
                            con.execute("delete from comment where notebook_id = ?", (nb,))
                        con.execute("delete from submitted_notebook where assignment_id = ?", (old_id,))
                        con.execute("delete from submitted_assignment where id = ?", (old_id,))
                    for table, key, value in (("submitted_assignment", "id", sub_id),
                                              ("submitted_notebook", "assignment_id", sub_id)):
                        for r in src.execute(f"select * from {table} where {key} = ?", (value,)):
                            con.execute(f"insert into {table} values ({', '.join('?' * len(r))})", r)
                    for (nb_id,) in src.execute("select id from submitted_notebook where assignment_id = ?", (sub_id,)):
                        for table in ("grade", "comment"):
                            for r in src.execute(f"select * from {table} where notebook_id = ?", (nb_id,)):
                                con.execute(f"insert into {table} values ({', '.join('?' * len(r))})", r)
                    name = src.execute("select name from assignment where id = ?", (assignment_id,)).fetchone()[0]
                    for sub in ("autograded", "submitted"):
                        there = shard / sub / student / name
                        if there.is_dir() and there.resolve() != (course / sub / student / name).resolve():
                            shutil.copytree(there, course / sub / student / name, dirs_exist_ok=True)
                    for log in (shard / "flags" / name).glob(f"{student}*.jsonl"):
                        dest = course / "flags" / name / log.name
                        dest.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copyfile(log, dest)
                    merged += 1
            src.close()
            echo(f"{shard}: {len(subs)} submission(s) merged")
    finally:
        con.close()
    return merged


def export_flags(course, out=None):
    """export_flags(course, out=None) -> Path

    One CSV row per student: for each assignment its score and what was flagged (the evidence is
    in ``flags/<assignment>/<student>.jsonl``). Written to ``out`` (default
    ``course/grades_flagged.csv``).
    """
    course = Path(course).resolve()
    out = Path(out) if out else course / "grades_flagged.csv"
    db = sqlite3.connect(str(course / "gradebook.db"))
    assignments = [r[0] for r in db.execute("select name from assignment order by name")]
    students = [r[0] for r in db.execute("select id from student order by id")]
    score = {}
    for name, student, total in db.execute(
            "select a.name, sa.student_id, sum(coalesce(g.manual_score, g.auto_score, 0) + coalesce(g.extra_credit, 0)) "
            "from submitted_assignment sa join assignment a on a.id = sa.assignment_id "
            "join submitted_notebook sn on sn.assignment_id = sa.id "
            "left join grade g on g.notebook_id = sn.id group by a.name, sa.student_id"):
        score[(name, student)] = total
    db.close()
    with open(out, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["student"] + [f"{a} {col}" for a in assignments for col in ("score", "flags")])
        for s in students:
            row = [s]
            for a in assignments:
                row += ["" if (a, s) not in score else round(score[(a, s)], 2),
                        flags.summary(_student_flags(course, a, s))]
            w.writerow(row)
    return out
