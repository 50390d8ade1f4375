"""``coursecnn edition lab``: the student notebooks for JupyterLab, and where their numbers come
from.

The notebooks themselves are made by :func:`coursecnn.editions.build_lab`. Their prose quotes
numbers that the chapters compute (myst-nb's ``glue``); the edition writes them in as text, so
they show in every front end without running anything. They come from one run of each chapter
(:mod:`coursecnn.labrun`, which can check the exercises in the same run), or at no cost from
numbers already at hand:

- after a book build, the notebooks the book executed (``--glue-from _build/jupyter_execute``);
- otherwise ``book/glue.json``, the numbers of the last full run (``make notebooks`` writes it;
  it is committed), each chapter's entry keyed by a hash of what its numbers are computed from:
  the chapter's code cells and the package modules they import (with the modules those import,
  and the package's data files). Only a chapter whose key changed is run again.
"""

import hashlib
import json
import re
import shutil
import sys
import time
from pathlib import Path

from . import editions

__all__ = ["glue_from_executed", "publish", "lab_command", "chapter_key", "GLUE_CACHE"]

GLUE_CACHE = Path("book") / "glue.json"  # under the project root


_IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+(?P<mod>\.*[\w.]*)[ \t]+import[ \t]+(?P<names>\([^)]*\)|[^\n]*)"
                     r"|import[ \t]+(?P<plain>[^\n]*))", re.M)


def _imports(text, package_of):
    """Dotted coursecnn modules that Python source ``text`` imports (``package_of``: the importing
    module's package, for relative imports). Read from the import lines, without parsing: a
    name that is not a module is dropped later, an extra module only makes the key stricter."""
    found = set()
    for m in _IMPORT.finditer(text):
        if m.group("plain") is not None:
            names = [n.split(" as ")[0].strip() for n in m.group("plain").split("#")[0].split(",")]
            found.update(n for n in names if n.split(".")[0] == "coursecnn")
            continue
        mod = m.group("mod")
        level = len(mod) - len(mod.lstrip("."))
        if level:
            parts = package_of.split(".")
            mod = ".".join(parts[: len(parts) - level + 1] + ([mod.lstrip(".")] if mod.lstrip(".") else []))
        if mod.split(".")[0] != "coursecnn":
            continue
        found.add(mod)
        names = m.group("names").split("#")[0].strip("() \n")
        found.update(f"{mod}.{n.split(' as ')[0].strip()}" for n in re.split(r"[,\n]", names)
                     if n.split(" as ")[0].strip().isidentifier())
    return found


def _module_file(src, dotted):
    """The source file of a dotted coursecnn module under ``src``, or None (a name, not a module)."""
    path = Path(src, *dotted.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


_PARSED = {}  # (file, size, mtime) -> the coursecnn modules it imports


def _module_imports(file, dotted):
    stat = file.stat()
    key = (str(file), stat.st_size, stat.st_mtime_ns)
    if key not in _PARSED:
        package = dotted if file.name == "__init__.py" else dotted.rpartition(".")[0]
        _PARSED[key] = _imports(file.read_text(encoding="utf-8"), package)
    return _PARSED[key]


def chapter_key(path, root):
    """chapter_key(path, root) -> str

    A hash of everything a notebook's glued numbers are computed from: its code cells, and the
    source of every coursecnn module they import, followed through the modules' own imports
    (each package's ``__init__``), plus the package's data files when ``coursecnn.data`` is among
    them. Prose edits leave it alone; a change to the code behind a number does not."""
    root = Path(root)
    src = root / "src"
    nb = editions.read_notebook(path)
    code = "\n".join(editions.source_text(c) for c in nb.get("cells", []) if c.get("cell_type") == "code")
    todo = set(_imports(code, "coursecnn"))
    seen, files = set(), set()
    while todo:
        mod = todo.pop()
        parts = mod.split(".")
        for k in range(1, len(parts) + 1):  # importing a.b.c runs a/__init__ and a/b/__init__ too
            sub = ".".join(parts[:k])
            if sub in seen:
                continue
            seen.add(sub)
            file = _module_file(src, sub)
            if file is None:
                continue
            files.add(file)
            todo |= _module_imports(file, sub) - seen
    if "coursecnn.data" in seen:
        files |= {p for p in (src / "coursecnn" / "data").rglob("*") if p.is_file()}
    h = hashlib.sha256(code.encode())
    for file in sorted(files):
        h.update(b"\0" + str(file.relative_to(root)).encode() + b"\0" + file.read_bytes())
    return h.hexdigest()[:24]


def read_glue_cache(root):
    """The saved numbers that still apply: ``{str(source path): {name: text}}`` for each notebook
    whose entry in ``book/glue.json`` has its current key."""
    try:
        saved = json.loads((Path(root) / GLUE_CACHE).read_text(encoding="utf-8"))["chapters"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    found = {}
    for src, rel in editions.lab_sources(root).items():
        entry = saved.get(rel.as_posix())
        if isinstance(entry, dict) and entry.get("key") == chapter_key(src, root):
            found[str(src)] = dict(entry.get("glue", {}))
    return found


def write_glue_cache(root, glue):
    """Save ``glue`` (``{str(source path): {name: text}}``, from a full run) in ``book/glue.json``;
    True when the file changed. An entry whose key is unchanged is kept as it is: a rerun on
    another machine (last digits of a trained accuracy) does not rewrite it."""
    try:
        saved = json.loads((Path(root) / GLUE_CACHE).read_text(encoding="utf-8"))["chapters"]
    except (OSError, ValueError, KeyError, TypeError):
        saved = {}
    chapters = {}
    for src, rel in sorted(editions.lab_sources(root).items(), key=lambda kv: kv[1]):
        key, old = chapter_key(src, root), saved.get(rel.as_posix())
        if isinstance(old, dict) and old.get("key") == key and set(old.get("glue", {})) == set(glue.get(str(src), {})):
            chapters[rel.as_posix()] = old
        elif str(src) in glue:
            chapters[rel.as_posix()] = {"key": key, "glue": glue[str(src)]}
    text = json.dumps({"note": "the numbers the chapters glue, from `make notebooks`; each key is a hash of "
                       "the chapter's code and the package code it runs (coursecnn.labedition.chapter_key)",
                       "chapters": chapters}, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    path = Path(root) / GLUE_CACHE
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
        return True
    return False


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


def _check_kernel_packages():
    """Refuse, in one line, to run chapters in a Python without nbclient or ipykernel."""
    import importlib.util

    missing = [m for m in ("nbclient", "nbformat", "ipykernel") if importlib.util.find_spec(m) is None]
    if missing:
        raise ModuleNotFoundError(f"running the chapters needs {', '.join(missing)}, which this Python lacks: "
                                  "reinstall coursecnn (`pip install -e .` installs them), or use `make lab`")


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
            cached = {} if args.check else read_glue_cache(root)
            sources = sorted((p for p in editions.lab_sources(root) if str(p) not in cached),
                             key=lambda p: -p.stat().st_size)  # longest first
            if cached:
                print(f"  {len(cached)} notebooks' numbers from {GLUE_CACHE} (their code is unchanged); "
                      f"{len(sources)} to run")
            _check_kernel_packages()
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
            glue = {**cached, **{str(Path(root) / r["path"]): r["glue"] for r in results}}
            if args.check and write_glue_cache(root, glue):
                print(f"  {GLUE_CACHE} updated with this run's numbers (commit it: `make lab` then needs no run)")
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
