"""Run each student notebook once, the way a student would, and check what it tells them.

One kernel per notebook runs the student notebook cell by cell (the setup check first). At each
exercise it runs

1. the student's cells as handed out (the stub), then the exercise's visible test cell: this must
   fail, with the stub's message naming the exercise still to do;
2. the reference solution (from the source notebook), then the same visible test cell: this
   must pass (the hidden tests are checked against the solutions by the nbgrader round trip);

and carries on with the next cells. The same run records every value the chapter glues, which
the edition writes into the notebook's text. So one execution per chapter checks that untouched
stubs fail in exactly their exercise cells, that the reference solutions pass, that the chapter's
other cells run, and gives the numbers for the prose.
"""

import json
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from . import editions

__all__ = ["ChapterRun", "run_chapter", "run_chapters"]


class ChapterRun:
    """What one run found: ``glue`` (name -> text/plain), ``problems`` (sentences; empty when
    all is well), ``stub_messages`` (exercise label -> what its untouched stub's test said) and
    ``seconds``."""

    def __init__(self, path):
        self.path, self.glue, self.problems, self.stub_messages, self.seconds = str(path), {}, [], {}, 0.0
        self.wrong_messages = {}

    def to_dict(self):
        return dict(self.__dict__)


def _error_of(cell):
    import re

    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            text = f"{out.get('ename')}: {out.get('evalue')}"
            # The note coursecnn.lab adds (the exercise's rule), plain text without colours.
            tb = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(out.get("traceback", [])))
            notes = [ln.strip() for ln in tb.splitlines() if "check the exercise's rule" in ln]
            return text + (f" [{notes[-1]}]" if notes else "")
    return None


def _stdout(cell):
    return "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream" and o.get("name") == "stdout")


def run_chapter(path, root=None, timeout=900, check=True, wrong=None):
    """run_chapter(path, root=None, timeout=900, check=True) -> ChapterRun

    Run the student version of the source notebook ``path`` in a fresh kernel, in the notebook's
    own folder (see the module's docstring).

    Args:
        path (str or Path): a source notebook under ``book/``.
        root (str or Path, optional): the project root. Default: found from ``path``.
        timeout (int): seconds one cell may run. Default: 900.
        check (bool): run each exercise's stub against its visible tests first. Default: ``True``
            (``False`` only gathers the glued values, with the reference solutions).
        wrong (dict, optional): exercise key (e.g. ``"pooling-ex2"``) -> list of ``(name, code)``
            answers to run against the visible tests after the stub; what each test said goes to
            ``ChapterRun.wrong_messages[label]`` (for the tables in the docs; ``None`` for a pass).

    Returns:
        ChapterRun.
    """
    import time

    import nbformat
    from nbclient import NotebookClient

    start = time.perf_counter()
    path = Path(path).resolve()
    root = Path(root).resolve() if root else editions.find_root(path.parent)
    name = str(path.relative_to(root))
    result = ChapterRun(name)
    source = editions.read_notebook(path)
    # The markdown needs the glued values this run produces, so run the code of the Lab
    # notebook (setup cell, named stubs, coursecnn.lab.glue); its markdown plays no part.
    student = editions.student_edition_notebook(source, name=name)
    setup_cell = editions.setup_cell(source, name)
    exercises = {ex["test"]: ex for ex in editions.exercise_list(source, name) if ex["test"] is not None}
    solution_of = {ex["key"]: ex["solution"] for ex in exercises.values()}

    plan = []  # (cell, what, exercise)
    plan.append((setup_cell, "setup", None))
    for i, cell in enumerate(student["cells"]):
        if cell.get("cell_type") != "code":
            continue
        cell = dict(cell)
        cell["source"] = editions.source_text(cell).replace(editions.GLUE_IMPORT, editions.LAB_GLUE_IMPORT)
        if i in exercises:
            ex = exercises[i]
            cell = editions.lab_test_cell(cell, ex)  # as the student's notebook has it
            if check:
                plan.append((cell, "stub-test", ex))
            for desc, code in (wrong or {}).get(ex["key"], []):
                plan.append(({"cell_type": "code", "source": code}, "wrong-answer", ex))
                plan.append((dict(cell), f"wrong-test:{desc}", ex))
            sol = solution_of.get(ex["key"])
            if sol is not None:
                plan.append((dict(source["cells"][sol], outputs=[]), "solution", ex))
            # The student's test cell again: the hidden tests against the reference solutions are
            # the nbgrader round trip's job (tests/test_nbgrader_e2e.py), not repeated here.
            plan.append((dict(cell), "test", ex))
        elif i in solution_of.values():
            if check:
                plan.append((cell, "stub", None))
        else:
            plan.append((cell, "cell", None))
    if exercises:  # the notebook's last cell, the exercises' statuses: it must run too
        summary = editions.summary_cells(list(exercises.values()))[-1]
        plan.append((summary, "summary", None))
    harvest = nbformat.v4.new_code_cell("import coursecnn.lab\nprint(coursecnn.lab.glued_json())")
    plan.append((harvest, "harvest", None))
    cells = [nbformat.from_dict({**c, "source": editions.source_text(c), "metadata": {}, "outputs": [], "execution_count": None,
                                 "id": f"run-{k}"}) for k, (c, _, _) in enumerate(plan)]
    nb = nbformat.v4.new_notebook(cells=cells, metadata=source.get("metadata", {}))
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    with client.setup_kernel():
        for k, (_, what, ex) in enumerate(plan):
            cell = nb.cells[k]
            client.execute_cell(cell, k)
            err = _error_of(cell)
            if what == "stub-test":
                if err is None:
                    result.problems.append(f"{name}: the untouched stub of {ex['label']} passes its tests")
                elif "still to do" not in err or ex["label"] not in err:
                    result.problems.append(f"{name}: the untouched stub of {ex['label']} fails with {err!r}, "
                                           "which does not say that the exercise is still to do")
                result.stub_messages[ex["label"]] = err
            elif what.startswith("wrong-test:"):
                result.wrong_messages.setdefault(ex["label"], []).append((what.split(":", 1)[1], err))
            elif err is not None and what != "wrong-answer":
                which = f"{ex['label']}, {what}" if ex else f"code cell {k} ({what})"
                result.problems.append(f"{name}: {which} failed: {err}")
                if what == "setup":
                    break
            if what == "summary" and err is None:
                shown = _stdout(cell)
                for e in exercises.values():
                    if f"{e['label']} ({e['title']}): passed" not in shown and f"{e['label']}: passed" not in shown:
                        result.problems.append(f"{name}: the summary cell does not list {e['label']} as passed "
                                               f"after its reference solution: {shown!r}")
            if what == "harvest" and err is None:
                result.glue = json.loads(_stdout(cell).strip().splitlines()[-1])
    result.seconds = round(time.perf_counter() - start, 1)
    return result


def _run_one(args):
    path, root, check = args
    try:
        return run_chapter(path, root=root, check=check).to_dict()
    except Exception as exc:  # a kernel that died, a timeout: one problem, not a crash of the pool
        return {"path": str(path), "glue": {}, "problems": [f"{path}: {type(exc).__name__}: {exc}"],
                "stub_messages": {}, "seconds": 0.0}


def run_chapters(paths, root, jobs=1, check=True):
    """Run :func:`run_chapter` on each notebook, ``jobs`` at a time; a list of result dicts."""
    args = [(str(p), str(root), check) for p in paths]
    if jobs <= 1 or len(args) <= 1:
        return [_run_one(a) for a in args]
    # One BLAS/torch thread per kernel when several run side by side.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(_run_one, args))


def check_student_notebook(path, root=None, timeout=300):
    """check_student_notebook(path, root=None, timeout=300) -> list of (str, bool)

    Validate a student's notebook the way a student means it: run it top to bottom in a fresh
    kernel (in its own folder) and report, for every exercise of its chapter, whether its tests
    pass, fail (with the check's message) or are missing from the notebook (a deleted cell, or a
    notebook from an older edition), by name. Never modifies the file.

    Args:
        path (str or Path): the student's ``.ipynb``.
        root (str or Path, optional): the project (for the chapter's list of exercises).
            Default: found from the notebook's folder, then from the current one.
        timeout (int): seconds one cell may run. Default: 300.

    Returns:
        list of ``(line, ok)``: one line per exercise (and one per problem found), ``ok`` when it
        passed.
    """
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # not JSON, not a notebook
        return [(f"{path}: cannot read it as a notebook ({type(exc).__name__}: {exc})", False)]
    try:
        root = Path(root) if root else editions.find_root(path.resolve().parent)
    except FileNotFoundError:
        root = editions.find_root()
    ids = {str(editions.nbgrader_meta(c).get("grade_id", "")): k for k, c in enumerate(nb.cells)}
    chapter = next((i.rsplit("-ex", 1)[0] for i in ids if "-ex" in i), path.stem)
    source_path = root / "book" / "chapters" / f"{chapter}.ipynb"
    if not source_path.exists():
        return [(f"{path}: no chapter {chapter!r} in {root / 'book' / 'chapters'}; is this a coursecnn chapter?", False)]
    source = editions.read_notebook(source_path)
    expected = editions.exercise_list(source, chapter)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.resolve().parent)}})
    report = []
    try:
        client.execute()
    except Exception as exc:  # a dead kernel, a timeout
        report.append((f"{path}: the run stopped: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                       False))
    for ex in expected:
        name = f"{ex['label']} ({ex['title']})" if ex["title"] else ex["label"]
        test_id = editions.nbgrader_meta(source["cells"][ex["test"]]).get("grade_id") if ex["test"] is not None else None
        sol_id = editions.nbgrader_meta(source["cells"][ex["solution"]]).get("grade_id") if ex["solution"] is not None else None
        missing = [what for what, gid in (("answer", sol_id), ("test", test_id)) if gid and gid not in ids]
        if missing:
            report.append((f"{name}: MISSING: its {' and '.join(missing)} cell{'s' if len(missing) > 1 else ''} "
                           "cannot be found in this notebook (deleted, or saved from an older edition): copy "
                           f"{'them' if len(missing) > 1 else 'it'} from a fresh lab edition", False))
            continue
        cell = nb.cells[ids[test_id]]
        err = next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)
        if cell.get("execution_count") is None and err is None:
            report.append((f"{name}: NOT RUN (the run stopped before its tests)", False))
        elif err is not None:
            report.append((f"{name}: FAILED: {err.get('ename')}: {err.get('evalue')}", False))
        else:
            report.append((f"{name}: passed", True))
    return report
