"""Submissions and their verdicts: what is graded, and what came of it.

A submission is nbgrader's ``submitted/<learner>/<assignment>/`` folder, never modified, named by
its fingerprint (a hash of its files). ``inspect_notebook`` and ``unsafe_files`` decide, before
any code runs, whether a submission can be graded at all; ``Outcome`` is the verdict recorded for
each one (also in ``autograded/<learner>/<assignment>/.course-graded.json``, the ``MARKER``).
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

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
_MAX_NOTEBOOK_BYTES = 50 * 2**20


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


def inspect_notebook(path: Path) -> str | None:
    """Why ``path`` cannot be graded as a notebook, or None when it can."""
    if not path.exists():
        return f"missing notebook: {path.name} is not in the submission"
    if path.is_symlink() or not path.is_file():
        return f"{path.name} is not a regular file"
    size = path.stat().st_size
    if size == 0:
        return f"{path.name} is an empty file"
    if size > _MAX_NOTEBOOK_BYTES:
        return f"{path.name} is larger than {_MAX_NOTEBOOK_BYTES >> 20} MB"
    try:
        raw = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return f"{path.name} is not valid JSON (is it a notebook?)"
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        return f"{path.name} is not a Jupyter notebook"
    major, minor = raw.get("nbformat"), raw.get("nbformat_minor")
    if major != nbformat.current_nbformat or not isinstance(minor, int):
        return f"{path.name} has nbformat {major}; version 4 is required"
    if minor > nbformat.current_nbformat_minor:
        return (
            f"{path.name} has nbformat 4.{minor}, newer than the 4.{nbformat.current_nbformat_minor} "
            "this grader reads"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nb = nbformat.reads(json.dumps(raw), as_version=4)
            nbformat.validate(nb)
    except Exception as exc:
        return f"{path.name} is not a valid notebook ({type(exc).__name__}: {str(exc)[:200]})"
    return None


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
