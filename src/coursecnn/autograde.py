"""nbgrader preprocessors that make the grade trustworthy and the feedback discreet.

``SplitExecute`` replaces nbgrader's ``Execute`` in ``Autograde``: the kernel runs the setup and
test cells; each answer cell is run in the student's sandboxed worker (``coursecnn.split``), so
nothing an answer does reaches the checks. ``course build`` writes the nbgrader configuration that
uses it.

``HideHiddenTests`` runs in ``GenerateFeedback``: each test cell keeps its visible part, its name
and its points; the hidden part's source is replaced by one line, and an error shows only its
type and message (a traceback would quote the failing hidden line).

``OverwriteTestCells`` replaces nbgrader's ``OverwriteCells`` when sanitizing: a test cell that is
exactly as released (its hidden tests removed) gets its full source back without the "checksum
has changed" warning nbgrader 0.9 logs for every untouched cell with hidden tests; a cell a
student edited is still reported and restored.

``PLAIN_EXERCISES`` is the table of exercises that forbid ``coursecnn`` and ``torch``: their
answers are graded in a worker where neither can be imported.
"""

import ast
import json
import re
from pathlib import Path

from nbclient.util import run_sync
from nbgrader.preprocessors import ClearHiddenTests, Execute, NbGraderPreprocessor, OverwriteCells
from traitlets import Bool, Unicode

from . import sandbox

__all__ = ["SplitExecute", "HideHiddenTests", "OverwriteTestCells", "PLAIN_EXERCISES", "defined_names", "RULES_FILE"]

RULES_FILE = "coursecnn_rules.json"

# Exercises whose answers may use NumPy but not coursecnn or torch: the exercise text says so
# (or, for pooling, should: its answers would otherwise be one call to coursecnn.ref). Keyed by
# the solution cell's grade_id.
PLAIN_EXERCISES = {
    "convolution-ex1-solution": "a cross-correlation written with loops or slicing",
    "padding_stride-ex1-solution": "the output-size formula, without coursecnn.arith",
    "padding_stride-ex3-solution": "the multiplication counts, without coursecnn.arith",
    "pooling-ex1-solution": "window counts of overlapping pools, without coursecnn.ref",
    "pooling-ex2-solution": "n-max pooling and its backward pass, with NumPy",
    "pooling-ex3-solution": "the average-pooling backward pass, without coursecnn.ref",
    "architectures-ex1-solution": "a parameter count, without building the layer",
}


def defined_names(source):
    """The names a cell's top level defines with ``def``, ``class`` or an assignment."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    names = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                names.extend(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
    return names


def _meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


class SplitExecute(Execute):
    """nbgrader's Execute, with answer cells run in the student's sandboxed worker."""

    rules_file = Unicode("", help="coursecnn_rules.json written by `coursecnn course build`").tag(config=True)
    sandboxed = Bool(True, help="run student code under bubblewrap; False only with the "
                     "instructor's explicit --unsandboxed").tag(config=True)

    def preprocess(self, nb, resources):
        if self.sandboxed and not sandbox.available():
            raise sandbox.SandboxUnavailable(
                f"{sandbox.unavailable_reason()}. Refusing to run student code without a sandbox; "
                "pass --unsandboxed to `coursecnn grade` to do it anyway")
        self._rules = {}
        if self.rules_file and Path(self.rules_file).is_file():
            self._rules = json.loads(Path(self.rules_file).read_text())
        self._pending = []
        return super().preprocess(nb, resources)

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        meta = _meta(cell)
        if cell.cell_type != "code":
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        if meta.get("solution"):
            gid = str(meta.get("grade_id", f"cell-{cell_index}"))
            rule = self._rules.get(gid, {})
            call = (
                "__import__('coursecnn.split').split.answer("
                f"{gid!r}, {cell.source!r}, setup={self._pending!r}, "
                f"expected={list(rule.get('expected', []))!r}, "
                f"plain={bool(rule.get('plain', gid in PLAIN_EXERCISES))!r}, "
                f"timeout={float(self.timeout or 120)!r}, sandboxed={bool(self.sandboxed)!r})"
            )
            self._pending = []
            original = cell.source
            cell.source = call
            try:
                return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
            finally:
                cell.source = original
        if not meta.get("grade") and cell.source.strip():
            self._pending.append(cell.source)
        return await super().async_execute_cell(cell, cell_index, execution_count, store_history)

    # nbclient binds its synchronous wrapper to its own coroutine: rebind it to ours.
    execute_cell = run_sync(async_execute_cell)


_HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[ \t]*$", re.M | re.S)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class HideHiddenTests(NbGraderPreprocessor):
    """Feedback without the hidden tests: their source becomes one line, errors their message."""

    placeholder = Unicode("# hidden tests: not shown").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        meta = _meta(cell)
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            cell.source = _HIDDEN.sub(self.placeholder, cell.source)
            # Anything left after a stray BEGIN without END goes too.
            if "### BEGIN HIDDEN TESTS" in cell.source:
                cell.source = cell.source.split("### BEGIN HIDDEN TESTS")[0] + self.placeholder
            outputs = []
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    line = f"{out.get('ename', 'Error')}: {_ANSI.sub('', str(out.get('evalue', '')))}"
                    out["traceback"] = [line[:2000]]
                outputs.append(out)
            cell.outputs = outputs
        return cell, resources


class OverwriteTestCells(OverwriteCells):
    """nbgrader's OverwriteCells, quiet about test cells that are exactly as released."""

    def preprocess_cell(self, cell, resources, cell_index):
        meta = _meta(cell)
        gid = meta.get("grade_id")
        if gid and meta.get("locked"):
            try:
                source_cell = self.gradebook.find_source_cell(gid, self.notebook_id, self.assignment_id)
            except Exception:  # noqa: BLE001 (MissingEntry: nbgrader's own code reports it)
                source_cell = None
            if source_cell is not None and source_cell.locked:
                import copy

                released = copy.deepcopy(cell)
                released.source = source_cell.source
                released, _ = ClearHiddenTests(parent=self).preprocess_cell(released, {}, cell_index)
                if released.source.strip() == cell.source.strip():
                    cell.source = source_cell.source
        return super().preprocess_cell(cell, resources, cell_index)
