"""The student and instructor editions of the book.

The chapter notebooks are written once, with the exercises in nbgrader's format: the reference
solution between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` in a solution cell, and the
grader's extra tests between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` in a test
cell. From them come

- the **instructor edition**: the notebooks as they are, solutions shown;
- the **student edition**: every solution region replaced by a stub (``# YOUR CODE HERE`` then
  ``raise NotImplementedError()``, as nbgrader's ``generate_assignment`` does), every hidden-test
  region removed, outputs cleared. For the HTML book the exercise cells are also tagged
  ``skip-execution`` (nbclient, which myst-nb runs in ``execute_notebooks: force`` mode, leaves
  such cells alone), so the stubs do not stop the build.

The transforms are plain functions of a notebook's JSON (a ``dict``); they return a new notebook
and never modify the one passed in.
"""

import copy
import json
import os
import re
import shutil
from pathlib import Path

__all__ = [
    "CODE_STUB", "TEXT_STUB", "SKIP_TAG", "ExerciseFormatError",
    "nbgrader_meta", "is_exercise_cell", "has_exercises", "clear_solutions", "remove_hidden_tests",
    "student_notebook", "check_independent", "build_edition", "find_root",
]

CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
TEXT_STUB = "YOUR ANSWER HERE"
SKIP_TAG = "skip-execution"
BEGIN_SOLUTION, END_SOLUTION = "BEGIN SOLUTION", "END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"

# The marker file that says a directory was made by build_edition (and may be replaced by it).
MARKER = ".coursecnn-edition"


class ExerciseFormatError(ValueError):
    """An exercise cell that nbgrader would reject or mis-grade; the message names the cell."""


def source_text(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def nbgrader_meta(cell):
    """The cell's ``metadata.nbgrader`` dict, or ``{}``."""
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta if isinstance(meta, dict) else {}


def is_exercise_cell(cell):
    """True for an nbgrader solution, test (grade) or task cell."""
    meta = nbgrader_meta(cell)
    return bool(meta.get("solution") or meta.get("grade") or meta.get("task"))


def has_exercises(nb):
    """True when some cell of the notebook is an nbgrader solution or test cell."""
    return any(is_exercise_cell(c) for c in nb.get("cells", []))


def _replace_regions(text, begin, end, stub_lines, where):
    """Replace each ``begin``...``end`` region (marker lines included) of ``text`` by
    ``stub_lines`` indented like the ``begin`` line; return ``(new_text, found)``."""
    out, inside, found = [], False, False
    for line in text.split("\n"):
        if begin in line:
            if inside:
                raise ExerciseFormatError(f"{where}: a second {begin!r} before {end!r}")
            inside = found = True
            indent = re.match(r"\s*", line).group(0)
            out.extend(indent + s for s in stub_lines)
        elif end in line:
            if not inside:
                raise ExerciseFormatError(f"{where}: {end!r} without a {begin!r} before it")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ExerciseFormatError(f"{where}: {begin!r} has no matching {end!r}")
    return "\n".join(out), found


def clear_solutions(cell, where="cell"):
    """clear_solutions(cell, where="cell") -> dict

    The student version of one cell: solution regions replaced by the stub (code before and
    after them kept), a solution cell without markers replaced whole. Returns a new cell.

    Args:
        cell (dict): a notebook cell (nbformat 4 JSON).
        where (str): how errors name the cell. Default: ``"cell"``.

    Returns:
        dict: the new cell (``source`` as one string).

    Example::

        >>> cell = {"cell_type": "code", "metadata": {"nbgrader": {"solution": True}},
        ...         "source": "def f(x):\\n    ### BEGIN SOLUTION\\n    return 2 * x\\n    ### END SOLUTION"}
        >>> print(clear_solutions(cell)["source"])
        def f(x):
            # YOUR CODE HERE
            raise NotImplementedError()
    """
    new = copy.deepcopy(cell)
    if cell.get("cell_type") not in ("code", "markdown"):
        return new
    stub = CODE_STUB if cell["cell_type"] == "code" else TEXT_STUB
    text, found = _replace_regions(source_text(cell), BEGIN_SOLUTION, END_SOLUTION, stub.split("\n"), where)
    if found and not nbgrader_meta(cell).get("solution"):
        raise ExerciseFormatError(f"{where}: a {BEGIN_SOLUTION!r} region in a cell that is not a solution cell")
    if nbgrader_meta(cell).get("solution") and not found:
        text = stub
    new["source"] = text
    return new


def remove_hidden_tests(cell, where="cell"):
    """The cell without its ``BEGIN HIDDEN TESTS`` ... ``END HIDDEN TESTS`` regions (a new cell)."""
    new = copy.deepcopy(cell)
    if cell.get("cell_type") in ("code", "markdown"):
        new["source"], _ = _replace_regions(source_text(cell), BEGIN_HIDDEN, END_HIDDEN, [], where)
    return new


def _clear_outputs(cell):
    if cell.get("cell_type") == "code":
        cell["outputs"] = []
        cell["execution_count"] = None


def _add_tag(cell, tag):
    tags = cell.setdefault("metadata", {}).setdefault("tags", [])
    if tag not in tags:
        tags.append(tag)


def student_notebook(nb, skip_execution=False, name="notebook"):
    """student_notebook(nb, skip_execution=False, name="notebook") -> dict

    The student version of a notebook: solutions replaced by stubs, hidden tests removed,
    outputs cleared. The nbgrader metadata stays, so the notebook can still be graded.

    Args:
        nb (dict): the source notebook (nbformat 4 JSON, e.g. from ``json.load``).
        skip_execution (bool): also tag every exercise cell (solution, test or task) with
            ``skip-execution``, for a book that executes its notebooks. Default: ``False``.
        name (str): how errors name the notebook. Default: ``"notebook"``.

    Returns:
        dict: a new notebook; ``nb`` is not modified.

    Example::

        >>> nb = {"cells": [{"cell_type": "code", "metadata": {"nbgrader": {"grade": True}},
        ...        "outputs": [], "execution_count": 3,
        ...        "source": "assert f(1) == 2\\n### BEGIN HIDDEN TESTS\\nassert f(5) == 10\\n### END HIDDEN TESTS"}],
        ...       "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
        >>> student_notebook(nb)["cells"][0]["source"]
        'assert f(1) == 2'
    """
    new = copy.deepcopy(nb)
    cells = []
    for i, cell in enumerate(nb.get("cells", [])):
        where = f"{name}, cell {i}"
        cell = remove_hidden_tests(clear_solutions(cell, where), where)
        _clear_outputs(cell)
        if skip_execution and cell.get("cell_type") == "code" and is_exercise_cell(cell):
            _add_tag(cell, SKIP_TAG)
        cells.append(cell)
    new["cells"] = cells
    return new


def _parse(text):
    """The cell's code as an ``ast`` module (IPython magics and shell lines dropped), or None."""
    import ast

    lines = [ln for ln in text.split("\n") if not ln.lstrip().startswith(("%", "!"))]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def _top_level_names(tree):
    """Names a cell binds at top level: functions, classes, imports and assignments."""
    import ast

    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        else:
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                    names.add(sub.id)
    return names


def check_independent(nb, name="notebook"):
    """check_independent(nb, name="notebook") -> None

    Check that no cell outside the exercises uses a name that only an exercise's solution cell
    defines: the student edition skips the exercise cells, so such a cell would fail there.

    Args:
        nb (dict): the source notebook.
        name (str): how errors name the notebook. Default: ``"notebook"``.

    Returns:
        None. Raises ``ExerciseFormatError`` naming the cell and the name.

    Example::

        >>> nb = {"cells": [
        ...     {"cell_type": "code", "metadata": {"nbgrader": {"solution": True}}, "source": "def f(x):\\n    return x"},
        ...     {"cell_type": "code", "metadata": {}, "source": "print(f(2))"}]}
        >>> check_independent(nb, "ch.ipynb")
        Traceback (most recent call last):
        coursecnn.editions.ExerciseFormatError: ch.ipynb, cell 1: uses 'f', which only the exercise solution in cell 0 defines; the student edition does not run exercise cells, so this cell would fail there (move it into the exercise or define 'f' outside it)
    """
    import ast

    from_solution, defined = {}, set()
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        tree = _parse(source_text(cell))
        if tree is None:
            continue
        meta = nbgrader_meta(cell)
        if meta.get("solution"):
            for n in _top_level_names(tree) - defined:
                from_solution.setdefault(n, i)
            continue
        if is_exercise_cell(cell):
            continue
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        for n in sorted(used & set(from_solution)):
            raise ExerciseFormatError(
                f"{name}, cell {i}: uses {n!r}, which only the exercise solution in cell {from_solution[n]} "
                "defines; the student edition does not run exercise cells, so this cell would fail there "
                f"(move it into the exercise or define {n!r} outside it)"
            )
        bound = _top_level_names(tree)
        defined |= bound
        for n in bound:
            from_solution.pop(n, None)


def read_notebook(path):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def write_notebook(nb, path):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(nb, fh, indent=1, ensure_ascii=False)
        fh.write("\n")


def find_root(start=None):
    """The project root (the folder holding ``book/`` and ``_toc.yml``): searched upward from
    ``start``, or, without ``start``, from the current directory and then from where this
    package's source lives (an editable install)."""
    candidates = []
    here = Path(start or os.getcwd()).resolve()
    candidates.extend([here, *here.parents])
    if start is None:  # an editable install: the project around this file
        candidates.extend(Path(__file__).resolve().parents)
    for c in candidates:
        if (c / "book").is_dir() and (c / "_toc.yml").is_file():
            return c
    raise FileNotFoundError(
        f"cannot find the coursecnn project (a folder with book/ and _toc.yml) above {here}: "
        "run from the project, or pass --root"
    )


def _prepare_out(out):
    """Make ``out`` an empty edition folder, replacing a previous edition but nothing else."""
    out = Path(out)
    if out.exists():
        if not (out / MARKER).exists() and any(out.iterdir()):
            raise FileExistsError(
                f"{out} exists, is not empty and was not made by `coursecnn edition`: choose another --out"
            )
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / MARKER).write_text("made by `coursecnn edition`; the whole folder is replaced on the next build\n")
    return out


def _link_or_copy(target, link):
    """A relative symlink ``link`` -> ``target`` (a copy where symlinks are not allowed)."""
    try:
        os.symlink(os.path.relpath(target, link.parent), link, target_is_directory=target.is_dir())
    except OSError:
        if target.is_dir():
            shutil.copytree(target, link, symlinks=True)
        else:
            shutil.copy2(target, link)


def build_edition(kind, out, root=None):
    """build_edition(kind, out, root=None) -> Path

    Write an edition of the book: ``out/book`` is a copy of ``root/book`` and every other
    top-level entry of the project (``src``, ``docs``, the configuration, ...) is linked
    beside it, so paths like ``../../src/coursecnn/...`` in the pages resolve as in the sources.
    For the student edition every notebook under ``book/`` with exercises is replaced by its
    student version, exercise cells tagged ``skip-execution``.

    Args:
        kind (str): ``"student"`` or ``"instructor"``.
        out (str or Path): the folder to write (replaced if it holds an earlier edition).
        root (str or Path, optional): the project root. Default: found by :func:`find_root`.

    Returns:
        Path: ``out/book``, the folder to give ``jupyter-book build``.
    """
    if kind not in ("student", "instructor"):
        raise ValueError(f"edition kind must be 'student' or 'instructor', got {kind!r}")
    root = Path(root).resolve() if root else find_root()
    out = Path(out).resolve()
    if out == root or out in root.parents or (root in out.parents and out.relative_to(root).parts[0] == "book"):
        raise ValueError(f"an edition cannot be written to {out} (it holds the book); use a folder under _build/")
    out = _prepare_out(out)
    book = out / "book"
    shutil.copytree(
        root / "book", book,
        ignore=shutil.ignore_patterns("_build", ".ipynb_checkpoints", "__pycache__", ".jupyter_cache"),
    )
    for entry in sorted(root.iterdir()):
        if entry.name in ("book", "_build") or entry.name.startswith(".") or entry == out:
            continue
        if out.is_relative_to(entry):
            continue
        _link_or_copy(entry, out / entry.name)
    if kind == "student":
        for path in sorted(book.rglob("*.ipynb")):
            nb = read_notebook(path)
            if has_exercises(nb):
                rel = path.relative_to(out)
                check_independent(nb, name=str(rel))
                write_notebook(student_notebook(nb, skip_execution=True, name=str(rel)), path)
    return book
