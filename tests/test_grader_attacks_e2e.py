"""Grades you can trust, end to end with the real nbgrader, on four real chapters.

`coursecnn course build` (exercise-only assignments), `nbgrader generate_assignment`, then
`coursecnn grade --jobs 2` (nbgrader's autograde with coursecnn.grader's executor, student code in
bubblewrap's sandbox), `generate_feedback` and `export`. Per chapter, nine students:

    reference   the reference solutions                               -> full marks
    patcher     wrong answers + an answer cell that switches the
                checks off (coursecnn.grading, numpy, builtins, train) -> 0
    reader      execs the solutions found through coursecnn.__file__,
                course/source or gradebook.db                         -> 0
    writer      writes its own scores into gradebook.db with sqlite3  -> 0
    caller      calls coursecnn.ref where the exercise forbids it     -> 0 on those exercises

(blank, partial, endless-loop and broken submissions are graded in test_nbgrader_e2e.py) and the
routes of round 2, each of which must score 0 where it cheats and be flagged:

    transformer an added cell that turns every later cell into `pass`  -> 0, dropped cell
    leaker      an added cell that prints the instructor's sources      -> 0, dropped cell, no leak
    escaper     answers that shadow tuple/sum/all/range/zip to get the
                kernel's generators and frames (and exec there)        -> 0, shadowed builtin
    mutator     answers that zero their input arrays and return zeros  -> 0
    smuggler    padding_stride: exercise 3's functions written with
                coursecnn.arith in exercise 2's unrestricted cell      -> 0 for ex3, flagged
    scipy       convolution 1 through SciPy found on another path      -> 0 for ex1, flagged
    scripter    architectures: a model that writes files with
                torch.from_file when it runs (as TorchScript could)    -> 0 for ex3, no file, flagged
"""

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from coursecnn.grader import box as sandbox
from coursecnn.course import build_course
from coursecnn.editions import BEGIN_HIDDEN, END_HIDDEN, find_root, nbgrader_meta
from coursecnn.grader.batch import grade_assignment

from test_nbgrader_e2e import cell_text, nbgrader, reference_answers, region_lines, scores, submit

TIMEOUT = 30
CHAPTERS = ("convolution", "pooling")          # every student of the first round, and round 2's
MORE = ("padding_stride", "architectures")    # the reference and the chapter's own attack
# What expected_scores() must come to, worked out by hand from the exercises and their points.
# convolution: ex1 correlate2d 2, ex2 shift_kernel 2, ex3 correlate2d_backward_x 2, ex4
#   conv_weight_grad 2 = 8. caller: ex1 through coursecnn.ref, forbidden = 8 - 2 = 6.
# pooling: ex1 window_counts 2, ex2 nmax_pool (+ backward) 3, ex3 avg_pool_backward 2 = 7.
#   caller: ex1 and ex2 through coursecnn.ref, both forbidden = 7 - 2 - 3 = 2.
# The patcher, reader and writer score 0.
DOCUMENTED = {
    "convolution": {"reference": 8, "patcher": 0, "reader": 0, "writer": 0, "caller": 6},
    "pooling": {"reference": 7, "patcher": 0, "reader": 0, "writer": 0, "caller": 2},
}
ROUND2 = {"transformer": 0, "leaker": 0, "escaper": 0, "mutator": 0}
# padding_stride: 10 points (from the test cells' points); the smuggler loses exercise 3's.
# architectures: ex1 2, ex2 2, ex3 3 = 7; the scripter loses ex3.
# convolution's scipy student loses ex1 (2 of 8).
MORE_EXPECTED = {"padding_stride": ("smuggler", "ex3"), "architectures": ("scripter", "ex3")}
# What each attack must leave in the instructor's log: {student: kind}.
FLAGGED = {"transformer": "dropped cell", "leaker": "dropped cell", "escaper": "shadowed builtin",
           "mutator": "mutated input",
           "patcher": None, "smuggler": "other exercise's names", "scipy": "forbidden import",
           "caller": "forbidden import", "scripter": "sandbox refused"}

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

TRANSFORM = "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])"

LEAK = '''
import glob, json, os
for _f in glob.glob(os.path.join(os.getcwd(), "..", "..", "..", "source", "**", "*.ipynb"), recursive=True):
    print(open(_f).read())
'''

ESCAPE = '''
def _escape(obj):
    try:
        frame = obj.gi_frame if hasattr(obj, "gi_frame") else None
        frame = frame or getattr(obj, "__globals__", None)
        run = frame.f_builtins["exec"]
        run("import coursecnn.grading as g\\nfor n in g.__all__: setattr(g, n, lambda *a, **k: None)",
            frame.f_globals)
    except Exception:
        pass
def tuple(x=()):
    _escape(x)
    return ()
sum = all = tuple
def range(*a):
    return []
def zip(*lists):
    # (names, mine, expected): hand the expected values back as mine
    rows = [list(x) for x in lists]
    return [(n, w, w) for n, m, w in __import__("builtins").zip(*rows)]
'''

MUTATE = '''
def _zap(*args, **kwargs):
    first = None
    for a in list(args) + list(kwargs.values()):
        if isinstance(a, np.ndarray):
            a[...] = 0
            first = a if first is None else first
    return np.zeros_like(first) if first is not None else 0
'''

SMUGGLE = (
    "from coursecnn import arith\n\n"
    "def standard_mults(c_in, c_out, f, n, stride=1, padding=0):\n"
    "    out = arith.conv_output_size(n, f, stride, padding)\n"
    "    return arith.conv_mults(c_in, c_out, f, out)\n\n"
    "def separable_mults(c_in, c_out, f, n, stride=1, padding=0):\n"
    "    out = arith.conv_output_size(n, f, stride, padding)\n"
    "    return arith.separable_conv_mults(c_in, c_out, f, out)\n")

SCIPY = '''
import glob, sys
sys.path += glob.glob("/usr/lib/python3*/dist-packages") + glob.glob("/usr/local/lib/python3*/site-packages") \\
    + glob.glob(sys.base_prefix + "/lib/python3*/site-packages")
from scipy.signal import correlate2d as _c
def correlate2d(image, kernel):
    return _c(image, kernel, mode="valid")
'''


import coursecnn.grading  # noqa: E402

GRADING_PY = str(Path(coursecnn.grading.__file__).resolve())


def scripter(course):
    return f'''
import torch
from torch import nn
class _Spy(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(1024, 10)
    def forward(self, x):
        torch.from_file({GRADING_PY!r}, True, 1 << 20)
        torch.from_file({str(course / "pwned.bin")!r}, True, 64)
        return self.fc(x.flatten(1))
def make_small_lenet():
    # Scripted or not, it runs only in the student's worker (coursecnn.train's hooks refuse a
    # ScriptModule, so the plain module is what reaches from_file).
    return _Spy()
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


def with_cell(nb_path, source, at=1):
    """Insert a code cell the student added (no nbgrader metadata) into a submission."""
    nb = json.loads(nb_path.read_text())
    nb["cells"].insert(at, {"cell_type": "code", "execution_count": None, "id": "added-by-student",
                            "metadata": {}, "outputs": [], "source": source})
    nb_path.write_text(json.dumps(nb, indent=1))


def stubs_with(source, prefix):
    """Every answer as ``prefix`` plus its stub's heads calling ``_zap`` / returning zeros."""
    heads = [line for line in source.split("\n") if line.startswith("def ")]
    return prefix + "\n".join(f"{h}\n    return _zap(*[v for v in locals().values()])" for h in heads)


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
    forbidden = {ex(g) for g in CALLERS[chapter]}
    return {"reference": total, "patcher": 0, "reader": 0, "writer": 0,
            "caller": total - sum(pts[e] for e in forbidden)}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    build_course(course, chapters=list(CHAPTERS + MORE), timeout=TIMEOUT, course_id="cnn-attacks")
    sources = {}
    for chapter in CHAPTERS:
        nbgrader(course, "generate_assignment", chapter)
        source = json.loads((course / "source" / chapter / f"{chapter}.ipynb").read_text())
        sources[chapter] = source
        ref = reference_answers(source)
        ids = sorted(ref)
        first = ids[0]
        submit(course, chapter, "reference", ref)
        submit(course, chapter, "patcher", {g: wrong(a) + (PATCH if g == first else "") for g, a in ref.items()})
        submit(course, chapter, "reader", {first: READ})
        submit(course, chapter, "writer", {first: WRITE})
        submit(course, chapter, "caller", dict(ref, **CALLERS[chapter]))
        # round 2
        folder = course / "submitted"
        submit(course, chapter, "transformer", {})
        with_cell(folder / "transformer" / chapter / f"{chapter}.ipynb", TRANSFORM)
        submit(course, chapter, "leaker", {})
        with_cell(folder / "leaker" / chapter / f"{chapter}.ipynb", LEAK, at=3)
        submit(course, chapter, "escaper", {g: (ESCAPE if g == first else "") + wrong(a) for g, a in ref.items()})
        submit(course, chapter, "mutator", {g: stubs_with(a, MUTATE) for g, a in ref.items()})
    submit(course, "convolution", "scipy", dict(reference_answers(sources["convolution"]),
                                                **{"convolution-ex1-solution": SCIPY}))
    for chapter in MORE:
        nbgrader(course, "generate_assignment", chapter)
        source = json.loads((course / "source" / chapter / f"{chapter}.ipynb").read_text())
        sources[chapter] = source
        ref = reference_answers(source)
        submit(course, chapter, "reference", ref)
    ps = reference_answers(sources["padding_stride"])
    submit(course, "padding_stride", "smuggler", dict(ps, **{"padding_stride-ex2-solution": ps["padding_stride-ex2-solution"]
                                                            + "\n\n" + SMUGGLE, "padding_stride-ex3-solution": ""}))
    submit(course, "architectures", "scripter", dict(reference_answers(sources["architectures"]),
                                                     **{"architectures-ex3-solution": scripter(course)}))
    db_before = (course / "gradebook.db").read_bytes()[:64]
    rows = {chapter: {r["student"]: r for r in grade_assignment(course, chapter, jobs=2, echo=lambda s: None)}
            for chapter in CHAPTERS + MORE}
    expected = {chapter: dict(expected_scores(sources[chapter], chapter), **ROUND2) for chapter in CHAPTERS}
    expected["convolution"]["scipy"] = expected["convolution"]["reference"] - points(sources["convolution"])["ex1"]
    for chapter, (student, lost) in MORE_EXPECTED.items():
        total = sum(points(sources[chapter]).values())
        expected[chapter] = {"reference": total, student: total - points(sources[chapter])[lost]}
    assert (course / "gradebook.db").read_bytes()[:16] == db_before[:16] == b"SQLite format 3\x00"
    return course, sources, rows, expected


@pytest.mark.parametrize("chapter", CHAPTERS + MORE)
def test_every_student_scores_as_expected(course, chapter):
    course_dir, _, rows, expected = course
    if chapter in DOCUMENTED:
        assert {s: e for s, e in expected[chapter].items() if s in DOCUMENTED[chapter]} == DOCUMENTED[chapter]
    got = {s: total for s, (total, _) in scores(course_dir, chapter).items()}
    assert got == pytest.approx(expected[chapter]), {s: (got.get(s), e) for s, e in expected[chapter].items()}
    assert all(r["status"] == "graded" for r in rows[chapter].values()), rows[chapter]


def test_every_attack_is_flagged_with_its_evidence(course):
    from coursecnn.grader import flags

    course_dir, _, rows, expected = course
    for chapter in CHAPTERS + MORE:
        for student in expected[chapter]:
            events = flags.read(course_dir / "flags" / chapter / f"{student}.jsonl")
            kinds = {e["kind"] for e in events}
            want = FLAGGED.get(student)
            if student == "reference":
                assert not kinds, (chapter, student, events)
            elif want is not None:
                assert want in kinds, (chapter, student, events)
                assert want in rows[chapter][student]["flags"], rows[chapter][student]
    from coursecnn.grader.batch import export_flags

    table = list(csv.DictReader(open(export_flags(course_dir), newline="")))
    by = {r["student"]: r for r in table}
    assert "dropped cell" in by["transformer"]["pooling flags"] and by["reference"]["pooling flags"] == ""
    assert float(by["transformer"]["pooling score"]) == 0


def test_nothing_the_student_built_ran_in_the_kernel(course):
    course_dir, _, _, _ = course
    assert not (course_dir / "pwned.bin").exists()
    assert Path(GRADING_PY).stat().st_size < 1 << 20  # not extended to the 1 MB the model asked for
    import sqlite3

    assert sqlite3.connect(str(course_dir / "gradebook.db")).execute("select count(*) from grade").fetchone()[0] > 0


def test_added_cells_are_reported_in_the_feedback(course):
    course_dir, _, _, _ = course
    nb = json.loads((course_dir / "autograded" / "transformer" / "pooling" / "pooling.ipynb").read_text())
    note = [c for c in nb["cells"] if c.get("id") == "coursecnn-grading-note"]
    assert note and "input_transformers_post" in cell_text(note[0])
    assert not any("input_transformers_post" in cell_text(c) for c in nb["cells"] if c["cell_type"] == "code")


def test_the_export_shows_the_same_scores(course):
    course_dir, _, _, expected = course
    nbgrader(course_dir, "export", "--to", str(course_dir / "grades.csv"))
    with open(course_dir / "grades.csv", newline="") as fh:
        exported = {(r["assignment"], r["student_id"]): float(r["score"]) for r in csv.DictReader(fh)}
    for chapter in CHAPTERS + MORE:
        for student, score in expected[chapter].items():
            assert exported[(chapter, student)] == score, (chapter, student)


def test_no_checksum_warnings_for_untouched_cells(course):
    course_dir, _, _, _ = course
    done = nbgrader(course_dir, "autograde", "pooling", "--student", "reference", "--force")
    assert "checksum" not in (done.stdout + done.stderr).lower()


def test_feedback_names_failures_without_hidden_source_and_is_small(course):
    course_dir, sources, _, expected = course
    for chapter in CHAPTERS:
        nbgrader(course_dir, "generate_feedback", chapter)
        secret = region_lines(sources[chapter], BEGIN_HIDDEN, END_HIDDEN, shortest=15)
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
    untouched = (course_dir / "feedback" / "transformer" / "pooling" / "pooling.html").read_text()
    assert "pooling-ex2-tests" in untouched and "NotImplementedError" in untouched
    assert "Grading note" in untouched


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
