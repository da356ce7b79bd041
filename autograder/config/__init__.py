"""Where the course is and how it is configured (used on the grader's side).

``Course`` is the course as one value: its nbgrader root, its configuration (the course's
defaults, then the instructor's ``nbgrader_config.py``, checked so that grading stays in the
sandbox), its schedule. ``paths`` finds the repository from any working folder.
"""

from autograder.config.course import Course, as_course
from autograder.config.nbgrader import (
    CONFIG_FILE,
    COURSE_ID,
    DEFAULT_EXCHANGE,
    IGNORE,
    ConfigError,
    check_config,
    config_files,
    configure,
    course_config,
    db_url,
    exchange_root,
)
from autograder.config.paths import CourseNotFound, course_root, repo_root

__all__ = [
    "CONFIG_FILE",
    "COURSE_ID",
    "DEFAULT_EXCHANGE",
    "IGNORE",
    "ConfigError",
    "Course",
    "CourseNotFound",
    "as_course",
    "check_config",
    "config_files",
    "configure",
    "course_config",
    "course_root",
    "db_url",
    "exchange_root",
    "repo_root",
]
