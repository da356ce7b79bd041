"""The learners' side of the course (distribution ``cryoem-course-learner``).

``check`` runs a notebook's visible tests the way the grader runs a notebook (a fresh kernel on a
copy of the folder, in the grading sandbox when this host has one, else in the learner's own
kernel — the report says which); ``exchange`` submits and fetches feedback through nbgrader's
exchange; ``server`` is the Jupyter server extension behind the hub's Validate button; ``cli``
is the learner's ``course`` command.

Nothing here imports the instructor's packages (``autograder``, ``reference_impl``): a learner's
environment holds this package and never the answer key.
"""

from course_learner.check import CheckReport, TestResult, check_notebook
from course_learner.exchange import ExchangeError, fetch_feedback, submit
from course_learner.notebook import inspect_notebook
from course_learner.sandbox import SandboxUnavailable
from course_learner.settings import COURSE_ID, exchange_root, kernel_env

__all__ = [
    "COURSE_ID",
    "CheckReport",
    "ExchangeError",
    "SandboxUnavailable",
    "TestResult",
    "check_notebook",
    "exchange_root",
    "fetch_feedback",
    "inspect_notebook",
    "kernel_env",
    "submit",
]
