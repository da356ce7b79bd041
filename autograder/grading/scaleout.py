"""``course grade --scheduler ADDRESS``: fan submissions out to a Dask distributed cluster.

Each submission is one task, ``grading.grade_one``, run by a Dask worker process on a machine
that has the course checkout, the learners' kernel environment and bubblewrap. A worker grades
in its own sandbox slot (its own uid and cgroups), claimed from ``SLOT_BASE`` up
(``autograder.sandbox.slots``), so that workers on one machine never share one. Grades land in the one gradebook: SQLite on a shared
folder for a single machine, PostgreSQL (``c.CourseDirectory.db_url`` in ``nbgrader_config.py``) for several. A submission is graded
once: tasks are keyed by submission fingerprint (a retried task regrades the same submission,
and nbgrader overwrites its own rows), and finished submissions are skipped on a rerun exactly
as with the local pool.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from autograder.grading.submissions import Outcome, Submission
from autograder.grading.worker import grade_one, init_worker, worker_slot

__all__ = ["SLOT_BASE", "grade_on_cluster"]

#: Dask workers claim sandbox slots from here up, clear of the local pool's 0, 1, 2, …
SLOT_BASE = 32


def _grade_task(
    course_root: str, sub: Submission, overrides: dict[str, Any], env: dict[str, str]
) -> Outcome:
    os.environ.update({k: v for k, v in env.items() if k != "COURSE_SANDBOX_SLOT"})
    if worker_slot() is None:  # the first task in this worker process: claim a slot
        os.environ.pop("COURSE_SANDBOX_SLOT", None)
        init_worker(course_root, False, overrides, first_slot=SLOT_BASE)
    return grade_one(Path(course_root), sub, overrides)


def grade_on_cluster(
    address: str,
    course_root: Path,
    todo: list[Submission],
    overrides: dict[str, Any],
    on_done: Callable[[Outcome], None],
) -> None:
    """Grade ``todo`` on the Dask scheduler at ``address``; ``on_done`` gets each outcome."""
    from distributed import Client, as_completed

    env = {k: v for k, v in os.environ.items() if k.startswith("COURSE_")}
    with Client(address, timeout="30s") as client:
        futures = {
            client.submit(
                _grade_task,
                str(course_root),
                sub,
                overrides,
                env,
                key=f"grade-{sub.learner}-{sub.fingerprint[:16]}",
                pure=False,
            ): sub
            for sub in todo
        }
        for fut in as_completed(futures):
            sub = futures[fut]
            try:
                on_done(fut.result())
            except Exception as exc:  # the machinery failed, not the learner
                if "sandbox" in str(exc).lower():
                    raise
                on_done(
                    Outcome(
                        sub.learner,
                        "error",
                        f"grading error on the cluster: {type(exc).__name__}: {exc}",
                    )
                )
