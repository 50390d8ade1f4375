"""Which names a cell defines, and an exercise's grading rule: the one home of both.

Light on purpose (the standard library only): ``coursecnn course build`` writes the rules without
nbgrader, and the grading kernel reads them.
"""

import ast
import builtins
import re

__all__ = ["defined_names", "declared_names", "cell_rules"]


def defined_names(source):
    """The names a cell's top level defines with ``def``, ``class``, an assignment or an import."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    names = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                names.extend(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.extend((a.asname or a.name).split(".")[0] for a in node.names if a.name != "*")
    return list(dict.fromkeys(names))


_SOLUTION = re.compile(r"^([ \t]*)### BEGIN SOLUTION.*?^[ \t]*### END SOLUTION[ \t]*$", re.M | re.S)


def declared_names(solution_source):
    """The names an exercise's stub declares: what its solution cell defines outside the
    solution region (``def window_counts(shape, k, s):`` around it)."""
    stub = _SOLUTION.sub(lambda m: f"{m.group(1)}pass", solution_source)
    return [n for n in defined_names(stub) if not hasattr(builtins, n)]


def cell_rules(cell_source, meta):
    """The grading rule of one solution cell: ``{"declared", "plain", "limits"}``."""
    own = meta or {}
    return {"declared": declared_names(cell_source),
            "plain": str(own.get("allow", "")).lower() == "numpy",
            "limits": dict(own.get("limits") or {})}
