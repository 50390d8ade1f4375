"""nbgrader preprocessors: only answers come from the student, and the checks never meet them.

In ``Autograde``'s sanitize step:

- ``RebuildFromRelease`` rebuilds the submission from the release: every cell that is not an
  answer cell (setup, prose, tests) is the release's, whatever the submission holds; only the
  answer cells' sources are taken from the submission, matched by ``grade_id``. Cells the student
  added are dropped and the feedback says so; an answer cell whose id changed is reported, and the
  release's id is kept. Each of these is logged for the instructor (``coursecnn.grader.flags``).
- ``OverwriteTestCells`` (nbgrader's ``OverwriteCells``, quiet about test cells exactly as
  released) then puts the hidden tests back from the gradebook.

In the autograde step, ``SplitExecute`` replaces nbgrader's ``Execute``: the kernel runs the
setup and test cells; each answer cell is sent to the student's boxed worker as a call to
``coursecnn.grader.kernel.answer``, with the names its stub declares and its limits.

``HideHiddenTests`` runs in ``GenerateFeedback``: each test cell keeps its visible part, its name
and its points; the hidden part's source is replaced by one line, and an error shows only its
type and message.

Per-exercise facts live in the solution cell's metadata, ``metadata.coursecnn``:
``{"allow": "numpy"}`` for an exercise graded with NumPy and the standard library only, and
optionally ``{"limits": {"memory_mb": ..., "cpu_s": ...}}``. ``coursecnn course build`` copies
them, with the declared names, into ``coursecnn_rules.json`` beside the nbgrader configuration.
"""

import copy
import json
import re
from pathlib import Path

from nbclient.util import run_sync
from nbgrader.preprocessors import ClearHiddenTests, Execute, NbGraderPreprocessor, OverwriteCells
from traitlets import Bool, Unicode

from . import box, flags
from .rules import cell_rules, declared_names, defined_names  # noqa: F401 (re-exported)

__all__ = ["RebuildFromRelease", "SplitExecute", "HideHiddenTests", "OverwriteTestCells",
           "defined_names", "declared_names", "cell_rules", "RULES_FILE"]

RULES_FILE = "coursecnn_rules.json"
_LARGE_ANSWER = 20_000  # characters: an answer cell this long may carry data (a test set) in it


def _meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _text(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _release_dir_from(resources):
    url = str(resources.get("nbgrader", {}).get("db_url", ""))
    if url.startswith("sqlite:///"):
        return Path(url[len("sqlite:///"):]).parent / "release"
    return None


class _FlagsMixin:
    def _log_path(self, resources):
        nbg = resources.get("nbgrader", {})
        root = Path(self.flags_dir) if self.flags_dir else (_release_dir_from(resources) or Path(".")).parent / "flags"
        name = str(nbg.get("student", "student"))
        notebook = str(nbg.get("notebook", ""))
        if notebook and notebook != str(nbg.get("assignment", "")):
            name += f".{notebook}"
        return flags.log_path(root, nbg.get("assignment", "assignment"), name)


class RebuildFromRelease(_FlagsMixin, NbGraderPreprocessor):
    """The graded notebook is the release, with only the answers taken from the submission."""

    release_dir = Unicode("", help="the course's release/ folder (default: beside gradebook.db)").tag(config=True)
    flags_dir = Unicode("", help="where the per-submission logs go (default: <course>/flags)").tag(config=True)

    def preprocess(self, nb, resources):
        nbg = resources.get("nbgrader", {})
        base = Path(self.release_dir) if self.release_dir else _release_dir_from(resources)
        release_path = base / str(nbg.get("assignment")) / f"{nbg.get('notebook')}.ipynb" if base else None
        if release_path is None or not release_path.is_file():
            raise FileNotFoundError(
                f"the release of {nbg.get('assignment')}/{nbg.get('notebook')} is needed to grade it "
                f"(looked for {release_path}); run `nbgrader generate_assignment` first")
        release = json.loads(release_path.read_text())
        log = self._log_path(resources)
        flags.reset(log)
        for rcell in release["cells"]:
            rcell["source"] = _text(rcell)
        answers, dropped, restored = {}, [], []
        release_gids = {_meta(c).get("grade_id") for c in release["cells"] if _meta(c).get("solution")}
        all_gids = {_meta(c).get("grade_id") for c in release["cells"] if _meta(c).get("grade_id")}
        by_id = {c.get("id"): c for c in release["cells"] if c.get("id")}
        sources = {c["source"].strip() for c in release["cells"]}
        for cell in nb.cells:
            gid = _meta(cell).get("grade_id")
            text = _text(cell)
            first = (text.strip().split("\n") or [""])[0][:120]
            if gid in release_gids and _meta(cell).get("solution") and gid not in answers:
                answers[gid] = cell
            elif gid in answers and _meta(cell).get("solution"):
                flags.record(log, "dropped cell", gid, "a second copy of the answer cell")
                dropped.append(f"a second copy of {gid}")
            elif gid in all_gids or text.strip() in sources:
                continue  # a cell of the release, as released (tests come back from the gradebook)
            elif cell.get("id") in by_id:
                flags.record(log, "changed cell", cell.get("id"), f"{cell.get('cell_type')}: {first}")
                restored.append(first)
            else:
                flags.record(log, "dropped cell", "", f"{cell.get('cell_type')}: {first}")
                dropped.append(first)
        cells = []
        for rcell in release["cells"]:
            cell = copy.deepcopy(rcell)
            meta = _meta(rcell)
            if meta.get("solution"):
                gid = meta.get("grade_id")
                mine = answers.get(gid)
                if mine is None:
                    flags.record(log, "missing answer", gid, "the release's stub is graded")
                else:
                    if mine.get("id") and rcell.get("id") and mine.get("id") != rcell.get("id"):
                        flags.record(log, "changed cell id", gid, f"{mine.get('id')} (release: {rcell.get('id')})")
                    if mine.get("cell_type") == rcell.get("cell_type"):
                        cell["source"] = _text(mine)
                    if len(cell["source"]) > _LARGE_ANSWER:
                        flags.record(log, "large answer", gid, f"{len(cell['source'])} characters")
            if cell.get("cell_type") == "code":
                cell["outputs"], cell["execution_count"] = [], None
            cells.append(cell)
        if dropped or restored:
            note = ("**Grading note.** Only your answer cells were graded; everything else is the "
                    "assignment as it was handed out.")
            if dropped:
                note += ("\n\nThese cells you added (or copied) were not run:\n\n"
                         + "\n".join(f"- `{d}`" if d else "- (an empty cell)" for d in dropped))
            if restored:
                note += ("\n\nThese cells you changed outside your answers were graded as handed out:\n\n"
                         + "\n".join(f"- `{d}`" if d else "- (an empty cell)" for d in restored))
            cells.insert(min(1, len(cells)), {"cell_type": "markdown", "metadata": {}, "source": note,
                                              "id": "coursecnn-grading-note"})
        from nbformat import from_dict

        nb.cells = [from_dict(c) for c in cells]
        return nb, resources


_WARM = {}  # the kernel this grading process keeps between submissions (reuse_kernel)


def shutdown_warm_kernel():
    """Shut down the kernel kept between submissions (at the end of a grading process)."""
    km = _WARM.pop("km", None)
    if km is not None:
        from jupyter_core.utils import run_sync as _run

        try:
            _run(km.shutdown_kernel)(now=True)
        except Exception:  # noqa: BLE001 (already gone)
            pass


class SplitExecute(_FlagsMixin, Execute):
    """nbgrader's Execute, with answer cells run in the student's boxed worker.

    No student code runs in the kernel, so a grading process keeps one kernel from one submission
    to the next (``reuse_kernel``): each submission starts with the kernel's namespace emptied and
    the previous workers stopped, and the kernel's imports (NumPy, PyTorch) are paid once.
    """

    rules_file = Unicode("", help="coursecnn_rules.json written by `coursecnn course build`").tag(config=True)
    flags_dir = Unicode("", help="where the per-submission logs go (default: <course>/flags)").tag(config=True)
    sandboxed = Bool(True, help="run student code under bubblewrap; False only with the "
                     "instructor's explicit --unsandboxed").tag(config=True)
    reuse_kernel = Bool(True, help="keep the (trusted) kernel between submissions, its namespace "
                        "emptied; False starts a kernel per submission").tag(config=True)

    def create_kernel_manager(self):
        km = _WARM.pop("km", None)
        if self.reuse_kernel and km is not None and km.has_kernel:
            self._reused = True
            return km
        self._reused = False
        return super().create_kernel_manager()

    async def _async_cleanup_kernel(self):
        from jupyter_core.utils import ensure_async

        if self.reuse_kernel and self.km is not None and await ensure_async(self.km.is_alive()):
            if getattr(self, "kc", None) is not None:
                await ensure_async(self.kc.stop_channels())
                self.kc = None
            if not _WARM.get("atexit"):
                import atexit

                atexit.register(shutdown_warm_kernel)  # `nbgrader autograde` run by hand
                _WARM["atexit"] = True
            _WARM["km"], self.km = self.km, None
            return
        await super()._async_cleanup_kernel()

    # nbclient's synchronous setup_kernel calls this wrapper, bound to its own coroutine.
    _cleanup_kernel = run_sync(_async_cleanup_kernel)

    async def _fresh_kernel(self):
        """Empty a reused kernel: the previous submission's names and workers go."""
        path = str((self.resources or {}).get("metadata", {}).get("path", "") or "")
        code = f"__import__('coursecnn.grader.kernel').grader.kernel.fresh({path!r})"
        msg_id = self.kc.execute(code, silent=True, store_history=False)
        await self.async_wait_for_reply(msg_id)

    def preprocess(self, nb, resources):
        if self.sandboxed and not box.available():
            raise box.SandboxUnavailable(
                f"{box.unavailable_reason()}. Refusing to run student code without a sandbox; "
                "pass --unsandboxed to `coursecnn grade` to do it anyway")
        self._rules = {}
        if self.rules_file and Path(self.rules_file).is_file():
            self._rules = json.loads(Path(self.rules_file).read_text())
        self._log = str(self._log_path(resources))
        self._pending = []
        self._prestarted = False
        self._reused = False
        self._freshened = False
        self._any_plain = any(r.get("plain") for r in self._rules.values())
        return super().preprocess(nb, resources)

    def _rule(self, gid, cell):
        rule = self._rules.get(gid)
        if rule is None:  # no rules file: read the cell itself
            rule = cell_rules(cell.source, cell.get("metadata", {}).get("coursecnn"))
        limits = box.Limits.from_meta(rule, plain=rule.get("plain", False))
        return list(rule.get("declared", [])), {"plain": limits.plain, "memory": limits.memory, "cpu": limits.cpu}

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if self._reused and not self._freshened:
            self._freshened = True
            await self._fresh_kernel()
        meta = _meta(cell)
        if cell.cell_type != "code":
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        if meta.get("solution"):
            gid = str(meta.get("grade_id", f"cell-{cell_index}"))
            declared, limits = self._rule(gid, cell)
            others = sorted({n for g, r in self._rules.items() if g != gid for n in r.get("declared", [])})
            call = (
                "__import__('coursecnn.grader.kernel').grader.kernel.answer("
                f"{gid!r}, {cell.source!r}, setup={self._pending!r}, declared={declared!r}, "
                f"limits={limits!r}, timeout={float(self.timeout or 120)!r}, "
                f"sandboxed={bool(self.sandboxed)!r}, log={self._log!r}, others={others!r})"
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
            if not self._prestarted:
                # The workers boot while this and the next setup cells run.
                self._prestarted = True
                original = cell.source
                cell.source = (
                    "__import__('coursecnn.grader.kernel').grader.kernel.prestart("
                    f"timeout={float(self.timeout or 120)!r}, sandboxed={bool(self.sandboxed)!r}, "
                    f"log={self._log!r}, plain={self._any_plain!r})\n" + original)
                try:
                    return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
                finally:
                    cell.source = original
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
        cell.source = _text(cell)
        if gid and meta.get("locked"):
            try:
                source_cell = self.gradebook.find_source_cell(gid, self.notebook_id, self.assignment_id)
            except Exception:  # noqa: BLE001 (MissingEntry: nbgrader's own code reports it)
                source_cell = None
            if source_cell is not None and source_cell.locked:
                released = copy.deepcopy(cell)
                released.source = source_cell.source
                released, _ = ClearHiddenTests(parent=self).preprocess_cell(released, {}, cell_index)
                if released.source.strip() == cell.source.strip():
                    cell.source = source_cell.source
        return super().preprocess_cell(cell, resources, cell_index)
