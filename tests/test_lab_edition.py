"""The student notebooks (``coursecnn edition lab``) and the safety of edition builds.

The chapters themselves are executed by ``make notebooks`` (``coursecnn edition lab --check``:
untouched stubs fail with their exercise's name, reference solutions pass). Here: the static
properties of every chapter's student version, the MyST rewriting, the setup check, and the
folder handling (interrupted builds, user files, bad paths).
"""

import ast
import copy
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from coursecnn import editions
from coursecnn.cli import main
from coursecnn.editions import (
    MARKER, SKIP_TAG, build_edition, build_lab, exercise_list, find_root, lab_notebook, read_notebook,
)
from coursecnn.myst_markdown import MystError, format_glue, raw_myst, to_markdown

ROOT = find_root(Path(__file__).parent)
CHAPTERS = sorted((ROOT / "book" / "chapters").glob("*.ipynb"))
LIBRARY_LINES = {ln.strip() for p in (ROOT / "src").rglob("*.py") for ln in p.read_text(encoding="utf-8").split("\n")}


class AnyGlue(dict):
    """Every glued name has the value 1234.5 (the real values come from a run)."""

    def __contains__(self, key):
        return True

    def __getitem__(self, key):
        return "1234.5"


def text(cell):
    return editions.source_text(cell)


# --- MyST to Markdown ---------------------------------------------------------------------

def test_literalinclude_becomes_the_code(tmp_path):
    (tmp_path / "m.py").write_text("import x\n\n\nclass A:\n    @staticmethod\n    def f(a):\n        return a  # `ticks`\n\n\ndef g():\n    pass\n")
    md = to_markdown("Read:\n\n```{literalinclude} m.py\n:pyobject: A.f\n:language: python\n```\n\nDone.",
                     base=tmp_path)
    assert md == "Read:\n\n```python\n@staticmethod\ndef f(a):\n    return a  # `ticks`\n```\n\nDone."
    four = to_markdown("````{literalinclude} m.py\n:pyobject: g\n````", base=tmp_path)
    assert four == "```python\ndef g():\n    pass\n```"
    with pytest.raises(MystError, match="has no 'h'"):
        to_markdown("```{literalinclude} m.py\n:pyobject: h\n```", base=tmp_path)
    with pytest.raises(MystError, match="no file nope.py"):
        to_markdown("```{literalinclude} nope.py\n```", base=tmp_path)


def test_dropdown_folds_and_roles_become_text():
    md = to_markdown(":::{dropdown} Answers\n1. It is {glue:text}`n:,` and $x$.\n:::",
                     glue={"n": "70000"})
    assert md == ("<details>\n<summary>Answers (click to show or hide)</summary>\n\n"
                  "1. It is 70,000 and $x$.\n\n</details>")
    assert to_markdown("See {doc}`the next chapter <backpropagation>`.") == "See [the next chapter](backpropagation.ipynb)."
    assert to_markdown("{doc}`../explorers`", titles={"explorers": "Interactive explorers"}) == \
        "[Interactive explorers](../explorers.ipynb)"
    assert to_markdown("```{note}\nCareful.\n```") == "> **Note**\n>\n> Careful."
    assert to_markdown("(my-label)=\n# Title") == "# Title"
    # an ordinary code block is left alone, roles and all
    plain = "```python\nx = '{glue:text}`n`'\n```"
    assert to_markdown(plain) == plain
    with pytest.raises(MystError, match="no glued value 'm'"):
        to_markdown("{glue:text}`m:.2f`", glue={})


def test_a_role_that_spans_a_line_break_becomes_a_link():
    md = to_markdown("Every symbol is on the {doc}`notation page\n<../notation>`.\n\n```python\nx = 1\n```")
    assert md == "Every symbol is on the [notation page](../notation.ipynb).\n\n```python\nx = 1\n```"
    assert raw_myst("on the {doc}`notation page\n<../notation>`.") == ["{doc}`"]


def test_glue_formats_like_myst_nb():
    assert format_glue("70000", ",") == "70,000"
    assert format_glue("0.98765", ".2f") == "0.99"
    assert format_glue("'text'", "") == "text"
    assert format_glue("0.25", ".0%") == "25%"


def test_raw_myst_finds_what_is_left():
    assert raw_myst("plain $\\frac{a}{b}$ and `{glue:text}` in code") == []
    assert raw_myst("a {glue:text}`x` b") == ["{glue:text}`x`"]
    assert raw_myst(":::{dropdown} A\nb\n:::")[0] == ":::{dropdown} A"


# --- every chapter's student notebook -------------------------------------------------------

@pytest.fixture(scope="module")
def lab_notebooks():
    out = {}
    for path in CHAPTERS + [ROOT / "book" / "explorers.ipynb"]:
        src = read_notebook(path)
        out[path.stem] = (src, lab_notebook(src, glue=AnyGlue(), source_dir=path.parent,
                                            name=str(path.relative_to(ROOT)), titles=editions._titles(ROOT)))
    return out


def test_student_notebooks_hold_no_secrets_no_myst_no_skip_tags(lab_notebooks):
    for stem, (src, nb) in lab_notebooks.items():
        dump = json.dumps(nb)
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
            assert marker not in dump, (stem, marker)
        assert SKIP_TAG not in dump, stem
        assert "myst_nb" not in dump, stem
        for i, cell in enumerate(nb["cells"]):
            if cell["cell_type"] == "markdown":
                assert raw_myst(text(cell)) == [], (stem, i, raw_myst(text(cell)))
            else:
                assert cell["outputs"] == [] and cell["execution_count"] is None
        # the solution text itself: every line of a solution region longer than 20 characters
        solution = {ln.strip() for c in src["cells"] for ln in re.findall(
            r"BEGIN SOLUTION\n(.*?)### END SOLUTION", text(c), re.S) for ln in ln.split("\n") if len(ln.strip()) > 20}
        # Public: what the source shows outside solution and hidden-test regions (a visible test
        # may restate a given formula), and the package's code the chapter includes.
        outside = [re.sub(r"### BEGIN (SOLUTION|HIDDEN TESTS)\n.*?### END (SOLUTION|HIDDEN TESTS)", "", text(c), flags=re.S)
                   for c in src["cells"]]
        public = {ln.strip() for t in outside for ln in t.split("\n")} | LIBRARY_LINES
        student = {ln.strip() for c in nb["cells"] for ln in text(c).split("\n")}
        assert not (solution - public) & student, stem


def test_included_code_and_folded_answers_are_in_the_markdown(lab_notebooks):
    src, nb = lab_notebooks["pooling"]
    markdown = "\n".join(text(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "```python\ndef max_pool2d_naive(" in markdown
    assert "<details>\n<summary>Answer (click to show or hide)</summary>" in markdown
    assert "1234.5" in markdown  # a glued number


def stub_message(source):
    """The message every ``raise NotImplementedError(...)`` of a stub cell gives."""
    raises = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Raise)]
    messages = {r.exc.args[0].value for r in raises}
    assert raises and len(messages) == 1, source
    return messages.pop()


def test_each_exercise_has_a_named_stub_a_rule_and_a_test(lab_notebooks):
    for stem, (src, nb) in lab_notebooks.items():
        exercises = exercise_list(src, stem)
        for ex in exercises:
            assert ex["solution"] is not None and ex["test"] is not None, ex
            assert ex["functions"] and ex["rule"], ex
            stub = text(nb["cells"][ex["solution"] + 1])  # +1: the setup cell comes first
            assert stub_message(stub) == editions.todo_message(ex), stub
            assert all(len(line) <= 79 for line in stub.splitlines()), stub
        setup = next(c for c in nb["cells"] if c["cell_type"] == "code")
        assert setup["id"] == editions.SETUP_CELL_ID
        for ex in exercises:
            for fn in ex["functions"]:
                assert repr(fn) in text(setup)


def test_test_cells_stand_alone_and_hidden_tests_do_not_restate_solutions():
    for path in CHAPTERS:
        nb = read_notebook(path)
        editions.check_independent(nb, path.name)  # includes check_tests_stand_alone
        for c in nb["cells"]:
            hidden = "".join(re.findall(r"BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", text(c), re.S))
            for formula in ("w + lr * (yy - yh) * x", "s * (1 - s)"):
                assert formula not in hidden, (path.name, formula)


def test_a_test_cell_that_needs_another_test_cell_is_refused():
    nb = {"cells": [
        {"cell_type": "code", "metadata": {"nbgrader": {"solution": True, "grade_id": "c-ex1-solution"}},
         "source": "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"},
        {"cell_type": "code", "metadata": {"nbgrader": {"grade": True, "grade_id": "c-ex1-tests", "points": 1}},
         "source": "from math import pi\nassert f() == 1"},
        {"cell_type": "code", "metadata": {"nbgrader": {"solution": True, "grade_id": "c-ex2-solution"}},
         "source": "def g():\n    ### BEGIN SOLUTION\n    return 2\n    ### END SOLUTION"},
        {"cell_type": "code", "metadata": {"nbgrader": {"grade": True, "grade_id": "c-ex2-tests", "points": 1}},
         "source": "assert g() < pi"}]}
    with pytest.raises(editions.ExerciseFormatError, match=r"tests of c exercise 2\): uses 'pi'"):
        editions.check_tests_stand_alone(nb, "c.ipynb")


def _solution_expressions(source):
    """The solution's key expressions (operators or calls, at least 5 characters without spaces),
    spaces removed: what a visible test's message must not spell out."""
    found = set()
    for region in re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", source, re.S) or [source]:
        for node in ast.walk(ast.parse(textwrap.dedent(region))):
            if isinstance(node, (ast.BinOp, ast.Compare, ast.Call, ast.Subscript, ast.BoolOp)):
                flat = re.sub(r"\s+", "", ast.unparse(node))
                if len(flat) >= 5 and re.search(r"[-+*/%<>=@]", flat):
                    found.add(flat)
    return found


def _visible_messages(source):
    """Every string a visible test cell holds (messages, hints, names), hidden tests removed."""
    visible = re.sub(r"### BEGIN HIDDEN TESTS\n.*?### END HIDDEN TESTS", "", source, flags=re.S)
    return [n.value for n in ast.walk(ast.parse(visible)) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def test_visible_tests_check_and_do_not_tell_the_answer():
    """No visible test message contains the solution's key expressions, unless the exercise's rule
    (published with it, e.g. "v' = momentum * v + g") states that expression itself."""
    assert "lr*y*x" in _solution_expressions("def f():\n    ### BEGIN SOLUTION\n    return w + lr * y * x\n"
                                             "    ### END SOLUTION")
    checked = 0
    for path in CHAPTERS:
        nb = read_notebook(path)
        for ex in exercise_list(nb, path.stem):
            keys = _solution_expressions(text(nb["cells"][ex["solution"]]))
            given = re.sub(r"\s+", "", ex["rule"])
            for message in _visible_messages(text(nb["cells"][ex["test"]])):
                flat = re.sub(r"\s+", "", message)
                told = sorted(k for k in keys if k in flat and k not in given)
                assert not told, f"{path.name}, {ex['label']}: a visible test's message gives {told[0]!r} away: {message!r}"
            checked += 1
    assert checked >= 20


def test_lab_test_cells_open_with_what_they_need_and_run_all_goes_on(lab_notebooks):
    for stem, (src, nb) in lab_notebooks.items():
        exercises = exercise_list(src, stem)
        for ex in exercises:
            cell = nb["cells"][ex["test"] + 1]  # +1: the setup cell
            first = text(cell).split("\n")[0]
            assert first.startswith(f"from coursecnn.lab import needs; needs({ex['label']!r}, "), first
            assert all(repr(fn) in first for fn in ex["functions"] if fn in text(cell)), first
            assert editions.RAISES_TAG in cell["metadata"]["tags"]
        # What Lab writes when the kernel starts is there already: opening does not modify it.
        assert nb["metadata"]["kernelspec"]["name"] == "python3"
        assert nb["metadata"]["language_info"]["version"] == sys.version.split()[0]
        if exercises:
            last = nb["cells"][-1]
            assert last["id"] == editions.SUMMARY_CELL_ID
            assert all(repr(ex["label"]) in text(last) for ex in exercises)
        else:
            assert editions.SUMMARY_CELL_ID not in json.dumps(nb)


_LINKS = re.compile(r"\]\(([^()\s]+)\)|(?:href|src)=\"([^\"]+)\"")


def test_every_link_in_the_lab_edition_opens_a_file_or_anchor_in_it(tmp_path):
    """Each link of each student notebook's Markdown (links, href, src) leads to a file of the
    edition, and its #anchor, if any, to a heading there (JupyterLab's ids: spaces as '-')."""
    out = tmp_path / "lab"
    build_lab(out, root=ROOT, glue={str(p): AnyGlue() for p in editions.lab_sources(ROOT)})
    followed = 0
    for nb_path in sorted(out.rglob("*.ipynb")):
        for cell in json.loads(nb_path.read_text())["cells"]:
            if cell["cell_type"] != "markdown":
                continue
            for m in _LINKS.finditer(text(cell)):
                target = m.group(1) or m.group(2)
                if re.match(r"^(https?|mailto|data):", target):
                    continue
                file, _, anchor = target.partition("#")
                dest = (nb_path.parent / file).resolve() if file else nb_path
                where = f"{nb_path.relative_to(out)}: {target}"
                assert dest.is_file() and out.resolve() in dest.parents, f"{where}: no such file in the edition"
                if anchor:
                    heads = [re.sub(r"\s", "-", h.strip()) for c in json.loads(dest.read_text())["cells"]
                             if c["cell_type"] == "markdown" for h in re.findall(r"^#+\s+(.+)$", text(c), re.M)]
                    assert anchor in heads, f"{where}: no heading with that anchor"
                followed += 1
    assert followed >= 10
    notation = json.loads((out / "notation.ipynb").read_text())
    assert text(notation["cells"][0]).startswith("# Notation")


# --- the setup check and error notes, in a real kernel ----------------------------------------

@pytest.mark.slow
def test_setup_cell_stops_with_one_message_and_errors_name_the_rule():
    import nbformat
    from nbclient import NotebookClient

    src = read_notebook(ROOT / "book" / "chapters" / "pooling.ipynb")
    setup = editions.setup_cell(src, "pooling")["source"]
    hide_torch = ("import importlib.util as _u\n_orig = _u.find_spec\n"
                  "_u.find_spec = lambda name, *a: None if name == 'torch' else _orig(name, *a)")
    wrong = "import numpy as np\ndef nmax_pool(x, k, n):\n    return x.reshape(x.shape[0] // k, k, x.shape[1] // k, k)"
    cells = [nbformat.v4.new_code_cell(s) for s in (
        setup, wrong, "nmax_pool(np.zeros((5, 4)), 2, 1)", hide_torch, setup, "print('after')")]
    nb = nbformat.v4.new_notebook(cells=cells)
    NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=True).execute()
    err = [o for o in nb.cells[2].outputs if o.output_type == "error"][0]
    assert err.ename == "ValueError"
    assert "nmax_pool (pooling exercise 2) raised ValueError: check the exercise's rule: x (H, W), windows" in "\n".join(err.traceback)
    err = [o for o in nb.cells[4].outputs if o.output_type == "error"][0]
    assert err.ename == "SetupError" and len(err.traceback) == 1
    assert err.traceback[0].startswith("This notebook needs torch, which this Python cannot import.")
    assert "make lab" in err.traceback[0]


@pytest.mark.slow
def test_run_all_runs_an_untouched_chapter_to_its_summary_and_a_test_run_first_says_what_to_run():
    """Run All as JupyterLab does it (stop at an error, except in a cell tagged raises-exception):
    every cell of the untouched pooling chapter runs, each test cell says its exercise is still to
    do, and the summary lists them. Then, in a fresh kernel, a test cell run first."""
    import nbformat
    from nbclient import NotebookClient

    path = ROOT / "book" / "chapters" / "pooling.ipynb"
    src = read_notebook(path)
    lab = lab_notebook(src, glue=AnyGlue(), source_dir=path.parent, name="book/chapters/pooling.ipynb",
                       titles=editions._titles(ROOT))
    nb = nbformat.from_dict(lab)
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code)
    failed = [c for c in code if any(o.output_type == "error" for o in c.outputs)]
    exercises = exercise_list(src, "pooling")
    assert [c.id for c in failed] == [src["cells"][ex["test"]]["id"] for ex in exercises]
    shown = "".join(o.get("text", "") for o in code[-1].outputs)
    for ex in exercises:
        assert f"{ex['label']} ({ex['title']}): still to do" in shown, shown
    assert f"0 of {len(exercises)} passed" in shown

    test = nbformat.from_dict(copy.deepcopy(lab["cells"][exercises[0]["test"] + 1]))
    alone = nbformat.v4.new_notebook(cells=[test])
    NotebookClient(alone, timeout=60, kernel_name="python3", allow_errors=True).execute()
    err = [o for o in alone.cells[0].outputs if o.output_type == "error"][0]
    assert err.ename == "RunFirst" and len(err.traceback) == 1, err
    assert err.traceback[0].startswith("pooling exercise 1: run the cells above this one first")
    assert "window_counts" in err.traceback[0] and "Run All Above Selected Cell" in err.traceback[0]


@pytest.mark.slow
def test_a_failed_check_shows_its_message_first_and_no_frames_of_the_package():
    import pickle

    import nbformat
    from nbclient import NotebookClient

    from coursecnn.grading import check_close

    with pytest.raises(AssertionError) as caught:
        check_close([1.0, 2.5], [1.0, 2.0], what="w")
    assert type(pickle.loads(pickle.dumps(caught.value))) is AssertionError
    code = "from coursecnn.grading import check_close\n\ncheck_close([1.0, 2.5], [1.0, 2.0], what='w', hint='look again')"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=True).execute()
    err = nb.cells[0].outputs[0]
    assert (err.ename, err.evalue.split(";")[0]) == ("AssertionError", "w differs from the expected values at 1 of 2 entries (max abs error 0.5)")
    assert err.traceback[0].startswith("AssertionError: w differs") and err.traceback[0].endswith(": look again")
    assert err.traceback[1] == "(failed at line 3: check_close([1.0, 2.5], [1.0, 2.0], what='w', hint='look again'))"
    assert "grading.py" not in "\n".join(err.traceback)


# --- edition folders -------------------------------------------------------------------------

def _cell(kind, source, **nbgrader):
    cell = {"cell_type": kind, "metadata": {}, "source": source}
    if kind == "code":
        cell.update(outputs=[], execution_count=None)
    if nbgrader:
        cell["metadata"]["nbgrader"] = {"schema_version": 3, "locked": False, "task": False,
                                        "grade": False, "solution": False, **nbgrader}
    return cell


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "proj"
    (root / "book" / "chapters").mkdir(parents=True)
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "course" / "source").mkdir(parents=True)
    (root / "course" / "gradebook.db").write_text("secret")
    (root / "_toc.yml").write_text("root: intro\n")
    (root / "book" / "intro.md").write_text("# Intro\n")
    (root / "src" / "pkg" / "mod.py").write_text("def double(x):\n    return 2 * x\n")
    nb = {"cells": [
        _cell("markdown", "# Alpha\n\n```{literalinclude} ../../src/pkg/mod.py\n:pyobject: double\n```\n\n"
                          "We glued {glue:text}`n:,`."),
        _cell("code", "from myst_nb import glue\nglue('n', 12345, display=False)"),
        _cell("markdown", "### Exercise 1: triple it"),
        _cell("code", "def triple(x):\n    ### BEGIN SOLUTION\n    return 3 * x\n    ### END SOLUTION",
              solution=True, grade_id="alpha-ex1-solution"),
        _cell("code", "assert triple(2) == 6\n### BEGIN HIDDEN TESTS\nassert triple(5) == 15\n### END HIDDEN TESTS",
              grade=True, grade_id="alpha-ex1-tests", points=1, locked=True),
    ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    for k, c in enumerate(nb["cells"]):
        c["id"] = f"alpha-{k}"
    (root / "book" / "chapters" / "alpha.ipynb").write_text(json.dumps(nb))
    return root


def all_text(folder):
    return "\n".join(p.read_text(errors="replace") for p in Path(folder).rglob("*")
                     if p.is_file() and not p.is_symlink())


def test_lab_edition_of_a_project(project):
    out = project / "_build" / "lab"
    build_lab(out, root=project, glue={"alpha": {"n": "12345"}})
    nb = json.loads((out / "chapters" / "alpha.ipynb").read_text())
    md = text(nb["cells"][0])
    assert "```python\ndef double(x):\n    return 2 * x\n```" in md and "12,345" in md
    assert text(nb["cells"][1]).startswith("# Setup check")
    assert "from coursecnn.lab import glue" in text(nb["cells"][2])
    assert "3 * x" not in all_text(out) and "triple(5)" not in all_text(out)
    assert text(nb["cells"][4]) == ('def triple(x):\n    # YOUR CODE HERE\n    raise NotImplementedError(\n'
                                    '        "alpha exercise 1 (triple it) is still to do: write triple in place of"\n'
                                    '        " this line"\n    )')
    assert not (out / "course").exists() and not (out / "src").exists()


def test_edition_never_links_course_and_keeps_user_files(project):
    out = project / "_build" / "edition"
    book = build_edition("student", out, root=project)
    assert not (out / "course").exists() and "secret" not in all_text(out)
    (book / "chapters" / "my_answers.ipynb").write_text("{}")
    build_edition("student", out, root=project)
    assert (book / "chapters" / "my_answers.ipynb").read_text() == "{}"
    # a file the build made and the user edited: refused, named; --force keeps it beside
    (book / "intro.md").write_text("# My notes\n")
    with pytest.raises(FileExistsError, match=r"files changed since the last build: book/intro.md"):
        build_edition("student", out, root=project)
    build_edition("student", out, root=project, force=True)
    assert (book / "intro.md").read_text() == "# Intro\n"
    assert (book / "intro.md.edited").read_text() == "# My notes\n"
    assert (book / "chapters" / "my_answers.ipynb").exists()


def _run_and_save(nb):
    """What Lab writes after Run All and Save: outputs and counts, no change to any source."""
    for k, c in enumerate(nb["cells"]):
        if c["cell_type"] == "code":
            c["execution_count"] = k + 1
            c["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "ran\n"}]
    nb["metadata"]["widgets"] = {"state": {}}
    return nb


def test_a_lab_update_merges_a_students_answers_into_a_chapter_whose_prose_changed(project):
    import nbformat

    out = project / "_build" / "lab"
    source = project / "book" / "chapters" / "alpha.ipynb"
    build_lab(out, root=project, glue={"alpha": {"n": "1"}})
    mine = out / "chapters" / "alpha.ipynb"
    # Run and saved only: not a change; the update replaces it, says nothing, keeps nothing.
    mine.write_text(json.dumps(_run_and_save(json.loads(mine.read_text()))))
    kept = build_lab(out, root=project, glue={"alpha": {"n": "1"}})
    assert list(kept) == [] and kept.notes == []
    assert "RAN-OUTPUT" not in mine.read_text()

    # The student answers and adds a cell of their own; the authors reword the prose under them.
    nb = _run_and_save(json.loads(mine.read_text()))
    stub = next(c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("solution"))
    stub["source"] = "def triple(x):\n    return x + x + x  # mine"
    nb["cells"].insert(nb["cells"].index(stub) + 1, {"cell_type": "code", "id": "my-scratch", "metadata": {},
                                                     "execution_count": 9, "outputs": [], "source": "triple(7)"})
    mine.write_text(json.dumps(nb))
    src = json.loads(source.read_text())
    src["cells"][2]["source"] = "### Exercise 1: triple it\n\nNew words from the authors."
    source.write_text(json.dumps(src))
    kept = build_lab(out, root=project, glue={"alpha": {"n": "1"}})
    after = json.loads(mine.read_text())
    body = [text(c) for c in after["cells"]]
    assert "New words from the authors." in body[3]
    assert "def triple(x):\n    return x + x + x  # mine" in body and "triple(7)" in body
    assert body.index("triple(7)") == body.index("def triple(x):\n    return x + x + x  # mine") + 1
    assert list(kept) == [] and kept.notes == ["chapters/alpha.ipynb: your 1 answer cell and 1 added cell carried "
                                               "into the new edition"]
    nbformat.validate(nbformat.reads(mine.read_text(), as_version=4))
    # A second update with nothing new changes nothing and keeps the answer.
    build_lab(out, root=project, glue={"alpha": {"n": "1"}})
    assert "# mine" in mine.read_text()

    # A teaching cell the student edited cannot be carried: their notebook is kept as a notebook.
    nb = json.loads(mine.read_text())
    nb["cells"][2]["source"] += "\nprint('my experiment')"
    mine.write_text(json.dumps(nb))
    kept = build_lab(out, root=project, glue={"alpha": {"n": "1"}})
    assert list(kept) == ["chapters/alpha.mine.ipynb"], kept
    assert "alpha.mine.ipynb" in kept.notes[0] and "you edited a cell of the chapter" in kept.notes[0], kept.notes
    assert "my experiment" in (out / "chapters" / "alpha.mine.ipynb").read_text()
    assert "my experiment" not in mine.read_text() and "# mine" in mine.read_text()
    nbformat.validate(nbformat.reads((out / "chapters" / "alpha.mine.ipynb").read_text(), as_version=4))


def test_bad_out_paths_get_one_line_errors(project, capsys, monkeypatch):
    monkeypatch.chdir(project)
    (project / "a_file").write_text("x")
    assert main(["edition", "student", "--out", "a_file"]) == 1
    assert main(["edition", "lab", "--out", "a_file/sub"]) == 1
    assert main(["edition", "lab", "--out", "book/x"]) == 1
    ro = project / "ro"
    ro.mkdir()
    real_access = os.access
    monkeypatch.setattr(editions.os, "access", lambda p, m: False if Path(p) == ro else real_access(p, m))
    assert main(["edition", "student", "--out", "ro/ed"]) == 1
    err = capsys.readouterr().err.strip().split("\n")
    assert len(err) == 4, err
    assert "is a file, not a folder" in err[0] and "is a file, not a folder" in err[1]
    assert "holds the book" in err[2]
    assert "cannot write in" in err[3] and "read-only" in err[3]
    if os.geteuid() != 0:  # root writes anywhere: only a real user sees a read-only folder
        ro.chmod(0o555)
        monkeypatch.setattr(editions.os, "access", real_access)
        try:
            assert main(["edition", "student", "--out", "ro/ed"]) == 1
            assert "cannot write in" in capsys.readouterr().err
        finally:
            ro.chmod(0o755)


KILLER = textwrap.dedent("""
    import sys, time
    from coursecnn import editions
    real = editions.write_notebook
    def slow(nb, path):
        real(nb, path)
        print("WROTE", flush=True)
        time.sleep(60)  # killed here, half way through
    editions.write_notebook = slow
    editions.build_edition(sys.argv[1], sys.argv[2], root=sys.argv[3])
""")


@pytest.mark.parametrize("kind", ["student"])
def test_a_build_killed_midway_leaves_no_solutions_and_the_old_edition(project, kind):
    out = project / "_build" / "edition"
    build_edition(kind, out, root=project)
    before = (out / "book" / "chapters" / "alpha.ipynb").read_text()
    (project / "book" / "chapters" / "alpha.ipynb").write_text(
        (project / "book" / "chapters" / "alpha.ipynb").read_text().replace("triple it", "triple it!"))
    proc = subprocess.Popen([sys.executable, "-c", KILLER, kind, str(out), str(project)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "WROTE"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    build_dir = project / "_build"
    assert "3 * x" not in all_text(build_dir) and "BEGIN SOLUTION" not in all_text(build_dir)
    assert (out / "book" / "chapters" / "alpha.ipynb").read_text() == before  # the old edition, whole
    assert list(build_dir.glob(".edition.partial-*"))  # what the killed build left, hidden
    build_edition(kind, out, root=project)  # the next build cleans up and succeeds
    assert not list(build_dir.glob(".edition.*"))
    assert "triple it!" in (out / "book" / "chapters" / "alpha.ipynb").read_text()


def test_a_build_killed_between_the_renames_is_repaired(project):
    out = project / "_build" / "edition"
    build_edition("student", out, root=project)
    out.rename(out.parent / ".edition.old-999")  # as if killed after moving the old one aside
    build_edition("student", out, root=project)
    assert (out / MARKER).exists() and not list(out.parent.glob(".edition.*"))


@pytest.mark.slow
def test_validate_names_missing_failing_and_passing_exercises(project, capsys):
    from coursecnn.labrun import check_student_notebook

    out = project / "_build" / "lab"
    build_lab(out, root=project, glue={"alpha": {"n": "1"}})
    nb = json.loads((out / "chapters" / "alpha.ipynb").read_text())
    nb["cells"] = [c for c in nb["cells"] if not text(c).startswith(("# Setup check", "from coursecnn.lab import glue"))]
    assert editions.nbgrader_meta(nb["cells"][2])["grade_id"] == "alpha-ex1-solution"
    stub = out / "stub.ipynb"
    stub.write_text(json.dumps(nb))
    nb["cells"][2]["source"] = "def triple(x):\n    return x + x"
    wrong = out / "wrong.ipynb"
    wrong.write_text(json.dumps(nb))
    nb["cells"][2]["source"] = "def triple(x):\n    return 3 * x"
    right = out / "right.ipynb"
    right.write_text(json.dumps(nb))
    del nb["cells"][3]  # an older edition, or a deleted cell
    old = out / "old.ipynb"
    old.write_text(json.dumps(nb))
    (out / "junk.ipynb").write_text("not json")
    results = {p.stem: check_student_notebook(p, root=project) for p in (stub, wrong, right, old, out / "junk.ipynb")}
    assert results["stub"] == [("alpha exercise 1 (triple it): FAILED: NotImplementedError: alpha exercise 1 "
                                "(triple it) is still to do: write triple in place of this line", False)]
    assert results["wrong"] == [("alpha exercise 1 (triple it): FAILED: AssertionError: ", False)]
    assert results["right"] == [("alpha exercise 1 (triple it): passed", True)]
    assert results["old"][0][0].startswith("alpha exercise 1 (triple it): MISSING: its test cell cannot be found")
    assert "cannot read it as a notebook" in results["junk"][0][0]


def test_make_lab_says_when_its_edition_is_out_of_date(project, capsys):
    out = project / "_build" / "lab"
    build_lab(out, root=project, glue={"alpha": {"n": "1"}})
    args = ["--root", str(project), "edition", "lab", "--out", str(out), "--if-missing"]
    assert main(args) == 0
    assert "changed since" not in capsys.readouterr().err
    (project / "src" / "pkg" / "mod.py").write_text("def double(x):\n    return x + x\n")
    assert main(args) == 0
    assert "the chapters or the package changed since" in capsys.readouterr().err


def test_glue_from_the_books_executed_notebooks(project):
    from coursecnn.labedition import glue_from_executed

    executed = project / "_build" / "jupyter_execute" / "chapters"
    executed.mkdir(parents=True)
    (executed / "alpha.ipynb").write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    (executed / "alpha.glue.json").write_text(json.dumps({"n": {"output_type": "display_data", "data": {
        "text/plain": "12345"}, "metadata": {"scrapbook": {"name": "n", "mime_prefix": ""}}}}))
    glue = glue_from_executed(project / "_build" / "jupyter_execute", project)
    assert list(glue.values()) == [{"n": "12345"}]
    build_lab(project / "_build" / "lab", root=project, glue=glue)
    assert "12,345" in (project / "_build" / "lab" / "chapters" / "alpha.ipynb").read_text()


def test_chapter_key_follows_the_code_behind_the_numbers_not_the_prose(tmp_path):
    from coursecnn.labedition import chapter_key

    pkg = tmp_path / "src" / "coursecnn"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from .deep import f\n")
    (pkg / "sub" / "deep.py").write_text("def f():\n    return 1\n")
    (pkg / "other.py").write_text("x = 1\n")
    nb_path = tmp_path / "book" / "ch.ipynb"
    nb_path.parent.mkdir()
    nb = {"cells": [_cell("markdown", "# Ch\n\nProse."), _cell("code", "from coursecnn.sub import f\nglue('n', f())")],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    nb_path.write_text(json.dumps(nb))
    key = chapter_key(nb_path, tmp_path)
    nb["cells"][0]["source"] = "# Ch\n\nReworded prose."
    nb_path.write_text(json.dumps(nb))
    (pkg / "other.py").write_text("x = 2\n")
    assert chapter_key(nb_path, tmp_path) == key
    (pkg / "sub" / "deep.py").write_text("def f():\n    return 2\n")  # two imports down
    assert chapter_key(nb_path, tmp_path) != key
    key = chapter_key(nb_path, tmp_path)
    nb["cells"][1]["source"] += "\n"
    nb_path.write_text(json.dumps(nb))
    assert chapter_key(nb_path, tmp_path) != key


def test_make_lab_takes_the_saved_numbers_and_runs_only_a_changed_chapter(project, capsys, monkeypatch):
    from coursecnn import labedition, labrun

    ran = []
    monkeypatch.setattr(labrun, "run_chapters", lambda paths, root, jobs=1, check=True: ran.extend(paths) or [
        {"path": str(Path(p).relative_to(root)), "glue": {"n": "777"}, "problems": [], "stub_messages": {},
         "seconds": 0.0} for p in paths])
    source = project / "book" / "chapters" / "alpha.ipynb"
    assert labedition.write_glue_cache(project, {str(source): {"n": "12345"}})
    # The same code run elsewhere (other last digits) leaves the committed file alone.
    assert not labedition.write_glue_cache(project, {str(source): {"n": "12345.0000001"}})
    out = project / "_build" / "lab"
    assert main(["--root", str(project), "edition", "lab", "--out", str(out)]) == 0
    assert ran == [] and "12,345" in (out / "chapters" / "alpha.ipynb").read_text()
    assert "numbers from book/glue.json" in capsys.readouterr().out
    nb = json.loads(source.read_text())
    nb["cells"][1]["source"] = "from myst_nb import glue\nglue('n', 777, display=False)"
    source.write_text(json.dumps(nb))
    assert main(["--root", str(project), "edition", "lab", "--out", str(out)]) == 0
    assert [Path(p).name for p in ran] == ["alpha.ipynb"] and "777" in (out / "chapters" / "alpha.ipynb").read_text()


def test_running_chapters_without_a_kernel_package_is_one_line(project, capsys, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "nbclient" else real(name, *a))
    assert main(["--root", str(project), "edition", "lab", "--out", str(project / "_build" / "lab")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "needs nbclient" in err[0] and "pip install -e ." in err[0], err
