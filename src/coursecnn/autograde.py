"""Kept for course configurations written before ``coursecnn.grader``: the same preprocessors.

A rebuilt course (``coursecnn course build``) names ``coursecnn.grader.preprocessors`` directly.
"""

from .grader.preprocessors import HideHiddenTests, OverwriteTestCells, RebuildFromRelease, SplitExecute

__all__ = ["SplitExecute", "HideHiddenTests", "OverwriteTestCells", "RebuildFromRelease"]
