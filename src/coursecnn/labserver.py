"""Lab's Validate button for the student notebooks: nbgrader's, listing the passed exercises too.

nbgrader's Validate (its ``validate_assignment`` server extension) runs the notebook in a fresh
kernel and lists the test cells that failed, nothing about the ones that passed. This server
extension serves the same two routes with the same answers, and adds one thing: at the top of
the failures, every exercise of the notebook with its status (passed, failed or still to do). `make
lab` loads it in place of nbgrader's (tools/student-lab); the button in Lab is nbgrader's own.
"""

import re
import traceback
from pathlib import Path

__all__ = ["exercise_statuses"]

_NEEDS = re.compile(r"^from coursecnn\.lab import needs; needs\((['\"])(?P<label>.+?)\1")


def _label(cell):
    """The exercise a test cell checks: the label its first line names, else its grade id."""
    m = _NEEDS.match(cell.source)
    return m.group("label") if m else cell.metadata.get("nbgrader", {}).get("grade_id", "a test cell")


def exercise_statuses(passed, failed):
    """exercise_statuses(passed, failed) -> str

    One line per exercise, in the notebook's order, from nbgrader's passed and failed test cells.

    Example::

        >>> from nbformat.v4 import new_code_cell
        >>> ok = new_code_cell("from coursecnn.lab import needs; needs('pooling exercise 2', 'np')")
        >>> bad = new_code_cell("from coursecnn.lab import needs; needs('pooling exercise 1', 'np')",
        ...                     outputs=[{"output_type": "error", "ename": "NotImplementedError",
        ...                               "evalue": "x", "traceback": []}])
        >>> print(exercise_statuses([ok], [bad]))
        pooling exercise 1: still to do
        pooling exercise 2: passed
    """
    rows = []
    for cell in failed:
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        todo = errors and errors[0].get("ename") == "NotImplementedError"
        rows.append((_label(cell), "still to do" if todo else "FAILED"))
    rows += [(_label(cell), "passed") for cell in passed]
    rows.sort(key=lambda r: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", r[0])])
    return "\n".join(f"{label}: {status}" for label, status in rows)


def _handlers():
    from nbgrader.server_extensions.validate_assignment.handlers import (
        NbGraderVersionHandler, ValidateAssignmentHandler,
    )
    from nbgrader.validator import Validator
    from tornado import web

    class _Validator(Validator):
        def _get_passed_cells(self, nb):
            self.passed_cells = super()._get_passed_cells(nb)
            return self.passed_cells

        def _get_failed_cells(self, nb):
            self.failed_cells = super()._get_failed_cells(nb)
            return self.failed_cells

    class Handler(ValidateAssignmentHandler):
        def validate_notebook(self, path):
            root = Path(self.root_dir).resolve()
            target = (root / path).resolve()
            if not target.is_relative_to(root):
                raise web.HTTPError(403, "Access denied: path outside allowed directory")
            try:
                validator = _Validator(config=self.load_config())
                result = validator.validate(str(target))
            except Exception:  # nbgrader's own answer for anything that stops it
                self.log.error(traceback.format_exc())
                return {"success": False, "value": traceback.format_exc()}
            failed = result.get("failed")
            if failed:
                table = exercise_statuses(getattr(validator, "passed_cells", []), getattr(validator, "failed_cells", []))
                # The dialog shows each failed cell's source first: the list goes on top of it.
                failed[0]["source"] = (f"Your exercises:\n{table}\n\nThe first test cell that did not pass:\n\n"
                                       + failed[0]["source"])
            return {"success": True, "value": result}

    return [(r"/assignments/validate", Handler), (r"/nbgrader_version", NbGraderVersionHandler)]


def _jupyter_server_extension_points():
    return [{"module": "coursecnn.labserver"}]


def _load_jupyter_server_extension(serverapp):
    from jupyter_server.utils import url_path_join

    webapp = serverapp.web_app
    base = webapp.settings["base_url"]
    webapp.settings.setdefault("root_dir", serverapp.root_dir)  # where nbgrader's handler looks for it
    webapp.add_handlers(".*$", [(url_path_join(base, route), handler) for route, handler in _handlers()])
    serverapp.log.info("coursecnn: Lab's Validate lists every exercise (coursecnn.labserver)")
