"""Submissions and their verdicts: what is graded, and what came of it.

A submission is nbgrader's ``submitted/<learner>/<assignment>/`` folder, never modified, named by
its fingerprint (a hash of its files). ``inspect_notebook`` and ``unsafe_files`` decide, before
any code runs, whether a submission can be graded at all; ``Outcome`` is the verdict recorded for
each one (also in ``autograded/<learner>/<assignment>/.course-graded.json``, the ``MARKER``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from course_learner.notebook import inspect_notebook

__all__ = [
    "MARKER",
    "Outcome",
    "Submission",
    "expected_notebooks",
    "find_submissions",
    "fingerprint",
    "inspect_notebook",
    "unsafe_files",
]

MARKER = ".course-graded.json"


@dataclass(frozen=True)
class Submission:
    learner: str
    assignment: str
    path: Path
    fingerprint: str


@dataclass
class Outcome:
    """The verdict of one submission. ``status``: graded | broken | skipped | error.
    ``score`` is before, ``penalty`` the late-submission penalty nbgrader took off."""

    learner: str
    status: str
    verdict: str
    score: float | None = None
    max_score: float | None = None
    penalty: float = 0.0
    seconds: float = 0.0
    parts: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)  # from the attestation, summed


def fingerprint(folder: Path) -> str:
    """A hash of the files of ``folder`` (names and contents; links are not followed)."""
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            h.update(str(path.relative_to(folder)).encode() + b"\0")
            with path.open("rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            h.update(b"\0")
    return h.hexdigest()


def find_submissions(course_root: Path, assignment: str) -> list[Submission]:
    """Every ``submitted/<learner>/<assignment>/`` folder, sorted by learner."""
    base = course_root / "submitted"
    subs = []
    if base.is_dir():
        for learner_dir in sorted(base.iterdir()):
            folder = learner_dir / assignment
            if learner_dir.is_dir() and not learner_dir.is_symlink() and folder.is_dir():
                subs.append(Submission(learner_dir.name, assignment, folder, fingerprint(folder)))
    return subs


def expected_notebooks(course_root: Path, assignment: str) -> list[str]:
    """Notebook names of the assignment, from its release (or source) folder."""
    for kind in ("release", "source"):
        folder = course_root / kind / assignment
        if folder.is_dir():
            names = sorted(p.stem for p in folder.glob("*.ipynb"))
            if names:
                return names
    raise FileNotFoundError(
        f"no notebooks for {assignment}: run `course release {assignment}` first"
    )


def unsafe_files(folder: Path) -> list[str]:
    """Symbolic links and special files in a submission. nbgrader (run by root) would copy a
    link's *target* — ``/etc/shadow``, another learner's work — into the graded folder, where
    the learner's code could read it, so such a submission is refused whole."""
    problems = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_symlink():
            problems.append(f"{rel} is a symbolic link (not allowed in a submission)")
        elif not (path.is_file() or path.is_dir()):
            problems.append(f"{rel} is not a regular file")
    return problems
