"""Editions (student notebooks, book trees), exercise validation, the nbgrader course directory
and the ``coursecnn`` command line. The real nbgrader round trip is in test_nbgrader_e2e.py."""

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from coursecnn import cli
from coursecnn.course import build_course, chapter_notebooks, exercises, validate_notebook
from coursecnn.editions import (
    CODE_STUB, SKIP_TAG, TEXT_STUB, ExerciseFormatError, build_edition, clear_solutions, find_root,
    has_exercises, remove_hidden_tests, student_notebook,
)

FIXTURE = Path(__file__).parent / "fixtures" / "mini.ipynb"


def meta(**kw):
    base = {"grade": False, "solution": False, "locked": False, "schema_version": 3}
    base.update(kw)
    return {"nbgrader": base}


def code(source, **nbgrader):
    return {"cell_type": "code", "metadata": meta(**nbgrader) if nbgrader else {}, "source": source,
            "outputs": [{"output_type": "stream", "name": "stdout", "text": "old output\n"}], "execution_count": 7}


def markdown(source, **nbgrader):
    return {"cell_type": "markdown", "metadata": meta(**nbgrader) if nbgrader else {}, "source": source}


def notebook(*cells):
    return {"cells": list(cells), "metadata": {"kernelspec": {"name": "python3", "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


SOLUTION = code(
    "import numpy as np\n\ndef relu(x):\n    \"\"\"doc\"\"\"\n    ### BEGIN SOLUTION\n    return np.maximum(x, 0.0)\n"
    "    ### END SOLUTION\n\nprint('defined')",
    solution=True, grade_id="ch-relu",
)
TEST = code(
    "assert relu(-1.0) == 0.0\n### BEGIN HIDDEN TESTS\nassert relu(2.5) == 2.5\n### END HIDDEN TESTS\nprint('ok')",
    grade=True, locked=True, points=2, grade_id="ch-relu-tests",
)


# --- the student transform ---------------------------------------------------------------


def test_clear_solutions_keeps_code_around_the_region_and_indents_the_stub():
    new = clear_solutions(SOLUTION)
    assert new["source"] == (
        "import numpy as np\n\ndef relu(x):\n    \"\"\"doc\"\"\"\n    # YOUR CODE HERE\n"
        "    raise NotImplementedError()\n\nprint('defined')"
    )


def test_clear_solutions_whole_cell_markdown_and_list_sources():
    bare = code(["x = 1\n", "y = 2"], solution=True, grade_id="ch-bare")
    assert clear_solutions(bare)["source"] == CODE_STUB
    answer = markdown("The kernel is flipped because ...", solution=True, grade=True, points=1, grade_id="ch-why")
    assert clear_solutions(answer)["source"] == TEXT_STUB
    two = code("### BEGIN SOLUTION\na = 1\n### END SOLUTION\nb = 2\n### BEGIN SOLUTION\nc = 3\n### END SOLUTION",
               solution=True, grade_id="ch-two")
    assert clear_solutions(two)["source"] == f"{CODE_STUB}\nb = 2\n{CODE_STUB}"
    plain = code("x = 1  # not an exercise")
    assert clear_solutions(plain)["source"] == "x = 1  # not an exercise"


@pytest.mark.parametrize("source, message", [
    ("### BEGIN SOLUTION\nx = 1", "has no matching 'END SOLUTION'"),
    ("x = 1\n### END SOLUTION", "'END SOLUTION' without a 'BEGIN SOLUTION'"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "a second 'BEGIN SOLUTION'"),
])
def test_unbalanced_solution_markers_name_the_cell(source, message):
    with pytest.raises(ExerciseFormatError, match=message) as info:
        clear_solutions(code(source, solution=True, grade_id="g"), where="ch.ipynb, cell 4")
    assert str(info.value).startswith("ch.ipynb, cell 4: ")


def test_solution_region_outside_a_solution_cell_is_an_error():
    with pytest.raises(ExerciseFormatError, match="not a solution cell"):
        clear_solutions(code("### BEGIN SOLUTION\nx = 1\n### END SOLUTION"))


def test_remove_hidden_tests():
    assert remove_hidden_tests(TEST)["source"] == "assert relu(-1.0) == 0.0\nprint('ok')"
    with pytest.raises(ExerciseFormatError, match="'BEGIN HIDDEN TESTS' has no matching"):
        remove_hidden_tests(code("### BEGIN HIDDEN TESTS\nassert 1", grade=True, grade_id="t", points=1))


def test_student_notebook_clears_everything_and_leaves_the_source_alone():
    nb = notebook(markdown("# Title"), SOLUTION, TEST, code("print(relu(3))"))
    before = copy.deepcopy(nb)
    student = student_notebook(nb)
    assert nb == before
    text = json.dumps(student)
    assert "BEGIN" not in text and "np.maximum" not in text and "2.5" not in text and "old output" not in text
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in student["cells"] if c["cell_type"] == "code")
    assert student["cells"][1]["metadata"]["nbgrader"] == SOLUTION["metadata"]["nbgrader"]
    assert not any(SKIP_TAG in c["metadata"].get("tags", []) for c in student["cells"])
    tagged = student_notebook(nb, skip_execution=True)
    tags = [SKIP_TAG in c["metadata"].get("tags", []) for c in tagged["cells"]]
    assert tags == [False, True, True, False]


def test_has_exercises():
    assert has_exercises(notebook(SOLUTION))
    assert not has_exercises(notebook(code("x = 1"), markdown("text")))


# --- validation --------------------------------------------------------------------------


def test_validate_accepts_the_fixture_and_lists_grade_ids():
    nb = json.loads(FIXTURE.read_text())
    assert validate_notebook(nb) == ["mini-output_size", "mini-output_size-tests", "mini-max_pool", "mini-max_pool-tests"]
    rows = exercises(nb)
    assert [(kind, pts) for _, _, kind, pts in rows] == [("solution", 0), ("test", 2), ("solution", 0), ("test", 3)]


@pytest.mark.parametrize("cell, message", [
    (code("assert 1", grade=True, locked=True, grade_id="t"), 'needs "points"'),
    (code("assert 1", grade=True, locked=True, grade_id="t", points=-1), "got -1"),
    (code("assert 1", grade=True, locked=True, grade_id="t", points="two"), "got 'two'"),
    (code("assert 1", grade=True, locked=True, points=1), "grade_id must be a non-empty string"),
    (code("assert 1", grade=True, locked=True, points=1, grade_id="has space"), "got 'has space'"),
    (code("assert 1", grade="yes", locked=True, points=1, grade_id="t"), "'grade' must be true or false"),
    (code("assert 1", grade=True, locked=True, points=1, grade_id="t", schema_version=2), "schema_version must be 3"),
    (code("assert 1", grade=True, locked=True, point=1, grade_id="t"), "unknown nbgrader metadata key(s) ['point']"),
    (code("assert 1", grade=True, points=1, grade_id="t"), "must be locked"),
    (code("x = 1", solution=True, grade_id="s", points=1), "'points' is only allowed"),
    (markdown("answer", solution=True, grade_id="m"), "markdown answer cell must be both"),
    (code("x", task=True, grade_id="k", points=1), "task cell must be a markdown cell"),
    (code("### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS", solution=True, grade_id="s"), "not a test cell"),
    (code("### BEGIN SOLUTION\nx = 1"), "has no nbgrader metadata"),
    ({"cell_type": "code", "metadata": {"nbgrader": "yes"}, "source": ""}, "must be a mapping"),
])
def test_malformed_metadata_names_notebook_cell_and_problem(cell, message):
    nb = notebook(markdown("intro"), cell)
    with pytest.raises(ExerciseFormatError) as info:
        validate_notebook(nb, name="book/chapters/pooling.ipynb")
    text = str(info.value)
    assert text.startswith("book/chapters/pooling.ipynb, cell 1")
    assert message in text


def test_duplicate_grade_id_names_both_cells():
    nb = notebook(SOLUTION, TEST, code("y = 2", solution=True, grade_id="ch-relu"))
    with pytest.raises(ExerciseFormatError, match=r"ch.ipynb, cell 2 \(grade_id 'ch-relu'\): duplicate grade_id 'ch-relu': cell 0 has it too"):
        validate_notebook(nb, name="ch.ipynb")


# --- a fake project: editions and course directories ---------------------------------------


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "proj"
    chapters = root / "book" / "chapters"
    chapters.mkdir(parents=True)
    (root / "_toc.yml").write_text("format: jb-book\nroot: intro\n")
    (root / "_config.yml").write_text("title: t\n")
    (root / "book" / "intro.md").write_text("# Intro\n")
    (root / "book" / "_vendor" / "vendor").mkdir(parents=True)
    (root / "book" / "_vendor" / "vendor" / "x.js").write_text("//")
    (root / "book" / "_build").mkdir()
    (root / "book" / "_build" / "stale.html").write_text("old")
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "src" / "pkg" / "mod.py").write_text("X = 1\n")
    (root / "docs").mkdir()
    (root / "docs" / "API.md").write_text("# API\n")
    (root / ".git").mkdir()
    (chapters / "alpha.ipynb").write_text(json.dumps(notebook(markdown("# Alpha"), SOLUTION, TEST)))
    (chapters / "beta.ipynb").write_text(json.dumps(notebook(markdown("# Beta"), code("print(1)"))))
    return root


def test_find_root(project):
    assert find_root(project / "book" / "chapters") == project


def test_student_edition_tree(project, tmp_path):
    out = project / "_build" / "edition"
    book = build_edition("student", out, root=project)
    assert book == out / "book"
    assert (book / "intro.md").read_text() == "# Intro\n"
    assert (book / "_vendor" / "vendor" / "x.js").exists()
    assert not (book / "_build").exists()
    # ../../src and ../../docs resolve from a chapter as they do in the sources
    assert (book / "chapters" / ".." / ".." / "src" / "pkg" / "mod.py").read_text() == "X = 1\n"
    assert (out / "docs" / "API.md").exists() and (out / "_toc.yml").exists()
    assert os.path.islink(out / "src") and not (out / ".git").exists()
    alpha = json.loads((book / "chapters" / "alpha.ipynb").read_text())
    assert "np.maximum" not in json.dumps(alpha) and "HIDDEN" not in json.dumps(alpha)
    assert SKIP_TAG in alpha["cells"][1]["metadata"]["tags"]
    assert json.loads((book / "chapters" / "beta.ipynb").read_text()) == json.loads(
        (project / "book" / "chapters" / "beta.ipynb").read_text())
    # the sources are untouched, and a second build replaces the first, keeping a file it did
    # not make (issue 19: no rmtree of user files)
    assert "np.maximum" in (project / "book" / "chapters" / "alpha.ipynb").read_text()
    (book / "leftover.md").write_text("x")
    build_edition("student", out, root=project)
    assert (book / "leftover.md").read_text() == "x"
    # replacing the edition removes the links, never what they point to
    assert (project / "src" / "pkg" / "mod.py").read_text() == "X = 1\n"
    assert (project / "docs" / "API.md").exists()


def test_instructor_edition_keeps_solutions(project):
    book = build_edition("instructor", project / "_build" / "instructor", root=project)
    assert (book / "chapters" / "alpha.ipynb").read_text() == (project / "book" / "chapters" / "alpha.ipynb").read_text()


def test_edition_refuses_to_overwrite_foreign_folders(project, tmp_path):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="was not made by `coursecnn edition`"):
        build_edition("student", foreign, root=project)
    assert (foreign / "notes.txt").read_text() == "keep me"
    with pytest.raises(ValueError, match="holds the book"):
        build_edition("student", project / "book" / "ed", root=project)
    with pytest.raises(ValueError, match="'student' or 'instructor'"):
        build_edition("teacher", tmp_path / "x", root=project)


def test_build_course_writes_config_and_chapters_with_exercises(project, tmp_path):
    out = tmp_path / "course"
    built = build_course(out, timeout=7, course_id="cnn101", root=project)
    assert built == {"alpha": ["ch-relu", "ch-relu-tests"]}
    nb = json.loads((out / "source" / "alpha" / "alpha.ipynb").read_text())
    assert "np.maximum" in json.dumps(nb) and "BEGIN HIDDEN TESTS" in json.dumps(nb)
    assert all(c.get("outputs", []) == [] for c in nb["cells"])
    assert not (out / "source" / "beta").exists()
    config = (out / "nbgrader_config.py").read_text()
    assert 'c.CourseDirectory.course_id = \'cnn101\'' in config
    assert "c.ExecutePreprocessor.timeout = 7" in config
    # the config is valid Python that traitlets can load, with an absolute SQLite path
    from traitlets.config.loader import PyFileConfigLoader

    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(out)).load_config()
    assert cfg.CourseDirectory.db_url == "sqlite:///" + str((out / "gradebook.db").resolve())
    assert cfg.CourseDirectory.root == str(out.resolve())


def test_build_course_stops_on_a_bad_chapter_and_writes_nothing(project, tmp_path):
    bad = notebook(SOLUTION, TEST, copy.deepcopy(TEST))
    (project / "book" / "chapters" / "gamma.ipynb").write_text(json.dumps(bad))
    out = tmp_path / "course"
    with pytest.raises(ExerciseFormatError, match=r"gamma.ipynb, cell 2 \(grade_id 'ch-relu-tests'\): duplicate"):
        build_course(out, root=project)
    assert not out.exists()


def test_build_course_arguments(project, tmp_path):
    with pytest.raises(ValueError, match="unknown chapter 'delta': expected one of \\['alpha', 'beta'\\]"):
        build_course(tmp_path / "c", chapters=["delta"], root=project)
    with pytest.raises(ValueError, match="beta.ipynb has no exercises"):
        build_course(tmp_path / "c", chapters=["beta"], root=project)
    with pytest.raises(ValueError, match="timeout must be a positive whole number of seconds, got 0"):
        build_course(tmp_path / "c", timeout=0, root=project)
    built = build_course(tmp_path / "c", chapters=[str(FIXTURE)], root=project)
    assert list(built) == ["mini"]
    assert "c.ExecutePreprocessor.timeout = 120" in (tmp_path / "c" / "nbgrader_config.py").read_text()
    assert chapter_notebooks(project, ["alpha", str(FIXTURE)]).keys() == {"alpha", "mini"}


# --- the command line --------------------------------------------------------------------


def test_cli_course_build_check_and_edition(project, tmp_path, capsys):
    assert cli.main(["--root", str(project), "course", "build", str(tmp_path / "c"), "--timeout", "9"]) == 0
    assert "alpha.ipynb: 2 nbgrader cells" in capsys.readouterr().out
    assert "timeout = 9" in (tmp_path / "c" / "nbgrader_config.py").read_text()
    assert cli.main(["--root", str(project), "course", "check"]) == 0
    out = capsys.readouterr().out
    assert "alpha: 2 nbgrader cells, 2 points" in out and "ch-relu-tests  (2 points)" in out
    assert cli.main(["--root", str(project), "edition", "student", "--out", str(tmp_path / "ed")]) == 0
    assert (tmp_path / "ed" / "book" / "chapters" / "alpha.ipynb").exists()


def test_cli_errors_are_one_line_and_exit_1(project, tmp_path, capsys):
    (project / "book" / "chapters" / "gamma.ipynb").write_text(
        json.dumps(notebook(code("assert 1", grade=True, locked=True, grade_id="g"))))
    assert cli.main(["--root", str(project), "course", "build", str(tmp_path / "c")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("coursecnn: error: book/chapters/gamma.ipynb, cell 0 (grade_id 'g'): ")
    (project / "book" / "chapters" / "gamma.ipynb").write_text(json.dumps(notebook(SOLUTION, TEST, code("relu(1)"))))
    assert cli.main(["--root", str(project), "course", "check"]) == 1
    assert "gamma.ipynb, cell 2: uses 'relu'" in capsys.readouterr().err
    assert cli.main(["--root", str(tmp_path), "course", "check"]) == 1
    assert "cannot find the coursecnn project" in capsys.readouterr().err


def test_cli_help_and_bare_commands(capsys):
    assert cli.main([]) == 2
    assert "edition" in capsys.readouterr().out
    with pytest.raises(SystemExit) as info:
        cli.main(["course", "build", "--help"])
    assert info.value.code == 0
    assert "--timeout SECONDS" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["edition", "teacher", "--out", "x"])
    assert "invalid choice: 'teacher'" in capsys.readouterr().err


def test_python_dash_m_runs_the_cli():
    done = subprocess.run([sys.executable, "-m", "coursecnn", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "usage: coursecnn" in done.stdout


def test_docstring_examples_hold():
    import doctest

    from coursecnn import course, editions

    for module in (editions, course):
        result = doctest.testmod(module)
        assert result.attempted >= 1 and result.failed == 0, module.__name__


def test_a_cell_that_needs_an_exercise_stops_the_student_edition(project):
    from coursecnn.editions import check_independent

    uses = notebook(SOLUTION, TEST, code("%matplotlib inline\nprint(relu(-3.0))"))
    with pytest.raises(ExerciseFormatError, match=r"cell 2: uses 'relu', which only the exercise solution in cell 0"):
        check_independent(uses, "ch.ipynb")
    # defined outside the exercise too (before or after it): no problem
    check_independent(notebook(code("relu = abs"), SOLUTION, TEST, code("print(relu(-3.0))")))
    check_independent(notebook(SOLUTION, TEST, code("from math import fabs as relu"), code("print(relu(-3.0))")))
    # the solution cell's own helpers and the tests' use of them are fine
    check_independent(notebook(code("import numpy as np"), SOLUTION, TEST, code("print(np.pi)")))
    with pytest.raises(ExerciseFormatError, match="uses 'np'"):  # imported only by the solution cell
        check_independent(notebook(SOLUTION, TEST, code("print(np.pi)")))
    (project / "book" / "chapters" / "alpha.ipynb").write_text(json.dumps(uses))
    with pytest.raises(ExerciseFormatError, match=r"^book/chapters/alpha.ipynb, cell 2: uses 'relu'"):
        build_edition("student", project / "_build" / "edition", root=project)
