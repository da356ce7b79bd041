"""The grading policy of a problem set: when the grading service releases feedback, and how many
of one learner's submissions it grades per hour.

Written in ``book/schedule.yml``, for every problem set (``grading_policy`` at the top level) and
per problem set (``grading_policy`` in its entry, key by key over the top level's)::

    grading_policy: {feedback: instant, per_hour: 6}
    problem_sets:
      - id: ps03_rotation_averaging
        grading_policy: {feedback: after-due}

* ``feedback: instant`` — a submission is graded when it arrives and its feedback released at
  once; ``feedback: after-due`` — graded when it arrives, its feedback released at the due date
  (a learner's extension moves it: ``course extend``).
* ``per_hour: N`` — at most N submissions of one learner graded in any hour; one over the cap is
  kept and graded when the hour allows, and the learner is told when. Omitted (or ``null``): no
  cap.

Whatever the policy, the latest submission counts, as with nbgrader's ``collect``. Parsed by the
schedule's one loader (``model.load_schedule``); shown on the problem set's page
(``describe_policy``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

__all__ = ["FEEDBACK_MODES", "GradingPolicy", "PolicyError", "describe_policy", "parse_policy"]

#: ``instant``: released when graded; ``after-due``: graded on arrival, released at the due date.
FEEDBACK_MODES = ("instant", "after-due")


class PolicyError(ValueError):
    """A ``grading_policy`` that cannot be read; the message says where."""


@dataclass(frozen=True)
class GradingPolicy:
    """``feedback``: one of ``FEEDBACK_MODES``; ``per_hour``: the cap on one learner's graded
    submissions in any hour (None: no cap)."""

    feedback: str = "instant"
    per_hour: int | None = None

    @property
    def after_due(self) -> bool:
        return self.feedback == "after-due"


def parse_policy(raw: Any, where: str, default: GradingPolicy | None = None) -> GradingPolicy:
    """``raw`` (a mapping from the schedule, or None) over ``default``; ``PolicyError`` (a
    ``ValueError``) names ``where`` when a key or value is wrong."""
    base = default or GradingPolicy()
    if raw is None:
        return base
    if not isinstance(raw, Mapping):
        raise PolicyError(f"{where}: grading_policy must be a mapping")
    unknown = set(raw) - {"feedback", "per_hour"}
    if unknown:
        raise PolicyError(f"{where}: unknown grading_policy setting {sorted(unknown)[0]!r}")
    policy = base
    if "feedback" in raw:
        mode = str(raw["feedback"])
        if mode not in FEEDBACK_MODES:
            raise PolicyError(
                f"{where}: grading_policy.feedback must be one of {', '.join(FEEDBACK_MODES)}, "
                f"not {mode!r}"
            )
        policy = replace(policy, feedback=mode)
    if "per_hour" in raw:
        cap = raw["per_hour"]
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 1):
            raise PolicyError(f"{where}: grading_policy.per_hour must be a positive integer")
        policy = replace(policy, per_hour=cap)
    return policy


def describe_policy(policy: GradingPolicy) -> str:
    """One sentence for the problem set's page (markdown)."""
    if policy.after_due:
        text = (
            "graded when you submit; the feedback is released at the due date (or at the end "
            "of your extension)"
        )
    else:
        text = "graded when you submit, your feedback a minute or two later (Fetch Feedback)"
    if policy.per_hour:
        n = policy.per_hour
        text += (
            f"; at most {n} submission{'s' if n > 1 else ''} graded per hour — a later one is "
            "kept and graded when the hour allows, and your feedback says when"
        )
    return text + "; your latest submission counts"
