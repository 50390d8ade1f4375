"""The built book is the student edition: no page and no downloadable notebook gives away an
exercise's solution or its hidden tests.

"Solution text" is every line inside a ``BEGIN SOLUTION`` region of a source notebook that is at
least 12 characters long, is not a comment and appears nowhere else in that notebook nor in the
package's source (a line the chapter shows outside the exercise, or that the installed library
holds, is no secret). A page shows it when one of its lines, stripped, is that line.
"""

import html as htmllib
import json
import re

import pytest

from conftest import HTML, ROOT

MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
# The instructors' page documents the exercise format, markers included (and holds no solution).
FORMAT_DOCS = {"instructors.html", "_sources/instructors.md"}


def _cell_text(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def solution_lines(nb):
    inside, outside = set(), set()
    for cell in nb.get("cells", []):
        in_region = False
        for line in _cell_text(cell).split("\n"):
            if "BEGIN SOLUTION" in line:
                in_region = True
            elif "END SOLUTION" in line:
                in_region = False
            elif line.strip():
                (inside if in_region else outside).add(line.strip())
    return {line for line in inside - outside if len(line) >= 12 and not line.startswith("#")}


def source_notebooks():
    return sorted(p for p in (ROOT / "book").rglob("*.ipynb")
                  if "_build" not in p.parts and ".ipynb_checkpoints" not in p.parts)


def library_lines():
    return {line.strip() for path in (ROOT / "src").rglob("*.py")
            for line in path.read_text(encoding="utf-8", errors="replace").split("\n")}


SECRETS = {}  # line -> the notebook it comes from
_PUBLIC = library_lines()
for _path in source_notebooks():
    for _line in solution_lines(json.loads(_path.read_text(encoding="utf-8"))) - _PUBLIC:
        SECRETS.setdefault(_line, str(_path.relative_to(ROOT)))


def page_text(path):
    """What a reader can see or download: the text of an HTML page, the cells of a notebook."""
    raw = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".ipynb":
        nb = json.loads(raw)
        parts = []
        for cell in nb.get("cells", []):
            parts.append(_cell_text(cell))
            for out in cell.get("outputs", []):
                text = out.get("text", "")
                parts.append("".join(text) if isinstance(text, list) else text)
                for value in out.get("data", {}).values():
                    parts.append("".join(value) if isinstance(value, list) else str(value))
        return raw, "\n".join(parts)
    if path.suffix == ".html":
        return raw, htmllib.unescape(re.sub(r"<[^>]+>", "", raw))
    return raw, raw


def published_files():
    if not (HTML / "index.html").exists():
        return []
    pages = [p for p in HTML.rglob("*.html") if "_static" not in p.parts and "vendor" not in p.parts]
    sources = [p for p in (HTML / "_sources").rglob("*") if p.is_file()] if (HTML / "_sources").exists() else []
    return sorted(pages + sources)


FILES = published_files()


def test_the_book_is_built():
    if not (HTML / "index.html").exists():
        pytest.fail("no built book at _build/html: run `make book` first")
    assert any(p.suffix == ".ipynb" for p in FILES), "no downloadable notebook under _build/html/_sources"


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(HTML)) for p in FILES])
def test_no_solution_or_hidden_test_in(path):
    rel = str(path.relative_to(HTML))
    raw, text = page_text(path)
    if rel not in FORMAT_DOCS:
        found = [m for m in MARKERS if m in raw or m in text]
        assert not found, f"{rel} contains {found}: is this the instructor edition?"
    shown = {line.strip() for line in text.split("\n")}
    leaked = sorted(line for line in SECRETS if line in shown)
    assert not leaked, (
        f"{rel} shows {len(leaked)} solution line(s), e.g. {leaked[0]!r} from {SECRETS[leaked[0]]}"
    )


def test_exercise_pages_show_the_stub():
    """A positive control: where a chapter has solution cells, its page shows the student stub."""
    with_solutions = [p for p in source_notebooks() if solution_lines(json.loads(p.read_text(encoding="utf-8")))]
    if not with_solutions:
        pytest.skip("no source notebook has solution regions yet")
    for src in with_solutions:
        page = HTML / src.relative_to(ROOT / "book").with_suffix(".html")
        if page.exists():
            assert "YOUR CODE HERE" in page_text(page)[1], f"{page.relative_to(HTML)} has no exercise stub"
