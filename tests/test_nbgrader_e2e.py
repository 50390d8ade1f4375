"""The whole grading round trip with the real nbgrader: `coursecnn course build`, then
`nbgrader generate_assignment`, submissions, `nbgrader autograde`, `generate_feedback`, `export`.

The fixture assignment (tests/fixtures/mini.ipynb) has two exercises worth 2 and 3 points, each
with visible tests and random hidden ones. Six students hand it in:

    reference   the reference solutions                        -> 5 of 5
    untouched   the release as it was handed out               -> 0 on both, no crash
    hardcoder   exercise 1 right; exercise 2 passes the visible
                tests only (it assumes a 2x2 window)           -> 2 of 5
    looper      an endless loop in exercise 1                  -> timed out, 0 + 3
    garbled     a file that is not JSON                        -> reported, not graded
    absent      an empty folder                                -> reported, not graded
"""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from coursecnn.course import build_course, chapter_notebooks
from coursecnn.editions import BEGIN_HIDDEN, BEGIN_SOLUTION, END_SOLUTION, find_root, nbgrader_meta

BIN = Path(sys.executable).parent
FIXTURE = Path(__file__).parent / "fixtures" / "mini.ipynb"
TIMEOUT = 10  # seconds per cell: long enough for the real cells on a busy machine, short for the endless loop


def nbgrader(course, *args, check=True):
    # Called by its path with the environment's bin/ left off PATH, as the README shows: the
    # course's nbgrader_config.py must make nbgrader find its helper `alembic` by itself.
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if Path(p or ".").resolve() != BIN.resolve())
    done = subprocess.run([str(BIN / "nbgrader"), *args], cwd=course, env=dict(os.environ, PATH=path),
                          capture_output=True, text=True, timeout=600)
    if check and done.returncode != 0:
        raise AssertionError(f"nbgrader {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


def cell_text(cell):
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def reference_answers(source_nb):
    """{grade_id: the solution cell's source without its marker lines}: what a perfect student types."""
    answers = {}
    for cell in source_nb["cells"]:
        meta = nbgrader_meta(cell)
        if meta.get("solution"):
            lines = cell_text(cell).split("\n")
            answers[meta["grade_id"]] = "\n".join(
                line for line in lines if BEGIN_SOLUTION not in line and END_SOLUTION not in line)
    return answers


def region_lines(source_nb, begin=BEGIN_SOLUTION, end=END_SOLUTION, shortest=12):
    """The lines inside ``begin``...``end`` regions that appear nowhere else in the notebook (no
    comments, none shorter than ``shortest``): text that must not leak out of the regions."""
    inside, outside = set(), set()
    for cell in source_nb["cells"]:
        in_region = False
        for line in cell_text(cell).split("\n"):
            if begin in line:
                in_region = True
            elif end in line:
                in_region = False
            elif line.strip():
                (inside if in_region else outside).add(line.strip())
    return {line for line in inside - outside if len(line) >= shortest and not line.startswith("#")}


def submit(course, assignment, student, answers):
    """Hand in the release notebook with the solution cells replaced by ``answers``."""
    nb = json.loads((course / "release" / assignment / f"{assignment}.ipynb").read_text())
    for cell in nb["cells"]:
        gid = nbgrader_meta(cell).get("grade_id")
        if nbgrader_meta(cell).get("solution") and gid in answers:
            cell["source"] = answers[gid]
    folder = course / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{assignment}.ipynb").write_text(json.dumps(nb, indent=1))
    return nb


def scores(course, assignment):
    """{student: (total, {test grade_id: score})} read from the gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    out = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for student in gb.students:
            try:
                sub = gb.find_submission(assignment, student.id)
            except MissingEntry:
                continue
            out[student.id] = (sub.score, {g.name: g.score for nb in sub.notebooks for g in nb.grades})
    return out


POOL_FOR_2x2_ONLY = (
    "def max_pool(x, size):\n"
    "    h, w = x.shape\n"
    "    return x.reshape(h // 2, 2, w // 2, 2).max(axis=(1, 3))"
)
ENDLESS = "def output_size(n, kernel_size, stride=1, padding=0):\n    while True:\n        pass"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    built = build_course(course, chapters=[str(FIXTURE)], timeout=TIMEOUT, course_id="cnn-test")
    assert list(built) == ["mini"]
    nbgrader(course, "generate_assignment", "mini")
    source = json.loads(FIXTURE.read_text())
    ref = reference_answers(source)
    submit(course, "mini", "reference", ref)
    submit(course, "mini", "untouched", {})
    submit(course, "mini", "hardcoder", {"mini-output_size": ref["mini-output_size"], "mini-max_pool": POOL_FOR_2x2_ONLY})
    submit(course, "mini", "looper", {"mini-output_size": ENDLESS, "mini-max_pool": ref["mini-max_pool"]})
    (course / "submitted" / "garbled" / "mini").mkdir(parents=True)
    (course / "submitted" / "garbled" / "mini" / "mini.ipynb").write_text("{this is not a notebook")
    (course / "submitted" / "absent" / "mini").mkdir(parents=True)
    done = nbgrader(course, "autograde", "mini", check=False)
    return course, source, done, scores(course, "mini")


def test_release_has_no_solutions_or_hidden_tests(graded):
    course, source, _, _ = graded
    release = (course / "release" / "mini" / "mini.ipynb").read_text()
    assert BEGIN_SOLUTION not in release and BEGIN_HIDDEN not in release
    assert "raise NotImplementedError()" in release
    leaked = [line for line in region_lines(source) if line in release]
    assert region_lines(source) and not leaked
    assert "rng.integers" not in release  # the hidden tests' random cases


def test_reference_solutions_get_full_marks(graded):
    _, _, _, got = graded
    assert got["reference"] == (5.0, {"mini-output_size-tests": 2.0, "mini-max_pool-tests": 3.0})


def test_untouched_release_gets_zero_everywhere(graded):
    course, _, _, got = graded
    assert got["untouched"] == (0.0, {"mini-output_size-tests": 0.0, "mini-max_pool-tests": 0.0})
    nb = json.loads((course / "autograded" / "untouched" / "mini" / "mini.ipynb").read_text())
    errors = [o["ename"] for c in nb["cells"] if c["cell_type"] == "code" for o in c["outputs"] if o["output_type"] == "error"]
    assert "NotImplementedError" in errors


def test_passing_only_the_visible_tests_gives_partial_marks(graded):
    course, _, _, got = graded
    assert got["hardcoder"] == (2.0, {"mini-output_size-tests": 2.0, "mini-max_pool-tests": 0.0})
    # ...although the notebook the student ran (visible tests only) showed no error
    nb = json.loads((course / "submitted" / "hardcoder" / "mini" / "mini.ipynb").read_text())
    from nbclient import NotebookClient
    import nbformat

    nbnode = nbformat.reads(json.dumps(nb), as_version=4)
    NotebookClient(nbnode, timeout=60, kernel_name="python3",
                   resources={"metadata": {"path": str(course)}}).execute()  # raises on an error
    graded_nb = json.loads((course / "autograded" / "hardcoder" / "mini" / "mini.ipynb").read_text())
    assert "max_pool on a" in json.dumps(graded_nb)  # the feedback names the failing hidden case


def test_an_endless_loop_times_out_and_scores_zero_for_that_cell(graded):
    course, _, done, got = graded
    assert got["looper"] == (3.0, {"mini-output_size-tests": 0.0, "mini-max_pool-tests": 3.0})
    nb = json.loads((course / "autograded" / "looper" / "mini" / "mini.ipynb").read_text())
    errors = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c["outputs"] if o["output_type"] == "error"]
    # stopped by our limit (85% of the cell's), before nbgrader's own interrupt, with a clear message
    assert any(o["ename"] == "GradingTimeout" and "endless loop" in o["evalue"] for o in errors), errors
    assert "Timeout waiting for execute reply" not in done.stdout + done.stderr


def test_broken_submissions_are_reported_and_the_others_graded(graded):
    course, _, done, got = graded
    log = done.stdout + done.stderr
    assert done.returncode != 0  # nbgrader says something went wrong...
    assert "error processing assignment 'mini' for student 'garbled'" in log
    assert "No notebooks were matched by" in log and "absent" in log
    assert not (course / "autograded" / "garbled").exists()
    # ...but only for those two: the four others have their autograded notebooks and scores
    for student in ("reference", "untouched", "hardcoder", "looper"):
        assert (course / "autograded" / student / "mini" / "mini.ipynb").exists()
    assert {"reference", "untouched", "hardcoder", "looper"} <= set(got)
    assert "absent" not in got


def test_feedback_and_export(graded):
    course, _, _, got = graded
    nbgrader(course, "generate_feedback", "mini", "--student", "hardcoder")
    html = (course / "feedback" / "hardcoder" / "mini" / "mini.html").read_text()
    assert "2.0" in html and "max_pool" in html
    nbgrader(course, "export", "--to", str(course / "grades.csv"))
    with open(course / "grades.csv", newline="") as fh:
        rows = {r["student_id"]: float(r["score"]) for r in csv.DictReader(fh) if r["assignment"] == "mini"}
    for student in ("reference", "untouched", "hardcoder", "looper"):
        assert rows[student] == got[student][0]


@pytest.mark.slow
def test_real_chapters_round_trip(tmp_path):
    """Every chapter with exercises, exercise-only assignments graded two at a time with
    `coursecnn grade`: the reference solutions get full marks, the untouched release zero."""
    from coursecnn.grader import box as sandbox
    from coursecnn.grader.batch import grade_assignment

    chapters = chapter_notebooks(find_root())
    if sandbox.available():
        # test_grader_attacks_e2e.py grades these four's reference solutions (and attacks)
        chapters = {k: v for k, v in chapters.items()
                    if k not in ("convolution", "pooling", "padding_stride", "architectures")}
    if not chapters:
        pytest.skip("no chapter of the book has exercises yet")
    course = tmp_path / "course"
    build_course(course, chapters=list(chapters), timeout=300)
    for name, path in chapters.items():
        nbgrader(course, "generate_assignment", name)
        source = json.loads(path.read_text())
        release = (course / "release" / name / f"{name}.ipynb").read_text()
        assert BEGIN_SOLUTION not in release and BEGIN_HIDDEN not in release, name
        leaked = [line for line in region_lines(source) if line in release]
        assert not leaked, f"{name}: solution lines in the release: {leaked[:3]}"
        submit(course, name, "reference", reference_answers(source))
        submit(course, name, "untouched", {})
    for name in chapters:
        rows = grade_assignment(course, name, jobs=2, unsandboxed=not sandbox.available(), echo=lambda s: None)
        assert [r["status"] for r in rows] == ["graded", "graded"], rows
        got = {r["student"]: (r["score"], r["max_score"]) for r in rows}
        assert got["reference"][0] == got["reference"][1] > 0, f"{name}: reference lost points: {scores(course, name)['reference']}"
        assert got["untouched"][0] == 0, f"{name}: an untouched release scores: {scores(course, name)['untouched']}"


@pytest.mark.slow
def test_two_shards_merge_into_one_gradebook(tmp_path):
    """`coursecnn grade --shard K/2` on two copies of the course, `coursecnn merge-shards` into the
    original: the merged gradebook holds every student's grades, as one machine would have."""
    import shutil

    from coursecnn.cli import main as cli
    from coursecnn.grader import box as sandbox
    from coursecnn.grader.batch import export_flags

    course = tmp_path / "course"
    build_course(course, chapters=[str(FIXTURE)], timeout=TIMEOUT, course_id="cnn-shards")
    nbgrader(course, "generate_assignment", "mini")
    source = json.loads(FIXTURE.read_text())
    ref = reference_answers(source)
    students = {"ann": ref, "ben": {}, "cat": {"mini-max_pool": ref["mini-max_pool"]}, "dan": ref}
    for student, answers in students.items():
        submit(course, "mini", student, answers)
    shards = []
    for k in (1, 2):
        shard = tmp_path / f"shard{k}"
        shutil.copytree(course, shard)
        args = ["grade", "mini", "--course", str(shard), "--shard", f"{k}/2", "--jobs", "1"]
        assert cli(args + ([] if sandbox.available() else ["--unsandboxed"])) == 0
        shards.append(shard)
    graded = [set(scores(s, "mini")) for s in shards]
    assert graded == [{"ann", "cat"}, {"ben", "dan"}]  # disjoint shares, in name order
    assert cli(["merge-shards", "--course", str(course), *map(str, shards)]) == 0
    merged = {s: total for s, (total, _) in scores(course, "mini").items()}
    assert merged == {"ann": 5.0, "ben": 0.0, "cat": 3.0, "dan": 5.0}
    assert all((course / "autograded" / s / "mini" / "mini.ipynb").is_file() for s in students)
    rows = {r["student"]: r for r in csv.DictReader(open(export_flags(course), newline=""))}
    assert {s: float(r["mini score"]) for s, r in rows.items()} == merged
    # A shard from another copy of the course is refused, and names the problem.
    other = tmp_path / "other"
    build_course(other, chapters=[str(FIXTURE)], timeout=TIMEOUT, course_id="cnn-shards")
    nbgrader(other, "generate_assignment", "mini")
    submit(other, "mini", "eve", ref)
    assert cli(["grade", "mini", "--course", str(other)] + ([] if sandbox.available() else ["--unsandboxed"])) == 0
    assert cli(["merge-shards", "--course", str(course), str(other)]) == 1
