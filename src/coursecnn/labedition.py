"""``coursecnn edition lab``: the student notebooks for JupyterLab, and where their numbers come
from.

The notebooks themselves are made by :func:`coursecnn.editions.build_lab`. Their prose quotes
numbers that the chapters compute (myst-nb's ``glue``); the edition writes them in as text, so
they show in every front end without running anything. They come either from one run of each
chapter (:mod:`coursecnn.labrun`, which can check the exercises in the same run) or, after a book
build, from the notebooks the book executed (``--glue-from _build/jupyter_execute``), at no cost.
"""

import json
import shutil
import sys
import time
from pathlib import Path

from . import editions

__all__ = ["glue_from_executed", "publish", "lab_command"]


def glue_from_executed(folder, root):
    """glue_from_executed(folder, root) -> dict

    The glued values of executed notebooks: for each source notebook under ``root/book`` with a
    copy at the same relative path under ``folder`` (as jupyter-book writes them to
    ``_build/jupyter_execute``), ``{str(source path): {name: text/plain}}``. ``folder`` may also
    be an earlier lab edition (its marker records the values it used).
    """
    folder, root = Path(folder), Path(root)
    try:  # an earlier lab edition: its marker keeps the values it used
        saved = json.loads((folder / editions.MARKER).read_text(encoding="utf-8"))["glue"]
        return {str(src): saved.get(str(rel), {}) for src, rel in editions.lab_sources(root).items()}
    except (OSError, ValueError, KeyError, TypeError):
        pass
    if not folder.is_dir():
        raise FileNotFoundError(f"--glue-from {folder}: no such folder (build the book first, or leave "
                                "--glue-from out to run the chapters)")
    found = {}
    for src, rel in editions.lab_sources(root).items():
        executed = folder / rel
        if not executed.exists():
            continue
        values = {}
        sidecar = executed.with_suffix(".glue.json")  # where myst-nb keeps them (removed from the outputs)
        if sidecar.exists():
            for name, out in json.loads(sidecar.read_text(encoding="utf-8")).items():
                text = out.get("data", {}).get("text/plain")
                if text is not None:
                    values[name] = "".join(text) if isinstance(text, list) else text
        for cell in editions.read_notebook(executed).get("cells", []):
            for out in cell.get("outputs", []):
                name = out.get("metadata", {}).get("scrapbook", {}).get("name")
                if not name:
                    continue
                for key, text in out.get("data", {}).items():
                    if key.endswith("text/plain"):
                        values[name] = "".join(text) if isinstance(text, list) else text
        found[str(src)] = values
    return found


def publish(lab, html):
    """Copy the lab notebooks that are as built (not edited since) over the book's downloadable
    sources, ``html/_sources/<same path>``; return the paths copied."""
    lab, html = Path(lab), Path(html)
    record = editions._record(lab) or {}
    copied = []
    for rel, digest in sorted(record.items()):
        target = html / "_sources" / rel
        if not rel.endswith(".ipynb") or not target.exists():
            continue
        if editions._hash(lab / rel) != digest:
            print(f"coursecnn: {lab / rel} was edited since it was built; the book keeps its own copy",
                  file=sys.stderr)
            continue
        shutil.copyfile(lab / rel, target)
        copied.append(str(target))
    return copied


def lab_command(args, root):
    """Carry out ``coursecnn edition lab`` (see ``coursecnn edition --help``); the exit status."""
    from .labrun import run_chapters

    out = editions.check_out_path(args.out, root)
    if args.if_missing and (out / editions.MARKER).exists():
        print(f"lab edition already at {out}")
        try:
            built_from = json.loads((out / editions.MARKER).read_text(encoding="utf-8")).get("sources")
        except (OSError, ValueError):
            built_from = None
        if built_from != editions.lab_sources_digest(root):
            print(f"note: the chapters or the package changed since {out} was built; to update it run "
                  f"`coursecnn edition lab --out {out}` (or `make notebooks`): it keeps your own files and "
                  "carries your answers into the new chapters (anything it cannot carry stays in NAME.mine.ipynb)", file=sys.stderr)
    else:
        start = time.perf_counter()
        editions.check_rebuild(out, force=args.force)
        if args.glue_from:
            if args.check:
                raise ValueError("--check runs the chapters; it cannot be combined with --glue-from")
            glue = glue_from_executed(args.glue_from, root)
        else:
            sources = sorted(editions.lab_sources(root), key=lambda p: -p.stat().st_size)  # longest first
            results = run_chapters(sources, root, jobs=max(1, args.jobs), check=args.check)
            problems = [p for r in results for p in r["problems"]]
            for r in sorted(results, key=lambda r: r["path"]):
                print(f"  {r['path']}: ran in {r['seconds']:.0f} s" + (f", {len(r['stub_messages'])} exercises checked"
                                                                          if args.check and r["stub_messages"] else ""))
            if problems:
                for p in problems:
                    print(f"coursecnn: error: {p}", file=sys.stderr)
                print(f"coursecnn: error: {len(problems)} problems; the lab edition was not written", file=sys.stderr)
                return 1
            glue = {str(Path(root) / r["path"]): r["glue"] for r in results}
        kept = editions.build_lab(out, root=root, glue=glue, force=args.force)
        for note in getattr(kept, "notes", []):
            print(f"  {note}")
        for rel in kept:
            print(f"  kept {out / rel}" + ("" if rel.endswith(".mine.ipynb") else " (not made by the edition)"))
        print(f"lab edition written: {out} ({time.perf_counter() - start:.0f} s); open it with `make lab`")
    if args.publish:
        copied = publish(out, args.publish)
        print(f"{len(copied)} notebooks copied over the book's downloads in {args.publish}/_sources")
    return 0
