"""Fail points: named moments of grading where a crash test can stop the grader for certain.

Killing ``course grade`` at a random time rarely lands in a short phase such as the gradebook
write. With ``$COURSE_FAILPOINT`` naming a point (``kernel-run``, ``checks``,
``gradebook-commit``), the first process that reaches it appends ``"<point> <pid>"`` to
``$COURSE_FAILPOINT_FILE`` and stops there (sleeps) until it is killed — the test then SIGKILLs
the batch grader while it is certainly in that phase. Unset (always, outside tests), a fail
point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import time

__all__ = ["POINTS", "arm_gradebook_failpoint", "failpoint", "install_gradebook_failpoint"]

POINTS = ("kernel-run", "checks", "gradebook-commit")
_ENV, _FILE = "COURSE_FAILPOINT", "COURSE_FAILPOINT_FILE"
_ARMED = [False]


def failpoint(name: str) -> None:
    """Stop here, forever, when ``$COURSE_FAILPOINT`` is ``name`` (see the module)."""
    if os.environ.get(_ENV) != name:
        return
    path = os.environ.get(_FILE)
    if path:
        with open(path, "a") as f:
            f.write(f"{name} {os.getpid()}\n")
            f.flush()
            os.fsync(f.fileno())
    while True:
        time.sleep(3600)


def arm_gradebook_failpoint() -> None:
    """From now on (a notebook's checks are done: its grades are next), a commit stops."""
    _ARMED[0] = True


def install_gradebook_failpoint() -> None:
    """Make the SQL ``COMMIT``s of this process that follow ``arm_gradebook_failpoint`` a fail
    point (``gradebook-commit``): the process stops inside the write of a notebook's grades,
    its transaction open."""
    if os.environ.get(_ENV) != "gradebook-commit":
        return
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    if not event.contains(Engine, "commit", _on_commit):
        event.listen(Engine, "commit", _on_commit)


def _on_commit(conn: object) -> None:
    if _ARMED[0]:
        failpoint("gradebook-commit")
