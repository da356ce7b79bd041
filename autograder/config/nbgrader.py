"""The course's nbgrader configuration, in one place.

``course`` passes it to nbgrader explicitly (never relying on config-file discovery, which is how
nbgrader silently fell back to an unsandboxed kernel elsewhere); ``assignments/nbgrader_config.py``
and the repository's ``nbgrader_config.py`` call ``configure`` too, so plain ``nbgrader`` commands
run from either folder grade the same way.
"""

from __future__ import annotations

import os
from pathlib import Path

from traitlets.config import Config

__all__ = [
    "COURSE_ID",
    "IGNORE",
    "configure",
    "course_config",
    "db_url",
    "exchange_root",
    "late_policy",
]

COURSE_ID = "cryoem-study-group-2022"

#: Never copied into releases, autograded folders or feedback (nbgrader's CourseDirectory.ignore).
IGNORE = [
    ".ipynb_checkpoints",
    "*.pyc",
    "__pycache__",
    "feedback",
    "hidden_checks.py",
    ".course-*",
]


def db_url(root: Path) -> str:
    """``$COURSE_DB_URL`` (e.g. ``postgresql+psycopg2://…``), else SQLite in the course root."""
    return os.environ.get("COURSE_DB_URL") or f"sqlite:///{root / 'gradebook.db'}"


def exchange_root() -> str:
    """nbgrader's exchange: ``$COURSE_EXCHANGE``, else the convention of a shared JupyterHub
    host, ``/srv/nbgrader/exchange``."""
    return os.environ.get("COURSE_EXCHANGE") or "/srv/nbgrader/exchange"


def late_policy(root: Path) -> dict[str, float]:
    """``late_policy`` from the schedule next to the course (``<repo>/book/schedule.yml``), or
    the default: 10 % per started day, at most 50 %, no grace."""
    policy = {"percent_per_day": 10.0, "max_percent": 50.0, "grace_minutes": 0.0}
    schedule = root.parent / "book" / "schedule.yml"
    if schedule.is_file():
        import yaml

        data = yaml.safe_load(schedule.read_text()) or {}
        for key, value in (data.get("late_policy") or {}).items():
            if key not in policy:
                raise ValueError(f"{schedule}: unknown late_policy setting {key!r}")
            policy[key] = float(value)
    return policy


def configure(c: Config, root: Path | str) -> Config:
    """Fill ``c`` with the course's nbgrader settings for the course root ``root``."""
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        CheckCellMetadata,
        ClearOutput,
        DeduplicateIds,
        IgnorePattern,
        LimitOutput,
        OverwriteCells,
        OverwriteKernelspec,
        SaveAutoGrades,
    )

    from autograder.grading.preprocessor import DropEmptyNbgraderMetadata, SandboxedAutograde

    root = Path(root).resolve()
    c.CourseDirectory.root = str(root)
    c.CourseDirectory.course_id = COURSE_ID
    c.CourseDirectory.db_url = db_url(root)
    c.CourseDirectory.ignore = list(IGNORE)
    c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
    c.OverwriteCells.add_missing_cells = True
    c.Autograde.create_student = True
    c.Autograde.sanitize_preprocessors = [
        ClearOutput,
        DeduplicateIds,
        DropEmptyNbgraderMetadata,  # nbgrader 0.9.6 crashes on duplicated cells otherwise
        OverwriteKernelspec,
        OverwriteCells,
        CheckCellMetadata,
    ]
    # nbgrader's Execute is replaced: submissions run only in the sandbox, hidden checks outside.
    c.Autograde.autograde_preprocessors = [
        SandboxedAutograde,
        IgnorePattern,
        ClearMetadataPreprocessor,
        LimitOutput,
        SaveAutoGrades,
        AssignLatePenalties,
        CheckCellMetadata,
    ]
    c.SandboxedAutograde.course_id = COURSE_ID
    # the exchange (release → fetch → submit → collect, feedback both ways)
    c.Exchange.root = exchange_root()
    c.Exchange.path_includes_course = False
    # late submissions: a percentage per day with a cap (autograder.grading.late)
    from autograder.grading.late import PercentPerDayPenalty

    c.AssignLatePenalties.plugin_class = PercentPerDayPenalty
    for key, value in late_policy(root).items():
        setattr(c.PercentPerDayPenalty, key, value)
    return c


def _venv_bin_on_path() -> None:
    """nbgrader runs ``alembic`` as a subprocess to create or upgrade a gradebook; it lives next
    to this interpreter, which is not on PATH when ``.venv/bin/course`` runs unactivated."""
    import sys

    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


def course_config(root: Path | str, **overrides: object) -> Config:
    """A fresh ``Config`` for the course root; ``overrides`` set ``SandboxedAutograde`` traits."""
    _venv_bin_on_path()
    c = configure(Config(), root)
    for key, value in overrides.items():
        setattr(c.SandboxedAutograde, key, value)
    return c
