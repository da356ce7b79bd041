"""A supervisor that holds a sandbox to its slot's budget where no cgroup can.

Without a usable cgroup (an unprivileged grader on a host whose cgroup v2 is not delegated to
it, or ``c.SandboxLimits.slot_limits = "supervisor"``), only per-process rlimits would apply,
and a submission that forks could use the host's memory. ``Supervisor`` is a thread of the
grading process that, every ``interval`` seconds, walks the sandbox's process tree (the
descendants of the bubblewrap process, through ``/proc/<pid>/task/<tid>/children``) and ends
the whole sandbox when

* the tasks (processes and threads, as cgroup ``pids.max`` counts them) exceed ``tasks``;
* the resident memory exceeds ``memory``: the sum of RSS, and when that is over, the sum of PSS
  (``smaps_rollup``), so that pages shared between forked processes count once;
* the scratch folder (``/submission``, seen from the host) holds more than ``scratch_bytes``
  (allocated blocks) or ``scratch_files`` entries.

It is a weaker guarantee than a cgroup: usage is sampled, so between two samples a process can
overshoot by what it allocates in ``interval`` (each process is still capped by RLIMIT_AS, the
process count by RLIMIT_NPROC, a file by RLIMIT_FSIZE). ``course sandbox setup`` says so.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path

__all__ = ["Supervisor", "process_tree", "tree_usage"]

_PAGE = os.sysconf("SC_PAGE_SIZE")


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return kids
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                kids += [int(k) for k in f.read().split()]
        except (OSError, ValueError):
            continue
    return kids


def process_tree(root: int, limit: int = 100_000) -> list[int]:
    """``root`` and its descendants (at most ``limit`` of them)."""
    seen = [root]
    queue = [root]
    while queue and len(seen) < limit:
        for kid in _children(queue.pop()):
            seen.append(kid)
            queue.append(kid)
    return seen


def _stat_threads(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
        return int(text[text.rindex(")") + 2 :].split()[17])  # field 20: num_threads
    except (OSError, ValueError, IndexError):
        return 0


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


def _pss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return _rss(pid)


def tree_usage(pids: list[int], memory_over: int | None = None) -> tuple[int, int]:
    """(tasks, resident bytes) of ``pids``; the resident size is the RSS sum, or the PSS sum
    when the RSS sum exceeds ``memory_over``."""
    tasks = sum(_stat_threads(p) for p in pids)
    rss = sum(_rss(p) for p in pids)
    if memory_over is not None and rss > memory_over:
        rss = sum(_pss(p) for p in pids)
    return tasks, rss


def folder_usage(path: Path, max_entries: int) -> tuple[int, int]:
    """(allocated bytes, entries) below ``path``; stops counting past ``max_entries``."""
    size = entries = 0
    stack = [str(path)]
    while stack and entries <= max_entries:
        try:
            it = os.scandir(stack.pop())
        except OSError:
            continue
        with it:
            for entry in it:
                entries += 1
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                size += st.st_blocks * 512
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
    return size, entries


class Supervisor(threading.Thread):
    """Watch the sandbox whose outermost process is ``root``; end it when over budget.

    ``memory``/``tasks`` None: not watched (a cgroup holds it). ``scratch`` None: the scratch
    folder is not watched (a size-capped tmpfs holds it). ``on_kill(reason)`` is called once,
    before the sandbox is killed.
    """

    def __init__(
        self,
        root: int,
        memory: int | None,
        tasks: int | None,
        scratch: Path | None = None,
        scratch_bytes: int = 0,
        scratch_files: int = 0,
        on_kill: Callable[[str], None] | None = None,
        interval: float = 0.1,
    ) -> None:
        super().__init__(name=f"sandbox-supervisor-{root}", daemon=True)
        self.root = root
        self.memory = memory
        self.tasks = tasks
        self.scratch = scratch
        self.scratch_bytes = scratch_bytes
        self.scratch_files = scratch_files
        self.on_kill = on_kill
        self.interval = interval
        self.reason = ""
        self.peak_memory = 0
        self.peak_tasks = 0
        self._stop_event = threading.Event()

    def stop(self) -> None:
        self._stop_event.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout=2)

    def run(self) -> None:
        tick = 0
        while not self._stop_event.wait(self.interval):
            if not os.path.exists(f"/proc/{self.root}"):
                return
            reason = self.check(scratch=tick % 5 == 0)
            tick += 1
            if reason:
                self.reason = reason
                if self.on_kill is not None:
                    self.on_kill(reason)
                self.kill_tree()
                return

    def check(self, scratch: bool = True) -> str:
        """One sample: the reason to end the sandbox, or ``""``."""
        pids = process_tree(self.root)
        if self.memory is not None or self.tasks is not None:
            tasks, resident = tree_usage(pids, self.memory)
            self.peak_tasks = max(self.peak_tasks, tasks)
            self.peak_memory = max(self.peak_memory, resident)
            if self.tasks is not None and tasks > self.tasks:
                return f"the sandbox ran more than {self.tasks} processes and threads"
            if self.memory is not None and resident > self.memory:
                return f"the sandbox used more than {self.memory >> 20} MiB of memory"
        if scratch and self.scratch is not None:
            size, entries = folder_usage(self.scratch, self.scratch_files)
            if size > self.scratch_bytes:
                return f"/submission grew beyond its quota of {self.scratch_bytes >> 20} MiB"
            if entries > self.scratch_files:
                return f"/submission holds more than {self.scratch_files} files"
        return ""

    def kill_tree(self) -> None:
        """SIGKILL the whole tree, outermost first: killing the init of the sandbox's PID
        namespace makes the kernel kill every process in it, however fast it forks."""
        for pid in process_tree(self.root):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
