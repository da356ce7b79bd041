"""Which queued submissions to grade now: the latest of each learner, one at a time, under the
cap.

For each learner and problem set, only their newest queued submission is graded — the older
ones are superseded, since the latest submission counts — and never while another of theirs is
being graded (nbgrader keeps one submission per learner and problem set). Over the policy's cap
per hour, the submission waits until the hour allows (``policy.next_grading_at``) and its
learner is told until when. What may start, starts in the order the submissions arrived.
"""

from __future__ import annotations

from dataclasses import dataclass

from autograder.service.ledger import Entry, Ledger
from autograder.service.policy import WINDOW, CoursePolicies, next_grading_at

__all__ = ["Decision", "plan"]


@dataclass(frozen=True)
class Decision:
    """``start``: submissions to grade now (oldest first); ``superseded``: (older, newer)
    pairs; ``waits``: (submission, until, reason) for the ones that must wait."""

    start: list[Entry]
    superseded: list[tuple[Entry, Entry]]
    waits: list[tuple[Entry, float, str]]


def plan(ledger: Ledger, policies: CoursePolicies, now: float, free: int) -> Decision:
    """Decide, from the ledger's queue, what to start with ``free`` grading processes free."""
    busy = {e.key for e in ledger.in_flight()}
    groups: dict[tuple[str, str], list[Entry]] = {}
    for entry in ledger.queued():
        groups.setdefault(entry.key, []).append(entry)
    superseded: list[tuple[Entry, Entry]] = []
    waits: list[tuple[Entry, float, str]] = []
    ready: list[Entry] = []
    for key, entries in groups.items():
        newest = max(entries, key=lambda e: (e.submitted_at, e.id))
        superseded += [(e, newest) for e in entries if e is not newest]
        if key in busy:
            continue
        if newest.wait_reason == "retry" and (newest.not_before or 0) > now:
            continue  # after a failure of the machinery, a pause
        cap = policies.policy(newest.assignment).per_hour
        started = ledger.started_times(newest.assignment, newest.learner, now - WINDOW)
        allowed = next_grading_at(started, cap, now)
        if allowed is not None:
            waits.append((newest, allowed, "cap"))
            continue
        ready.append(newest)
    ready.sort(key=lambda e: (e.submitted_at, e.id))
    start = ready[: max(0, free)]
    return Decision(start, superseded, waits)
