"""The learner side's settings: the course id, nbgrader's exchange, the kernel environment.

Environment variables (the hub's spawner sets them for every learner's server):
``COURSE_EXCHANGE`` (nbgrader's exchange root, default ``/srv/nbgrader/exchange``),
``COURSE_KERNEL_ENV`` (the learners' kernel environment the grading sandbox uses, default
``/opt/cryoem-course/kernel-env``).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["COURSE_ID", "exchange_root", "kernel_env"]

#: nbgrader's course id (the instructor's ``autograder.config.COURSE_ID``; a test keeps them equal).
COURSE_ID = "cryoem-study-group-2022"


def exchange_root() -> str:
    """nbgrader's exchange: ``$COURSE_EXCHANGE``, else ``/srv/nbgrader/exchange``."""
    return os.environ.get("COURSE_EXCHANGE") or "/srv/nbgrader/exchange"


def kernel_env() -> Path:
    """The learners' kernel environment: ``$COURSE_KERNEL_ENV``, else
    ``/opt/cryoem-course/kernel-env`` (where the course's set-up builds it)."""
    return Path(os.environ.get("COURSE_KERNEL_ENV") or "/opt/cryoem-course/kernel-env")
