"""What the grader saw a submission do that an instructor should know about.

Each autograde writes one log per submission, ``<course>/flags/<assignment>/<student>.jsonl``, a
JSON object a line: ``{"kind", "cell", "evidence", "time"}``. The kinds:

- ``dropped cell``: a cell the student added (not run; its first line is the evidence);
- ``changed cell``: a cell of the release the student edited outside the answers (graded as
  released);
- ``changed cell id``: an answer cell whose id differs from the release's (the release's is used);
- ``large answer``: an answer cell over 20,000 characters (it may carry data, a test set say);
- ``other exercise's names``: an answer cell that defines what another exercise's stub declares
  (not bound: each exercise's names come from its own cell only);
- ``missing answer``: an answer cell the submission deleted (the release's stub is graded);
- ``shadowed builtin``: an answer that rebinds ``range``, ``sum``, ``tuple``... (never bound in
  the checks, so it gains nothing; still worth a look);
- ``mutated input``: a function that changed an argument in place (the test that called it fails);
- ``forbidden import``: a NumPy-only answer that tried to import another package;
- ``limit``: the cell's time, the CPU time or the memory allowed for an answer ran out;
- ``worker death``: the student's process ended while it ran their code;
- ``sandbox refused``: the student's code tried what the box forbids (a write outside its
  scratch folder, a new process).

``coursecnn grade`` gathers them into the report and the export (one column per assignment).
"""

import json
import time
from pathlib import Path

__all__ = ["log_path", "record", "read", "reset", "summary", "write_stats", "read_stats"]


def log_path(flags_dir, assignment, student):
    return Path(flags_dir) / str(assignment) / f"{student}.jsonl"


def reset(path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("")
    _stats(path).unlink(missing_ok=True)


def _stats(path):
    return Path(path).with_suffix(".stats.json")


def write_stats(path, stats):
    """Numbers about a submission's grading (the workers' CPU seconds) beside its log."""
    _stats(path).write_text(json.dumps(stats))


def read_stats(path):
    try:
        return json.loads(_stats(path).read_text())
    except (OSError, ValueError):
        return {}


def record(path, kind, cell, evidence):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"kind": str(kind), "cell": str(cell or ""), "evidence": str(evidence)[:500],
                       "time": time.strftime("%Y-%m-%dT%H:%M:%S")})
    with open(path, "a") as fh:
        fh.write(line + "\n")


def read(path):
    path = Path(path)
    if not path.is_file():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def summary(events):
    """One short text for a report cell: ``"dropped cell x2; limit (pooling-ex1-solution)"``."""
    counts = {}
    for e in events:
        key = e["kind"] + (f" ({e['cell']})" if e.get("cell") and e["kind"] != "dropped cell" else "")
        counts[key] = counts.get(key, 0) + 1
    return "; ".join(k if n == 1 else f"{k} x{n}" for k, n in counts.items())
