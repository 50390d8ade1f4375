"""Checks for exercise test cells that give a student readable feedback.

A bare ``assert out.shape == (1, 6, 28, 28)`` fails with an empty ``AssertionError``; these
helpers fail with a sentence that says what was wrong, by how much, and where to look:

    AssertionError: your output has shape (1, 6, 27, 27); expected (1, 6, 28, 28): check the
    output-size formula

Each raises ``AssertionError`` (so nbgrader counts the test as failed, not errored) and returns
``None`` when the check passes. NumPy arrays, PyTorch tensors (on any device), lists and Python
numbers are accepted wherever an array is expected. Nothing passed in is modified.

``check_shape``, ``check_close``, ``check_type``, ``check_scalar``, ``check_equal`` and
``check_raises`` are the public names.
"""

import linecache
import numbers

import numpy as np

__all__ = ["check_shape", "check_close", "check_type", "check_scalar", "check_equal", "check_raises"]


class _CheckFailed(AssertionError):
    """A failed check. In a notebook IPython shows ``_render_traceback_`` in place of the
    traceback: the message first, then the test's line, none of this module's frames. Named and
    placed as the builtin (``builtins.AssertionError``), so the error still reads, and nbgrader and
    doctest still see, ``AssertionError: message``."""

    def _render_traceback_(self):
        lines = [f"AssertionError: {self}"]
        tb, where = self.__traceback__, None
        while tb is not None:  # the innermost frame outside this module: the check's caller
            if tb.tb_frame.f_code.co_filename != __file__:
                where = tb
            tb = tb.tb_next
        if where is not None:
            code = linecache.getline(where.tb_frame.f_code.co_filename, where.tb_lineno).strip()
            lines.append(f"(failed at line {where.tb_lineno}" + (f": {code})" if code else ")"))
        return lines

    def __reduce__(self):  # pickled (by a process pool, say) as the plain builtin
        return AssertionError, self.args


_CheckFailed.__name__ = _CheckFailed.__qualname__ = "AssertionError"
_CheckFailed.__module__ = "builtins"


def _fail(message, hint):
    __tracebackhide__ = True  # IPython and pytest show the caller's line, not this frame
    if hint:
        message = f"{message}: {hint}"
    raise _CheckFailed(message)


def _kind(obj):
    """A short English name for the type of ``obj`` ("a list", "None", "a numpy.ndarray")."""
    if obj is None:
        return "None"
    cls = type(obj)
    name = cls.__name__ if cls.__module__ == "builtins" else f"{cls.__module__.split('.')[0]}.{cls.__name__}"
    return f"an {name}" if name[0].lower() in "aeiou" else f"a {name}"


def _is_tensor(obj):
    # Duck-typed so that importing this module never imports torch.
    return type(obj).__module__.startswith("torch") and hasattr(obj, "detach") and hasattr(obj, "cpu")


def _to_numpy(obj, what):
    """``obj`` as a NumPy array (a copy for tensors), or a failed check saying why it is not one."""
    __tracebackhide__ = True  # IPython and pytest show the caller's line, not this frame
    if _is_tensor(obj):
        t = obj.detach().cpu()
        try:
            return t.numpy()
        except TypeError:  # bfloat16 and other dtypes NumPy lacks
            return t.float().numpy()
    if obj is None or isinstance(obj, (str, bytes, dict, set)):
        raise _CheckFailed(f"{what} is {_kind(obj)}, not an array of numbers")
    try:
        arr = np.asarray(obj)
    except Exception:  # ragged nested lists
        raise _CheckFailed(f"{what} is {_kind(obj)} that cannot be read as an array of numbers") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise _CheckFailed(f"{what} is {_kind(obj)} that cannot be read as an array of numbers")
    return arr


def _shape_of(obj):
    """The shape of an array or tensor, or ``obj`` itself when it already is a shape."""
    if hasattr(obj, "shape") and not isinstance(obj, type):
        return tuple(int(n) for n in obj.shape)
    if isinstance(obj, (tuple, list)) and all(
        isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in obj
    ):
        return tuple(int(n) for n in obj)
    return None


def _fmt_shape(shape):
    return str(tuple(shape))


def check_shape(actual, expected, what="your output", hint=None):
    """check_shape(actual, expected, what="your output", hint=None) -> None

    Check that an array or tensor has the expected shape.

    Args:
        actual: the student's array or tensor (anything with ``.shape``), or a shape itself
            (a tuple of ints or a ``torch.Size``).
        expected: the expected shape (a tuple of ints), or an array whose shape is expected.
        what (str): how the message names ``actual``. Default: ``"your output"``.
        hint (str, optional): appended to the message after a colon, e.g. ``"check the
            output-size formula"``. Default: ``None``.

    Returns:
        None. Raises ``AssertionError`` naming both shapes when they differ.

    Example::

        >>> import numpy as np
        >>> check_shape(np.zeros((1, 6, 28, 28)), (1, 6, 28, 28))
        >>> check_shape(np.zeros((1, 6, 27, 27)), (1, 6, 28, 28), hint="check the output-size formula")
        Traceback (most recent call last):
        AssertionError: your output has shape (1, 6, 27, 27); expected (1, 6, 28, 28): check the output-size formula
    """
    __tracebackhide__ = True  # IPython and pytest show the caller's line, not this frame
    want = _shape_of(expected)
    if want is None:
        raise TypeError(f"check_shape: expected must be a tuple of ints or an array, got {expected!r}")
    if actual is None:
        _fail(f"{what} is None; expected an array of shape {_fmt_shape(want)} (did you forget to return it?)", hint)
    got = _shape_of(actual)
    if got is None:
        got = np.shape(_to_numpy(actual, what))
    if tuple(got) != want:
        _fail(f"{what} has shape {_fmt_shape(got)}; expected {_fmt_shape(want)}", hint)


def _fmt_index(index):
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def check_close(actual, expected, rtol=1e-6, atol=1e-8, what="your output", hint=None):
    """check_close(actual, expected, rtol=1e-6, atol=1e-8, what="your output", hint=None) -> None

    Check that an array is elementwise close to the expected one: ``|actual - expected| <=
    atol + rtol * |expected|`` everywhere (NumPy's ``allclose`` rule), after checking the shape.

    Args:
        actual: the student's array, tensor, list or number.
        expected: the reference values, of the same shape.
        rtol (float): relative tolerance. Default: ``1e-6``.
        atol (float): absolute tolerance. Default: ``1e-8``.
        what (str): how the message names ``actual``. Default: ``"your output"``.
        hint (str, optional): appended to the message. Default: ``None``.

    Returns:
        None. Raises ``AssertionError`` reporting how many entries differ, the largest absolute
        error, and the first differing index with both values; NaN or infinity where the expected
        value is finite is reported as such.

    Example::

        >>> check_close([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
        >>> check_close([1.0, 2.5, 3.0], [1.0, 2.0, 3.0])
        Traceback (most recent call last):
        AssertionError: your output differs from the expected values at 1 of 3 entries (max abs error 0.5); first at index [1]: got 0.5 too much (2.5, expected 2)
    """
    __tracebackhide__ = True  # IPython and pytest show the caller's line, not this frame
    if rtol < 0 or atol < 0:
        raise ValueError(f"check_close: rtol and atol must be non-negative, got rtol={rtol}, atol={atol}")
    want = _to_numpy(expected, "check_close: expected")
    if actual is None:
        _fail(f"{what} is None; expected an array of shape {_fmt_shape(want.shape)} (did you forget to return it?)", hint)
    got = _to_numpy(actual, what)
    # The kind of number first: astype(float64) would silently drop an imaginary part (NumPy only
    # warns) and read True/False as 1/0, so a complex or boolean answer could pass by accident.
    if np.iscomplexobj(got) and not np.iscomplexobj(want):
        nonzero = np.argwhere(np.imag(got) != 0)
        where = f" (imaginary part {np.imag(got)[tuple(nonzero[0])]:.3g} at index {_fmt_index(nonzero[0])})" if nonzero.size else ""
        _fail(
            f"{what} is complex (dtype {got.dtype}){where}; expected real numbers: "
            "if the imaginary parts are only round-off (after an FFT), keep the real part with .real",
            hint,
        )
    if got.dtype == np.bool_ and want.dtype != np.bool_:
        _fail(f"{what} holds True/False values (dtype bool); expected numbers (dtype {want.dtype})", hint)
    check_shape(got, want.shape, what=what, hint=hint)
    if np.iscomplexobj(want):  # complex references: the same rule on the complex distance
        got64, want64 = got.astype(np.complex128), want.astype(np.complex128)
        with np.errstate(invalid="ignore"):
            err = np.abs(got64 - want64)
            bad = ~(err <= atol + rtol * np.abs(want64)) & ~(got64 == want64)
        if bad.any():
            idx = tuple(np.argwhere(bad)[0]) if got64.ndim else ()
            _fail(
                f"{what} differs from the expected values at {int(bad.sum())} of {bad.size} entries "
                f"(max abs error {np.nanmax(err):.3g}); first at index {_fmt_index(idx)}: got {got64[idx]:.6g}, "
                f"expected {want64[idx]:.6g}",
                hint,
            )
        return
    got64 = got.astype(np.float64)
    want64 = want.astype(np.float64)
    bad_nan = ~np.isfinite(got64) & np.isfinite(want64)
    if bad_nan.any():
        idx = np.argwhere(bad_nan)[0]
        _fail(
            f"{what} contains {got64[tuple(idx)]} at index {_fmt_index(idx)} "
            f"({int(bad_nan.sum())} non-finite entries) where {want64[tuple(idx)]:g} is expected",
            hint,
        )
    with np.errstate(invalid="ignore"):
        err = np.abs(got64 - want64)
        finite = np.isfinite(want64)
        # Where the reference itself is inf or nan, only the same value matches.
        same = (got64 == want64) | (np.isnan(got64) & np.isnan(want64))
        err = np.where(same, 0.0, err)
        bad = np.where(finite, ~(err <= atol + rtol * np.abs(want64)), ~same)
    if bad.any():
        if got64.ndim == 0:
            _fail(f"{what} is {got64.item():.10g}; expected {want64.item():.10g} (abs error {err.item():.3g})", hint)
        idx = tuple(np.argwhere(bad)[0])
        g, w = got64[idx], want64[idx]
        direction = "too much" if g > w else "too little"
        _fail(
            f"{what} differs from the expected values at {int(bad.sum())} of {bad.size} entries "
            f"(max abs error {np.nanmax(err):.3g}); first at index {_fmt_index(idx)}: "
            f"got {abs(g - w):.3g} {direction} ({g:.10g}, expected {w:.10g})",
            hint,
        )


def check_type(actual, expected_type, what="your output", hint=None):
    """check_type(actual, expected_type, what="your output", hint=None) -> None

    Check that ``actual`` is an instance of ``expected_type`` (a type or a tuple of types).

    Args:
        actual: the student's value.
        expected_type (type or tuple of types): the accepted types.
        what (str): how the message names ``actual``. Default: ``"your output"``.
        hint (str, optional): appended to the message. Default: ``None``.

    Returns:
        None. Raises ``AssertionError`` naming the type received and the types accepted.

    Example::

        >>> import numpy as np
        >>> check_type(np.zeros(3), np.ndarray)
        >>> check_type([0, 0, 0], np.ndarray)
        Traceback (most recent call last):
        AssertionError: your output is a list; expected a numpy.ndarray
    """
    __tracebackhide__ = True  # IPython and pytest show the caller's line, not this frame
    types = expected_type if isinstance(expected_type, tuple) else (expected_type,)
    if not types or not all(isinstance(t, type) for t in types):
        raise TypeError(f"check_type: expected_type must be a type or a tuple of types, got {expected_type!r}")
    if not isinstance(actual, types):
        names = " or ".join(
            (t.__name__ if t.__module__ == "builtins" else f"{t.__module__.split('.')[0]}.{t.__name__}")
            for t in types
        )
        article = "an" if names[0].lower() in "aeiou" else "a"
        _fail(f"{what} is {_kind(actual)}; expected {article} {names}", hint)


def check_scalar(actual, expected, rtol=1e-6, atol=1e-8, what="your answer", hint=None):
    """check_scalar(actual, expected, rtol=1e-6, atol=1e-8, what="your answer", hint=None) -> None

    Check a single number. An integer ``expected`` must be matched exactly (a count, a size);
    a float one within ``atol + rtol * |expected|``.

    Args:
        actual: the student's number (a Python or NumPy number, a 0-d array or a one-element tensor).
        expected (int or float): the right value.
        rtol (float): relative tolerance for floats. Default: ``1e-6``.
        atol (float): absolute tolerance for floats. Default: ``1e-8``.
        what (str): how the message names ``actual``. Default: ``"your answer"``.
        hint (str, optional): appended to the message. Default: ``None``.

    Returns:
        None. Raises ``AssertionError`` with both values.

    Example::

        >>> check_scalar(28, 28)
        >>> check_scalar(27, 28, what="the output size", hint="did you add 1?")
        Traceback (most recent call last):
        AssertionError: the output size is 27; expected 28: did you add 1?
    """
    __tracebackhide__ = True  # IPython and pytest show the caller's line, not this frame
    if isinstance(expected, bool) or not isinstance(expected, numbers.Real):
        raise TypeError(f"check_scalar: expected must be a real number, got {expected!r}")
    if actual is None:
        _fail(f"{what} is None; expected {expected!r} (did you forget to return it?)", hint)
    if _is_tensor(actual) or isinstance(actual, np.ndarray):
        arr = _to_numpy(actual, what)
        if arr.size != 1:
            _fail(f"{what} has shape {_fmt_shape(arr.shape)}; expected a single number", hint)
        actual = arr.reshape(()).item()
    if isinstance(actual, (bool, np.bool_)) or not isinstance(actual, numbers.Real):
        _fail(f"{what} is {_kind(actual)} ({actual!r}); expected a number", hint)
    if isinstance(expected, numbers.Integral):
        if actual != expected:
            _fail(f"{what} is {actual!r}; expected {expected}", hint)
        return
    a, e = float(actual), float(expected)
    if not np.isfinite(a) and a != e:
        _fail(f"{what} is {a}; expected {e:.10g}", hint)
    if not abs(a - e) <= atol + rtol * abs(e):
        _fail(f"{what} is {a:.10g}; expected {e:.10g} (abs error {abs(a - e):.3g})", hint)


def check_equal(actual, expected, what="your answer", hint=None):
    """check_equal(actual, expected, what="your answer", hint=None) -> None

    Check exact equality: for arrays and tensors every entry and the shape; for anything else
    ``actual == expected`` (tuples, strings, ints).

    Args:
        actual: the student's value.
        expected: the right value.
        what (str): how the message names ``actual``. Default: ``"your answer"``.
        hint (str, optional): appended to the message. Default: ``None``.

    Returns:
        None. Raises ``AssertionError`` with both values (for arrays: the first differing index).

    Example::

        >>> check_equal((2, 2), (2, 2))
        >>> check_equal((3, 3), (2, 2), what="the pooled size")
        Traceback (most recent call last):
        AssertionError: the pooled size is (3, 3); expected (2, 2)
    """
    __tracebackhide__ = True  # IPython and pytest show the caller's line, not this frame
    if isinstance(expected, np.ndarray) or _is_tensor(expected):
        want = _to_numpy(expected, "check_equal: expected")
        if actual is None:
            _fail(f"{what} is None; expected an array of shape {_fmt_shape(want.shape)}", hint)
        got = _to_numpy(actual, what)
        check_shape(got, want.shape, what=what, hint=hint)
        diff = got != want
        if diff.any():
            idx = tuple(np.argwhere(diff)[0]) if diff.ndim else ()
            _fail(
                f"{what} differs at {int(diff.sum())} of {diff.size} entries; first at index "
                f"{_fmt_index(idx)}: got {got[idx].item()!r}, expected {want[idx].item()!r}",
                hint,
            )
        return
    try:
        same = actual == expected
        same = bool(same)
    except Exception:  # e.g. an array compared with a tuple
        same = False
    if not same:
        shown = f"{actual!r}" if not hasattr(actual, "shape") else f"{_kind(actual)} of shape {_fmt_shape(actual.shape)}"
        _fail(f"{what} is {shown}; expected {expected!r}", hint)


def check_raises(func, exception, *args, match=None, what=None, hint=None, **kwargs):
    """check_raises(func, exception, *args, match=None, what=None, hint=None, **kwargs) -> None

    Check that ``func(*args, **kwargs)`` raises ``exception`` (a type or a tuple of types),
    and that its message contains ``match`` when given.

    Args:
        func (callable): the student's function.
        exception (type or tuple of types): the exception expected.
        *args, **kwargs: passed to ``func``.
        match (str, optional): text the message must contain. Default: ``None``.
        what (str, optional): how the message names the call. Default: ``"func(args)"``.
        hint (str, optional): appended to the message. Default: ``None``.

    Returns:
        None. Raises ``AssertionError`` when nothing, or another exception, is raised.

    Example::

        >>> check_raises(int, ValueError, "seven")
        >>> check_raises(int, ValueError, "7")
        Traceback (most recent call last):
        AssertionError: int('7') returned 7; expected it to raise ValueError
    """
    __tracebackhide__ = True  # IPython and pytest show the caller's line, not this frame
    types = exception if isinstance(exception, tuple) else (exception,)
    if not types or not all(isinstance(t, type) and issubclass(t, BaseException) for t in types):
        raise TypeError(f"check_raises: exception must be an exception type or a tuple of them, got {exception!r}")
    expected = " or ".join(t.__name__ for t in types)
    if what is None:
        shown = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
        what = f"{getattr(func, '__name__', 'the function')}({', '.join(shown)})"
    try:
        result = func(*args, **kwargs)
    except types as exc:
        if match is not None and match not in str(exc):
            _fail(f"{what} raised {type(exc).__name__} with the message {str(exc)!r}, which does not mention {match!r}", hint)
        return
    except Exception as exc:
        _fail(f"{what} raised {type(exc).__name__}({str(exc)!r}); expected {expected}", hint)
    _fail(f"{what} returned {result!r}; expected it to raise {expected}", hint)
