"""``course release``: generate the learners' version of a problem set and prove it is right.

``release_assignment`` runs nbgrader's ``generate_assignment`` (with the course configuration
passed explicitly) and then ``validate_release``, which must pass before anything is published:

1. nothing hidden survives in the release: no ``hidden_checks.py``, no solution markers, no
   line of any solution region (ignoring trivial lines), no hidden-test block;
2. in a throwaway copy of the course (its own gradebook), the source notebooks — solutions
   included — score full marks, and the blank release scores zero and is graded without crashing.

The validation grades through the same code path as ``course grade`` (sandbox included).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder.authoring.notebook_source import problem_set_dir
from autograder.grading.submissions import Submission, fingerprint
from autograder.grading.worker import grade_one
from autograder.release.generation import ReleaseError, generate
from autograder.release.leak_check import leaks

__all__ = ["ReleaseReport", "release_assignment", "validate_release"]

log = logging.getLogger("course.release")


@dataclass
class ReleaseReport:
    assignment: str
    solution_score: float = 0.0
    blank_score: float = 0.0
    max_score: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def validate_release(course_root: Path, assignment: str) -> ReleaseReport:
    """Check the release of ``assignment`` (see the module docstring)."""
    report = ReleaseReport(assignment)
    source = course_root / "source" / assignment
    folder = problem_set_dir(course_root, assignment)
    release = course_root / "release" / assignment
    report.problems += leaks(source, release)
    if report.problems:  # a leak is reason enough; no need to grade
        return report
    log.info(
        "  validating %s: grading the solution and the blank release in the sandbox", assignment
    )
    with tempfile.TemporaryDirectory(prefix="course-release-") as tmp:
        root = Path(tmp) / "assignments"
        shutil.copytree(folder, problem_set_dir(root, assignment))
        generate(root, assignment)
        overrides = {"run_id": "release-validation"}
        for learner, notebooks in (
            ("solution", root / "source" / assignment),
            ("blank", root / "release" / assignment),
        ):
            sub_dir = root / "submitted" / learner / assignment
            shutil.copytree(notebooks, sub_dir)
            outcome = grade_one(
                root, Submission(learner, assignment, sub_dir, fingerprint(sub_dir)), overrides
            )
            if outcome.status != "graded":
                report.problems.append(f"the {learner} notebook was not graded: {outcome.verdict}")
                continue
            report.max_score = outcome.max_score or 0.0
            if learner == "solution":
                report.solution_score = outcome.score or 0.0
                if outcome.score != outcome.max_score:
                    lost = {k: v for k, v in outcome.parts.items() if v["score"] != v["max_score"]}
                    report.problems.append(
                        f"the solution scores {outcome.score:g}/{outcome.max_score:g}, not full marks: "
                        + json.dumps(lost)[:1500]
                    )
            else:
                report.blank_score = outcome.score or 0.0
                if outcome.score != 0:
                    report.problems.append(f"the blank release scores {outcome.score:g}, not 0")
    return report


def _validation_key(course_root: Path, assignment: str) -> str:
    """A hash of everything a validation depends on: the problem set's source, the grader's and
    the reference implementation's code, and the learners' kernel environment."""
    import hashlib

    from autograder.sandbox.bubblewrap import default_kernel_env

    h = hashlib.sha256()
    pkg = Path(__file__).resolve().parents[1]  # the autograder package
    folders = [problem_set_dir(course_root, assignment), pkg, pkg.parent / "reference_impl"]
    for folder in folders:
        for path in sorted(
            p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts
        ):
            h.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    stamp = default_kernel_env() / ".course-packages"
    h.update(stamp.read_bytes() if stamp.exists() else b"no-kernel-env")
    return h.hexdigest()


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cryoem-course" / "release-validation"


def release_assignment(course_root: Path, assignment: str, use_cache: bool = True) -> ReleaseReport:
    # use_cache=False validates for real even when a result is remembered (and remembers it)
    """Generate and validate; raises ``ReleaseError`` (release folder removed) when invalid.

    A successful validation is remembered (``~/.cache/cryoem-course/release-validation``) under a
    hash of the source, the grader, the reference implementation and the kernel environment:
    releasing the same thing again repeats only the generation and the leak check, which are
    cheap. A failure is never remembered.
    """
    log.info("  generating %s (nbgrader generate_assignment)", assignment)
    release = generate(course_root, assignment)
    key = _validation_key(course_root, assignment)
    cached = _cache_dir() / f"{key}.json"
    if use_cache and cached.is_file():
        log.info(
            "  %s was validated before (same source, grader and kernel environment)", assignment
        )
        report = ReleaseReport(assignment, **json.loads(cached.read_text()))
        report.problems = leaks(course_root / "source" / assignment, release)
    else:
        report = validate_release(course_root, assignment)
    if not report.ok:
        shutil.rmtree(release, ignore_errors=True)
        raise ReleaseError(f"{assignment} cannot be released:\n- " + "\n- ".join(report.problems))
    if not cached.is_file():
        cached.parent.mkdir(parents=True, exist_ok=True)
        fields = {
            "solution_score": report.solution_score,
            "blank_score": report.blank_score,
            "max_score": report.max_score,
        }
        cached.write_text(json.dumps(fields))
    return report
