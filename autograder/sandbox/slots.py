"""Sandbox slots: which uid and cgroups a grading process's sandboxes use.

A slot is claimed by holding an ``flock`` on ``<tmp>/cryoem-course-slots/<n>.lock`` for the life
of the process, so every grading process on a machine — local pool workers, Dask workers, a
release validation, several ``course grade`` runs at once — has a slot of its own, and a process
that dies frees its slot with it. ``$COURSE_SANDBOX_SLOT`` pins a slot by hand.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from pathlib import Path

__all__ = ["acquire_slot", "current_slot"]

_ENV = "COURSE_SANDBOX_SLOT"
_HELD: dict[int, int] = {}  # slot → the locked file descriptor, kept open


def _lock_dir() -> Path:
    path = Path(tempfile.gettempdir()) / "cryoem-course-slots"
    path.mkdir(mode=0o755, exist_ok=True)
    return path


def acquire_slot(start: int = 0, count: int = 4096) -> int:
    """Claim the first free slot from ``start`` for this process; it stays claimed until exit."""
    directory = _lock_dir()
    for slot in range(start, start + count):
        if slot in _HELD:
            continue
        fd = os.open(directory / f"{slot}.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        os.set_inheritable(fd, False)
        _HELD[slot] = fd
        os.environ[_ENV] = str(slot)
        return slot
    raise RuntimeError(f"no free sandbox slot in {start}..{start + count - 1}")


def current_slot() -> int:
    """This process's slot: ``$COURSE_SANDBOX_SLOT`` when set (by hand, or by an earlier
    claim of this process), else a newly claimed one."""
    if _ENV in os.environ:
        return int(os.environ[_ENV])
    return acquire_slot()
