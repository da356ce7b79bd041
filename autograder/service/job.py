"""What a grading process does for one submission the service hands it.

``run_job`` holds the submission's lock (``autograder.grading.locking``, the one the batch
``course grade`` takes too) from start to end: it collects that very submission from the
exchange's inbound into ``submitted/<learner>/<ps>/`` as nbgrader's ``collect`` would (same
files, same ignore rules, but links kept as links, so that a link in a submission is refused,
not followed), re-checks the verdict marker — a submission some grader already recorded (the
instructor's batch, or this service before it was killed) is adopted, not graded again —, grades
it with ``grade_one`` otherwise (the sandboxed pipeline, the learner's extension applied), and
writes its feedback into the service's store. Runs in a pool worker or on a Dask worker, never
in the service's own process.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.grading.locking import graded_marker, submission_lock
from autograder.grading.submissions import Outcome, Submission, fingerprint

__all__ = ["GradingFailed", "Job", "JobResult", "Refused", "collect_submission", "run_job"]


@dataclass(frozen=True)
class Job:
    entry_id: int
    learner: str
    assignment: str
    inbound: str  # the submission's folder in the exchange's inbound
    store: str  # where its feedback is kept


@dataclass
class JobResult:
    entry_id: int
    outcome: Outcome
    fingerprint: str = ""
    feedback: list[str] = dataclasses.field(default_factory=list)
    graded_by: str = "grading service"  # or "adopted": an earlier grading's verdict
    refused: str | None = None  # why it cannot be graded at all


class GradingFailed(RuntimeError):
    """The grading machinery failed on a submission (not the learner's fault): retried."""


class Refused(ValueError):
    """The submission cannot be collected at all; the message says why (the learner sees it)."""


def _check_source(source: Path, max_bytes: int) -> None:
    """Refuse what copying would choke on: a special file (a FIFO blocks the copy forever) or a
    folder larger than nbgrader's ``max_dir_size``. Inbound is writable by every learner: a
    folder there need not come from nbgrader's submit."""
    import stat

    total = 0
    for folder, dirs, files in os.walk(source):
        for name in dirs + files:
            path = Path(folder) / name
            mode = path.lstat().st_mode
            if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
                raise Refused(f"{path.relative_to(source)} is not a regular file")
            if stat.S_ISREG(mode):
                total += path.lstat().st_size
        if total > max_bytes:
            raise Refused(f"it is larger than {max_bytes // 10**6} MB")


def collect_submission(course_root: Path, source: Path, learner: str, assignment: str) -> Path:
    """``source`` (an inbound folder) into ``submitted/<learner>/<assignment>/``, replacing
    what was there, as nbgrader's collect copies it (``CourseDirectory.ignore``, ``include``,
    ``max_file_size``, ``max_dir_size``); returns the folder, or raises ``Refused``."""
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import ignore_patterns

    from autograder.config.nbgrader import course_config

    cd = CourseDirectory(config=course_config(course_root))
    _check_source(source, 1000 * int(cd.max_dir_size))
    dest = course_root / "submitted" / learner / assignment
    dest.parent.mkdir(parents=True, exist_ok=True)
    for stale in dest.parent.glob(f".{assignment}.*"):  # a killed collect's leftovers
        shutil.rmtree(stale, ignore_errors=True)
    tmp = dest.parent / f".{assignment}.incoming-{os.getpid()}"
    shutil.copytree(
        source,
        tmp,
        symlinks=True,
        ignore=ignore_patterns(
            exclude=cd.ignore, include=cd.include, max_file_size=cd.max_file_size
        ),
    )
    old = dest.parent / f".{assignment}.old-{os.getpid()}"
    if dest.exists():
        os.replace(dest, old)
    os.replace(tmp, dest)
    shutil.rmtree(old, ignore_errors=True)
    return dest


def _adopted(marker: dict[str, Any]) -> Outcome:
    names = {f.name for f in dataclasses.fields(Outcome)}
    return Outcome(**{k: v for k, v in marker.items() if k in names})


def run_job(course_root: str, job: Job, overrides: dict[str, Any]) -> JobResult:
    """Collect, grade (or adopt) and write the feedback of one submission (see the module)."""
    from autograder.grading.worker import grade_one
    from autograder.service.feedback import write_feedback

    root = Path(course_root)
    source = Path(job.inbound)
    with submission_lock(root, job.learner, job.assignment):
        if not source.is_dir():
            return JobResult(
                job.entry_id,
                Outcome(job.learner, "refused", "removed from the exchange before grading"),
                refused="it was removed from the exchange before it was graded",
            )
        try:
            folder = collect_submission(root, source, job.learner, job.assignment)
        except Refused as why:
            return JobResult(
                job.entry_id, Outcome(job.learner, "refused", str(why)), refused=str(why)
            )
        sub = Submission(job.learner, job.assignment, folder, fingerprint(folder))
        marker = graded_marker(root, sub.learner, sub.assignment, sub.fingerprint)
        by = "adopted"
        if marker is None:
            outcome = grade_one(root, sub, overrides, by="grading service")
            if outcome.status == "error":
                raise GradingFailed(outcome.verdict)
            by = "grading service"
            if outcome.status == "skipped":  # recorded by another grader meanwhile
                marker = graded_marker(root, sub.learner, sub.assignment, sub.fingerprint)
                by = "adopted"
        if marker is not None:
            outcome = _adopted(marker)
        feedback = write_feedback(root, job.assignment, job.learner, Path(job.store))
        if not feedback:
            raise GradingFailed(f"no feedback was written for {job.learner}")
    return JobResult(job.entry_id, outcome, sub.fingerprint, feedback, by)
