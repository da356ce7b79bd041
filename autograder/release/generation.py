"""nbgrader's ``generate_assignment``, run with the course configuration passed explicitly, on
the source notebook built from the problem set's folder (``autograder.authoring``)."""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

from autograder.authoring.notebook_source import SourceError, build_source, problem_set_dir
from autograder.config.nbgrader import course_config

__all__ = ["ReleaseError", "generate"]


class ReleaseError(RuntimeError):
    """The release is wrong; the message lists every problem found."""


def generate(course_root: Path, assignment: str) -> Path:
    """nbgrader ``generate_assignment`` into ``release/<assignment>``; returns that folder."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    folder = problem_set_dir(course_root, assignment)
    if not folder.is_dir():
        raise ReleaseError(f"no problem set folder {folder}")
    try:
        build_source(course_root, assignment)
    except SourceError as exc:
        raise ReleaseError(str(exc)) from exc
    cfg = course_config(course_root)
    api = NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)
    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        result = api.generate_assignment(assignment, force=True, create=True)
    if not result.get("success"):
        raise ReleaseError(
            f"nbgrader generate_assignment failed:\n{result.get('error') or result.get('log')}"
        )
    return course_root / "release" / assignment
