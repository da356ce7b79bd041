"""The course's nbgrader configuration: defaults in code, the instructor's file on top, checked.

``course_config(root)`` builds the configuration the way nbgrader does, and hands it to nbgrader
explicitly (never relying on nbgrader's own config-file discovery, which is how nbgrader once
silently fell back to an unsandboxed kernel):

1. ``configure``: the course's defaults — the gradebook (SQLite in the course root), the
   exchange (``/srv/nbgrader/exchange``), the late policy of ``book/schedule.yml``, and the
   pipeline whose ``Execute`` is replaced by ``SandboxedAutograde``;
2. the instructor's ``nbgrader_config.py`` files, in nbgrader's order: the repository root's,
   then the course root's (``assignments/nbgrader_config.py``) — every documented nbgrader option
   and the course's own (``c.SandboxedAutograde.cell_timeout``, ``c.SandboxLimits.memory_mb``,
   ``c.CourseDirectory.db_url`` …) can be set there, and plain ``nbgrader`` commands read the same
   files;
3. ``check_config``: whatever the files say, grading must stay in the sandbox — the pipeline
   must run ``SandboxedAutograde``, never nbgrader's ``Execute``, and must restore the test cells
   (``OverwriteCells``). A configuration that breaks this is refused (``ConfigError``; the
   ``course`` command exits 3), never applied.
"""

from __future__ import annotations

import copy
import functools
import os
from pathlib import Path
from typing import Any

from traitlets.config import Config, PyFileConfigLoader

__all__ = [
    "CONFIG_FILE",
    "COURSE_ID",
    "DEFAULT_EXCHANGE",
    "IGNORE",
    "ConfigError",
    "check_config",
    "config_files",
    "configure",
    "course_config",
    "db_url",
    "exchange_root",
]

#: The course's id in nbgrader (gradebook, exchange): written here once.
COURSE_ID = "cryoem-study-group-2022"

#: The exchange of a shared JupyterHub host, nbgrader's convention.
DEFAULT_EXCHANGE = "/srv/nbgrader/exchange"

CONFIG_FILE = "nbgrader_config.py"

#: Never copied into releases, autograded folders or feedback (nbgrader's CourseDirectory.ignore).
IGNORE = [
    ".ipynb_checkpoints",
    "*.pyc",
    "__pycache__",
    "feedback",
    "hidden_checks.py",
    "mutants.py",
    ".course-*",
]

_SANDBOXED = "autograder.grading.preprocessor.SandboxedAutograde"


class ConfigError(RuntimeError):
    """The instructor's configuration would weaken grading; the message says how."""


def configure(c: Config, root: Path | str) -> Config:
    """Fill ``c`` with the course's nbgrader defaults for the course root ``root``.

    Preprocessors are named by their dotted paths (nbconvert imports them when it builds the
    pipeline), so the configuration does not import the grading code.
    """
    root = Path(root).resolve()
    c.CourseDirectory.root = str(root)
    c.CourseDirectory.course_id = COURSE_ID
    c.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
    c.CourseDirectory.ignore = list(IGNORE)
    c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
    c.OverwriteCells.add_missing_cells = True
    c.Autograde.create_student = True
    c.Autograde.sanitize_preprocessors = [
        "nbgrader.preprocessors.ClearOutput",
        "nbgrader.preprocessors.DeduplicateIds",
        # nbgrader 0.9.6 crashes on duplicated cells otherwise
        "autograder.grading.preprocessor.DropEmptyNbgraderMetadata",
        "nbgrader.preprocessors.OverwriteKernelspec",
        "nbgrader.preprocessors.OverwriteCells",
        "nbgrader.preprocessors.CheckCellMetadata",
    ]
    # nbgrader's Execute is replaced: submissions run only in the sandbox, hidden checks outside.
    c.Autograde.autograde_preprocessors = [
        _SANDBOXED,
        "nbgrader.preprocessors.IgnorePattern",
        "nbconvert.preprocessors.ClearMetadataPreprocessor",
        "nbgrader.preprocessors.LimitOutput",
        "nbgrader.preprocessors.SaveAutoGrades",
        "nbgrader.preprocessors.AssignLatePenalties",
        "nbgrader.preprocessors.CheckCellMetadata",
    ]
    c.SandboxedAutograde.course_id = COURSE_ID
    # the exchange (release → fetch → submit → collect, feedback both ways)
    c.Exchange.root = DEFAULT_EXCHANGE
    c.Exchange.path_includes_course = False
    # late submissions: a percentage per day with a cap (autograder.grading.late), from the
    # schedule beside the course, when there is one
    c.AssignLatePenalties.plugin_class = "autograder.grading.late.PercentPerDayPenalty"
    schedule = root.parent / "book" / "schedule.yml"
    if schedule.is_file():
        from autograder.schedule.model import load_schedule

        policy = load_schedule(schedule).late_policy
        c.PercentPerDayPenalty.percent_per_day = policy.percent_per_day
        c.PercentPerDayPenalty.max_percent = policy.max_percent
        c.PercentPerDayPenalty.grace_minutes = policy.grace_minutes
    return c


def config_files(root: Path | str) -> list[Path]:
    """The instructor's ``nbgrader_config.py`` files that apply to ``root``, in load order."""
    root = Path(root).resolve()
    candidates = [root.parent / CONFIG_FILE, root / CONFIG_FILE]
    return [p for p in dict.fromkeys(candidates) if p.is_file()]


def _name(item: Any) -> str:
    return item if isinstance(item, str) else f"{item.__module__}.{item.__qualname__}"


def check_config(c: Config) -> None:
    """Raise ``ConfigError`` when ``c`` would grade outside the sandbox or keep a learner's
    edited test cells."""
    problems = []
    pipeline = [_name(p) for p in c.Autograde.get("autograde_preprocessors", [])]
    if not any(p.endswith(".SandboxedAutograde") for p in pipeline):
        problems.append("Autograde.autograde_preprocessors lacks SandboxedAutograde")
    for p in pipeline:
        if p.rsplit(".", 1)[-1] in ("Execute", "ExecutePreprocessor"):
            problems.append(f"Autograde.autograde_preprocessors runs {p} (unsandboxed)")
    sanitize = [_name(p) for p in c.Autograde.get("sanitize_preprocessors", [])]
    if not any(p.endswith(".OverwriteCells") for p in sanitize):
        problems.append(
            "Autograde.sanitize_preprocessors lacks OverwriteCells (test cells restored)"
        )
    for name in ("cell_timeout", "notebook_timeout", "part_timeout"):
        value = c.SandboxedAutograde.get(name)
        if value is not None and not float(value) > 0:
            problems.append(f"SandboxedAutograde.{name} must be positive, not {value}")
    if problems:
        raise ConfigError(
            "the nbgrader configuration would weaken grading, so it is refused:\n- "
            + "\n- ".join(problems)
        )


def _venv_bin_on_path() -> None:
    """nbgrader runs ``alembic`` as a subprocess to create or upgrade a gradebook; it lives next
    to this interpreter, which is not on PATH when ``.venv/bin/course`` runs unactivated."""
    import sys

    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


@functools.lru_cache(maxsize=32)
def _load(root: Path, stamps: tuple[tuple[str, float], ...]) -> Config:
    c = configure(Config(), root)
    for path, _ in stamps:
        loader = PyFileConfigLoader(Path(path).name, path=str(Path(path).parent))
        c.merge(loader.load_config())
    check_config(c)
    return c


def course_config(root: Path | str, **overrides: object) -> Config:
    """The course's configuration for the course root ``root`` (see the module docstring);
    ``overrides`` set ``SandboxedAutograde`` traits (a run id, short limits in tests). A fresh
    copy each call; the files are read again only when they change."""
    _venv_bin_on_path()
    root = Path(root).resolve()
    stamps = tuple((str(p), p.stat().st_mtime) for p in config_files(root))
    c = copy.deepcopy(_load(root, stamps))  # the cached one is never handed out
    for key, value in overrides.items():
        setattr(c.SandboxedAutograde, key, value)
    if overrides:
        check_config(c)
    return c


def db_url(root: Path | str) -> str:
    """The gradebook's URL: ``c.CourseDirectory.db_url`` (SQLite in the course root unless the
    instructor's configuration names, e.g., ``postgresql+psycopg2://…``)."""
    return str(course_config(root).CourseDirectory.db_url)


def exchange_root(root: Path | str | None = None) -> str:
    """nbgrader's exchange: ``$COURSE_EXCHANGE`` when set (one exchange per test or per
    rehearsal on a shared host), else ``c.Exchange.root`` of the course at ``root``, else the
    shared-host convention."""
    env = os.environ.get("COURSE_EXCHANGE")
    if env:
        return env
    if root is not None:
        return str(course_config(root).Exchange.root)
    return DEFAULT_EXCHANGE
