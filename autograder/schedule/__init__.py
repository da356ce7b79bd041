"""The study group's schedule (``book/schedule.yml``) and what the book generates from it.

Set apart from grading: it is read by the book's build (``book/_ext/schedule_ext.py``) and by
``course release --due``, which releases what the schedule makes due.
"""

from autograder.schedule.model import (
    BOOK_DIR,
    DEFAULT_SCHEDULE,
    KINDS,
    PRODID,
    REPO_ROOT,
    UID_DOMAIN,
    LatePolicy,
    Meeting,
    ProblemSet,
    Schedule,
    ScheduleError,
    build_calendar,
    generate_book_files,
    is_published,
    launch_url,
    launch_url_from_config,
    load_book_config,
    load_schedule,
    meeting_header_markdown,
    missing_pages,
    problem_set_header_markdown,
    release_branch,
    schedule_markdown,
    write_ics,
)

__all__ = [
    "BOOK_DIR",
    "DEFAULT_SCHEDULE",
    "KINDS",
    "PRODID",
    "REPO_ROOT",
    "UID_DOMAIN",
    "LatePolicy",
    "Meeting",
    "ProblemSet",
    "Schedule",
    "ScheduleError",
    "build_calendar",
    "generate_book_files",
    "is_published",
    "launch_url",
    "launch_url_from_config",
    "load_book_config",
    "load_schedule",
    "meeting_header_markdown",
    "missing_pages",
    "problem_set_header_markdown",
    "release_branch",
    "schedule_markdown",
    "write_ics",
]
