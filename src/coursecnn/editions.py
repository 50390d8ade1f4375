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

import ast
import builtins
import copy
import hashlib
import json
import os
import re
import shutil
import textwrap
from pathlib import Path

from .myst_markdown import MystError, to_markdown

__all__ = [
    "CODE_STUB", "TEXT_STUB", "SKIP_TAG", "ExerciseFormatError",
    "nbgrader_meta", "is_exercise_cell", "has_exercises", "clear_solutions", "remove_hidden_tests",
    "student_notebook", "check_independent", "build_edition", "find_root",
    "exercise_list", "todo_message", "student_edition_notebook", "lab_notebook", "build_lab",
    "check_out_path", "merge_notebook",
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

    lines = [ln for ln in text.split("\n") if not ln.lstrip().startswith(("%", "!"))]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def _parsed_code_cells(nb):
    """``(index, cell, syntax tree)`` for each code cell whose source parses."""
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") == "code":
            tree = _parse(source_text(cell))
            if tree is not None:
                yield i, cell, tree


def _top_level_names(tree):
    """Names a cell binds at top level: functions, classes, imports and assignments."""

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

    from_solution, defined = {}, set()
    for i, cell, tree in _parsed_code_cells(nb):
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
    check_tests_stand_alone(nb, name)


def _bound_anywhere(tree):
    """Every name a cell binds anywhere (assignments, arguments, imports, defs, loop targets)."""

    names = _top_level_names(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


def check_tests_stand_alone(nb, name="notebook"):
    """check_tests_stand_alone(nb, name="notebook") -> None

    Check that each exercise's test cell runs on its own after the chapter's other cells: every
    name it uses is a builtin, is defined by a cell outside the exercises above it, by its own
    exercise's solution cell, or by the test cell itself (not by another exercise's test).

    Raises:
        ExerciseFormatError: naming the test cell and the name.
    """

    available = set(dir(builtins)) | {"get_ipython", "display", "In", "Out"}
    solution_names = {}
    for ex in exercise_list(nb, name):
        if ex["solution"] is not None:
            tree = _parse(source_text(nb["cells"][ex["solution"]]))
            solution_names[ex["key"]] = _top_level_names(tree) if tree else set()
    tests = {ex["test"]: ex for ex in exercise_list(nb, name) if ex["test"] is not None}
    for i, cell, tree in _parsed_code_cells(nb):
        if i in tests:
            ex = tests[i]
            used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
            missing = sorted(used - available - solution_names.get(ex["key"], set()) - _bound_anywhere(tree))
            if missing:
                raise ExerciseFormatError(
                    f"{name}, cell {i} (the tests of {ex['label']}): uses {missing[0]!r}, which no cell outside "
                    "the exercises defines above it; each test cell must run on its own after the chapter's "
                    f"setup (import or define {missing[0]!r} in the test cell)")
        elif not is_exercise_cell(cell):
            available |= _top_level_names(tree)


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


# --- exercises: their names, stubs and rules ----------------------------------------------

_GRADE_ID = re.compile(r"^(?P<base>.*?)-(?P<part>solution|tests?|task)$")


def exercise_list(nb, name="notebook"):
    """exercise_list(nb, name="notebook") -> list of dict

    The exercises of a notebook, in order. Each is a dict with ``key`` (the grade id without its
    ``-solution``/``-tests`` ending), ``label`` (e.g. ``"pooling exercise 3"``), ``title`` (from
    its heading, e.g. ``"the backward pass through the switches"``), ``solution`` and ``test`` (cell indices, or ``None``), ``functions``
    (names the solution cell defines) and ``rule`` (the solution cell's
    ``metadata.coursecnn.rule``, or ``""``).

    Example::

        >>> nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": "### Exercise 1: double it"},
        ...     {"cell_type": "code", "metadata": {"nbgrader": {"solution": True, "grade_id": "ch-ex1-solution"}},
        ...      "source": "def f(x):\\n    ### BEGIN SOLUTION\\n    return 2 * x\\n    ### END SOLUTION"}]}
        >>> [(e["label"], e["title"], e["functions"]) for e in exercise_list(nb, "ch.ipynb")]
        [('ch exercise 1', 'double it', ['f'])]
    """
    chapter = Path(name).stem
    found, order, heading = {}, [], None
    for i, cell in enumerate(nb.get("cells", [])):
        text = source_text(cell)
        if cell.get("cell_type") == "markdown":
            for m in re.finditer(r"^#+\s*Exercise\s+(\d+)\s*[:.]?\s*(.*)$", text, re.M):
                heading = (m.group(1), m.group(2).strip())
            continue
        meta = nbgrader_meta(cell)
        if not is_exercise_cell(cell):
            continue
        m = _GRADE_ID.match(str(meta.get("grade_id", "")))
        key = m.group("base") if m else str(meta.get("grade_id", f"cell-{i}"))
        if key not in found:
            number = re.search(r"ex(\d+)$", key)
            num = number.group(1) if number else (heading[0] if heading else str(len(order) + 1))
            title = heading[1] if heading and heading[0] == num else ""
            found[key] = {"key": key, "label": f"{chapter} exercise {num}", "title": title,
                          "solution": None, "test": None,
                          "functions": [], "rule": ""}
            order.append(key)
        ex = found[key]
        if meta.get("solution"):
            ex["solution"] = i
            tree = _parse(text)
            if tree is not None:

                ex["functions"] += [n.name for n in tree.body
                                    if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
            rule = cell.get("metadata", {}).get("coursecnn", {}).get("rule", "")
            ex["rule"] = rule if isinstance(rule, str) else ""
        elif meta.get("grade") or meta.get("task"):
            ex["test"] = i
    return [found[k] for k in order]


def todo_message(exercise):
    """What an untouched stub raises: the exercise still to do, by name."""
    title = f" ({exercise['title']})" if exercise.get("title") else ""
    code = f"write {' and '.join(exercise['functions'])}" if exercise["functions"] else "write your code"
    return f"{exercise['label']}{title} is still to do: {code} in place of this line"


def _named_stubs(nb, name):
    """Messages per solution cell index: what its stub says about the exercise."""
    return {ex["solution"]: todo_message(ex) for ex in exercise_list(nb, name)
            if ex["solution"] is not None}


def _stub_raise(indent, message, width=79):
    """``raise NotImplementedError(...)`` at ``indent``, its message split into string
    literals so that no line is wider than ``width`` (the book shows the stubs)."""
    room = max(20, width - len(indent) - 4 - 2)
    pieces = textwrap.wrap(message, room, drop_whitespace=False, break_long_words=False,
                           break_on_hyphens=False)
    quoted = [json.dumps(piece, ensure_ascii=False) for piece in pieces]
    inner = "\n".join(f"{indent}    {q}" for q in quoted)
    return f"{indent}raise NotImplementedError(\n{inner}\n{indent})"


def _student_cells(nb, name, skip_execution):
    stubs = _named_stubs(nb, name)
    cells = []
    for i, cell in enumerate(nb.get("cells", [])):
        where = f"{name}, cell {i}"
        new = remove_hidden_tests(clear_solutions(cell, where), where)
        if i in stubs and new.get("cell_type") == "code":
            new["source"] = re.sub(
                r"^([ \t]*)raise NotImplementedError\(\)",
                lambda m, msg=stubs[i]: _stub_raise(m.group(1), msg),
                new["source"], flags=re.M)
        _clear_outputs(new)
        tags = new.get("metadata", {}).get("tags")
        if tags and SKIP_TAG in tags:
            tags.remove(SKIP_TAG)
        if skip_execution and new.get("cell_type") == "code" and is_exercise_cell(new):
            _add_tag(new, SKIP_TAG)
        cells.append(new)
    return cells


# --- the notebooks students open ----------------------------------------------------------

SETUP_CELL_ID = "coursecnn-setup-check"
GLUE_IMPORT = "from myst_nb import glue"
LAB_GLUE_IMPORT = "from coursecnn.lab import glue  # the values are already written into the text"
NEEDED = ("coursecnn", "numpy", "torch", "matplotlib", "ipywidgets")


def setup_cell_source(rules):
    """The first code cell of a student notebook: stop with one message when the packages the
    chapter needs are missing, then register the exercises' rules (see ``coursecnn.lab``)."""
    lines = [
        "# Setup check: stops here, with one message, if this Python lacks what the chapter needs.",
        "import importlib.util",
        "",
        f"_missing = [m for m in {NEEDED!r} if importlib.util.find_spec(m) is None]",
        "if _missing:",
        "    class SetupError(Exception):",
        "        def _render_traceback_(self):  # IPython shows this message alone, no traceback",
        "            return [str(self)]",
        "",
        "    raise SetupError(",
        "        f\"This notebook needs {', '.join(_missing)}, which this Python cannot import. \"",
        "        \"Install coursecnn, then restart the kernel: in a terminal in the coursecnn folder run \"",
        "        \"`make lab` (installs everything into .venv and opens these notebooks), or `pip install -e .` \"",
        "        \"in your own environment (in Colab: `%pip install <path or URL of coursecnn>`).\")",
        "import coursecnn.lab",
    ]
    if rules:
        lines.append("")
        lines.append("coursecnn.lab.explain_errors({")
        for fn, (label, rule) in rules.items():
            lines.append(f"    {fn!r}: ({label!r}, {rule!r}),")
        lines.append("})")
    return "\n".join(lines)


def setup_cell(nb, name="notebook"):
    """The setup cell (a new code cell) for the student version of ``nb``."""
    rules = {}
    for ex in exercise_list(nb, name):
        for fn in ex["functions"]:
            rules[fn] = (ex["label"], ex["rule"] or "see the exercise's text above its cell")
    # Folded in Lab (source_hidden): a student sees one line, and its message if something is missing.
    return {"cell_type": "code", "id": SETUP_CELL_ID,
            "metadata": {"tags": ["coursecnn-setup"], "jupyter": {"source_hidden": True}},
            "execution_count": None, "outputs": [], "source": setup_cell_source(rules)}


# JupyterLab (and nbclient) run on past an error in a cell with this tag: Run All runs the
# whole chapter, untouched exercises included, and their test cells show what is left to do.
RAISES_TAG = "raises-exception"
SUMMARY_CELL_ID = "coursecnn-summary"


def _raises_at_top(text):
    """True when running the cell itself raises (a stub outside any function)."""
    tree = _parse(text)
    return tree is not None and any(isinstance(node, ast.Raise) for node in tree.body)


def names_needed(cell_source, exercise):
    """The names an exercise's test cell uses and does not define itself (builtins aside)."""
    tree = _parse(cell_source)
    if tree is None:
        return []
    used = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in used:
            used.append(node.id)
    bound = _bound_anywhere(tree) | set(dir(builtins)) | {"get_ipython", "display", "In", "Out"}
    own = [n for n in exercise["functions"] if n in used and n not in bound]
    return own + [n for n in used if n not in bound and n not in own]


def lab_test_line(cell_source, exercise):
    """The line that opens a test cell in the student notebooks (see ``coursecnn.lab.needs``)."""
    names = "".join(f", {n!r}" for n in names_needed(cell_source, exercise))
    return f"from coursecnn.lab import needs; needs({exercise['label']!r}{names})"


def lab_test_cell(cell, exercise):
    """An exercise's test cell as the student notebooks have it: opened by a line that says which
    cells to run first (in a kernel that lacks what the tests use) and records the result, and
    tagged ``raises-exception`` so that Run All carries on past a failing test."""
    new = copy.deepcopy(cell)
    text = source_text(cell)
    new["source"] = lab_test_line(text, exercise) + "\n" + text
    _add_tag(new, RAISES_TAG)
    return new


def summary_cells(exercises):
    """The last cells of a student notebook: a heading, and a cell listing every exercise's
    status in the kernel (``coursecnn.lab.summary``)."""
    pairs = ",\n".join(f"    ({ex['label']!r}, {ex['title']!r})" for ex in exercises)
    text = ("## Your exercises\n\nRun All ends here: the cell below lists every exercise as its tests "
            "last ran in this kernel (passed, failed with the check's message, still to do, or not run).")
    return [
        {"cell_type": "markdown", "id": SUMMARY_CELL_ID + "-heading", "metadata": {}, "source": text},
        {"cell_type": "code", "id": SUMMARY_CELL_ID, "metadata": {"tags": ["coursecnn-summary"]},
         "execution_count": None, "outputs": [],
         "source": f"import coursecnn.lab\n\ncoursecnn.lab.summary([\n{pairs},\n])"},
    ]


def _titles(root):
    """Document name -> its first heading, for ``{doc}`` links without a text."""
    titles = {}
    for path in (Path(root) / "book").rglob("*.ipynb"):
        if "_build" in path.parts:
            continue
        for cell in read_notebook(path).get("cells", []):
            m = re.search(r"^#\s+(.+)$", source_text(cell), re.M) if cell.get("cell_type") == "markdown" else None
            if m:
                titles[path.stem] = m.group(1).strip()
                break
    return titles


def lab_notebook(nb, glue=None, source_dir=".", name="notebook", titles=None):
    """lab_notebook(nb, glue=None, source_dir=".", name="notebook", titles=None) -> dict

    The notebook a student opens in JupyterLab: the student version (named stubs, no hidden
    tests, no outputs, no ``skip-execution`` tag), its markdown rewritten as plain Markdown
    (``coursecnn.myst_markdown``: included code expanded, glued numbers written in, answers in
    ``<details>``), ``myst_nb.glue`` replaced by ``coursecnn.lab.glue`` and, first, a setup cell
    that checks the installation and registers the exercises' rules.

    Args:
        nb (dict): the source notebook.
        glue (dict, optional): glued name -> text/plain, from an executed copy. Needed when the
            markdown uses ``{glue:text}``.
        source_dir (str or Path): the source notebook's folder (``literalinclude`` paths start
            there). Default: ``"."``.
        name (str): how errors name the notebook (its stem is the chapter's name).
        titles (dict, optional): document name -> title, for ``{doc}`` links.

    Returns:
        dict: a new notebook; ``nb`` is not modified.
    """

    new = copy.deepcopy(nb)
    cells = _student_cells(nb, name, skip_execution=False)
    for i, cell in enumerate(cells):
        if cell.get("cell_type") == "markdown":
            try:
                cell["source"] = to_markdown(source_text(cell), glue=glue, base=source_dir,
                                             where=f"{name}, cell {i}", titles=titles)
            except MystError as exc:
                raise ExerciseFormatError(str(exc)) from None
        elif cell.get("cell_type") == "code" and GLUE_IMPORT in source_text(cell):
            cell["source"] = source_text(cell).replace(GLUE_IMPORT, LAB_GLUE_IMPORT)
    exercises = exercise_list(nb, name)
    for ex in exercises:
        if ex["test"] is not None:
            cells[ex["test"]] = lab_test_cell(cells[ex["test"]], ex)
        if ex["solution"] is not None and _raises_at_top(source_text(cells[ex["solution"]])):
            _add_tag(cells[ex["solution"]], RAISES_TAG)
    if exercises:
        cells.extend(summary_cells(exercises))
    setup = setup_cell(nb, name)
    first_code = next((i for i, c in enumerate(cells) if c.get("cell_type") == "code"), len(cells))
    cells.insert(first_code, setup)
    new["cells"] = cells
    new.setdefault("metadata", {}).pop("mystnb", None)
    new["metadata"].update(kernel_metadata())
    return new


def kernel_metadata():
    """The ``kernelspec`` and ``language_info`` that JupyterLab writes into a notebook when its
    kernel starts (from this Python's ipykernel): written in beforehand, opening a notebook does
    not mark it modified."""
    import sys

    try:
        from ipykernel.ipkernel import IPythonKernel

        info = dict(IPythonKernel.language_info)
    except ImportError:
        info = {"name": "python", "version": sys.version.split()[0], "mimetype": "text/x-python",
                "codemirror_mode": {"name": "ipython", "version": 3}, "pygments_lexer": "ipython3",
                "nbconvert_exporter": "python", "file_extension": ".py"}
    return {"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
            "language_info": info}


# --- folders that are built whole, then moved into place ------------------------------------

# What the book needs beside book/ (literalinclude and include paths, the configuration).
# course/ (gradebook, submissions, solution sources) and everything else stay out.
BESIDE_BOOK = ("src", "docs", "_config.yml", "_toc.yml", "README.md", "pyproject.toml", "environment.yml")


def _hash(path):

    if path.is_symlink():
        return "link:" + os.readlink(path)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(top):
    """Relative paths of the files and links under ``top`` (links not followed)."""
    out = []
    for dirpath, dirnames, filenames in os.walk(top):
        d = Path(dirpath)
        for n in list(dirnames):
            if (d / n).is_symlink():
                out.append((d / n).relative_to(top).as_posix())
                dirnames.remove(n)
        out.extend((d / n).relative_to(top).as_posix() for n in filenames)
    return sorted(out)


def _record(out):
    """The marker's record of an edition folder: relative path -> hash; ``None`` for a marker
    from before records were kept (or a damaged one)."""
    try:
        data = json.loads((out / MARKER).read_text(encoding="utf-8"))
        return dict(data["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def check_out_path(out, root=None):
    """Refuse, in one line, an ``--out`` that is a file, lies inside ``book/`` or the project's
    top, or cannot be written."""
    out = Path(out).resolve()
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"--out {out} is a file, not a folder: give a folder to write the edition in")
    if root is not None:
        root = Path(root).resolve()
        if out == root or out in root.parents or (root in out.parents and out.relative_to(root).parts[0] in ("book", "src")):
            raise ValueError(f"an edition cannot be written to {out} (it holds the book or the package sources); use a folder under _build/")
    parent = out.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise NotADirectoryError(f"--out {out}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK) or (out.exists() and not os.access(out, os.W_OK | os.X_OK)):
        where = out if out.exists() else parent
        raise PermissionError(f"--out {out}: cannot write in {where} (read-only or not yours)")
    return out


class _Staging:
    """Write a folder next to ``out`` and swap it in only when complete.

    A build that is interrupted leaves at most a hidden ``.NAME.partial-PID`` folder (removed by
    the next build) and never a half-written ``out``. On the swap, files in the old ``out`` that
    the builder did not make are carried over; files it made and someone since edited stop the
    build, named, unless ``force`` (then they are kept beside it as ``NAME.edited``). With
    ``merge`` (the lab edition) an edited notebook is merged instead (:func:`merge_notebook`):
    the student's answers go into the new notebook, and a notebook with work that cannot be
    carried is kept whole as ``NAME.mine.ipynb``."""

    def __init__(self, out, force=False, merge=False):
        self.out, self.force, self.merge = Path(out), force, merge
        self.notes = []
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self._cleanup_leftovers()
        self.tmp = self.out.parent / f".{self.out.name}.partial-{os.getpid()}"
        if self.tmp.exists():
            shutil.rmtree(self.tmp)
        self.tmp.mkdir()
        self.kept = []

    def _cleanup_leftovers(self):
        parent, name = self.out.parent, self.out.name
        for old in sorted(parent.glob(f".{name}.old-*")):
            if not self.out.exists():  # killed between the two renames: put the edition back
                old.rename(self.out)
            else:
                shutil.rmtree(old)
        for partial in parent.glob(f".{name}.partial-*"):
            shutil.rmtree(partial)

    def check_existing(self):
        """Check the current ``out`` before building: refuse a foreign folder, and name the
        files of ours that were edited since."""
        out = self.out
        if not out.exists():
            return
        if not (out / MARKER).exists():
            if any(out.iterdir()):
                raise FileExistsError(f"{out} exists, is not empty and was not made by `coursecnn edition`: "
                                      "choose another --out")
            return
        record = _record(out) or {}
        edited = [rel for rel, digest in record.items()
                  if (out / rel).exists() or (out / rel).is_symlink()
                  if _hash(out / rel) != digest
                  if not (getattr(self, "merge", False) and rel.endswith(".ipynb"))]  # merged, never lost
        if edited and not self.force:
            names = ", ".join(edited[:8]) + (f" and {len(edited) - 8} more" if len(edited) > 8 else "")
            raise FileExistsError(f"{out}: files changed since the last build: {names}. They would be "
                                  "replaced: move them elsewhere, or rebuild with --force (keeps each as NAME.edited)")
        self.edited = edited

    def commit(self, extra=None):
        out, tmp = self.out, self.tmp
        made = set(_files(tmp))
        record = {rel: _hash(tmp / rel) for rel in sorted(made)}
        cells_record = {rel: _cell_digests(read_notebook(tmp / rel)) for rel in sorted(made)
                        if self.merge and rel.endswith(".ipynb")}
        if out.exists():
            old_record = _record(out) or {}
            try:
                old_cells = json.loads((out / MARKER).read_text(encoding="utf-8")).get("cells", {})
            except (OSError, ValueError, AttributeError):
                old_cells = {}
            for rel in _files(out):
                if rel == MARKER:
                    continue
                src = out / rel
                if rel in old_record and _hash(src) == old_record[rel]:
                    continue  # ours and unchanged: the new build replaces (or drops) it
                if self.merge and rel.endswith(".ipynb") and rel in made and (rel in old_record or not src.is_symlink()):
                    self._merge(src, tmp, rel, old_cells.get(rel) if rel in old_record else None)
                    continue
                if rel in old_record and self.merge and rel.endswith(".ipynb"):  # a notebook the edition dropped
                    target = tmp / rel
                    self.notes.append(f"{rel}: no longer part of the edition; your copy stays as it is")
                elif rel in old_record:  # ours, edited (only with force)
                    target = tmp / (rel + ".edited")
                elif rel in made:  # not ours before, made now: keep the user's copy aside
                    if _hash(src) == record[rel]:
                        continue
                    target = tmp / (rel + ".edited")
                else:
                    target = tmp / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                if src.is_symlink():
                    os.symlink(os.readlink(src), target)
                else:
                    shutil.copy2(src, target)
                self.kept.append(target.relative_to(tmp).as_posix())
        (tmp / MARKER).write_text(json.dumps(
            {"made_by": "coursecnn edition", "note": "files listed here are replaced on the next build; "
             "other files are kept", "files": record, **({"cells": cells_record} if self.merge else {}),
             **(extra or {})}, indent=1) + "\n", encoding="utf-8")
        if out.exists():
            old = out.parent / f".{out.name}.old-{os.getpid()}"
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old)
        else:
            tmp.rename(out)

    def _merge(self, src, tmp, rel, built_cells):
        """Carry the student's work in ``src`` (their copy of ``rel``) into the new build's notebook;
        keep their whole notebook beside it as ``NAME.mine.ipynb`` when part of it cannot be carried."""
        try:
            mine = read_notebook(src)
        except (OSError, ValueError):
            mine = None
        if mine is None or not isinstance(mine.get("cells"), list):
            merged, carried, left = None, "", ["the file is not a notebook Lab can read"]
        else:
            merged, carried, left = merge_notebook(mine, read_notebook(tmp / rel), built_cells)
            if merged is not None:
                write_notebook(merged, tmp / rel)
        if not left:
            if carried:
                self.notes.append(f"{rel}: your {carried} carried into the new edition")
            return
        stem = rel[:-len(".ipynb")]
        keep, k = f"{stem}.mine.ipynb", 2
        while (tmp / keep).exists() or (self.out / keep).exists():
            keep, k = f"{stem}.mine-{k}.ipynb", k + 1
        shutil.copy2(src, tmp / keep)
        self.kept.append(keep)
        self.notes.append(f"{rel}: updated" + (f" with your {carried}" if merged is not None and carried else "")
                          + f"; {'; '.join(left)}: your whole notebook is kept as {keep} (open it in Lab)")

    def abort(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


def check_rebuild(out, force=False):
    """Before a long build: refuse now (as the build would) when ``out`` is a foreign folder or
    holds edited files of an earlier edition."""
    out = Path(out)
    if out.exists():
        staging = _Staging.__new__(_Staging)
        staging.out, staging.force = out, force
        staging.check_existing()


class Update(list):
    """The files a build kept from the previous edition (relative paths), with ``notes``: one
    sentence per notebook whose student work was merged into the new one."""

    notes = ()


def _build_into(out, fill, force=False, extra=None, merge=False):
    staging = _Staging(out, force=force, merge=merge)
    try:
        staging.check_existing()
        fill(staging.tmp)
        staging.commit(extra)
    except BaseException:
        staging.abort()
        raise
    kept = Update(staging.kept)
    kept.notes = list(staging.notes)
    return kept


def _cell_digests(nb):
    """Cell id -> hash of its source: what the edition wrote, to tell a student's edits later."""
    return {str(c.get("id")): hashlib.sha256(source_text(c).encode()).hexdigest()[:16]
            for c in nb.get("cells", []) if c.get("id")}


def merge_notebook(mine, new, built=None):
    """merge_notebook(mine, new, built=None) -> (dict, str, list of str)

    Carry a student's work from ``mine`` (their copy of a lab notebook) into ``new`` (the same
    chapter from a newer edition). Running and saving is not work: outputs are dropped. Work is

    - an answer cell (nbgrader ``solution``) whose source differs from the edition's: it replaces
      the answer cell with the same ``grade_id`` in ``new``;
    - a cell the student added: it goes after the cell it followed, when that cell is in ``new``.

    What cannot be carried (an answer whose exercise is gone, an added cell whose neighbour is
    gone, a teaching cell the student edited) is named in the returned list.

    Args:
        mine (dict): the student's notebook.
        new (dict): the new edition's notebook (not modified).
        built (dict, optional): cell id -> source hash of the notebook the student was given
            (``_cell_digests``); without it, a cell that differs from ``new`` counts as edited.

    Returns:
        ``(merged notebook, what was carried (e.g. "2 answer cells"), what was left)``.
    """
    merged = copy.deepcopy(new)
    cells = merged["cells"]
    by_grade = {nbgrader_meta(c).get("grade_id"): c for c in cells if nbgrader_meta(c).get("solution")}
    new_by_id = {c.get("id"): c for c in cells}
    built = built or {}

    def changed(cell):
        digest = hashlib.sha256(source_text(cell).encode()).hexdigest()[:16]
        if built:
            return built.get(str(cell.get("id"))) != digest
        twin = new_by_id.get(cell.get("id"))
        return twin is None or source_text(twin) != source_text(cell)

    answers, added, left = 0, 0, []
    previous = None
    for cell in mine.get("cells", []):
        cid, meta = cell.get("id"), nbgrader_meta(cell)
        known = (str(cid) in built) if built else (cid in new_by_id)
        if meta.get("solution") and changed(cell):
            target = by_grade.get(meta.get("grade_id"))
            if target is None:
                left.append(f"your answer cell {meta.get('grade_id')!r} has no exercise in the new edition")
            else:
                target["source"] = source_text(cell)
                answers += 1
        elif not known and cid != SUMMARY_CELL_ID:
            clean = copy.deepcopy(cell)
            _clear_outputs(clean)
            anchor = next((k for k, c in enumerate(cells) if previous is not None and c.get("id") == previous), None)
            if anchor is None:
                left.append(f"a cell you added ({source_text(cell)[:30]!r}...) follows a cell the new edition lacks")
            else:
                cells.insert(anchor + 1, clean)
                added += 1
        elif not meta.get("solution") and known and changed(cell) and cell.get("cell_type") != "raw":
            if cid != SETUP_CELL_ID:
                left.append(f"you edited a cell of the chapter ({source_text(cell)[:30].strip()!r}...)")
        previous = cid if cid in {c.get("id") for c in cells} else previous
    carried = " and ".join(p for p in (f"{answers} answer cell{'s' * (answers != 1)}" if answers else "",
                                       f"{added} added cell{'s' * (added != 1)}" if added else "") if p)
    return merged, carried, left


def _link_or_copy(target, link):
    """A relative symlink ``link`` -> ``target`` (a copy where symlinks are not allowed)."""
    try:
        os.symlink(os.path.relpath(target, link.parent), link, target_is_directory=target.is_dir())
    except OSError:
        if target.is_dir():
            shutil.copytree(target, link, symlinks=True)
        else:
            shutil.copy2(target, link)


def build_edition(kind, out, root=None, force=False):
    """build_edition(kind, out, root=None, force=False) -> Path

    Write an edition of the book for the HTML build: ``out/book`` holds the book and the files
    it includes from the project (``src``, ``docs``, the configuration) are linked beside it, so
    paths like ``../../src/coursecnn/...`` in the pages resolve as in the sources. ``course/``
    and other folders are not linked. For the student edition every notebook with exercises is
    replaced by its student version (stubs that name their exercise, no hidden tests), exercise
    cells tagged ``skip-execution`` so the book's own execution passes over the stubs. (The
    notebooks students download or open in Lab come from :func:`build_lab`, without that tag.)

    The edition is written to a hidden folder beside ``out`` and moved into place when complete:
    a build that is stopped leaves the previous edition as it was, and source notebooks with
    solutions are never copied for the student edition. A rebuild keeps files that it did not
    make, and refuses (naming them) to replace files it made that were edited since, unless
    ``force``.

    Args:
        kind (str): ``"student"`` or ``"instructor"``.
        out (str or Path): the folder to write.
        root (str or Path, optional): the project root. Default: found by :func:`find_root`.
        force (bool): replace edited files (each kept as ``NAME.edited``). Default: ``False``.

    Returns:
        Path: ``out/book``, the folder to give ``jupyter-book build``.
    """
    if kind not in ("student", "instructor"):
        raise ValueError(f"edition kind must be 'student' or 'instructor', got {kind!r}")
    root = Path(root).resolve() if root else find_root()
    out = check_out_path(out, root)
    if kind == "student":  # check every notebook before anything is written
        notebooks = {}
        for path in sorted((root / "book").rglob("*.ipynb")):
            if {"_build", ".ipynb_checkpoints"} & set(path.relative_to(root / "book").parts):
                continue
            nb = read_notebook(path)
            if has_exercises(nb):
                rel = path.relative_to(root)
                check_independent(nb, name=str(rel))
                notebooks[path] = student_edition_notebook(nb, skip_execution=True, name=str(rel))

    def fill(tmp):
        book = tmp / "book"

        def ignore(folder, names):
            skip = {n for n in names if n in ("_build", ".ipynb_checkpoints", "__pycache__", ".jupyter_cache")}
            if kind == "student":  # written below from their student versions, never copied
                skip |= {n for n in names if Path(folder, n).resolve() in notebooks}
            return skip

        shutil.copytree(root / "book", book, ignore=ignore)
        if kind == "student":
            for path, nb in notebooks.items():
                write_notebook(nb, book / path.relative_to(root / "book"))
        for entry in BESIDE_BOOK:
            if (root / entry).exists():
                _link_or_copy(root / entry, tmp / entry)

    _build_into(out, fill, force=force)
    return out / "book"


def student_edition_notebook(nb, skip_execution=False, name="notebook"):
    """The student version with stubs that name their exercise (see :func:`student_notebook`)."""
    new = copy.deepcopy(nb)
    new["cells"] = _student_cells(nb, name, skip_execution)
    return new


def lab_sources(root):
    """The notebooks of the Lab edition: source path -> path inside the edition (the chapters
    and every other notebook under ``book/``)."""
    root = Path(root)
    found = {}
    for path in sorted((root / "book").rglob("*.ipynb")):
        rel = path.relative_to(root / "book")
        if {"_build", ".ipynb_checkpoints", "_vendor"} & set(rel.parts):
            continue
        found[path] = rel
    return found


def build_lab(out, root=None, glue=None, force=False):
    """build_lab(out, root=None, glue=None, force=False) -> list of str

    Write the student notebooks for JupyterLab: ``out/chapters/*.ipynb`` and
    ``out/explorers.ipynb`` (the layout of ``book/``, so links between them work), each made by
    :func:`lab_notebook`. Built in a hidden folder and moved into place when complete; a rebuild
    keeps files it did not make (a student's own notebooks) and merges a notebook the student
    worked in: their answer cells and added cells go into the new notebook (running and saving
    is not work); one with work that cannot be carried is also kept whole as ``NAME.mine.ipynb``
    (see :func:`merge_notebook`; the returned list's ``notes`` say what happened to each).

    Args:
        out (str or Path): the folder to write (Lab's root).
        root (str or Path, optional): the project root. Default: found by :func:`find_root`.
        glue (dict): source notebook path (or its stem) -> {glued name: text/plain}; see
            ``coursecnn.labrun``.
        force (bool): replace changed notebooks, keeping each as ``NAME.edited``.

    Returns:
        Update: the files kept from the previous build (relative paths), and ``notes``.
    """
    root = Path(root).resolve() if root else find_root()
    out = check_out_path(out, root)
    glue = glue or {}
    titles = _titles(root)
    made = {}
    for path, rel in lab_sources(root).items():
        nb = read_notebook(path)
        values = glue.get(str(path), glue.get(path.stem, {}))
        if has_exercises(nb):
            check_independent(nb, name=str(path.relative_to(root)))
        made[rel] = lab_notebook(nb, glue=values, source_dir=path.parent, name=str(path.relative_to(root)),
                                 titles=titles)

    made.update(_linked_pages(made, root, titles))

    def fill(tmp):
        for rel, nb in made.items():
            write_notebook(nb, tmp / rel)

    # The glued values go into the marker too: a later rebuild can reuse them (--glue-from OUT).
    used = {str(rel): glue.get(str(path), glue.get(path.stem, {})) for path, rel in lab_sources(root).items()}
    return _build_into(out, fill, force=force, extra={"glue": used, "sources": lab_sources_digest(root)}, merge=True)


_LINK = re.compile(r"\]\(([^()\s#]+\.ipynb)(?:#[^()\s]*)?\)")


def _linked_pages(made, root, titles):
    """The book's Markdown pages (e.g. the notation page) that the notebooks link to, each as a
    notebook of plain Markdown cells (one per section) at the linked path, so that every link
    of the edition opens in Lab."""
    pages = {}
    for rel, nb in made.items():
        for cell in nb["cells"]:
            if cell.get("cell_type") != "markdown":
                continue
            for target in _LINK.findall(source_text(cell)):
                linked = Path(os.path.normpath(Path(rel).parent / target))
                page = Path(root) / "book" / linked.with_suffix(".md")
                if linked in made or linked in pages or linked.parts[:1] == ("..",) or not page.is_file():
                    continue
                text = page.read_text(encoding="utf-8")
                sections = [s for s in re.split(r"\n(?=## )", text) if s.strip()]
                cells = []
                for k, section in enumerate(sections):
                    try:
                        md = to_markdown(section.strip("\n"), base=page.parent, where=f"{page.name}, section {k}",
                                         titles=titles)
                    except MystError as exc:
                        raise ExerciseFormatError(str(exc)) from None
                    cells.append({"cell_type": "markdown", "id": f"{linked.stem}-{k}", "metadata": {}, "source": md})
                pages[linked] = {"cells": cells, "metadata": kernel_metadata(), "nbformat": 4, "nbformat_minor": 5}
    return pages


def lab_sources_digest(root):
    """One hash of everything a lab edition is made from (the notebooks and the package's source),
    to tell whether an existing edition is out of date."""

    h = hashlib.sha256()
    root = Path(root)
    for path in sorted(list(lab_sources(root)) + sorted((root / "src").rglob("*.py")) + sorted((root / "book").glob("*.md"))):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()
