"""The course, as one value: where it is, its nbgrader configuration, its schedule.

``Course.find()`` (the ``course`` command) or ``Course.at(root)`` (a test, a worker process)
builds it once; the pipeline's entry points take it (or a course root, which they turn into one
with ``as_course``). Everything the configuration says — the gradebook's URL, the exchange,
the sandbox's limits — is read from it rather than from the environment.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from traitlets.config import Config

from autograder.config.nbgrader import course_config, exchange_root
from autograder.config.paths import course_root as find_course_root

if TYPE_CHECKING:
    from autograder.sandbox.bubblewrap import SandboxConfig
    from autograder.schedule.model import Schedule

__all__ = ["Course", "as_course"]


@dataclass(frozen=True)
class Course:
    """A course: its nbgrader root (``<repo>/assignments``) and its configuration.

    ``repo`` is the repository holding the book (``_config.yml``, ``book/schedule.yml``); for a
    course root made by a test it may hold no book, and then the schedule is absent.
    """

    root: Path
    config: Config = field(compare=False, repr=False)

    @classmethod
    def at(cls, root: Path | str, **overrides: object) -> Course:
        """The course whose nbgrader root is ``root``; ``overrides`` set
        ``SandboxedAutograde`` traits (a run id, short limits in tests)."""
        root = Path(root).resolve()
        return cls(root, course_config(root, **overrides))

    @classmethod
    def find(cls, start: Path | None = None) -> Course:
        """The course of the repository at or above ``start`` (default: the cwd; ``$COURSE_ROOT``
        names the repository instead)."""
        return cls.at(find_course_root(start))

    @property
    def repo(self) -> Path:
        return self.root.parent

    @property
    def course_id(self) -> str:
        return str(self.config.CourseDirectory.course_id)

    @property
    def db_url(self) -> str:
        return str(self.config.CourseDirectory.db_url)

    @property
    def exchange(self) -> Path:
        return Path(exchange_root(self.root))

    @property
    def schedule_path(self) -> Path:
        return self.repo / "book" / "schedule.yml"

    @functools.cached_property
    def schedule(self) -> Schedule:
        """``book/schedule.yml``, loaded once (raises ``ScheduleError`` when it is missing)."""
        from autograder.schedule.model import load_schedule

        return load_schedule(self.schedule_path)

    def sandbox(self, slot: int) -> SandboxConfig:
        """The sandbox of grading slot ``slot`` with the configured limits."""
        from autograder.sandbox.limits import SandboxLimits

        return SandboxLimits(config=self.config).sandbox_config(slot)


def as_course(course: Course | Path | str) -> Course:
    """``course`` itself, or the course at the course root ``course``."""
    return course if isinstance(course, Course) else Course.at(course)
