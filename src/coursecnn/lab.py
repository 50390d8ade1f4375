"""Helpers that the student notebooks call in JupyterLab (or any Jupyter front end).

- :func:`glue` stands in for ``myst_nb.glue``: the book's builder pastes glued values into the
  text; in the student notebooks the values are already written into the text, so gluing only
  has to show the value when asked to (``display=True``) and otherwise do nothing. The student
  notebooks import it, so they need neither myst-nb nor a book build.
- :func:`explain_errors` makes an exception raised inside an exercise's function end with a
  line that names the exercise and the rule it states (a bare ``ValueError: cannot reshape``
  says what broke, not which rule of the exercise to look at again).
"""

import json
import os
import sys

__all__ = ["glue", "glued_json", "explain_errors", "exercise_note", "needs", "summary", "RunFirst"]


def glue(name, value, display=True):
    """glue(name, value, display=True) -> None

    Show ``value`` when ``display`` is true; the student notebooks already carry the glued
    values in their text (``name`` is kept for the book's ``myst_nb.glue`` signature).

    Example::

        >>> glue("n_digits", 70_000, display=False)
    """
    _GLUED[name] = _plain_text(value)
    if display:
        from IPython.display import display as show

        show(value)


_GLUED = {}  # name -> text/plain of the value, as myst-nb records it


def _plain_text(value):
    try:
        shell = get_ipython()  # noqa: F821 (defined inside IPython)
    except NameError:
        return repr(value)
    data, _ = shell.display_formatter.format(value, include=("text/plain",))
    return data.get("text/plain", repr(value))


def glued_json():
    """The values glued so far in this kernel, as JSON (name -> text/plain); the edition builder
    reads them to write the numbers into the student notebooks' text."""
    return json.dumps(_GLUED)


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_RULES = {}  # function name -> (exercise label, rule)


def exercise_note(exc):
    """The line to add to ``exc`` when it was raised inside a registered exercise function, or
    ``None``: the innermost such frame of its traceback names the exercise."""
    if isinstance(exc, (AssertionError, KeyboardInterrupt)) or isinstance(exc, NotImplementedError):
        return None
    tb, hit = exc.__traceback__, None
    while tb is not None:
        name = tb.tb_frame.f_code.co_name
        # Only functions defined in a notebook cell, not the package's own code.
        if name in _RULES and not tb.tb_frame.f_code.co_filename.startswith(_PACKAGE_DIR):
            hit = name
        tb = tb.tb_next
    if hit is None:
        return None
    label, rule = _RULES[hit]
    return f"{hit} ({label}) raised {type(exc).__name__}: check the exercise's rule: {rule}"


def _handler(shell, etype, value, tb, tb_offset=None):
    note = exercise_note(value)
    if note and note not in getattr(value, "__notes__", []):
        value.add_note(note) if hasattr(value, "add_note") else None
    shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
    if note and not hasattr(value, "add_note"):  # Python < 3.11: print it after the traceback
        print(note, file=sys.stderr)


def explain_errors(rules):
    """explain_errors(rules) -> None

    Register the exercises' rules with the running IPython kernel: an exception (other than a
    failed check) raised inside one of these functions gets a note naming the exercise and its
    rule. Outside IPython it only records them.

    Args:
        rules (dict): function name -> ``(exercise label, rule)``, e.g. ``{"nmax_pool":
            ("pooling exercise 2", "x (H, W), windows k x k at stride k; output (H // k,
            W // k)")}``.

    Example::

        >>> explain_errors({"same_padding": ("padding_stride exercise 2", "dilation * (f - 1) // 2")})
    """
    _RULES.update(rules)
    try:
        shell = get_ipython()  # noqa: F821 (defined inside IPython)
    except NameError:
        return
    shell.set_custom_exc((Exception,), _handler)


# --- the test cells: what they need, and how each ended ---------------------------------------

_STATUS = {}  # exercise label -> (status, message); "passed", "failed", "to do" or "not run"


class RunFirst(NameError):
    """A test cell run before the cells it needs; IPython shows the message alone."""

    def _render_traceback_(self):
        return [str(self)]


def _one_line(exc):
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _record(label):
    """Record how the running cell ends, once, under ``label`` (an IPython ``post_run_cell``
    callback that removes itself)."""
    try:
        shell = get_ipython()  # noqa: F821 (defined inside IPython)
    except NameError:
        return

    def done(result):
        shell.events.unregister("post_run_cell", done)
        err = result.error_in_exec
        if err is None and result.error_before_exec is None:
            _STATUS[label] = ("passed", "")
        elif isinstance(err, RunFirst):
            _STATUS[label] = ("not run", "its test cell ran before the cells above it")
        elif isinstance(err, NotImplementedError):
            _STATUS[label] = ("to do", _one_line(err))
        else:
            _STATUS[label] = ("failed", _one_line(err or result.error_before_exec))

    shell.events.register("post_run_cell", done)


def needs(label, *names):
    """needs(label, *names) -> None

    The first line of an exercise's test cell in the student notebooks: when the kernel lacks
    one of ``names`` (the chapter's imports, the exercise's function), stop with a message that
    says which cells to run first, instead of a bare ``NameError``. Also records how the cell
    ends, for :func:`summary`.

    Args:
        label (str): the exercise, e.g. ``"pooling exercise 1"``.
        *names (str): the names the test cell uses and does not define itself.

    Example::

        >>> needs("demo exercise 1", "len")
    """
    frame = sys._getframe(1)
    scope = {**vars(__import__("builtins")), **frame.f_globals}
    _record(label)
    missing = [n for n in names if n not in scope]
    if missing:
        shown = ", ".join(missing[:4]) + (" ..." if len(missing) > 4 else "")
        raise RunFirst(
            f"{label}: run the cells above this one first. These tests use {shown}, which this kernel "
            "has not defined yet (a restarted kernel starts empty). Click your answer cell for "
            f"{label} (just above), choose Run > Run All Above Selected Cell, run that cell too, then "
            "this one; or Run > Run All.")


def summary(exercises):
    """summary(exercises) -> None

    Print each exercise's status in this kernel (the last cell of a student notebook): passed,
    failed (with the check's message), still to do, or not run yet.

    Args:
        exercises (list): ``(label, title)`` pairs, in the chapter's order.

    Example::

        >>> summary([("demo exercise 1", "double it")])  # doctest: +NORMALIZE_WHITESPACE
        Your exercises, as this kernel last ran their tests:
          demo exercise 1 (double it): not run yet
        0 of 1 passed. Validate (or `coursecnn validate NOTEBOOK`) checks them all in a fresh kernel.
    """
    print("Your exercises, as this kernel last ran their tests:")
    passed = 0
    for label, title in exercises:
        status, message = _STATUS.get(label, ("not run yet", ""))
        passed += status == "passed"
        name = f"{label} ({title})" if title else label
        shown = {"failed": "FAILED", "to do": "still to do"}.get(status, status)
        print(f"  {name}: {shown}" + (f": {message}" if message and status == "failed" else ""))
    print(f"{passed} of {len(exercises)} passed. Validate (or `coursecnn validate NOTEBOOK`) checks them "
          "all in a fresh kernel.")
