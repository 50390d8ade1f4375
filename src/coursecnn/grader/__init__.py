"""Grading: how a student's submission becomes a grade an instructor can trust.

The one page that names every hop, from the command to the student's code and back::

    coursecnn grade ASSIGNMENT            cli.py -> grader.batch.grade_assignment
      nbgrader autograde (its Python API, the course's nbgrader_config.py, written by
      coursecnn.course.build_course), per student:
        sanitize:  ClearOutput, DeduplicateIds, OverwriteKernelspec,
                   grader.preprocessors.RebuildFromRelease   only answers from the submission
                   grader.preprocessors.OverwriteTestCells   hidden tests back from the gradebook
        autograde: grader.preprocessors.SplitExecute         setup and tests in the kernel;
                   each answer cell becomes the call
                   grader.kernel.answer(...)                 (a string the kernel runs)
                     -> grader.box.worker_command            bubblewrap + limits
                     -> grader.worker (python -I)            runs the answer, seccomp, rlimits
                     <- grader.wire                          plain data, both ways
      feedback:    grader.preprocessors.HideHiddenTests
      flags:       grader.flags (one log per submission) -> grader.batch reports and export

Modules: ``batch`` (many students, shards, merge, export), ``preprocessors`` (nbgrader's side),
``kernel`` (the trusted kernel's side), ``worker`` (the student's process), ``box`` (sandbox and
limits), ``seccomp``, ``wire`` (data only), ``tasks`` (trusted routines run beside a student's
function), ``flags``. The checks test cells call (``check_close``...) are ``coursecnn.grading``.
"""
