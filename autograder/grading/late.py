"""Late submissions: a percentage of the score per started day late, with a cap.

nbgrader knows two policies, ``none`` and ``zero``. ``PercentPerDayPenalty`` is an nbgrader
``LateSubmissionPlugin`` (``AssignLatePenalties.plugin_class``): after ``grace_minutes``, each
started day late costs ``percent_per_day`` percent of the notebook's score, up to
``max_percent``. The course sets it from ``late_policy`` in ``book/schedule.yml``::

    late_policy: {percent_per_day: 10, max_percent: 50, grace_minutes: 15}

nbgrader computes the lateness from the submission's timestamp (written by ``nbgrader submit``)
and the assignment's due date in the gradebook (set by ``course release`` from the schedule),
moved for one learner by their extension (``course extend``; ``autograder.grading.deadlines``
puts it in the gradebook before each grading and recomputes this penalty when it changes).
"""

from __future__ import annotations

import math

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Float

__all__ = ["PercentPerDayPenalty", "late_penalty"]


def late_penalty(
    score: float,
    seconds_late: float,
    percent_per_day: float,
    max_percent: float,
    grace_minutes: float,
) -> float:
    """The points taken off ``score`` for a submission ``seconds_late`` after the due date."""
    effective = seconds_late - 60.0 * grace_minutes
    if score <= 0 or effective <= 0:
        return 0.0
    days = math.ceil(effective / 86400.0)
    percent = min(max_percent, percent_per_day * days)
    return score * percent / 100.0


class PercentPerDayPenalty(LateSubmissionPlugin):
    """``percent_per_day`` percent of the score per started day late, at most ``max_percent``."""

    percent_per_day = Float(10.0, help="Percent of the score taken off per started day late.").tag(
        config=True
    )
    max_percent = Float(50.0, help="The most that lateness can take off, in percent.").tag(
        config=True
    )
    grace_minutes = Float(0.0, help="Minutes after the due date that are not late.").tag(
        config=True
    )

    def late_submission_penalty(
        self, student_id: str, score: float, total_seconds_late: float
    ) -> float:
        penalty = late_penalty(
            score, total_seconds_late, self.percent_per_day, self.max_percent, self.grace_minutes
        )
        self.log.info(
            "late by %.0f s: %s loses %g of %g", total_seconds_late, student_id, penalty, score
        )
        return penalty
