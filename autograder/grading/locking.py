"""One grader at a time per submission, and the verdict marker re-checked under the lock.

nbgrader keeps one submission per learner and problem set — ``submitted/<learner>/<ps>/``,
``autograded/…``, ``feedback/…``, one gradebook row — so two graders working on it at once (the
instructor's batch ``course grade`` and the grading service, or two batch runs) would mix two
gradings. Both take ``submission_lock``: an ``flock`` on
``<course>/.course-locks/<ps>/<learner>.lock``, held by one process (re-entrant within it) and
freed when that process dies, however it dies. Once it holds the lock a grader re-checks the
verdict marker (``graded_marker``): a submission — named by its fingerprint — that already has
its recorded verdict is not graded again.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from autograder.grading.submissions import MARKER

__all__ = ["LOCK_DIR", "LockTimeout", "graded_marker", "lock_path", "submission_lock"]

LOCK_DIR = ".course-locks"
_HELD: dict[tuple[Path, int], list[int]] = {}  # (lock file, thread) → [fd, depth]
_GUARD = threading.RLock()


class LockTimeout(TimeoutError):
    """The submission stayed locked by another grader for longer than asked to wait."""


def lock_path(course_root: Path, learner: str, assignment: str) -> Path:
    """The lock file of ``learner``'s submission of ``assignment`` (names quoted: a learner id
    is never a path)."""
    return (
        Path(course_root)
        / LOCK_DIR
        / quote(assignment, safe="")
        / f"{quote(learner, safe='')}.lock"
    )


@contextmanager
def submission_lock(
    course_root: Path, learner: str, assignment: str, timeout: float | None = None
) -> Iterator[None]:
    """Hold the lock of ``learner``'s submission of ``assignment``; wait for it at most
    ``timeout`` seconds (None: as long as it takes), else ``LockTimeout``."""
    path = lock_path(course_root, learner, assignment).resolve()
    key = (path, threading.get_ident())  # re-entrant per thread; threads exclude each other
    with _GUARD:
        held = _HELD.get(key)
        if held is not None:
            held[1] += 1
    if held is None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        os.set_inheritable(fd, False)
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | (fcntl.LOCK_NB if deadline else 0))
                    break
                except BlockingIOError:
                    if deadline is not None and time.monotonic() > deadline:
                        raise LockTimeout(
                            f"{learner}'s submission of {assignment} is being graded elsewhere"
                        ) from None
                    time.sleep(0.05)
        except BaseException:
            os.close(fd)
            raise
        with _GUARD:
            _HELD[key] = [fd, 1]
    try:
        yield
    finally:
        with _GUARD:
            entry = _HELD[key]
            entry[1] -= 1
            if entry[1] == 0:
                del _HELD[key]
                os.close(entry[0])  # closing the last descriptor releases the flock


def graded_marker(
    course_root: Path, learner: str, assignment: str, fingerprint: str
) -> dict[str, Any] | None:
    """The verdict marker of the submission with ``fingerprint``, or None when that submission
    has no recorded verdict (no marker, a torn one, or another submission's)."""
    path = Path(course_root) / "autograded" / learner / assignment / MARKER
    try:
        marker = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return marker if marker.get("fingerprint") == fingerprint else None
