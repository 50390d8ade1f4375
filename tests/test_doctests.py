"""Every docstring example in the package runs: one test per module, found by walking the package
(so a new module is covered without being listed)."""

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import coursecnn

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(coursecnn.__path__, prefix="coursecnn.")
    if info.name != "coursecnn.__main__"  # running it would start the command line
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    result = doctest.testmod(module, extraglobs={"np": np}, optionflags=flags, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"


def test_the_walk_finds_the_modules():
    for name in ("coursecnn.ref.conv", "coursecnn.fast.pool", "coursecnn.torch.conv", "coursecnn.arith"):
        assert name in MODULES
