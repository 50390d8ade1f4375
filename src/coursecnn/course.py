"""An nbgrader course directory built from the chapter notebooks.

``build_course(out)`` writes what nbgrader expects::

    out/nbgrader_config.py            course id, SQLite gradebook, per-cell timeout
    out/source/<chapter>/<chapter>.ipynb   one assignment per chapter that has exercises

Each assignment holds the chapter's exercises and only the setup they need (``assignment_notebook``):
the title, each exercise's statement, and the code cells that define a name an exercise or its
tests use, found by following the names back through the chapter. The narrative (training runs,
plots) stays in the book, so grading a submission takes seconds. ``out/coursecnn_rules.json``
records, per answer cell, the names it must define and whether it may use coursecnn and torch,
for the grading executor (``coursecnn.grader``). ``nbgrader generate_assignment``, then
``coursecnn grade`` (or ``nbgrader autograde``), ``generate_feedback`` and ``export`` run in ``out``.

A build never destroys: ``out/.coursecnn-build.json`` records what it wrote. On a rebuild a file
still as recorded is updated; a file edited since (the configuration, a source notebook) is kept
and reported, or with ``force=True`` replaced after a backup beside it; files the build did not
make are left alone. A course whose gradebook belongs to another course id is refused.

Before writing anything, every exercise cell is validated (``validate_notebook``): a malformed
nbgrader metadata entry, a duplicate ``grade_id`` or unbalanced solution / hidden-test markers stop
the build with an ``ExerciseFormatError`` naming the notebook and the cell.
"""

import ast
import hashlib
import json
import numbers
import re
import shutil
import sqlite3
import symtable
import time
from pathlib import Path

from .editions import (
    BEGIN_HIDDEN, BEGIN_SOLUTION, END_HIDDEN, END_SOLUTION, ExerciseFormatError, clear_solutions,
    find_root, has_exercises, read_notebook, remove_hidden_tests, source_text, write_notebook,
)

__all__ = ["ExerciseFormatError", "validate_notebook", "exercises", "chapter_notebooks", "build_course",
           "assignment_notebook", "BuildReport"]

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


# ---- exercise-only assignments ----------------------------------------------------------------

_MAGIC = re.compile(r"^\s*[%!].*$", re.M)


def _names(source):
    """(defined, used) names of a code cell: what its top level binds, and the global names it
    reads (inside its functions too) that it does not bind itself."""
    try:
        top = symtable.symtable(_MAGIC.sub("", source), "cell", "exec")
    except (SyntaxError, ValueError):
        return set(), set()
    defined = {s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported()}
    used = {s.get_name() for s in top.get_symbols() if s.is_referenced()}
    stack = list(top.get_children())
    while stack:
        table = stack.pop()
        stack.extend(table.get_children())
        used |= {s.get_name() for s in table.get_symbols() if s.is_global() and s.is_referenced()}
    return defined, used - defined


_QUIET_CALLS = {"print", "plt", "glue", "display", "fig", "ax", "axes"}
_CONFIG_CALL = re.compile(r"^(set_|manual_seed$|seed$|use_deterministic)")


def _call_root(node):
    """For ``a.b.c(...)``: ("a", "c"); None when the statement is not a call."""
    if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
        return None
    func, last = node.value.func, None
    while isinstance(func, ast.Attribute):
        last = last or func.attr
        func = func.value
    return (func.id if isinstance(func, ast.Name) else None), (last or getattr(func, "id", None))


def _slice_setup(source, needed):
    """A setup cell's top-level statements that the exercises need, as source; None keeps it whole.

    Kept: statements (imports too) that define a needed name, and configuration calls on a module
    (``torch.manual_seed(0)``, ``np.set_printoptions(...)``). Dropped: plots, prints, asserts,
    training runs whose results no exercise reads.
    """
    if _MAGIC.search(source):
        return None
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    lines = source.split("\n")
    chunks, need = [], set(needed)
    for stmt in reversed(tree.body):
        first = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])])
        segment = "\n".join(lines[first - 1:stmt.end_lineno])
        defined, used = _names(segment)
        call = _call_root(stmt)
        if isinstance(stmt, ast.Assert):
            keep = False
        elif call is not None:
            root, last = call
            keep = root not in _QUIET_CALLS and last is not None and root != last \
                and bool(_CONFIG_CALL.match(last))
        else:
            keep = bool(defined & need)
        if keep:
            if not chunks and call is not None:
                segment += ";"  # the cell's last line: no echo of what a seed call returns
            chunks.insert(0, segment)
            need = (need - defined) | used
    return "\n".join(chunks)


_ASSIGNMENT_NOTE = ("*This assignment holds the chapter's exercises and the setup they need; "
                   "the chapter itself, with its explanations and figures, is in the book.*")


def assignment_notebook(nb):
    """assignment_notebook(nb) -> dict

    The chapter cut down to its exercises and the setup they need: the first cell (the title),
    every nbgrader cell, the markdown just before each exercise, and the code that defines a name
    a later kept cell reads (followed back through the chapter, statement by statement: a cell
    that loads the data and then trains a model for a plot keeps only the loading). Imports and
    configuration calls (seeds, print options) of kept cells stay. Cells after the last exercise
    are dropped. Cell ids, metadata and order are kept; nbgrader cells are unchanged.

    Args:
        nb (dict): the chapter notebook (nbformat 4 JSON); not modified.

    Returns:
        dict: a new notebook.
    """
    import copy

    cells = nb.get("cells", [])
    graded = {i for i, c in enumerate(cells) if c.get("metadata", {}).get("nbgrader")}
    if not graded:
        return dict(nb, cells=[])
    keep, sources = set(graded), {}
    needed = set()
    for i in range(max(graded), -1, -1):
        cell = cells[i]
        if cell.get("cell_type") != "code":
            continue
        text = source_text(cell)
        defined, used = _names(text)
        if i in graded:
            keep.add(i)
        elif defined & needed:
            sliced = _slice_setup(text, needed)
            if sliced is not None:
                text = sources[i] = sliced
                defined, used = _names(text)
            keep.add(i)
        else:
            continue
        needed = (needed - defined) | used
    for i in sorted(graded):
        j = i - 1
        while j >= 0 and cells[j].get("cell_type") == "markdown" and j not in graded:
            keep.add(j)
            text = source_text(cells[j])
            heading = re.search(r"^#{1,6} ", text, re.M)
            if heading and heading.start() > 0:  # the chapter's prose before "## Exercises" stays in the book
                sources[j] = text[heading.start():]
                break
            j -= 1
    if cells and cells[0].get("cell_type") == "markdown" and 0 not in graded:
        keep.add(0)
        sources[0] = source_text(cells[0]).rstrip("\n") + "\n\n" + _ASSIGNMENT_NOTE
    out = []
    for i in sorted(keep):
        cell = copy.deepcopy(cells[i])
        if i in sources:
            cell["source"] = sources[i]
        out.append(cell)
    return dict(nb, cells=out)


def _rules(nb):
    """{solution grade_id: {"declared", "plain", "limits"}}: from each solution cell's source (the
    names its stub declares) and its ``metadata.coursecnn`` (``allow``, ``limits``)."""
    from .grader.rules import cell_rules

    rules = {}
    for cell in nb.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader") or {}
        if meta.get("solution") and cell.get("cell_type") == "code":
            rules[meta["grade_id"]] = cell_rules(source_text(cell), cell.get("metadata", {}).get("coursecnn"))
    return rules


_CONFIG = '''\
# nbgrader configuration, written by `coursecnn course build`. Run nbgrader in this folder.
# Edit it freely: a later `course build` keeps your version (and says so) unless given --force.
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
# Seconds one cell may run before autograde stops it and scores it zero (an endless loop).
c.ExecutePreprocessor.timeout = {timeout}
c.Execute.timeout = {timeout}
# The stub students start from: the same one the student edition of the book shows.
c.ClearSolutions.code_stub = {{"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# Autograde with coursecnn's executor: answer cells run in a sandboxed worker process, the
# checks in the kernel, which never runs student code (see the book's "For instructors").
c.Autograde.autograde_preprocessors = [
    "coursecnn.grader.preprocessors.SplitExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    # Only answers come from the student: every other cell is the release's.
    "coursecnn.grader.preprocessors.RebuildFromRelease",
    "coursecnn.grader.preprocessors.OverwriteTestCells",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.SplitExecute.rules_file = os.path.join(_here, "coursecnn_rules.json")
c.RebuildFromRelease.release_dir = os.path.join(_here, "release")
# What the grader flagged, one log per submission (`coursecnn flags` exports them).
c.RebuildFromRelease.flags_dir = c.SplitExecute.flags_dir = os.path.join(_here, "flags")
# Set by `coursecnn grade --unsandboxed` only; never run student code unsandboxed by default.
c.SplitExecute.sandboxed = os.environ.get("COURSECNN_UNSANDBOXED") != "1"
# Feedback shows each test's name, points and failure message, not the hidden tests' source.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "coursecnn.grader.preprocessors.HideHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
# nbgrader's feedback page with small CSS of our own instead of its inlined Bootstrap (117 kB).
import coursecnn as _cc  # noqa: E402
import nbgrader as _nbg  # noqa: E402

c.HTMLExporter.template_name = "coursecnn_feedback"
c.HTMLExporter.extra_template_basedirs = [
    os.path.join(os.path.dirname(_nbg.__file__), "server_extensions", "formgrader", "templates"),
    os.path.join(os.path.dirname(_cc.__file__), "templates"),
]
'''

_RECORD = ".coursecnn-build.json"


class BuildReport(dict):
    """``build_course``'s result: ``{assignment: [grade_id, ...]}``, and what happened on disk.

    Attributes: ``written`` (paths created or updated), ``kept`` (paths edited by hand and left as
    they are), ``backups`` (``--force``: the copies made before replacing), ``foreign`` (files in
    the assignment folders that the build did not make, left alone).
    """

    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.written, self.kept, self.backups, self.foreign = [], [], [], []


def _digest(data):
    return hashlib.sha256(data).hexdigest()


def _gradebook_course(path):
    """The course id stored in an existing gradebook, or None."""
    if not path.is_file():
        return None
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = con.execute("SELECT id FROM course LIMIT 1").fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def _check_out(out):
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{out} is a file, not a folder: give a folder for the course")
    probe = out
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise NotADirectoryError(f"{probe} is a file, not a folder: give a folder for the course")
    import os

    if not os.access(probe, os.W_OK | os.X_OK):
        raise PermissionError(f"{probe} is not writable: choose a folder you can write to")


def build_course(out, chapters=None, timeout=120, course_id="coursecnn", root=None, force=False):
    """build_course(out, chapters=None, timeout=120, course_id="coursecnn", root=None, force=False) -> BuildReport

    Write an nbgrader course directory: ``out/nbgrader_config.py``, ``out/coursecnn_rules.json``
    and ``out/source/<name>/<name>.ipynb`` (the chapter's exercises and their setup) for each
    chapter with exercises. Every notebook is validated before anything is written.

    Args:
        out (str or Path): the course folder (created when missing). Files an earlier build wrote
            and nobody edited are updated; hand-edited ones are kept and reported; other files
            (submissions, the gradebook, extra notebooks) are never touched.
        chapters (list of str, optional): chapter names or ``.ipynb`` paths. Default: every
            chapter with exercises.
        timeout (int): seconds one cell may run when autograding (an endless loop costs this
            once). Default: ``120``.
        course_id (str): nbgrader's course id; refused when ``out`` holds a gradebook of another
            course. Default: ``"coursecnn"``.
        root (str or Path, optional): the project root. Default: found by ``find_root``.
        force (bool): replace hand-edited files too, after copying each to
            ``<name>.bak-<time>`` beside it. Default: ``False``.

    Returns:
        BuildReport: ``{assignment_name: [grade_id, ...]}`` with ``written``, ``kept``,
        ``backups`` and ``foreign`` lists of paths.
    """
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Integral) or timeout < 1:
        raise ValueError(f"timeout must be a positive whole number of seconds, got {timeout!r}")
    if not isinstance(course_id, str) or not _GRADE_ID.match(course_id):
        raise ValueError(f"course_id must be letters, digits, '_' or '-', got {course_id!r}")
    notebooks = chapter_notebooks(root, chapters)
    if not notebooks:
        raise ValueError("no chapter has exercises (nbgrader solution or test cells): nothing to build")
    checked = {}
    rules = {}
    for name, path in notebooks.items():
        nb = read_notebook(path)
        shown = display_path(path, root)
        ids = validate_notebook(nb, name=shown)
        if not ids:
            raise ValueError(f"{shown} has no exercises (nbgrader solution or test cells)")
        nb = assignment_notebook(nb)
        for cell in nb["cells"]:
            if cell.get("cell_type") == "code":
                cell["outputs"], cell["execution_count"] = [], None
        checked[name] = (nb, ids)
        rules.update(_rules(nb))
    out = Path(out)
    _check_out(out)
    existing = _gradebook_course(out / "gradebook.db")
    record_path = out / _RECORD
    record = json.loads(record_path.read_text()) if record_path.is_file() else {}
    old_id = existing or record.get("course_id")
    if old_id and old_id != course_id:
        raise ValueError(f"{out} belongs to course {old_id!r} (its gradebook/record says so), not "
                         f"{course_id!r}: use --course-id {old_id} or another folder")
    out.mkdir(parents=True, exist_ok=True)

    files = {"nbgrader_config.py": _CONFIG.format(course_id=course_id, timeout=int(timeout)).encode(),
             "coursecnn_rules.json": (json.dumps(rules, indent=1, sort_keys=True) + "\n").encode()}
    for name, (nb, _) in checked.items():
        files[f"source/{name}/{name}.ipynb"] = (json.dumps(nb, indent=1, ensure_ascii=False) + "\n").encode()
    report = BuildReport({name: ids for name, (_, ids) in checked.items()})
    made = dict(record.get("files", {}))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for rel, data in files.items():
        target = out / rel
        new = _digest(data)
        if target.exists():
            current = _digest(target.read_bytes())
            if current == new:
                made[rel] = new
                continue
            if made.get(rel) != current:  # not what we wrote last time: someone edited it
                if not force:
                    report.kept.append(target)
                    continue
                backup = target.with_name(f"{target.name}.bak-{stamp}")
                shutil.copy2(target, backup)
                report.backups.append(backup)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        made[rel] = new
        report.written.append(target)
    for name in checked:
        folder = out / "source" / name
        for extra in sorted(folder.rglob("*")):
            rel = extra.relative_to(out).as_posix()
            if extra.is_file() and rel not in files and ".bak-" not in extra.name \
                    and ".ipynb_checkpoints" not in rel:
                report.foreign.append(extra)
    record_path.write_text(json.dumps({"course_id": course_id, "files": made}, indent=1, sort_keys=True) + "\n")
    return report
