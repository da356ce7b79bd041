"""What arrives in nbgrader's exchange: the submissions in ``<exchange>/<course>/inbound/``.

nbgrader's submit (``ExchangeSubmit``, and the learners' ``PrivateSubmit``) copies a learner's
folder to ``inbound/<learner>+<assignment>+<timestamp>+<random>/``, then writes
``timestamp.txt`` and, last, ``submission_secret.txt`` (which addresses the feedback to that
submission). ``scan_inbound`` lists the complete ones: a folder whose secret is written. On the
hub each learner is a Unix user, and a folder that names one learner but belongs to another
account is refused (``owner_problem``): inbound is writable by every learner.
"""

from __future__ import annotations

import datetime as dt
import os
import pwd
from dataclasses import dataclass
from pathlib import Path

__all__ = ["InboundSubmission", "owner_problem", "parse_timestamp", "scan_inbound"]

SECRET = "submission_secret.txt"


@dataclass(frozen=True)
class InboundSubmission:
    """One submission folder in the exchange's inbound."""

    name: str  # the folder's name, unique
    learner: str
    assignment: str
    timestamp: str  # nbgrader's, as written in the folder's name
    path: Path

    @property
    def submitted_at(self) -> float:
        """The submission time (seconds since the epoch), from nbgrader's timestamp."""
        return parse_timestamp(self.timestamp).timestamp()

    def secret(self) -> str:
        return (self.path / SECRET).read_text().strip()


def parse_timestamp(text: str) -> dt.datetime:
    """nbgrader's timestamp (``2022-02-04 10:41:07.123456 UTC``, or an ISO date-time) as an
    aware date-time (UTC when it names no zone)."""
    from nbgrader.utils import parse_utc

    moment = parse_utc(text)
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


def _parse_name(name: str) -> tuple[str, str, str] | None:
    parts = name.split("+")
    if len(parts) != 4 or not all(parts[:3]):
        return None
    learner, assignment, timestamp, _random = parts
    if learner.startswith(".") or "/" in learner:
        return None
    try:
        parse_timestamp(timestamp)
    except Exception:
        return None
    return learner, assignment, timestamp


def scan_inbound(
    inbound: Path, assignments: set[str] | None = None, skip: set[str] | None = None
) -> list[InboundSubmission]:
    """The complete submissions in ``inbound`` (of ``assignments`` only, when given; none named
    in ``skip``), oldest first. A folder still being written (no secret yet) is left for a
    later scan."""
    found = []
    try:
        entries = list(os.scandir(inbound))
    except FileNotFoundError:
        return []
    for entry in entries:
        if skip is not None and entry.name in skip:
            continue
        if not entry.is_dir(follow_symlinks=False):
            continue
        parsed = _parse_name(entry.name)
        if parsed is None:
            continue
        learner, assignment, timestamp = parsed
        if assignments is not None and assignment not in assignments:
            continue
        secret = Path(entry.path) / SECRET
        try:
            if secret.is_symlink() or secret.stat().st_size == 0:
                continue
        except OSError:
            continue
        found.append(
            InboundSubmission(entry.name, learner, assignment, timestamp, Path(entry.path))
        )
    return sorted(found, key=lambda s: (s.submitted_at, s.name))


def owner_problem(sub: InboundSubmission) -> str | None:
    """Why ``sub`` cannot be the named learner's own (None when it can): where the learner has a
    Unix account (the hub), the folder must belong to it (or to root, the instructor)."""
    try:
        expected = pwd.getpwnam(sub.learner).pw_uid
    except KeyError:
        return None  # no such account here: learners are not Unix users on this host
    try:
        owner = sub.path.lstat().st_uid
    except OSError:
        return "the submission disappeared from the exchange"
    if owner not in (expected, 0):
        try:
            who = pwd.getpwuid(owner).pw_name
        except KeyError:
            who = f"uid {owner}"
        return f"submitted by {who}, not by {sub.learner}"
    return None
