"""Reclaim what a killed grader left behind: scratch folders and cgroup leaves.

A grader that is killed (SIGKILL, a power cut, the OOM killer) cannot clean up. Its sandboxes
die with it (bubblewrap's ``--die-with-parent``; a scratch tmpfs lives in the sandbox's own mount
namespace and goes with it), but two things stay on the host: its scratch folders
(``<tmp>/course-sbx-<pid>-…``, ``course-probe-<pid>-…``) and its cgroup leaves
(``…/slot-<n>/sbx-<pid>-<k>``). Both are named after the grading process that made them, so
``reclaim`` removes exactly those whose process is gone; ``course grade`` calls it before and
after every run.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from autograder.sandbox.cgroups import sweep
from autograder.sandbox.enforcement import Enforcement

__all__ = ["leftovers", "reclaim"]

_SCRATCH = re.compile(r"^course-(sbx|probe)-(\d+)-")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def leftovers(tmp: Path | None = None) -> list[Path]:
    """Scratch folders in ``tmp`` (default: the temp dir) whose grading process is gone."""
    tmp = tmp or Path(tempfile.gettempdir())
    found: list[Path] = []
    try:
        entries = list(tmp.iterdir())
    except OSError:
        return found
    for entry in entries:
        m = _SCRATCH.match(entry.name)
        if m and entry.is_dir() and not entry.is_symlink() and not _alive(int(m.group(2))):
            found.append(entry)
    return found


def reclaim(plan: Enforcement | None = None, tmp: Path | None = None) -> list[str]:
    """Remove the leftovers of dead graders; return what was removed."""
    removed = []
    for folder in leftovers(tmp):
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            removed.append(str(folder))
    if plan is not None:
        removed += [str(p) for p in sweep(list(plan.layouts))]
    return removed
