"""``course feedback``: nbgrader's feedback HTML for every graded submission."""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from pathlib import Path

from autograder.config.nbgrader import course_config
from autograder.grading.submissions import MARKER

__all__ = ["generate_feedback"]

log = logging.getLogger("course.feedback")


def generate_feedback(course_root: Path, assignment: str) -> list[Path]:
    """nbgrader ``generate_feedback`` for every graded submission; returns the HTML files."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    cfg = course_config(course_root)
    api = NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)
    graded = sorted(
        p.parent.parent.name for p in (course_root / "autograded").glob(f"*/{assignment}/{MARKER}")
    )
    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        for i, learner in enumerate(graded, 1):
            log.info("  [%d/%d] feedback for %s", i, len(graded), learner)
            result = api.generate_feedback(assignment, learner, force=True)
            if not result.get("success"):
                raise RuntimeError(
                    f"feedback for {learner} failed:\n{result.get('error') or result.get('log')}"
                )
    return sorted((course_root / "feedback").glob(f"*/{assignment}/*.html"))
