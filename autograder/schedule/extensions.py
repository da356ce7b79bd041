"""Per-learner extensions of a problem set's due date (``course extend ps01 ada --until …``).

Kept in the course's own folder, ``assignments/extensions.yml`` — learners' names, so never in
the published book — one aware date-time per problem set and learner::

    ps01_quaternions:
      ada: "2022-02-14T09:00:00-08:00"

An extension moves that learner's due date everywhere it matters: the late penalty (nbgrader's
``SubmittedAssignment.extension``, set from here before each grading:
``autograder.grading.late.apply_extension``), the release of feedback held until the due date
and the grading policy (``autograder.service.policy``).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

__all__ = [
    "EXTENSIONS_FILE",
    "ExtensionError",
    "effective_due",
    "extension_until",
    "load_extensions",
    "parse_until",
    "set_extension",
]

EXTENSIONS_FILE = "extensions.yml"
_HEADER = (
    "# Extensions of due dates for single learners, written by `course extend` (the course's own\n"
    "# file: learners' names are never published). One date-time with its UTC offset per learner.\n"
)
_CACHE: dict[Path, tuple[tuple[int, int], dict[str, dict[str, dt.datetime]]]] = {}
_CACHE_LOCK = threading.Lock()
_LOCAL = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T](\d{1,2}):(\d{2}))?$")


class ExtensionError(ValueError):
    """The extensions file or an ``--until`` cannot be read; the message says which."""


def _path(course_root: Path) -> Path:
    return Path(course_root) / EXTENSIONS_FILE


def _aware(value: Any, where: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        moment = value
    else:
        try:
            moment = dt.datetime.fromisoformat(str(value))
        except ValueError:
            raise ExtensionError(f"{where}: {value!r} is not an ISO date-time") from None
    if moment.tzinfo is None:
        raise ExtensionError(f"{where}: {value!r} has no UTC offset")
    return moment


def load_extensions(course_root: Path) -> dict[str, dict[str, dt.datetime]]:
    """problem set → learner → the end of their extension (aware); empty without a file.
    Cached until the file changes (the grading service asks on every tick)."""
    path = _path(course_root)
    try:
        st = path.stat()
    except FileNotFoundError:
        return {}
    stamp = (st.st_mtime_ns, st.st_size)
    with _CACHE_LOCK:
        cached = _CACHE.get(path)
        if cached and cached[0] == stamp:
            return {ps: dict(v) for ps, v in cached[1].items()}
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise ExtensionError(f"{path}: expected a mapping of problem sets")
    out: dict[str, dict[str, dt.datetime]] = {}
    for ps, learners in data.items():
        if not isinstance(learners, dict):
            raise ExtensionError(f"{path}: {ps}: expected a mapping of learners")
        out[str(ps)] = {
            str(name): _aware(until, f"{path}: {ps}: {name}") for name, until in learners.items()
        }
    with _CACHE_LOCK:
        _CACHE[path] = (stamp, out)
    return {ps: dict(v) for ps, v in out.items()}


def extension_until(course_root: Path, assignment: str, learner: str) -> dt.datetime | None:
    """The end of ``learner``'s extension of ``assignment``, or None."""
    return load_extensions(course_root).get(assignment, {}).get(learner)


def effective_due(due: dt.datetime | None, until: dt.datetime | None) -> dt.datetime | None:
    """A learner's due date: the later of the problem set's and their extension's end."""
    if until is None:
        return due
    if due is None:
        return until
    return max(due, until)


@contextmanager
def _locked(course_root: Path) -> Iterator[None]:
    lock = Path(course_root) / f".{EXTENSIONS_FILE}.lock"
    fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def set_extension(
    course_root: Path, assignment: str, learner: str, until: dt.datetime | None
) -> dt.datetime | None:
    """Grant (``until``) or revoke (None) ``learner``'s extension of ``assignment``; returns the
    previous end. The file is replaced whole (a reader never sees half of it)."""
    if until is not None and until.tzinfo is None:
        raise ExtensionError("an extension's end needs a time zone")
    path = _path(course_root)
    with _locked(course_root):
        data = yaml.safe_load(path.read_text()) if path.is_file() else None
        data = data if isinstance(data, dict) else {}
        learners = dict(data.get(assignment) or {})
        before = learners.get(learner)
        if until is None:
            learners.pop(learner, None)
        else:
            learners[learner] = until.isoformat()
        if learners:
            data[assignment] = {k: str(v) for k, v in sorted(learners.items())}
        else:
            data.pop(assignment, None)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(_HEADER + yaml.safe_dump(data, sort_keys=True, allow_unicode=True))
        tmp.chmod(0o600)
        os.replace(tmp, path)
    return None if before is None else _aware(before, str(path))


def parse_until(text: str, tz: str) -> dt.datetime:
    """``--until``: ``YYYY-MM-DD`` (the end of that day), ``YYYY-MM-DD HH:MM`` (local, in the
    schedule's time zone ``tz``) or an ISO date-time with its offset."""
    text = text.strip()
    m = _LOCAL.match(text)
    if m:
        day = dt.date.fromisoformat(m[1])
        if m[2] is None:
            return dt.datetime.combine(day, dt.time(23, 59), ZoneInfo(tz))
        hour, minute = int(m[2]), int(m[3])
        if hour > 23 or minute > 59:
            raise ExtensionError(f"--until {text!r}: no such time")
        return dt.datetime.combine(day, dt.time(hour, minute), ZoneInfo(tz))
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ExtensionError(
            f"--until {text!r}: expected YYYY-MM-DD, 'YYYY-MM-DD HH:MM' or an ISO date-time"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(tz))
