"""The journal of gradings: one line for every grading that recorded a verdict.

``<course>/.course-gradings.jsonl``, appended by ``grade_one`` right after the verdict marker is
written (one ``write`` of one line on a file opened for appending: lines from several processes
never interleave). It says who graded which submission (its fingerprint), when and with what
verdict — the instructor's record that the batch ``course grade`` and the grading service never
graded one submission twice, and what the tests count.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from autograder.grading.submissions import Outcome, Submission

__all__ = ["JOURNAL", "read_journal", "record_grading"]

JOURNAL = ".course-gradings.jsonl"


def record_grading(course_root: Path, sub: Submission, outcome: Outcome, by: str) -> None:
    """Append the grading of ``sub`` (its verdict ``outcome``) by ``by``."""
    line = json.dumps(
        {
            "at": time.time(),
            "assignment": sub.assignment,
            "learner": sub.learner,
            "fingerprint": sub.fingerprint,
            "status": outcome.status,
            "score": outcome.score,
            "seconds": round(outcome.seconds, 3),
            "by": by,
            "pid": os.getpid(),
        }
    )
    fd = os.open(Path(course_root) / JOURNAL, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


def read_journal(course_root: Path, assignment: str | None = None) -> list[dict[str, Any]]:
    """The journal's entries (of ``assignment`` only, when given), oldest first; a torn last
    line (a grader killed mid-write) is left out."""
    path = Path(course_root) / JOURNAL
    if not path.is_file():
        return []
    out = []
    for raw in path.read_text().splitlines():
        try:
            entry = json.loads(raw)
        except ValueError:
            continue
        if assignment is None or entry.get("assignment") == assignment:
            out.append(entry)
    return out
