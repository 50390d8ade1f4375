"""The ``coursecnn`` command: book editions and the nbgrader course.

    coursecnn edition student --out _build/edition      the book without solutions
    coursecnn edition instructor --out _build/instructor the book with them
    coursecnn edition lab --out _build/lab --check      the student notebooks for JupyterLab, checked
    coursecnn course build course/                      an nbgrader course directory
    coursecnn course check                              validate the exercises only
    coursecnn validate _build/lab/chapters/pooling.ipynb run a student notebook, report each exercise
    coursecnn grade pooling --course course/ --jobs 2   autograde every submission, in parallel
"""

import argparse
import sys
from pathlib import Path

from . import __version__

_EPILOG = """\
examples:
  coursecnn edition student --out _build/edition
      jupyter-book build _build/edition/book ...   (what `make book` does)
  coursecnn edition lab --out _build/lab --check --jobs 2   (what `make notebooks` does)
  coursecnn validate _build/lab/chapters/pooling.ipynb
  coursecnn course build course --timeout 60
      cd course && nbgrader generate_assignment pooling
  coursecnn grade pooling --course course --jobs 2
      cd course && nbgrader generate_feedback pooling && nbgrader export
  coursecnn course check --chapters pooling convolution

The book's "For instructors" page describes the whole workflow.
"""


def _seconds(text):
    """``--timeout``: one rule for every command, a positive whole number of seconds (0 or a
    negative number used to mean "no limit" to ``validate`` without a word)."""
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number of seconds, got {text!r}")
    return value


# The modules the notebook commands need that only the [dev] extra installs.
_EXTRA = "dev"


def _missing_extra(exc, command):
    """One line for a notebook tool missing from an install without the [dev] extra."""
    return (f"coursecnn: error: `coursecnn {command}` needs the notebook tools of the [{_EXTRA}] extra "
            f"(the module {exc.name!r} is not installed); install them with: pip install 'coursecnn[{_EXTRA}]'")


def _require(*modules):
    """Import ``modules`` now, so a missing one stops the command before it prints anything."""
    import importlib

    for name in modules:
        importlib.import_module(name)


def _parser():
    p = argparse.ArgumentParser(
        prog="coursecnn",
        description="Build the student or instructor edition of the coursecnn book, and an nbgrader "
        "course from its exercises.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"coursecnn {__version__}")
    p.add_argument("--root", metavar="DIR", help="the project folder (with book/ and _toc.yml); "
                   "default: found from the current folder")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    ed = sub.add_parser("edition", help="write the student or instructor edition of the book",
                        description="Copy book/ to OUT/book with src/, docs/ and the configuration linked beside it. "
                        "The student edition replaces every solution by a stub, removes the hidden tests and "
                        "tags the exercise cells skip-execution so the book still builds.")
    ed.add_argument("kind", choices=["student", "instructor", "lab"],
                    help="which edition: student or instructor (the HTML book's sources), or lab (the "
                    "student notebooks for JupyterLab: chapters and explorers, plain Markdown, no solutions)")
    ed.add_argument("--out", required=True, metavar="DIR",
                    help="where to write it (an earlier edition there is replaced; files you added are kept)")
    ed.add_argument("--force", action="store_true",
                    help="replace files of an earlier edition that were edited since (each kept as NAME.edited); "
                    "the lab edition never needs it: it merges your answers into the new notebooks")
    lab = ed.add_argument_group("lab edition")
    lab.add_argument("--check", action="store_true",
                     help="also check every chapter: each untouched stub fails its tests with a message naming "
                     "the exercise, each reference solution passes (one kernel run per chapter)")
    lab.add_argument("--jobs", type=int, default=1, metavar="N", help="chapters run side by side (default: 1)")
    lab.add_argument("--glue-from", metavar="DIR",
                     help="take the glued numbers from the notebooks the book build executed (e.g. "
                     "_build/jupyter_execute) instead of running the chapters")
    lab.add_argument("--if-missing", action="store_true", help="do nothing when OUT already holds a lab edition")
    lab.add_argument("--publish", metavar="HTML",
                     help="copy the lab notebooks over the built book's downloadable sources (HTML/_sources), "
                     "so the book's download button gives the same files")

    va = sub.add_parser("validate", help="run a student notebook and report each exercise by name",
                        description="Run each notebook in a fresh kernel and report, for every exercise of its "
                        "chapter, passed, failed (with the check's message) or missing (a deleted cell, or a "
                        "notebook from an older edition). The notebooks are not modified.")
    va.add_argument("notebooks", nargs="+", metavar="NOTEBOOK", help="student notebooks (.ipynb)")
    va.add_argument("--timeout", type=_seconds, default=300, metavar="SECONDS",
                    help="seconds one cell may run, at least 1 (default: 300)")

    co = sub.add_parser("course", help="build or check the nbgrader course",
                        description="nbgrader course directory from the chapters' exercises.")
    co_sub = co.add_subparsers(dest="action", metavar="ACTION")
    chapters_help = ("chapter names (e.g. pooling) or paths to .ipynb files; default: every chapter "
                     "with exercises")
    build = co_sub.add_parser("build", help="write OUT/nbgrader_config.py and OUT/source/<chapter>/",
                              description="Write an nbgrader course directory: OUT/nbgrader_config.py "
                              "(SQLite gradebook, per-cell timeout) and one assignment per chapter with "
                              "exercises in OUT/source/<chapter>/<chapter>.ipynb. Then run nbgrader in OUT.")
    build.add_argument("out", metavar="OUT", help="the course folder")
    build.add_argument("--chapters", nargs="+", metavar="CHAPTER", help=chapters_help)
    build.add_argument("--timeout", type=_seconds, default=120, metavar="SECONDS",
                       help="seconds one cell may run when autograding, at least 1 (default: 120; the slowest "
                       "test, architectures' exercise 3, trains two small networks)")
    build.add_argument("--course-id", default="coursecnn", help="nbgrader course id (default: coursecnn)")
    build.add_argument("--force", action="store_true", help="replace files edited by hand too, "
                       "after a backup beside each (NAME.bak-TIME)")
    check = co_sub.add_parser("check", help="validate the exercise cells and list them",
                              description="Validate every exercise cell as `course build` does, check that "
                              "no other cell needs a name only a solution defines (the student edition would "
                              "fail), and list the exercises with their points; write nothing.")
    check.add_argument("--chapters", nargs="+", metavar="CHAPTER", help=chapters_help)

    gr = sub.add_parser("grade", help="autograde every submission of an assignment, in parallel",
                        description="Run nbgrader's autograde for every submitted/<student>/ASSIGNMENT, "
                        "JOBS students at a time. Student code runs in a bubblewrap sandbox, in a process "
                        "apart from the checks; without bubblewrap grading refuses to start unless "
                        "--unsandboxed is given. Writes COURSE/grade_report_ASSIGNMENT.csv.")
    gr.add_argument("assignment", metavar="ASSIGNMENT", help="the assignment (chapter) name")
    gr.add_argument("--course", default=".", metavar="DIR", help="the course folder (default: .)")
    gr.add_argument("--jobs", "-j", type=int, default=1, metavar="N",
                    help="students graded at once (default: 1; about one per core)")
    gr.add_argument("--students", nargs="+", metavar="ID", help="only these students")
    gr.add_argument("--unsandboxed", action="store_true",
                    help="grade even where bubblewrap cannot sandbox student code (it can then read "
                    "and write what you can)")
    gr.add_argument("--shard", metavar="K/N",
                    help="grade only the K-th of N shares of the students (one per machine, e.g. one "
                    "task of a Slurm job array); merge the shards with `coursecnn merge-shards`")
    mg = sub.add_parser("merge-shards", help="merge graded shard copies of a course into one gradebook",
                        description="For every submission a shard graded (a copy of the course folder graded "
                        "with `coursecnn grade --shard K/N`), copy its grades, autograded notebooks and flags "
                        "into COURSE.")
    mg.add_argument("shards", nargs="+", metavar="SHARD_DIR", help="the shard course folders")
    mg.add_argument("--course", default=".", metavar="DIR", help="the course to merge into (default: .)")
    fl = sub.add_parser("flags", help="export scores and what was flagged, one column per assignment",
                        description="Write a CSV with one row per student and, per assignment, the score and "
                        "what the grader flagged (dropped cells, shadowed builtins, forbidden imports, limits "
                        "hit, worker deaths); the evidence is in COURSE/flags/<assignment>/<student>.jsonl.")
    fl.add_argument("--course", default=".", metavar="DIR", help="the course folder (default: .)")
    fl.add_argument("--out", metavar="FILE", help="the CSV to write (default: COURSE/grades_flagged.csv)")
    return p, co


def main(argv=None):
    """Run the command line; returns the exit status (0 on success)."""
    from .editions import ExerciseFormatError, build_edition, check_independent, find_root
    from .grader.batch import GradeError

    parser, course_parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        root = find_root(args.root) if args.root else find_root()
        if args.command == "edition":
            if args.kind == "lab":
                from .labedition import lab_command

                return lab_command(args, root)
            book = build_edition(args.kind, args.out, root=root, force=args.force)
            print(f"{args.kind} edition written: {book}")
            return 0
        if args.command == "grade":
            from .grader.batch import grade_assignment, parse_shard

            shard = parse_shard(args.shard) if args.shard else None
            rows = grade_assignment(args.course, args.assignment, jobs=args.jobs, students=args.students,
                                    unsandboxed=args.unsandboxed, shard=shard)
            return 0 if all(r["status"] == "graded" for r in rows) else 1
        if args.command == "merge-shards":
            from .grader.batch import merge_gradebooks

            n = merge_gradebooks(args.course, args.shards)
            print(f"{n} submission(s) merged into {Path(args.course).resolve()}")
            return 0
        if args.command == "flags":
            from .grader.batch import export_flags

            print(f"written: {export_flags(args.course, args.out)}")
            return 0
        if args.command == "validate":
            from .labrun import check_student_notebook

            _require("nbformat", "nbclient")  # what check_student_notebook runs the notebooks with
            ok = True
            for nb_path in args.notebooks:
                print(f"{nb_path}:")
                for line, passed in check_student_notebook(nb_path, root=root, timeout=args.timeout):
                    print(f"  {line}")
                    ok = ok and passed
            return 0 if ok else 1
        from .course import build_course, chapter_notebooks, display_path, exercises, validate_notebook
        from .editions import read_notebook

        if args.action == "build":
            _require("nbformat", "nbclient", "nbgrader")  # the course is for nbgrader: say so now
            built = build_course(args.out, chapters=args.chapters, timeout=args.timeout,
                                 course_id=args.course_id, root=root, force=args.force)
            out = Path(args.out)
            for name, ids in built.items():
                print(f"{out / 'source' / name / (name + '.ipynb')}: {len(ids)} nbgrader cells")
            for path in built.written:
                print(f"written: {path}")
            for path in built.backups:
                print(f"backup of your version: {path}")
            for path in built.kept:
                print(f"kept (edited by hand; --force replaces it after a backup): {path}")
            for path in built.foreign:
                print(f"left alone (not made by the build): {path}")
            print(f"course written to {out}; next: cd {out} && nbgrader generate_assignment <name>")
            return 0
        if args.action == "check":
            notebooks = chapter_notebooks(root, args.chapters)
            if not notebooks:
                print("no chapter has exercises")
                return 1
            for name, path in notebooks.items():
                nb = read_notebook(path)
                validate_notebook(nb, name=display_path(path, root))
                check_independent(nb, name=display_path(path, root))
                rows = exercises(nb)
                total = sum(r[3] for r in rows)
                print(f"{name}: {len(rows)} nbgrader cells, {total:g} points")
                for i, gid, kind, pts in rows:
                    print(f"  cell {i:3d}  {kind:8s}  {gid}" + (f"  ({pts:g} points)" if kind in ("test", "answer", "task") else ""))
            return 0
        course_parser.print_help()
        return 2
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] == "coursecnn":
            raise  # our own module missing is a bug, not an install without the extras
        if exc.name is None:  # raised by our code with its own one-line message
            print(f"coursecnn: error: {exc}", file=sys.stderr)
            return 1
        command = " ".join(filter(None, (args.command, getattr(args, "action", None) or getattr(args, "kind", None))))
        print(_missing_extra(exc, command), file=sys.stderr)
        return 1
    except (ExerciseFormatError, ValueError, OSError, GradeError, ImportError) as exc:
        print(f"coursecnn: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
