"""An nbgrader course directory built from the chapter notebooks.

``build_course(out)`` writes what nbgrader expects::

    out/nbgrader_config.py            course id, SQLite gradebook, per-cell timeout
    out/source/<chapter>/<chapter>.ipynb   one assignment per chapter that has exercises

Each assignment is the whole chapter (outputs cleared), so the exercises keep their context: the
text, the imports and the helpers defined before them. ``nbgrader generate_assignment``,
``autograde``, ``generate_feedback`` and ``export`` then run in ``out``.

Before writing anything, every exercise cell is validated (``validate_notebook``): a malformed
nbgrader metadata entry, a duplicate ``grade_id`` or unbalanced solution / hidden-test markers stop
the build with an ``ExerciseFormatError`` naming the notebook and the cell.
"""

import numbers
import re
from pathlib import Path

from .editions import (
    BEGIN_HIDDEN, BEGIN_SOLUTION, END_HIDDEN, END_SOLUTION, ExerciseFormatError, clear_solutions,
    find_root, has_exercises, read_notebook, remove_hidden_tests, source_text, write_notebook,
)

__all__ = ["ExerciseFormatError", "validate_notebook", "exercises", "chapter_notebooks", "build_course"]

_KEYS = {"schema_version", "grade", "locked", "solution", "task", "grade_id", "points", "checksum", "cell_type"}
_GRADE_ID = re.compile(r"^[A-Za-z0-9_\-]+$")


def _cell_name(i, meta):
    gid = meta.get("grade_id")
    return f"cell {i}" + (f" (grade_id {gid!r})" if isinstance(gid, str) and gid else "")


def validate_notebook(nb, name="notebook"):
    """validate_notebook(nb, name="notebook") -> list

    Check every nbgrader cell of a notebook the way ``nbgrader generate_assignment`` will, and a
    little more strictly (an unknown metadata key is an error here, not a silently dropped
    typo).

    Args:
        nb (dict): the notebook (nbformat 4 JSON).
        name (str): how errors name the notebook, e.g. its path. Default: ``"notebook"``.

    Returns:
        list of str: the grade_ids of the nbgrader cells, in order. Raises
        ``ExerciseFormatError`` naming the notebook, the cell index and its grade_id.

    Example::

        >>> cell = {"cell_type": "code", "source": "assert True", "metadata": {"nbgrader": {
        ...     "grade": True, "solution": False, "locked": True, "schema_version": 3, "grade_id": "t1"}}}
        >>> validate_notebook({"cells": [cell]}, name="ch.ipynb")
        Traceback (most recent call last):
        coursecnn.editions.ExerciseFormatError: ch.ipynb, cell 0 (grade_id 't1'): a test cell (grade=true) needs "points", a non-negative number
    """
    seen = {}
    ids = []
    for i, cell in enumerate(nb.get("cells", [])):
        meta = cell.get("metadata", {}).get("nbgrader")
        text = source_text(cell)
        where = f"{name}, cell {i}"
        if meta is None:
            for marker in (BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN, END_HIDDEN):
                if marker in text:
                    raise ExerciseFormatError(
                        f"{where}: contains {marker!r} but has no nbgrader metadata (mark it as a "
                        "solution or test cell)"
                    )
            continue
        if not isinstance(meta, dict):
            raise ExerciseFormatError(f"{where}: metadata.nbgrader must be a mapping, got {meta!r}")
        where = f"{name}, {_cell_name(i, meta)}"

        def bad(msg):
            raise ExerciseFormatError(f"{where}: {msg}")

        unknown = sorted(set(meta) - _KEYS)
        if unknown:
            bad(f"unknown nbgrader metadata key(s) {unknown}; allowed: {sorted(_KEYS)}")
        if meta.get("schema_version") != 3:
            bad(f"schema_version must be 3, got {meta.get('schema_version')!r}")
        for key in ("grade", "solution", "locked"):
            if not isinstance(meta.get(key), bool):
                bad(f"{key!r} must be true or false, got {meta.get(key)!r}")
        if "task" in meta and not isinstance(meta["task"], bool):
            bad(f"'task' must be true or false, got {meta['task']!r}")
        grade, solution, locked, task = meta["grade"], meta["solution"], meta["locked"], meta.get("task", False)
        if grade or solution or locked or task:
            gid = meta.get("grade_id")
            if not isinstance(gid, str) or not _GRADE_ID.match(gid):
                bad(f"grade_id must be a non-empty string of letters, digits, '_' and '-', got {gid!r}")
            if gid in seen:
                bad(f"duplicate grade_id {gid!r}: cell {seen[gid]} has it too")
            seen[gid] = i
            ids.append(gid)
        if grade or task:
            pts = meta.get("points")
            if isinstance(pts, bool) or not isinstance(pts, numbers.Real) or pts < 0:
                bad(f"a {'task' if task else 'test'} cell (grade=true) needs \"points\", a non-negative number"
                    + ("" if pts is None else f", got {pts!r}"))
        elif "points" in meta:
            bad("'points' is only allowed on test (grade=true) or task cells")
        if task and cell.get("cell_type") != "markdown":
            bad("a task cell must be a markdown cell")
        if cell.get("cell_type") == "markdown" and not task and grade != solution:
            bad("a markdown answer cell must be both a solution and a grade cell (solution=true, grade=true)")
        if grade and not solution and not locked:
            bad("a test cell must be locked (locked=true), or students can edit the tests")
        if BEGIN_HIDDEN in text and not grade:
            bad(f"{BEGIN_HIDDEN!r} in a cell that is not a test cell (grade=true)")
        # Raises on unbalanced or misplaced markers, naming the cell.
        remove_hidden_tests(clear_solutions(cell, where), where)
    return ids


def exercises(nb):
    """The nbgrader cells of a notebook as ``(index, grade_id, kind, points)`` tuples, where kind
    is ``"solution"``, ``"test"``, ``"answer"`` (a manually graded solution), ``"task"`` or ``"locked"``."""
    rows = []
    for i, cell in enumerate(nb.get("cells", [])):
        meta = cell.get("metadata", {}).get("nbgrader") or {}
        if not (meta.get("grade") or meta.get("solution") or meta.get("locked") or meta.get("task")):
            continue
        if meta.get("task"):
            kind = "task"
        elif meta.get("solution") and meta.get("grade"):
            kind = "answer"
        elif meta.get("solution"):
            kind = "solution"
        elif meta.get("grade"):
            kind = "test"
        else:
            kind = "locked"
        rows.append((i, meta.get("grade_id"), kind, meta.get("points", 0) if meta.get("grade") or meta.get("task") else 0))
    return rows


def display_path(path, root=None):
    """``path`` relative to the current folder or the project root when under it, for messages."""
    path = Path(path).resolve()
    for base in (Path.cwd(), Path(root).resolve() if root else None):
        if base is not None and path.is_relative_to(base):
            return str(path.relative_to(base))
    return str(path)


def chapter_notebooks(root=None, chapters=None):
    """The notebooks to turn into assignments, as ``{assignment_name: path}``.

    Args:
        root (str or Path, optional): the project root. Default: found by ``find_root``.
        chapters (list of str, optional): chapter names (the stems of ``book/chapters/*.ipynb``)
            or paths to ``.ipynb`` files. Default: every chapter that has exercises.
    """
    root = Path(root) if root else find_root()
    available = {p.stem: p for p in sorted((root / "book" / "chapters").glob("*.ipynb"))}
    if chapters is None:
        return {name: p for name, p in available.items() if has_exercises(read_notebook(p))}
    picked = {}
    for item in chapters:
        if str(item).endswith(".ipynb"):
            path = Path(item)
            if not path.is_file():
                raise FileNotFoundError(f"no notebook at {path}")
        elif item in available:
            path = available[item]
        else:
            raise ValueError(
                f"unknown chapter {item!r}: expected one of {sorted(available)} or a path to an .ipynb file"
            )
        if path.stem in picked:
            raise ValueError(f"two notebooks named {path.stem!r}: assignment names must be unique")
        picked[path.stem] = path
    return picked


_CONFIG = '''\
# nbgrader configuration, written by `coursecnn course build`. Run nbgrader in this folder.
import os
import sys

c = get_config()  # noqa: F821 (defined by traitlets when it loads this file)
_here = os.path.dirname(os.path.abspath(__file__))
# nbgrader runs `alembic` (the gradebook's migrations) by name: find it beside nbgrader's Python
# even when the environment is not activated (.venv/bin/nbgrader called by its path).
os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")

c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.root = _here
# The gradebook: students, assignments and every grade, in one SQLite file beside this one.
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(_here, "gradebook.db")
# Seconds one cell may run before autograde interrupts it and scores it zero (an endless loop).
c.ExecutePreprocessor.timeout = {timeout}
c.Execute.timeout = {timeout}
# The stub students start from: the same one the student edition of the book shows.
c.ClearSolutions.code_stub = {{"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
'''


def build_course(out, chapters=None, timeout=120, course_id="coursecnn", root=None):
    """build_course(out, chapters=None, timeout=120, course_id="coursecnn", root=None) -> dict

    Write an nbgrader course directory: ``out/nbgrader_config.py`` and
    ``out/source/<name>/<name>.ipynb`` for each chapter with exercises. Every notebook is
    validated before anything is written.

    Args:
        out (str or Path): the course folder (created; an existing ``source/<name>`` is replaced,
            other files, e.g. ``submitted/`` and the gradebook, are kept).
        chapters (list of str, optional): chapter names or ``.ipynb`` paths. Default: every
            chapter with exercises.
        timeout (int): seconds one cell may run when autograding. Every cell of the chapter runs,
            its training runs too, so this must exceed the slowest of them. Default: ``120``.
        course_id (str): nbgrader's course id. Default: ``"coursecnn"``.
        root (str or Path, optional): the project root. Default: found by ``find_root``.

    Returns:
        dict: ``{assignment_name: [grade_id, ...]}`` for the assignments written.
    """
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Integral) or timeout < 1:
        raise ValueError(f"timeout must be a positive whole number of seconds, got {timeout!r}")
    if not isinstance(course_id, str) or not _GRADE_ID.match(course_id):
        raise ValueError(f"course_id must be letters, digits, '_' or '-', got {course_id!r}")
    notebooks = chapter_notebooks(root, chapters)
    if not notebooks:
        raise ValueError("no chapter has exercises (nbgrader solution or test cells): nothing to build")
    checked = {}
    for name, path in notebooks.items():
        nb = read_notebook(path)
        shown = display_path(path, root)
        ids = validate_notebook(nb, name=shown)
        if not ids:
            raise ValueError(f"{shown} has no exercises (nbgrader solution or test cells)")
        for cell in nb["cells"]:
            if cell.get("cell_type") == "code":
                cell["outputs"], cell["execution_count"] = [], None
        checked[name] = (nb, ids)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "nbgrader_config.py").write_text(_CONFIG.format(course_id=course_id, timeout=int(timeout)))
    for name, (nb, _) in checked.items():
        target = out / "source" / name
        if target.exists():
            for old in target.glob("*.ipynb"):
                old.unlink()
        write_notebook(nb, target / f"{name}.ipynb")
    return {name: ids for name, (_, ids) in checked.items()}
