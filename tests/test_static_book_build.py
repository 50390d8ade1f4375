"""Static explorers inline their JavaScript except in a book build, which the build says through
the COURSECNN_BOOK_BUILD environment variable (set by `make book`), not by reading /proc."""

import inspect

from coursecnn.widgets import static as static_module
from coursecnn.widgets import static_explorer


def test_the_book_build_is_told_by_the_environment(monkeypatch):
    monkeypatch.delenv("COURSECNN_BOOK_BUILD", raising=False)
    assert static_explorer("arithmetic").inline
    monkeypatch.setenv("COURSECNN_BOOK_BUILD", "1")
    assert not static_explorer("arithmetic").inline
    assert static_explorer("arithmetic", inline_js=True).inline
    monkeypatch.setenv("COURSECNN_BOOK_BUILD", "0")
    assert static_explorer("arithmetic").inline


def test_no_proc_reading():
    assert "/proc" not in inspect.getsource(static_module)
