"""Code the book shows fits its column: at most 79 characters a line.

At 1280 px the book's code column holds 79 characters of its code font (book/_static/ccnn-book.css);
a longer line scrolls sideways and hides its end. Checked: the chapters' code cells, exercise cells
included (solutions and visible tests; hidden test regions excepted: the student edition drops
them), and every function the chapters include from the package with ``literalinclude`` +
``:pyobject:``.
"""

import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
LIMIT = 79
NOTEBOOKS = sorted(p for p in BOOK.rglob("*.ipynb") if "_build" not in p.parts and ".ipynb_checkpoints" not in p.parts)
INCLUDE = re.compile(r"```\{literalinclude\}\s+(\S+)\s*\n((?::[^\n]*\n)*)")


def _text(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def shown_lines(source):
    """The lines of a code cell a reader sees (hidden-test regions are not published)."""
    hidden = False
    for number, line in enumerate(source.split("\n"), 1):
        if "BEGIN HIDDEN TESTS" in line:
            hidden = True
        elif "END HIDDEN TESTS" in line:
            hidden = False
        elif not hidden:
            yield number, line


def long_lines(source, limit=LIMIT):
    return [(n, len(line)) for n, line in shown_lines(source) if len(line) > limit]


def fenced_code(markdown):
    """The lines of every fenced code block (```python, ```bash, ...; not {directive} blocks)."""
    lines, inside = [], None
    for line in markdown.split("\n"):
        stripped = line.strip()
        if inside is None and stripped.startswith("```"):
            inside = not stripped[3:].lstrip().startswith("{")
            continue
        if inside is not None and stripped.startswith("```"):
            inside = None
            continue
        if inside:
            lines.append(line)
    return "\n".join(lines)


def includes(notebook):
    """``(path, object name)`` of every ``literalinclude`` with ``:pyobject:`` in a notebook's markdown."""
    found = []
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        for m in INCLUDE.finditer(_text(cell)):
            opts = dict(re.findall(r":([\w-]+):[ \t]*([^\n]*)", m.group(2)))
            if "pyobject" in opts:
                shown = tuple(sorted((k, v.strip()) for k, v in opts.items() if k in SHOWN_OPTIONS))
                found.append(((notebook.parent / m.group(1)).resolve(), opts["pyobject"], shown))
    return found


SHOWN_OPTIONS = ("start-at", "start-after", "end-at", "end-before", "dedent")


def shown_part(source, options):
    """The part of ``source`` that literalinclude shows with these options (as Sphinx cuts it)."""
    opts = dict(options)
    lines = source.split("\n")
    for key, after in (("start-at", 0), ("start-after", 1)):
        if key in opts:
            hit = next((i for i, line in enumerate(lines) if opts[key] in line), None)
            lines = lines[hit + after:] if hit is not None else lines
    for key, keep in (("end-at", 1), ("end-before", 0)):
        if key in opts:
            hit = next((i for i, line in enumerate(lines) if opts[key] in line), None)
            lines = lines[:hit + keep] if hit is not None else lines
    if opts.get("dedent", "").isdigit():
        n = int(opts["dedent"])
        lines = [line[n:] if line[:n].strip() == "" else line for line in lines]
    return "\n".join(lines)


def object_source(path, name):
    """The lines of ``name`` (``Class.method`` allowed) in ``path``, decorators included, as Sphinx takes them."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    body = tree.body
    node = None
    for part in name.split("."):
        node = next((n for n in body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                     and n.name == part), None)
        if node is None:
            return None
        body = node.body
    lines = path.read_text(encoding="utf-8").split("\n")
    start = min([node.lineno] + [d.lineno for d in node.decorator_list])
    return "\n".join(lines[start - 1:node.end_lineno])


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_code_cells_fit_the_column(notebook):
    problems = []
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "markdown":
            for n, width in long_lines(fenced_code(_text(cell))):
                problems.append(f"cell {cell.get('id')}, code block line {n}: {width} characters")
            continue
        if cell["cell_type"] != "code":
            continue
        # Exercise cells too: their solutions and visible tests are shown (hidden tests are not).
        for n, width in long_lines(_text(cell)):
            problems.append(f"cell {cell.get('id')} line {n}: {width} characters")
    assert not problems, f"{notebook.relative_to(ROOT)}: code lines over {LIMIT} characters:\n  " + "\n  ".join(problems)


INCLUDED = sorted({inc for nb in NOTEBOOKS for inc in includes(nb)})

@pytest.mark.parametrize("path,name,options", INCLUDED, ids=[f"{p.name}:{n}" for p, n, _ in INCLUDED])
def test_included_code_fits_the_column(path, name, options):
    source = object_source(path, name)
    assert source is not None, f"{path.relative_to(ROOT)} has no {name} (a literalinclude points at nothing)"
    source = shown_part(source, options)
    problems = [f"line {n}: {w} characters" for n, w in long_lines(source)]
    assert not problems, (f"{path.relative_to(ROOT)}:{name}, shown in the book, has lines over {LIMIT} "
                          "characters:\n  " + "\n  ".join(problems))


def test_the_width_check_can_fail():
    assert long_lines("x = 1\n" + "y" * 80) == [(2, 80)]
    assert long_lines("# BEGIN HIDDEN TESTS\n" + "z" * 100 + "\n# END HIDDEN TESTS") == []
    solution = "### BEGIN SOLUTION\n" + "s" * 80 + "\n### END SOLUTION"
    assert long_lines(solution) == [(2, 80)]
    assert fenced_code("text " * 30 + "\n```bash\nmake book\n```\n```{literalinclude} x.py\n:pyobject: f\n```") == "make book"
    assert object_source(ROOT / "tests" / "test_code_width.py", "long_lines").startswith("def long_lines")
    part = shown_part("def f():\n    x = 1\n    return x", (("dedent", "4"), ("start-at", "x = 1")))
    assert part == "x = 1\nreturn x"
