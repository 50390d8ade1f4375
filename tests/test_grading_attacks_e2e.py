"""Grades you can trust, end to end with the real nbgrader, on two real chapters.

`coursecnn course build` (exercise-only assignments), `nbgrader generate_assignment`, then
`coursecnn grade --jobs 2` (nbgrader's autograde with coursecnn's split executor, student code in
bubblewrap's sandbox), `generate_feedback` and `export`. Per chapter, nine students:

    reference   the reference solutions                               -> full marks
    blank       the release as handed out                             -> 0
    partial     exercise 1 right, the others untouched                -> exercise 1's points
    looper      an endless loop in exercise 1                         -> one timeout; what does
                                                                         not need exercise 1 scores
    syntax      a syntax error in exercise 2                          -> all but exercise 2
    patcher     wrong answers + an answer cell that switches the
                checks off (coursecnn.grading, numpy, builtins, train) -> 0
    reader      execs the solutions found through coursecnn.__file__,
                course/source or gradebook.db                         -> 0
    writer      writes its own scores into gradebook.db with sqlite3  -> 0
    caller      calls coursecnn.ref where the exercise forbids it     -> 0 on those exercises
"""

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from coursecnn import sandbox
from coursecnn.course import build_course
from coursecnn.editions import BEGIN_HIDDEN, END_HIDDEN, find_root, nbgrader_meta
from coursecnn.grade import grade_assignment

from test_nbgrader_e2e import cell_text, nbgrader, reference_answers, scores, submit

TIMEOUT = 15
CHAPTERS = ("convolution", "pooling")
# The exercises that call exercise 1's function (convolution's 3 builds on correlate2d).
NEEDS_EX1 = {"convolution": {"ex3"}, "pooling": set()}
# What expected_scores() must come to, worked out by hand from the exercises and their points.
# convolution: ex1 correlate2d 2, ex2 shift_kernel 2, ex3 correlate2d_backward_x 2, ex4
#   conv_weight_grad 2 = 8. partial: ex1 only = 2. looper: ex1 times out and takes ex3 with it
#   (its reference answer calls correlate2d), ex2 + ex4 = 4. syntax: all but ex2 = 6. caller:
#   ex1 through coursecnn.ref, forbidden = 8 - 2 = 6.
# pooling: ex1 window_counts 2, ex2 nmax_pool (+ backward) 3, ex3 avg_pool_backward 2 = 7.
#   partial: ex1 = 2. looper: nothing needs ex1, 7 - 2 = 5. syntax: all but ex2 = 7 - 3 = 4.
#   caller: ex1 and ex2 through coursecnn.ref, both forbidden = 7 - 2 - 3 = 2.
# Everyone else (blank, patcher, reader, writer) scores 0.
DOCUMENTED = {
    "convolution": {"reference": 8, "blank": 0, "partial": 2, "looper": 4, "syntax": 6,
                    "patcher": 0, "reader": 0, "writer": 0, "caller": 6},
    "pooling": {"reference": 7, "blank": 0, "partial": 2, "looper": 5, "syntax": 4,
                "patcher": 0, "reader": 0, "writer": 0, "caller": 2},
}

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sandbox.available(), reason=f"no sandbox: {sandbox.unavailable_reason()}")]

PATCH = '''
import builtins, coursecnn, coursecnn.grading as _g, numpy as _np
for _name in _g.__all__:
    setattr(_g, _name, lambda *a, **k: None)
_np.array_equal = _np.allclose = lambda *a, **k: True
_np.testing.assert_allclose = lambda *a, **k: None
builtins.AssertionError = type("Nothing", (Exception,), {})
try:
    import coursecnn.train as _t
    _t.train = lambda *a, **k: None
except Exception:
    pass
'''

READ = '''
import glob, json, os, re, sqlite3
from pathlib import Path
import coursecnn
_texts = []
_places = [Path(coursecnn.__file__).parents[2] / "book" / "chapters", Path.cwd(), Path.cwd().parents[1],
           Path.cwd().parents[2], Path.cwd().parents[2] / "source"]
for _place in _places:
    for _f in glob.glob(str(_place) + "/**/*.ipynb", recursive=True):
        try:
            _texts += ["".join(c["source"]) for c in json.load(open(_f))["cells"]]
        except Exception:
            pass
    try:
        _db = sqlite3.connect(str(_place / "gradebook.db"))
        _texts += [r[0] for r in _db.execute("select source from source_cell")]
    except Exception:
        pass
for _t in _texts:
    if "BEGIN SOLUTION" in _t and "def " in _t:
        try:
            exec(re.sub(r"\\s*### (BEGIN|END) SOLUTION", "", _t), globals())
        except Exception:
            pass
'''

WRITE = '''
import sqlite3
from pathlib import Path
for _up in range(6):
    _db = Path.cwd().parents[_up] / "gradebook.db" if _up < len(Path.cwd().parents) else None
    if _db is not None and _db.exists():
        _con = sqlite3.connect(str(_db))
        _con.execute("update grade set manual_score = 100")
        _con.commit()
'''

CALLERS = {
    "convolution": {"convolution-ex1-solution": (
        "def correlate2d(image, kernel):\n    from coursecnn import ref\n"
        "    return ref.conv2d(np.asarray(image, float)[None, None], np.asarray(kernel, float)[None, None])[0, 0]")},
    "pooling": {
        "pooling-ex1-solution": ("def window_counts(shape, k, s):\n    from coursecnn import ref\n"
                                 "    out = ref.pool_output_shape((1, 1) + tuple(shape), k, s)\n"
                                 "    g = ref.avg_pool2d_backward(np.ones(out), np.zeros((1, 1) + tuple(shape)), k, s)\n"
                                 "    return np.rint(g[0, 0] * k * k).astype(int)"),
        "pooling-ex2-solution": ("import coursecnn.ref as r\n\n\ndef nmax_pool(x, k, n):\n"
                                 "    return r.nmax_pool2d(x[None, None], k, n)[0, 0]\n\n\n"
                                 "def nmax_pool_backward(dy, x, k, n):\n"
                                 "    return r.nmax_pool2d_backward(dy[None, None], x[None, None], k, n)[0, 0]"),
    },
}


def ex(gid):
    return gid.split("-")[1]


def wrong(source):
    """A version of an answer that defines the same names and returns zeros."""
    heads = [line for line in source.split("\n") if line.startswith("def ")]
    return "\n".join(f"{h}\n    return np.zeros((2, 2))" for h in heads)


def points(source):
    """{"ex1": points, ...} from the assignment's test cells."""
    return {ex(nbgrader_meta(c)["grade_id"]): float(nbgrader_meta(c)["points"])
            for c in source["cells"] if nbgrader_meta(c).get("grade")}


def expected_scores(source, chapter):
    pts = points(source)
    total = sum(pts.values())
    after_loop = sum(p for e, p in pts.items() if e != "ex1" and e not in NEEDS_EX1[chapter])
    forbidden = {ex(g) for g in CALLERS[chapter]}
    return {"reference": total, "blank": 0, "partial": pts["ex1"], "looper": after_loop,
            "syntax": total - pts["ex2"], "patcher": 0, "reader": 0, "writer": 0,
            "caller": total - sum(pts[e] for e in forbidden)}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    build_course(course, chapters=list(CHAPTERS), timeout=TIMEOUT, course_id="cnn-attacks")
    sources = {}
    for chapter in CHAPTERS:
        nbgrader(course, "generate_assignment", chapter)
        source = json.loads((course / "source" / chapter / f"{chapter}.ipynb").read_text())
        sources[chapter] = source
        ref = reference_answers(source)
        ids = sorted(ref)
        first, second = ids[0], ids[1]
        submit(course, chapter, "reference", ref)
        submit(course, chapter, "blank", {})
        submit(course, chapter, "partial", {first: ref[first]})
        head = ref[first].split("\n")[0]
        submit(course, chapter, "looper", dict(ref, **{first: f"{head}\n    while True:\n        pass"}))
        submit(course, chapter, "syntax", dict(ref, **{second: ref[second] + "\n    return (("}))
        submit(course, chapter, "patcher", {g: wrong(a) + (PATCH if g == first else "") for g, a in ref.items()})
        submit(course, chapter, "reader", {first: READ})
        submit(course, chapter, "writer", {first: WRITE})
        submit(course, chapter, "caller", dict(ref, **CALLERS[chapter]))
    rows = {chapter: {r["student"]: r for r in grade_assignment(course, chapter, jobs=2, echo=lambda s: None)}
            for chapter in CHAPTERS}
    expected = {chapter: expected_scores(sources[chapter], chapter) for chapter in CHAPTERS}
    return course, sources, rows, expected


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_student_scores_as_expected(course, chapter):
    course_dir, _, rows, expected = course
    assert expected[chapter] == DOCUMENTED[chapter]
    got = {s: total for s, (total, _) in scores(course_dir, chapter).items()}
    assert got == pytest.approx(expected[chapter]), {s: (got.get(s), e) for s, e in expected[chapter].items()}
    assert all(r["status"] == "graded" for r in rows[chapter].values()), rows[chapter]


def test_the_export_shows_the_same_scores(course):
    course_dir, _, _, expected = course
    nbgrader(course_dir, "export", "--to", str(course_dir / "grades.csv"))
    with open(course_dir / "grades.csv", newline="") as fh:
        exported = {(r["assignment"], r["student_id"]): float(r["score"]) for r in csv.DictReader(fh)}
    for chapter in CHAPTERS:
        for student, score in expected[chapter].items():
            assert exported[(chapter, student)] == score, (chapter, student)


def test_an_endless_loop_costs_one_timeout(course):
    _, _, rows, _ = course
    for chapter in CHAPTERS:
        # One cell's worth of time (the worker is stopped at 85% of it), not one per test cell.
        assert rows[chapter]["looper"]["seconds"] < rows[chapter]["reference"]["seconds"] + 1.5 * TIMEOUT


def test_no_checksum_warnings_for_untouched_cells(course):
    course_dir, _, _, _ = course
    done = nbgrader(course_dir, "autograde", "pooling", "--student", "reference", "--force")
    assert "checksum" not in (done.stdout + done.stderr).lower()


def hidden_lines(source_nb):
    """Lines of the hidden tests that appear nowhere else in the notebook."""
    inside, outside = set(), set()
    for cell in source_nb["cells"]:
        hidden = False
        for line in cell_text(cell).split("\n"):
            if BEGIN_HIDDEN in line:
                hidden = True
            elif END_HIDDEN in line:
                hidden = False
            elif line.strip():
                (inside if hidden else outside).add(line.strip())
    return {line for line in inside - outside if len(line) >= 15 and not line.startswith("#")}


def test_feedback_names_failures_without_hidden_source_and_is_small(course):
    course_dir, sources, _, expected = course
    for chapter in CHAPTERS:
        nbgrader(course_dir, "generate_feedback", chapter)
        secret = hidden_lines(sources[chapter])
        assert secret
        for student in expected[chapter]:
            page = course_dir / "feedback" / student / chapter / f"{chapter}.html"
            html = page.read_text()
            assert page.stat().st_size <= 150_000, (page, page.stat().st_size)
            assert "BEGIN HIDDEN" not in html
            import html as html_mod

            text = html_mod.unescape(re.sub(r"<[^>]+>", "", html))
            leaked = [line for line in secret if line in text]
            assert not leaked, (student, chapter, leaked[:3])
    partial = (course_dir / "feedback" / "partial" / "pooling" / "pooling.html").read_text()
    assert "pooling-ex2-tests" in partial and "NotImplementedError" in partial


def test_a_second_build_keeps_hand_edits_and_refuses_another_course_id(course):
    course_dir, _, _, _ = course
    config = course_dir / "nbgrader_config.py"
    config.write_text(config.read_text() + "\nc.Exchange.root = '/srv/exchange'  # added by hand\n")
    nb_path = course_dir / "source" / "pooling" / "pooling.ipynb"
    nb = json.loads(nb_path.read_text())
    nb["cells"][0]["source"] = "# Pooling, with the instructor's own introduction"
    nb_path.write_text(json.dumps(nb, indent=1))
    extra = course_dir / "source" / "pooling" / "extra_practice.ipynb"
    extra.write_text("{}")
    before = {p: p.read_bytes() for p in (config, nb_path, extra)}
    report = build_course(course_dir, chapters=list(CHAPTERS), timeout=TIMEOUT, course_id="cnn-attacks")
    assert set(report.kept) == {config, nb_path}
    assert extra in report.foreign
    assert {p: p.read_bytes() for p in before} == before
    with pytest.raises(ValueError, match="belongs to course 'cnn-attacks'"):
        build_course(course_dir, chapters=list(CHAPTERS), timeout=TIMEOUT, course_id="another")
    report = build_course(course_dir, chapters=list(CHAPTERS), timeout=TIMEOUT, course_id="cnn-attacks", force=True)
    assert len(report.backups) == 2 and all(b.read_bytes() in before.values() for b in report.backups)
    assert "added by hand" not in config.read_text() and extra.read_bytes() == b"{}"
