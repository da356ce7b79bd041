"""The grading policy, applied: when a submission may be graded and when its feedback is
released.

``CoursePolicies`` reads what decides it — each problem set's ``grading_policy`` and due date
from ``book/schedule.yml`` (the schedule's one loader), the due dates nbgrader's gradebook holds
(set from the schedule by ``course release``; they win where both exist, as they decide the late
penalty) and the learners' extensions (``course extend``) — re-reading each when it changes.
``next_grading_at`` and ``release_at`` are the rules, as plain functions of times (seconds since
the epoch).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.schedule.extensions import effective_due, extension_until
from autograder.schedule.policy import GradingPolicy

__all__ = ["WINDOW", "CoursePolicies", "next_grading_at", "release_at"]

#: The cap counts gradings in any window of this many seconds (one hour).
WINDOW = 3600.0


def next_grading_at(
    started: list[float], cap: int | None, now: float, window: float = WINDOW
) -> float | None:
    """None when a learner whose earlier gradings started at ``started`` may have another graded
    at ``now`` under ``cap`` gradings per ``window``; else the first time they may."""
    if cap is None:
        return None
    recent = sorted(t for t in started if t <= now < t + window)  # each counts for a window
    if len(recent) < cap:
        return None
    return recent[len(recent) - cap] + window


def release_at(
    policy: GradingPolicy, due: dt.datetime | None, until: dt.datetime | None
) -> float | None:
    """When a graded submission's feedback is released: None for at once (``instant``, or no
    due date), else the learner's due date — the problem set's, or their extension's end."""
    if not policy.after_due:
        return None
    moment = effective_due(due, until)
    return None if moment is None else moment.timestamp()


@dataclass
class CoursePolicies:
    """The course's policies, dates and extensions, re-read when their files change."""

    course_root: Path
    schedule_path: Path | None = None
    gradebook_ttl: float = 10.0
    _schedule: Any = field(default=None, init=False, repr=False)
    _schedule_stamp: tuple[int, int] | None = field(default=None, init=False, repr=False)
    _dues: dict[str, dt.datetime | None] = field(default_factory=dict, init=False, repr=False)
    _dues_at: float = field(default=0.0, init=False, repr=False)

    def __post_init__(self) -> None:
        self.course_root = Path(self.course_root)
        if self.schedule_path is None:
            self.schedule_path = self.course_root.parent / "book" / "schedule.yml"

    # -- the schedule -------------------------------------------------------------------------
    def schedule(self) -> Any:
        """The loaded schedule, or None when the course has none (a bare nbgrader course)."""
        from autograder.schedule.model import load_schedule

        path = self.schedule_path
        assert path is not None
        try:
            st = path.stat()
        except FileNotFoundError:
            self._schedule = None
            return None
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp != self._schedule_stamp:
            self._schedule = load_schedule(path)
            self._schedule_stamp = stamp
        return self._schedule

    @property
    def timezone(self) -> str:
        schedule = self.schedule()
        return str(schedule.timezone) if schedule is not None else "UTC"

    def _problem_set(self, assignment: str) -> Any:
        schedule = self.schedule()
        if schedule is None:
            return None
        try:
            return schedule.problem_set(assignment)
        except KeyError:
            return None

    def policy(self, assignment: str) -> GradingPolicy:
        ps = self._problem_set(assignment)
        return getattr(ps, "grading_policy", None) or GradingPolicy()

    # -- dates --------------------------------------------------------------------------------
    def _gradebook_dues(self) -> dict[str, dt.datetime | None]:
        if time.monotonic() - self._dues_at < self.gradebook_ttl:
            return self._dues
        from nbgrader.api import Gradebook

        from autograder.config.nbgrader import course_config

        cfg = course_config(self.course_root)
        dues: dict[str, dt.datetime | None] = {}
        with Gradebook(
            str(cfg.CourseDirectory.db_url), course_id=str(cfg.CourseDirectory.course_id)
        ) as gb:
            for a in gb.assignments:
                dues[a.name] = (
                    None if a.duedate is None else a.duedate.replace(tzinfo=dt.UTC)
                )  # nbgrader keeps naive UTC
        self._dues, self._dues_at = dues, time.monotonic()
        return dues

    def due(self, assignment: str) -> dt.datetime | None:
        """The problem set's due date: the gradebook's (what the late penalty counts from),
        else the schedule's, else None."""
        gradebook = self._gradebook_dues().get(assignment)
        if gradebook is not None:
            return gradebook
        ps = self._problem_set(assignment)
        return None if ps is None else ps.due

    def extension(self, assignment: str, learner: str) -> dt.datetime | None:
        return extension_until(self.course_root, assignment, learner)

    def learner_due(self, assignment: str, learner: str) -> dt.datetime | None:
        return effective_due(self.due(assignment), self.extension(assignment, learner))

    def release_at(self, assignment: str, learner: str) -> float | None:
        return release_at(
            self.policy(assignment), self.due(assignment), self.extension(assignment, learner)
        )

    def forget_gradebook(self) -> None:
        """Read the gradebook's due dates again on the next question."""
        self._dues_at = 0.0
