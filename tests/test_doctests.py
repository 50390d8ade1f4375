"""Every docstring example in the package runs: one test per module, found by walking the package
(so a new module is covered without being listed)."""

import doctest
import importlib
import pkgutil
from pathlib import Path

import numpy as np
import pytest

import coursecnn

# Modules whose examples another test file already runs (so they do not run twice; the
# coursecnn.train examples alone train for about 10 s).
RUN_ELSEWHERE = {
    "coursecnn.train": "test_train.py",
    "coursecnn.course": "test_course.py",
    "coursecnn.editions": "test_course.py",
    "coursecnn.grading": "test_grading.py",
    "coursecnn.data.idx": "test_data.py",
    "coursecnn.data.mnist": "test_data.py",
    "coursecnn.data.loaders": "test_data.py",
    "coursecnn.data.photo": "test_data.py",
}
ALL_MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(coursecnn.__path__, prefix="coursecnn.")
    if info.name != "coursecnn.__main__"  # running it would start the command line
)
MODULES = [name for name in ALL_MODULES if name not in RUN_ELSEWHERE]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    result = doctest.testmod(module, extraglobs={"np": np}, optionflags=flags, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"


def test_the_walk_finds_the_modules():
    for name in ("coursecnn.ref.conv", "coursecnn.fast.pool", "coursecnn.torch.conv", "coursecnn.arith"):
        assert name in MODULES


def test_the_modules_run_elsewhere_are_run_there():
    for name, test_file in RUN_ELSEWHERE.items():
        assert name in ALL_MODULES, name
        text = (Path(__file__).parent / test_file).read_text()
        assert "testmod" in text and name.rsplit(".", 1)[1] in text, (name, test_file)
