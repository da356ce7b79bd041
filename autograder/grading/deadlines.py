"""A learner's own due date in the gradebook: their extension (``course extend``).

nbgrader counts a submission's lateness from ``SubmittedAssignment.duedate``, the assignment's
due date plus that submission's ``extension``; the late penalty (``late.PercentPerDayPenalty``)
is computed from that lateness. ``apply_extension`` sets the extension from the course's record
(``autograder.schedule.extensions``) — every grader calls it before grading, so the batch and
the grading service honour it alike — and ``reassess_late_penalty`` recomputes the penalty of a
submission already graded when the extension changes afterwards.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from autograder.config.nbgrader import course_config
from autograder.grading.late import PercentPerDayPenalty
from autograder.schedule.extensions import extension_until

__all__ = ["apply_extension", "reassess_late_penalty"]


def _gradebook(course_root: Path) -> Any:
    from nbgrader.api import Gradebook

    cfg = course_config(course_root)
    return Gradebook(str(cfg.CourseDirectory.db_url), course_id=str(cfg.CourseDirectory.course_id))


def apply_extension(course_root: Path, assignment: str, learner: str) -> dt.timedelta | None:
    """Give ``learner``'s submission of ``assignment`` its extension in the gradebook; create the
    student and submission rows when an extension needs them (nbgrader's autograde keeps it) and
    clear a revoked one. Returns the extension now in the gradebook."""
    from nbgrader.api import MissingEntry

    until = extension_until(course_root, assignment, learner)
    with _gradebook(course_root) as gb:
        try:
            due = gb.find_assignment(assignment).duedate
        except MissingEntry:
            return None
        extension: dt.timedelta | None = None
        if until is not None and due is not None:
            extension = until.astimezone(dt.UTC).replace(tzinfo=None) - due
            if extension <= dt.timedelta(0):
                extension = None
        try:
            submission = gb.find_submission(assignment, learner)
        except MissingEntry:
            if extension is not None:
                gb.update_or_create_student(learner)
                gb.update_or_create_submission(assignment, learner, extension=extension)
            return extension
        if submission.extension != extension:
            submission.extension = extension
            gb.db.commit()
    return extension


def reassess_late_penalty(course_root: Path, assignment: str, learner: str) -> float | None:
    """The extension into the gradebook, then the late penalty of ``learner``'s graded
    submission recomputed as nbgrader's ``AssignLatePenalties`` computes it (the course's
    plugin and settings). Returns the new total penalty; None when nothing is graded yet."""
    from nbgrader.api import MissingEntry

    apply_extension(course_root, assignment, learner)
    plugin = PercentPerDayPenalty(config=course_config(course_root))
    with _gradebook(course_root) as gb:
        try:
            submission = gb.find_submission(assignment, learner)
        except MissingEntry:
            return None
        if submission.timestamp is None:
            return None
        late = float(submission.total_seconds_late)
        total = 0.0
        for notebook in submission.notebooks:
            penalty = None
            if late > 0:
                raw = plugin.late_submission_penalty(learner, float(notebook.score), late)
                penalty = min(max(float(raw), 0.0), float(notebook.score))
                total += penalty
            notebook.late_submission_penalty = penalty
        gb.db.commit()
    return total
