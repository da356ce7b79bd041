"""The grading service: each submission graded when it arrives, its feedback released to the
exchange within a minute or two, without waiting for the instructor.

**Which side of the sandbox.** All of this runs on the grader's side, outside the sandbox: a
long-running process of the instructor's (root on the hub's machine, started and supervised by
the hub as a managed JupyterHub service), with the course repository, the gradebook and the
hidden checks. Learners' code never runs in it: each submission is graded by the existing
sandboxed pipeline (``autograder.grading.grade_one`` in a grading process of its own, or on a
Dask worker), exactly as ``course grade`` grades it.

Modules: ``inbound`` (what arrived in nbgrader's exchange), ``ledger`` (the durable queue,
SQLite in WAL mode, each step a transaction), ``policy`` (the schedule's grading policy, due
dates and extensions, applied), ``dispatch`` (what to grade next: the latest submission of each
learner, under the cap), ``job`` (what a grading process does with one submission: collect,
grade or adopt, write feedback — under the submission's lock, which the batch takes too),
``executors`` (a local pool, or Dask), ``feedback`` (feedback and notices at the exchange
address nbgrader's Fetch Feedback reads), ``runner`` (the loop), ``figures``, ``plot`` and
``web`` (the instructor page behind the hub's login, and ``course report``'s figures), ``cli``
(``python -m autograder.service serve``).
"""

from autograder.service.figures import AssignmentFigures, assignment_figures, format_figures
from autograder.service.ledger import Entry, Ledger, open_ledger, service_state
from autograder.service.runner import GradingService, ServiceConfig

__all__ = [
    "AssignmentFigures",
    "Entry",
    "GradingService",
    "Ledger",
    "ServiceConfig",
    "assignment_figures",
    "format_figures",
    "open_ledger",
    "service_state",
]
