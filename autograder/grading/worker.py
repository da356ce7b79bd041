"""One grading process: its sandbox slot, its spare kernel, and the grading of one submission.

A grading process — a local pool worker, a Dask worker, or ``course grade --workers 1`` itself —
calls ``init_worker`` once: it claims a sandbox slot of its own (its own uid and cgroups), dies
with its parent when it is a pool worker, and starts its spare sandbox before the first
submission. ``grade_one`` then grades one submission with nbgrader's own autograde and records
its verdict.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import shutil
import time
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import Any

import nbformat

from autograder.config.course import Course
from autograder.config.nbgrader import course_config, db_url
from autograder.grading.attestation import ATTESTATION_KEY
from autograder.grading.failpoints import install_gradebook_failpoint
from autograder.grading.submissions import (
    MARKER,
    Outcome,
    Submission,
    expected_notebooks,
    inspect_notebook,
    unsafe_files,
)

__all__ = ["grade_one", "init_worker", "worker_slot"]

_SLOT: list[int] = []  # this process's sandbox slot, once claimed by init_worker


def worker_slot() -> int | None:
    """The sandbox slot this process claimed in ``init_worker``, or None before."""
    return _SLOT[0] if _SLOT else None


def _die_with_parent() -> None:
    """Linux: SIGKILL this worker when the ``course grade`` process dies, however it dies, so a
    killed run leaves nothing grading behind it (the sandbox follows: bwrap --die-with-parent)."""
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() == 1:  # the parent is already gone
        os._exit(1)


def init_worker(
    course_root: str, pool: bool, overrides: dict[str, Any], first_slot: int = 0
) -> None:
    """Per grading process: die with ``course grade`` (pool workers), claim a sandbox slot."""
    from autograder.sandbox.slots import acquire_slot

    if pool:
        from multiprocessing.util import Finalize

        from autograder.grading.notebook_run import kill_spares

        _die_with_parent()
        os.environ.pop("COURSE_SANDBOX_SLOT", None)  # inherited from the parent: not ours
        Finalize(None, kill_spares, exitpriority=10)  # a pool worker exits without atexit
    install_gradebook_failpoint()
    slot = (
        int(os.environ["COURSE_SANDBOX_SLOT"])
        if "COURSE_SANDBOX_SLOT" in os.environ
        else acquire_slot(first_slot)
    )
    _SLOT[:] = [slot]
    logging.getLogger("traitlets").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    _prewarm(Path(course_root), overrides, slot)


def _prewarm(course_root: Path, overrides: dict[str, Any], slot: int) -> None:
    """Before the first submission: start this process's spare sandbox and import what every
    submission needs (nbgrader's pipeline and gradebook, the libraries the hidden checks
    import), so that the first submission costs what every later one does."""
    import importlib

    from autograder.grading.notebook_run import prewarm_spare

    for module in (
        "nbgrader.apps",
        "nbgrader.converters.autograde",
        "nbgrader.api",
        "autograder.checks.function",
        "autograder.checks.symbolic",
        "reference_impl.quaternion",
        "reference_impl.euler",
        "reference_impl.so3",
        "reference_impl.averaging",
        "scipy.spatial.transform",
    ):
        importlib.import_module(module)

    course = Course.at(course_root, **overrides)
    if course.config.SandboxedAutograde.get("prewarm", True):
        prewarm_spare(course.sandbox(slot))


def _api(course_root: Path, overrides: dict[str, Any]) -> Any:
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    cfg = course_config(course_root, **overrides)
    return NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)


def grade_one(
    course_root: Path, sub: Submission, overrides: dict[str, Any], by: str = "course grade"
) -> Outcome:
    """Grade one submission with nbgrader and record its verdict (also in the marker file),
    holding its lock (``locking``): a submission that another grader (``by`` names this one in
    the ``journal``) recorded meanwhile is not graded again but ``skipped``. The learner's
    extension goes into the gradebook first (``deadlines``)."""
    from dataclasses import replace

    from autograder.grading.deadlines import apply_extension
    from autograder.grading.journal import record_grading
    from autograder.grading.locking import graded_marker, submission_lock
    from autograder.grading.submissions import fingerprint

    with submission_lock(course_root, sub.learner, sub.assignment):
        if sub.path.is_dir():  # what is there now, which another grader may have replaced
            sub = replace(sub, fingerprint=fingerprint(sub.path))
        done = graded_marker(course_root, sub.learner, sub.assignment, sub.fingerprint)
        if done is not None:
            return Outcome(
                sub.learner,
                "skipped",
                f"already graded ({done.get('verdict')})",
                done.get("score"),
                done.get("max_score"),
            )
        apply_extension(course_root, sub.assignment, sub.learner)
        outcome = _grade_unlocked(course_root, sub, overrides)
        if outcome.status in ("graded", "broken"):
            record_grading(course_root, sub, outcome, by)
        return outcome


def _grade_unlocked(course_root: Path, sub: Submission, overrides: dict[str, Any]) -> Outcome:
    t0 = time.perf_counter()
    names = expected_notebooks(course_root, sub.assignment)
    dest = course_root / "autograded" / sub.learner / sub.assignment
    problems = unsafe_files(sub.path)
    problems += [p for p in (inspect_notebook(sub.path / f"{n}.ipynb") for n in names) if p]
    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        if problems:
            outcome = _record_broken(course_root, sub, names, "; ".join(problems), overrides)
        else:
            api = _api(course_root, overrides)
            result = api.autograde(sub.assignment, sub.learner, force=True, create=True)
            if not result.get("success"):
                log = str(result.get("error", "")) + str(result.get("log", ""))
                if "SandboxUnavailable" in log or "KernelStartError" in log:
                    raise RuntimeError(
                        f"the sandbox failed while grading {sub.learner}:\n{log[-3000:]}"
                    )
                return Outcome(
                    sub.learner,
                    "error",
                    f"nbgrader failed: {log.strip()[-800:]}",
                    seconds=time.perf_counter() - t0,
                )
            outcome = _collect(course_root, sub, names, dest)
    outcome.seconds = time.perf_counter() - t0
    marker = {
        **asdict(outcome),
        "fingerprint": sub.fingerprint,
        "run_id": overrides.get("run_id", ""),
    }
    _write_atomically(dest / MARKER, json.dumps(marker, indent=1))
    return outcome


def _write_atomically(path: Path, text: str) -> None:
    """Write ``path`` whole or not at all (a grader killed mid-write leaves no torn marker)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _collect(course_root: Path, sub: Submission, names: list[str], dest: Path) -> Outcome:
    from nbgrader.api import Gradebook

    parts: dict[str, Any] = {}
    timings: dict[str, float] = {}
    for name in names:
        path = dest / f"{name}.ipynb"
        meta = nbformat.read(path, as_version=4).metadata.get(ATTESTATION_KEY)
        if not meta or meta.get("graded_by", "").split(".")[-1] != "SandboxedAutograde":
            raise RuntimeError(
                f"{path} was not graded by the course's sandboxed preprocessor: nbgrader's "
                "configuration was not applied — refusing to record an unsandboxed grade"
            )
        parts.update(meta.get("parts", {}))
        for key, value in meta.get("seconds", {}).items():
            timings[key] = timings.get(key, 0.0) + float(value)
    with Gradebook(db_url(course_root)) as gb:
        submission = gb.find_submission(sub.assignment, sub.learner)
        score, max_score = float(submission.score), float(submission.max_score)
        penalty = float(submission.late_submission_penalty or 0.0)
    return Outcome(
        sub.learner, "graded", "graded", score, max_score, penalty, parts=parts, timings=timings
    )


def _record_broken(
    course_root: Path, sub: Submission, names: list[str], reason: str, overrides: dict[str, Any]
) -> Outcome:
    """Zero in the gradebook, the reason, and a notebook for feedback that explains it."""
    from nbgrader.api import Gradebook

    coursedir_ts = sub.path / "timestamp.txt"
    timestamp = coursedir_ts.read_text().strip() if coursedir_ts.is_file() else None
    with Gradebook(db_url(course_root), course_id=Course.at(course_root).course_id) as gb:
        gb.update_or_create_student(sub.learner)
        kwargs = {"timestamp": timestamp} if timestamp else {}
        try:
            submission = gb.update_or_create_submission(sub.assignment, sub.learner, **kwargs)
        except Exception:
            submission = gb.update_or_create_submission(sub.assignment, sub.learner)
        for nb in submission.notebooks:
            for grade in nb.grades:
                grade.auto_score = 0
                grade.manual_score = None
                grade.needs_manual_grade = False
        gb.db.commit()
        max_score = float(submission.max_score)
    dest = course_root / "autograded" / sub.learner / sub.assignment
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    if coursedir_ts.is_file():
        shutil.copyfile(coursedir_ts, dest / "timestamp.txt")
    for name in names:
        release = course_root / "release" / sub.assignment / f"{name}.ipynb"
        nb = (
            nbformat.read(release, as_version=4) if release.exists() else nbformat.v4.new_notebook()
        )
        nb.cells.insert(
            0,
            nbformat.v4.new_markdown_cell(
                "## Autograder report\n\n**This submission could not be graded: "
                f"{reason}.** It scores 0. The notebook below is the blank release; submit a "
                "notebook saved by Jupyter to be graded."
            ),
        )
        nb.metadata[ATTESTATION_KEY] = {"graded_by": "verdict", "verdict": reason, "parts": {}}
        nbformat.write(nb, dest / f"{name}.ipynb")
    return Outcome(sub.learner, "broken", reason, 0.0, max_score)
