"""Where things are: the repository root and the nbgrader course root, found from any cwd."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["CourseNotFound", "course_root", "repo_root"]


class CourseNotFound(RuntimeError):
    """Raised when neither the cwd nor its parents hold the course repository."""


def repo_root(start: Path | None = None) -> Path:
    """The repository root: the nearest ancestor of ``start`` (default cwd) holding ``_toc.yml``
    and ``assignments/``; ``$COURSE_ROOT`` overrides the search."""
    env = os.environ.get("COURSE_ROOT")
    if env:
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / "_toc.yml").is_file() and (d / "assignments").is_dir():
            return d
    raise CourseNotFound(
        f"no course repository at or above {here} (looked for _toc.yml and assignments/); "
        "run from the repository root or from assignments/, or set COURSE_ROOT"
    )


def course_root(start: Path | None = None) -> Path:
    """The nbgrader course root, ``<repo>/assignments``."""
    return repo_root(start) / "assignments"
