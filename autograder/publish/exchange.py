"""nbgrader's exchange, as the course uses it (a folder on the shared JupyterHub host).

Instructor: ``exchange_release`` (the release, so that submissions are checked against it),
``collect`` (inbound → ``submitted/<learner>/<ps>/``, the latest submission of each learner,
with its timestamp), ``release_feedback`` (feedback HTML → the exchange).
Learner: ``submit`` (``<cwd>/<ps>/`` → inbound, time-stamped) and ``fetch_feedback`` (→
``<cwd>/<ps>/feedback/<timestamp>/``). The learner's id is ``--learner``, else
``$JUPYTERHUB_USER``, else the login name (nbgrader's rule).

The exchange root is ``$COURSE_EXCHANGE`` (default ``/srv/nbgrader/exchange``).
"""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from pathlib import Path
from typing import Any

from traitlets.config import Config

from autograder.config.nbgrader import COURSE_ID, course_config, exchange_root

__all__ = [
    "ExchangeError",
    "collect",
    "exchange_release",
    "fetch_feedback",
    "release_feedback",
    "submit",
]


class ExchangeError(RuntimeError):
    """An exchange operation failed; the message is nbgrader's."""


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
    if _outbound(course_root, assignment).is_dir():
        return
    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        _checked(
            _api(course_root).release_assignment(assignment),
            f"releasing {assignment} to the exchange",
        )


def _outbound(course_root: Path, assignment: str) -> Path:
    course_id = course_config(course_root).CourseDirectory.course_id
    return Path(exchange_root(course_root)) / course_id / "outbound" / assignment


def collect(course_root: Path, assignment: str) -> list[str]:
    """Collect the latest submission of every learner; returns the learners collected."""
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


def _learner_config(assignment: str, learner: str | None, folder: Path) -> tuple[Config, Any, Any]:
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory

    cfg = Config()
    cfg.CourseDirectory.course_id = COURSE_ID
    cfg.CourseDirectory.root = str(folder)
    cfg.Exchange.root = exchange_root()
    cfg.Exchange.assignment_dir = str(folder)
    coursedir = CourseDirectory(config=cfg)
    coursedir.assignment_id = assignment
    coursedir.student_id = learner or os.environ.get("JUPYTERHUB_USER") or "*"
    return cfg, coursedir, Authenticator(config=cfg)


def _run(exchange_cls: Any, assignment: str, learner: str | None, folder: Path) -> str:
    import logging

    cfg, coursedir, auth = _learner_config(assignment, learner, folder)
    ex = exchange_cls(coursedir=coursedir, authenticator=auth, config=cfg)
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    ex.log.addHandler(handler)
    try:
        ex.start()
    except Exception as exc:  # nbgrader's ExchangeError and friends: say what it said
        raise ExchangeError(f"{exc}\n{buf.getvalue()}".strip()) from None
    finally:
        ex.log.removeHandler(handler)
    return buf.getvalue()


def submit(assignment: str, folder: Path, learner: str | None = None) -> str:
    """Submit ``<folder>/<assignment>/`` to the exchange (time-stamped by nbgrader)."""
    from nbgrader.exchange.default import ExchangeSubmit

    if not (folder / assignment).is_dir():
        raise ExchangeError(
            f"no folder {folder / assignment}: run this where the problem set's folder is"
        )
    return _run(ExchangeSubmit, assignment, learner, folder)


def fetch_feedback(assignment: str, folder: Path, learner: str | None = None) -> list[Path]:
    """Fetch released feedback into ``<folder>/<assignment>/feedback/``; returns the files."""
    from nbgrader.exchange.default import ExchangeFetchFeedback

    _run(ExchangeFetchFeedback, assignment, learner, folder)
    return sorted((folder / assignment / "feedback").rglob("*.html"))
