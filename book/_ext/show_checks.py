"""Fold a code cell's bookkeeping under "show the checks" in the HTML book.

The chapters check every number they print (``assert``, ``np.testing.assert_*``) and hand the
numbers the prose quotes to myst-nb (``glue(...)``). Those lines stay in the notebooks, so a
student who runs them is checked too, but a reader of the book wants the code worth reading. This
extension moves each top-level statement of that kind out of the shown cell and into a closed
``<details>`` block under it, in the order they came. A cell made only of checks shows only the
folded block. Exercise cells (nbgrader metadata) and cells tagged ``show-checks`` are left alone.
"""

import ast

from docutils import nodes

SUMMARY = "show the checks"


class checks_fold(nodes.General, nodes.Element):
    """A <details> block holding the checks of one code cell."""


def _visit_html(self, node):
    n = node["count"]
    self.body.append(f'<details class="ccnn-checks"><summary>{SUMMARY} '
                     f'<span class="ccnn-checks-count">({n} line{"s" if n != 1 else ""})</span></summary>')


def _depart_html(self, node):
    self.body.append("</details>")


def _skip(self, node):
    raise nodes.SkipNode


def _call_name(call):
    f = call.func
    parts = []
    while isinstance(f, ast.Attribute):
        parts.append(f.attr)
        f = f.value
    if isinstance(f, ast.Name):
        parts.append(f.id)
    return ".".join(reversed(parts))


def is_check(stmt):
    """True for ``assert ...``, ``glue(...)`` and ``np.testing.assert_*(...)`` / ``torch.testing``."""
    if isinstance(stmt, ast.Assert):
        return True
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        name = _call_name(stmt.value)
        last = name.rsplit(".", 1)[-1]
        return name == "glue" or (".testing." in f".{name}" and last.startswith("assert_"))
    return False


def split_checks(source):
    """``(shown, checks)``: the source without its top-level checks, and those checks."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source, ""
    lines = source.split("\n")
    take = set()
    for stmt in tree.body:
        if is_check(stmt):
            take.update(range(stmt.lineno - 1, stmt.end_lineno))
    if not take:
        return source, ""
    shown = [line for i, line in enumerate(lines) if i not in take]
    checks = [lines[i] for i in sorted(take)]
    # drop the blank lines a removed block leaves at the end, and double blanks in the middle
    out = []
    for line in shown:
        if not line.strip() and out and not out[-1].strip():
            continue
        out.append(line)
    while out and not out[-1].strip():
        out.pop()
    while out and not out[0].strip():
        out.pop(0)
    return "\n".join(out), "\n".join(checks)


def _fold(app, doctree):
    for cell in list(doctree.findall(nodes.container)):
        if cell.get("nb_element") != "cell_code":
            continue
        meta = cell.get("cell_metadata") or {}
        if "nbgrader" in meta or "show-checks" in meta.get("tags", []):
            continue
        for source in cell.findall(nodes.container):
            if source.get("nb_element") != "cell_code_source":
                continue
            for block in list(source.findall(nodes.literal_block)):
                shown, checks = split_checks(block.astext())
                if not checks:
                    continue
                fold = checks_fold(count=len(checks.split("\n")))
                hidden = nodes.literal_block(checks, checks, language=block.get("language", "ipython3"))
                hidden["classes"] = list(block.get("classes", []))
                fold += hidden
                parent = block.parent
                index = parent.index(block)
                if shown.strip():
                    new = nodes.literal_block(shown, shown)
                    new.attributes.update({k: v for k, v in block.attributes.items() if k not in ("ids", "names")})
                    new["ids"] = block["ids"]
                    parent[index] = new
                    parent.insert(index + 1, fold)
                else:
                    parent[index] = fold


def setup(app):
    app.add_node(checks_fold, html=(_visit_html, _depart_html), latex=(_skip, None), text=(_skip, None))
    app.connect("doctree-read", _fold)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
