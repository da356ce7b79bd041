"""nbgrader's exchange, as the course uses it (a folder on the shared JupyterHub host).

Instructor: ``exchange_release`` (the release, so that submissions are checked against it),
``collect`` (inbound → ``submitted/<learner>/<ps>/``, the latest submission of each learner,
with its timestamp), ``release_feedback`` (feedback HTML → the exchange).
Learner (``course_learner.exchange``, the learners' own distribution): ``submit``
(``<cwd>/<ps>/`` → inbound, time-stamped) and ``fetch_feedback`` (→
``<cwd>/<ps>/feedback/<timestamp>/``). The learner's id is ``--learner``, else
``$JUPYTERHUB_USER``, else the login name (nbgrader's rule).

The exchange root is ``$COURSE_EXCHANGE`` (default ``/srv/nbgrader/exchange``).
"""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path
from typing import Any

from course_learner.exchange import ExchangeError

from autograder.config.nbgrader import course_config, exchange_root
from autograder.grading.locking import submission_lock

__all__ = [
    "ExchangeError",
    "collect",
    "exchange_release",
    "fetch_feedback",
    "release_feedback",
    "submit",
]


def _ensure_exchange(course_root: Path) -> None:
    """Create the exchange root the first time (world-writable with the sticky bit, as nbgrader
    documents for a shared host): nbgrader refuses a missing one."""
    root = Path(exchange_root(course_root))
    if not root.exists():
        root.mkdir(parents=True)
        root.chmod(0o1777)


def _api(course_root: Path) -> Any:
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    _ensure_exchange(course_root)
    cfg = course_config(course_root)
    cfg.Exchange.root = exchange_root(course_root)
    return NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)


def _checked(result: dict[str, Any], what: str) -> dict[str, Any]:
    if not result.get("success"):
        raise ExchangeError(f"{what} failed:\n{result.get('error') or result.get('log')}")
    return result


def exchange_release(course_root: Path, assignment: str) -> None:
    """Copy ``release/<assignment>`` to the exchange's outbound folder (idempotent: a release
    already in the exchange is left as it is, like the published one)."""
    if not _outbound(course_root, assignment).is_dir():
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            _checked(
                _api(course_root).release_assignment(assignment),
                f"releasing {assignment} to the exchange",
            )
    _protect_inbound(course_root)


def _protect_inbound(course_root: Path) -> None:
    """The sticky bit on the inbound folder: nbgrader makes it writable by every learner (so
    that they can submit), and without the bit a learner who knew the name of another's
    submission could rename it away; with it only its owner (and the instructor) can."""
    import stat

    course_id = course_config(course_root).CourseDirectory.course_id
    inbound = Path(exchange_root(course_root)) / course_id / "inbound"
    if inbound.is_dir() and not inbound.stat().st_mode & stat.S_ISVTX:
        inbound.chmod(inbound.stat().st_mode | stat.S_ISVTX)


def _outbound(course_root: Path, assignment: str) -> Path:
    course_id = course_config(course_root).CourseDirectory.course_id
    return Path(exchange_root(course_root)) / course_id / "outbound" / assignment


def collect(course_root: Path, assignment: str) -> list[str]:
    """Collect the latest submission of every learner; returns the learners collected.

    nbgrader's collect replaces ``submitted/<learner>/<assignment>/`` (removes it, then copies
    the newer one in); it holds the submission lock of every learner it may touch
    (``autograder.grading.locking``), so that it never pulls a submission from under a grader
    at work on it — the grading service copying it in or grading it."""
    course_id = course_config(course_root).CourseDirectory.course_id
    inbound = Path(exchange_root(course_root)) / course_id / "inbound"
    learners = set()
    for folder in inbound.glob("*+*"):  # <learner>+<assignment>+<timestamp>+<random>
        parts = folder.name.split("+")
        if len(parts) >= 3 and parts[0] and parts[1] == assignment:
            learners.add(parts[0])
    with contextlib.ExitStack() as held:
        for learner in sorted(learners):  # in one order: no two collects wait on each other
            held.enter_context(submission_lock(course_root, learner, assignment))
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            _checked(_api(course_root).collect(assignment, update=True), f"collecting {assignment}")
    base = course_root / "submitted"
    return sorted(p.parent.name for p in base.glob(f"*/{assignment}") if p.is_dir())


def release_feedback(course_root: Path, assignment: str) -> tuple[list[str], list[str]]:
    """Release the feedback of every learner whose submission came through the exchange (it
    carries nbgrader's ``submission_secret.txt``, which addresses the feedback to them); returns
    (released, left in ``feedback/`` because they were not submitted through the exchange)."""
    released, skipped = [], []
    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        api = _api(course_root)
        for folder in sorted((course_root / "feedback").glob(f"*/{assignment}")):
            learner = folder.parent.name
            if not (folder / "submission_secret.txt").is_file():
                skipped.append(learner)
                continue
            _checked(
                api.release_feedback(assignment, learner),
                f"releasing feedback of {assignment} to {learner}",
            )
            released.append(learner)
    return released, skipped


def submit(assignment: str, folder: Path, learner: str | None = None) -> str:
    """The learner's submit (``course_learner.exchange.submit``)."""
    from course_learner.exchange import submit as learner_submit

    return learner_submit(assignment, folder, learner)


def fetch_feedback(assignment: str, folder: Path, learner: str | None = None) -> list[Path]:
    """The learner's fetch-feedback (``course_learner.exchange.fetch_feedback``)."""
    from course_learner.exchange import fetch_feedback as learner_fetch

    return learner_fetch(assignment, folder, learner)
