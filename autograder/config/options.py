"""The course's configurable options, documented the way nbgrader documents its own."""

from __future__ import annotations

from typing import Any

from traitlets.config import Config, Configurable

__all__ = ["course_configurables", "describe_options"]

#: nbgrader's own options that a course typically sets, shown beside the course's.
_NBGRADER_OPTIONS = {
    "CourseDirectory": ("course_id", "db_url", "root"),
    "Exchange": ("root",),
}


def course_configurables() -> list[type[Configurable]]:
    """The course's own configurable classes (every trait of each is an option)."""
    from autograder.grading.late import PercentPerDayPenalty
    from autograder.grading.preprocessor import SandboxedAutograde
    from autograder.sandbox.limits import SandboxLimits

    return [SandboxedAutograde, SandboxLimits, PercentPerDayPenalty]


def describe_options(config: Config) -> list[dict[str, Any]]:
    """Every course option and the chosen nbgrader ones: ``name`` (``Class.trait``), ``help``,
    ``default`` and ``value`` (the configured one, else the default)."""
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange.default.exchange import Exchange

    rows = []
    classes: list[tuple[type[Configurable], tuple[str, ...] | None]] = [
        (cls, None) for cls in course_configurables()
    ]
    classes += [(CourseDirectory, _NBGRADER_OPTIONS["CourseDirectory"])]
    classes += [(Exchange, _NBGRADER_OPTIONS["Exchange"])]
    for cls, only in classes:
        section = config.get(cls.__name__, {})
        for name, trait in sorted(cls.class_traits(config=True).items()):
            if only is not None and name not in only:
                continue
            if cls.__name__ in ("SandboxedAutograde", "PercentPerDayPenalty") and name in (
                "enabled",
                "default_language",
                "display_data_priority",
            ):
                continue  # inherited from nbconvert/nbgrader, not the course's to set
            default = trait.default()
            rows.append(
                {
                    "name": f"{cls.__name__}.{name}",
                    "help": " ".join((trait.help or "").split()),
                    "default": default,
                    "value": section.get(name, default),
                }
            )
    return rows
