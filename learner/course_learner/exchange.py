"""A learner's side of nbgrader's exchange: submit a problem set, fetch its feedback.

``submit`` copies ``<folder>/<ps>/`` to the exchange's inbound (time-stamped, in a folder of a
random name that no other learner can list, private to its learner: ``PrivateSubmit``); ``fetch_feedback`` brings released feedback into
``<folder>/<ps>/feedback/<timestamp>/``. The learner's id is ``learner``, else
``$JUPYTERHUB_USER``, else the login name (nbgrader's rule). On the hub the Assignments tab does
the same through nbgrader's own server extension.
"""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path
from typing import Any

from traitlets.config import Config

from course_learner.settings import COURSE_ID, exchange_root

__all__ = ["ExchangeError", "fetch_feedback", "submit"]


class ExchangeError(RuntimeError):
    """An exchange operation failed; the message is nbgrader's."""


def _learner_config(assignment: str, learner: str | None, folder: Path) -> tuple[Config, Any, Any]:
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory

    cfg = Config()
    cfg.CourseDirectory.course_id = COURSE_ID
    cfg.CourseDirectory.root = str(folder)
    cfg.Exchange.root = exchange_root()
    cfg.Exchange.path_includes_course = False
    cfg.Exchange.assignment_dir = str(folder)
    coursedir = CourseDirectory(config=cfg)
    coursedir.assignment_id = assignment
    coursedir.student_id = learner or os.environ.get("JUPYTERHUB_USER") or "*"
    return cfg, coursedir, Authenticator(config=cfg)


def _run(exchange_cls: Any, assignment: str, learner: str | None, folder: Path) -> str:
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
    from course_learner.private_submit import PrivateSubmit

    if not (folder / assignment).is_dir():
        raise ExchangeError(
            f"no folder {folder / assignment}: run this where the problem set's folder is"
        )
    return _run(PrivateSubmit, assignment, learner, folder)


def fetch_feedback(assignment: str, folder: Path, learner: str | None = None) -> list[Path]:
    """Fetch released feedback into ``<folder>/<assignment>/feedback/``; returns the files."""
    from nbgrader.exchange.default import ExchangeFetchFeedback

    _run(ExchangeFetchFeedback, assignment, learner, folder)
    return sorted((folder / assignment / "feedback").rglob("*.html"))
