"""docs/TOPICS.md, the checklist of lecture topics, points at sections that exist and counts right.

Each lecture's table names a chapter (book/chapters/<name>.ipynb) and one or more section
headings of that notebook (`; `-separated, the heading text without its `#`s). A renamed or
removed section fails here, so the checklist cannot drift from the book unnoticed. The summary
table's counts must match the rows, and every shallow or missing topic needs a line saying what
would make it covered.
"""

import json
import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOPICS = ROOT / "docs" / "TOPICS.md"
CHAPTERS = ROOT / "book" / "chapters"
LECTURES = ("000", "001", "002", "003", "004")
STATUSES = ("covered", "shallow", "missing")
EVIDENCE = {"code", "figure", "number", "exercise", "prose"}
SHOWN = {"code", "figure", "number"}  # what makes a topic more than prose
NONE = "—"
HEADER = ["topic", "chapter", "section", "evidence", "status"]


def _cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _tables(text):
    """{lecture: [row dicts]} from the `## NNN: ...` sections, and the summary table's rows."""
    lectures, summary, todo = {}, {}, []
    section = None
    for line in text.splitlines():
        heading = re.match(r"^## (.+)$", line)
        if heading:
            title = heading.group(1)
            number = re.match(r"(\d{3}):", title)
            section = number.group(1) if number else title
            if number:
                lectures[section] = []
            continue
        if section == "What would make it covered":
            item = re.match(r"^- \*\*(.+?)\*\*:", line)
            if item:
                todo.append(item.group(1))
            continue
        if not line.startswith("|") or re.match(r"^\|[-| ]+\|$", line):
            continue
        cells = _cells(line)
        if section in lectures:
            if cells == HEADER:
                continue
            assert len(cells) == len(HEADER), f"{section}: a row needs 5 cells: {line}"
            lectures[section].append(dict(zip(HEADER, cells)))
        elif section == "Summary" and cells[0] != "lecture":
            summary[cells[0]] = [int(c) for c in cells[1:]]
    return lectures, summary, todo


def _headings(path):
    """Heading texts of a notebook's markdown cells, outside fenced code blocks."""
    found = set()
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        src = cell["source"]
        src = "".join(src) if isinstance(src, list) else src
        fence = None
        for line in src.splitlines():
            mark = re.match(r"^\s*(`{3,}|~{3,})", line)
            if mark:
                if fence is None:
                    fence = mark.group(1)
                elif mark.group(1).startswith(fence):
                    fence = None
                continue
            if fence is None:
                heading = re.match(r"^#{1,6}\s+(.+?)\s*#*\s*$", line)
                if heading:
                    found.add(heading.group(1))
    return found


@pytest.fixture(scope="module")
def parsed():
    return _tables(TOPICS.read_text(encoding="utf-8"))


def test_every_lecture_has_a_table(parsed):
    lectures, _, _ = parsed
    assert sorted(lectures) == list(LECTURES)
    assert all(lectures[n] for n in LECTURES), "a lecture table without rows"


def test_chapters_and_sections_exist(parsed):
    lectures, _, _ = parsed
    headings = {}
    problems = []
    for number, rows in lectures.items():
        for row in rows:
            if row["status"] == "missing":
                continue
            chapter = row["chapter"]
            path = CHAPTERS / f"{chapter}.ipynb"
            if not path.exists():
                problems.append(f"{number} {row['topic']!r}: no chapter {path.name}")
                continue
            if chapter not in headings:
                headings[chapter] = _headings(path)
            for section in row["section"].split("; "):
                if section not in headings[chapter]:
                    problems.append(
                        f"{number} {row['topic']!r}: no heading {section!r} in {path.name}"
                    )
    assert not problems, "\n".join(problems)


def test_status_and_evidence_agree(parsed):
    lectures, _, _ = parsed
    problems = []
    for number, rows in lectures.items():
        for row in rows:
            where = f"{number} {row['topic']!r}"
            status = row["status"]
            if status not in STATUSES:
                problems.append(f"{where}: status {status!r} is not one of {STATUSES}")
                continue
            if status == "missing":
                if (row["chapter"], row["section"], row["evidence"]) != (NONE,) * 3:
                    problems.append(f"{where}: a missing topic has chapter, section, evidence {NONE}")
                continue
            evidence = {e.strip() for e in row["evidence"].split(",")}
            if not evidence <= EVIDENCE:
                problems.append(f"{where}: unknown evidence {sorted(evidence - EVIDENCE)}")
            if status == "covered" and not evidence & SHOWN:
                problems.append(f"{where}: covered needs code, a figure or a number")
            if status == "shallow" and evidence & SHOWN:
                problems.append(f"{where}: shallow but with {sorted(evidence & SHOWN)}")
    assert not problems, "\n".join(problems)


def test_summary_counts_match_the_rows(parsed):
    lectures, summary, _ = parsed
    expected = {}
    for number, rows in lectures.items():
        counts = Counter(row["status"] for row in rows)
        expected[number] = [counts[s] for s in STATUSES] + [len(rows)]
    expected["all"] = [sum(col) for col in zip(*expected.values())]
    assert summary == expected


def test_every_gap_says_how_to_close_it(parsed):
    lectures, _, todo = parsed
    gaps = [row["topic"] for rows in lectures.values() for row in rows
            if row["status"] != "covered"]
    assert sorted(todo) == sorted(gaps)
