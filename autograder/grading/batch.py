"""``course grade``: grade every submission of an assignment, in parallel, safely and resumably.

Submissions are nbgrader's ``submitted/<learner>/<assignment>/`` folders, never modified. Each is
graded by nbgrader's own autograde (``NbGraderAPI.autograde``) with the course configuration
passed explicitly, in a worker process that owns one sandbox slot (its own uid), so that
concurrent learners never share a process budget.

* **Verdicts.** Every submission ends with a recorded verdict: ``graded``; or, for a notebook
  that cannot be graded — missing, empty, not JSON, a too-new nbformat, not a notebook — a
  zero in the gradebook, the reason, and a feedback notebook saying so. A failure of the grading
  machinery itself (not the learner's fault) is ``error``: nothing is recorded, the submission is
  retried on the next run, and the command exits non-zero.
* **Resumable.** When a submission is done, ``autograded/<learner>/<assignment>/.course-graded.json``
  records the submission's fingerprint (a hash of its files). A rerun skips submissions whose
  marker matches, regrades the rest; a killed run leaves no marker for what it did not finish.
* **Attested.** A graded notebook must carry ``SandboxedAutograde``'s attestation; if nbgrader
  graded without it (its configuration not loaded), the run stops with an error.
* **Limits that hold.** The run refuses to start (``WeakLimits``, exit 3) when the slots'
  memory or process budget cannot be enforced on this host (``autograder.sandbox.enforcement``),
  unless weaker limits are accepted (``accept_weak_limits``, ``--accept-weak-limits``).
* **Crash-safe.** A killed run leaves no sandbox process (they die with their grader); its
  scratch folders and cgroup leaves are reclaimed by the next run (``sandbox.reclaim``), and a
  submission it did not finish is graded again, whole.
"""

from __future__ import annotations

import json
import multiprocessing
import secrets
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

from autograder.config.course import Course
from autograder.config.nbgrader import db_url
from autograder.grading.submissions import (
    MARKER,
    Outcome,
    Submission,
    expected_notebooks,
    find_submissions,
)
from autograder.grading.worker import grade_one, init_worker

__all__ = ["format_summary", "grade_assignment", "progress_printer"]


# -- the orchestration -----------------------------------------------------------------------------
def _load_marker(course_root: Path, sub: Submission) -> dict[str, Any] | None:
    path = course_root / "autograded" / sub.learner / sub.assignment / MARKER
    try:
        marker = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return marker if marker.get("fingerprint") == sub.fingerprint else None


def _enable_wal(course_root: Path) -> None:
    url = db_url(course_root)
    if url.startswith("sqlite:///"):
        import sqlite3

        con = sqlite3.connect(url[len("sqlite:///") :], timeout=30)
        try:
            con.execute("PRAGMA journal_mode=WAL")
        finally:
            con.close()


def _run_local(
    course_root: Path,
    todo: list[Submission],
    workers: int,
    overrides: dict[str, Any],
    on_done: Callable[[Outcome], None],
) -> None:
    if workers <= 1:
        init_worker(str(course_root), False, overrides)
        for sub in todo:
            on_done(grade_one(course_root, sub, overrides))
        return
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        workers,
        mp_context=ctx,
        initializer=init_worker,
        initargs=(str(course_root), True, overrides),
    ) as pool:
        pending: dict[Future[Outcome], Submission] = {
            pool.submit(grade_one, course_root, sub, overrides): sub for sub in todo
        }
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    sub = pending.pop(fut)
                    try:
                        on_done(fut.result())
                    except RuntimeError:
                        raise
                    except Exception as exc:  # a worker crashed: not the learner's fault
                        on_done(
                            Outcome(
                                sub.learner, "error", f"grading error: {type(exc).__name__}: {exc}"
                            )
                        )
        except BaseException:
            for fut in pending:
                fut.cancel()
            for proc in list(getattr(pool, "_processes", {}).values()):
                proc.kill()
            raise


def grade_assignment(
    course_root: Path,
    assignment: str,
    workers: int = 2,
    run_id: str | None = None,
    force: bool = False,
    learners: Iterable[str] | None = None,
    progress: Callable[[int, int, Outcome], None] | None = None,
    overrides: dict[str, Any] | None = None,
    scheduler: str | None = None,
    accept_weak_limits: bool | None = None,
) -> list[Outcome]:
    """Grade the submissions of ``assignment``; returns one ``Outcome`` per submission.

    ``workers`` local processes, or the Dask cluster whose scheduler is at ``scheduler``.
    ``accept_weak_limits`` (default: ``c.SandboxLimits.accept_weak_limits``) lets the run
    start where the slots' memory or process budget cannot be enforced.
    """

    from autograder.sandbox.bubblewrap import WeakLimits, check_sandbox
    from autograder.sandbox.limits import SandboxLimits
    from autograder.sandbox.reclaim import reclaim
    from autograder.sandbox.slots import current_slot

    course_root = course_root.resolve()
    expected_notebooks(course_root, assignment)  # fails early when not released
    course = Course.at(course_root)
    sandbox = course.sandbox(current_slot())
    weak = sandbox.enforcement.weak
    if accept_weak_limits is None:
        accept_weak_limits = SandboxLimits(config=course.config).accept_weak_limits
    if weak and not accept_weak_limits:
        raise WeakLimits(
            f"the grading slots' {' and '.join(weak)} budget cannot be enforced on this host "
            f"({'; '.join(sandbox.enforcement.notes) or 'c.SandboxLimits.slot_limits'}): see "
            "`course sandbox setup`; to grade anyway with per-process limits only, pass "
            "--accept-weak-limits (or set c.SandboxLimits.accept_weak_limits = True)"
        )
    reclaim(sandbox.enforcement)  # what killed runs left behind
    check_sandbox(
        sandbox,
        secret_paths=[
            course_root / "problem_sets",
            course_root / "source",
            course_root.parent / "reference_impl",
        ],
    )
    subs = find_submissions(course_root, assignment)
    if learners is not None:
        wanted = set(learners)
        subs = [s for s in subs if s.learner in wanted]
    run_id = run_id or secrets.token_hex(8)
    opts = {"run_id": run_id, **(overrides or {})}
    outcomes: list[Outcome] = []
    todo: list[Submission] = []
    for sub in subs:
        marker = None if force else _load_marker(course_root, sub)
        if marker is not None:
            outcomes.append(
                Outcome(
                    sub.learner,
                    "skipped",
                    f"already graded ({marker.get('verdict')})",
                    marker.get("score"),
                    marker.get("max_score"),
                )
            )
        else:
            todo.append(sub)
    if force:  # --force: each grader re-checks the marker under the submission's lock (locking)
        from autograder.grading.locking import submission_lock

        for sub in todo:
            with submission_lock(course_root, sub.learner, sub.assignment):
                (course_root / "autograded" / sub.learner / sub.assignment / MARKER).unlink(
                    missing_ok=True
                )
    total = len(subs)

    def done(outcome: Outcome) -> None:
        outcomes.append(outcome)
        if progress is not None:
            progress(len(outcomes), total, outcome)

    for outcome in list(outcomes):
        if progress is not None:
            progress(outcomes.index(outcome) + 1, total, outcome)
    _enable_wal(course_root)
    if scheduler:
        from autograder.grading.scaleout import grade_on_cluster

        grade_on_cluster(scheduler, course_root, todo, opts, done)
    else:
        _run_local(course_root, todo, workers, opts, done)
    reclaim(sandbox.enforcement)
    order = {s.learner: i for i, s in enumerate(subs)}
    return sorted(outcomes, key=lambda o: order.get(o.learner, 0))


def format_summary(outcomes: list[Outcome]) -> str:
    """A plain-text table of the outcomes."""
    rows = [("learner", "score", "status", "seconds", "verdict")]
    for o in outcomes:
        score = "—" if o.score is None else f"{o.score:g}/{o.max_score:g}"
        if o.penalty:
            score += f" (late −{o.penalty:g})"
        rows.append((o.learner, score, o.status, f"{o.seconds:.1f}", o.verdict[:70]))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    lines.append("")
    lines.append(", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "no submissions")
    return "\n".join(lines)


def progress_printer(stream: Any = sys.stderr) -> Callable[[int, int, Outcome], None]:
    """A progress bar on a terminal, one line per submission otherwise."""
    tty = hasattr(stream, "isatty") and stream.isatty()

    def show(i: int, n: int, o: Outcome) -> None:
        score = "" if o.score is None else f" {o.score:g}/{o.max_score:g}"
        if tty:
            width = 30
            filled = int(width * i / max(n, 1))
            stream.write(
                f"\r[{'#' * filled}{'.' * (width - filled)}] {i}/{n} {o.learner}{score} ({o.status})\033[K"
            )
            if i == n:
                stream.write("\n")
        else:
            stream.write(f"[{i}/{n}] {o.learner}: {o.status}{score} ({o.seconds:.1f} s)\n")
        stream.flush()

    return show
