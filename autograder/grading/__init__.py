"""Grading: nbgrader's autograde with the sandboxed preprocessor, in parallel or on Dask
(grader side: runs outside the sandbox, with the gradebook and the hidden checks).

``SandboxedAutograde`` (``preprocessor``) replaces nbgrader's ``Execute``: it runs the notebook in
the sandbox (``notebook_run``), asks the harness for answers, scores them with ``checks`` and
writes the report (``report``) and the attestation (``attestation``). ``batch`` grades every
submission of an assignment with a pool of ``worker`` processes or a Dask cluster
(``scaleout``); ``submissions`` decides what can be graded; ``late`` is the late-penalty plugin;
``self_check`` is ``course check``.
"""

from autograder.grading.attestation import ATTESTATION_KEY
from autograder.grading.batch import format_summary, grade_assignment, progress_printer
from autograder.grading.submissions import (
    MARKER,
    Outcome,
    Submission,
    find_submissions,
    fingerprint,
    inspect_notebook,
)
from autograder.grading.worker import grade_one

__all__ = [
    "ATTESTATION_KEY",
    "MARKER",
    "Outcome",
    "Submission",
    "find_submissions",
    "fingerprint",
    "format_summary",
    "grade_assignment",
    "grade_one",
    "inspect_notebook",
    "progress_printer",
]
