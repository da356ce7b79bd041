"""Where the course is and how nbgrader is configured for it (used on the grader's side)."""

from autograder.config.nbgrader import (
    COURSE_ID,
    IGNORE,
    configure,
    course_config,
    db_url,
    exchange_root,
    late_policy,
)
from autograder.config.paths import CourseNotFound, course_root, repo_root

__all__ = [
    "COURSE_ID",
    "IGNORE",
    "CourseNotFound",
    "configure",
    "course_config",
    "course_root",
    "db_url",
    "exchange_root",
    "late_policy",
    "repo_root",
]
