"""How each of a slot's limits is enforced on this host, and the report of it.

A grading slot's sandboxes share four budgets: memory, tasks (processes and threads), CPU (an
equal share per slot) and the scratch folder ``/submission``. Per limit, the first mechanism
that works here is chosen (``c.SandboxLimits.slot_limits = "auto"``):

=========== ===================================== ===============================================
limit       preferred                             otherwise
=========== ===================================== ===============================================
memory      cgroup v2 ``memory.max``, else v1     the ``Supervisor`` (sampled RSS/PSS)
tasks       cgroup v2 ``pids.max``, else v1       the ``Supervisor`` (sampled task count)
CPU share   cgroup v2 ``cpu.weight``, else v1     not enforced (RLIMIT_CPU per process still is)
scratch     a tmpfs of that size and inode count  the ``Supervisor`` (sampled folder size)
            in the sandbox's own mount namespace
            (root)
=========== ===================================== ===============================================

``slot_limits`` may force one mechanism (``"cgroup-v2"``, ``"cgroup-v1"``, ``"supervisor"``) or
none (``"none"``); a limit the forced mechanism cannot hold is then *not enforced*. Grading
refuses to start while memory or tasks are not enforced, unless the instructor accepts weaker
limits (``course grade --accept-weak-limits`` or ``c.SandboxLimits.accept_weak_limits``).
"""

from __future__ import annotations

import functools
import os
import shutil
from dataclasses import dataclass
from typing import Any

from autograder.sandbox.cgroups import CgroupLayout, probe_v1, probe_v2

__all__ = ["MODES", "SCRATCH_MODES", "Enforcement", "enforcement", "limits_report"]

MODES = ("auto", "cgroup-v2", "cgroup-v1", "supervisor", "none")
SCRATCH_MODES = ("auto", "tmpfs", "supervisor")
SUPERVISOR = "supervisor"
NONE = "none"


@dataclass(frozen=True)
class Enforcement:
    """Per limit, its mechanism: ``"cgroup v1"``, ``"cgroup v2"``, ``"supervisor"``,
    ``"tmpfs"`` (scratch) or ``"none"``; ``layouts``: the cgroup hierarchies a sandbox enters."""

    memory: str
    pids: str
    cpu: str
    scratch: str
    layouts: tuple[CgroupLayout, ...]
    notes: tuple[str, ...] = ()

    @property
    def weak(self) -> list[str]:
        """The slot budgets that nothing enforces (memory, processes)."""
        return [
            name for name, how in (("memory", self.memory), ("processes", self.pids)) if how == NONE
        ]

    @property
    def supervised(self) -> bool:
        return SUPERVISOR in (self.memory, self.pids, self.scratch)

    def layout(self, version: int) -> CgroupLayout | None:
        return next((lay for lay in self.layouts if lay.version == version), None)


def _can_mount_scratch() -> bool:
    return os.geteuid() == 0 and shutil.which("unshare") is not None


@functools.lru_cache(maxsize=16)
def enforcement(mode: str = "auto", scratch: str = "auto", cgroup_v2_root: str = "") -> Enforcement:
    """Decide (once per process and setting) how the slot limits are enforced here."""
    if mode not in MODES:
        raise ValueError(f"c.SandboxLimits.slot_limits must be one of {MODES}, not {mode!r}")
    if scratch not in SCRATCH_MODES:
        raise ValueError(
            f"c.SandboxLimits.scratch_quota_by must be one of {SCRATCH_MODES}, not {scratch!r}"
        )
    notes: list[str] = []
    v2: CgroupLayout | None = None
    v1: CgroupLayout | None = None
    if mode in ("auto", "cgroup-v2"):
        got = probe_v2(cgroup_v2_root, require=mode == "auto")
        if isinstance(got, str):
            notes.append(f"cgroup v2: {got}")
        else:
            v2 = got
            if got.note:
                notes.append(f"cgroup v2: {got.note}")
    if mode in ("auto", "cgroup-v1"):
        v1 = probe_v1()
        if v1 is None:
            notes.append("cgroup v1: no writable memory/pids/cpu hierarchy (needs root)")
    how: dict[str, str] = {}
    used: list[CgroupLayout] = []
    for limit in ("memory", "pids", "cpu"):
        if v2 is not None and limit in v2.controllers:
            how[limit] = "cgroup v2"
        elif v1 is not None and limit in v1.controllers:
            how[limit] = "cgroup v1"
        elif mode in ("auto", "supervisor") and limit != "cpu":
            how[limit] = SUPERVISOR
        else:
            how[limit] = NONE
    if v2 is not None and ("cgroup v2" in how.values() or mode == "cgroup-v2" or cgroup_v2_root):
        used.append(v2)  # forced or configured: kept for its grouping and clean-up alone
    if v1 is not None and "cgroup v1" in how.values():
        used.append(v1)
    if scratch == "tmpfs" or (scratch == "auto" and _can_mount_scratch()):
        if not _can_mount_scratch():
            raise ValueError("c.SandboxLimits.scratch_quota_by = 'tmpfs' needs root and unshare")
        scratch_how = "tmpfs"
    else:
        scratch_how = SUPERVISOR
    return Enforcement(
        how["memory"], how["pids"], how["cpu"], scratch_how, tuple(used), tuple(notes)
    )


def limits_report(config: Any) -> dict[str, Any]:
    """Which limits hold a sandbox of ``config`` (a ``SandboxConfig``) here, and how (``course
    sandbox setup``)."""
    plan: Enforcement = config.enforcement
    mib = 2**20

    def by(how: str, limit: str, sampled: str) -> str:
        if how.startswith("cgroup"):
            layout = plan.layout(int(how[-1]))
            return layout.describe(limit) if layout else how
        if how == SUPERVISOR:
            return f"the grader's supervisor thread ({sampled}, sampled every 0.1 s)"
        if limit == "cpu":
            return "no cgroup (RLIMIT_CPU still bounds each process)"
        return "no cgroup and no supervisor (RLIMIT_AS and RLIMIT_NPROC per process only)"

    report = {
        "memory": {
            "limit": f"{config.memory // mib} MiB per slot",
            "enforced": plan.memory != NONE,
            "by": by(plan.memory, "memory", "resident set of the sandbox's processes"),
        },
        "processes": {
            "limit": f"{config.pids} processes and threads per slot",
            "enforced": plan.pids != NONE,
            "by": by(plan.pids, "pids", "tasks in the sandbox's process tree"),
        },
        "cpu": {
            "limit": "an equal share of the CPUs per slot",
            "enforced": plan.cpu != NONE,
            "by": by(plan.cpu, "cpu", ""),
        },
        "scratch": {
            "limit": f"/submission: {config.scratch_size // mib} MiB, {config.scratch_files} files",
            "enforced": True,
            "by": (
                "a tmpfs of that size and inode count in the sandbox's own mount namespace"
                if plan.scratch == "tmpfs"
                else "the grader's supervisor thread (folder size, sampled every 0.5 s)"
            ),
        },
        "per_process": {
            "limit": (
                f"RLIMIT_AS {config.address_space // mib} MiB, RLIMIT_CPU {config.cpu_seconds} s, "
                f"RLIMIT_NPROC {config.processes}, RLIMIT_FSIZE {config.file_size // mib} MiB, "
                f"RLIMIT_NOFILE {config.open_files}, /tmp {config.tmp_size // mib} MiB"
            ),
            "enforced": True,
            "by": "prlimit and bubblewrap",
        },
        "messages": {
            "limit": f"{config.max_message // mib} MiB per message from the kernel",
            "enforced": True,
            "by": "ZMQ_MAXMSGSIZE on the grader's sockets",
        },
        "weak": plan.weak,
        "notes": list(plan.notes),
    }
    return report


def format_report(report: dict[str, Any]) -> str:
    """The report as lines of text."""
    lines = []
    for key in ("memory", "processes", "cpu", "scratch", "per_process", "messages"):
        item = report[key]
        mark = "enforced" if item["enforced"] else "NOT ENFORCED"
        lines.append(f"  {key:<11} {item['limit']}: {mark} — {item['by']}")
    lines += [f"  note: {n}" for n in report["notes"]]
    if report["weak"]:
        lines.append(
            f"  grading refuses to start: {' and '.join(report['weak'])} not enforced "
            "(course grade --accept-weak-limits, or c.SandboxLimits.accept_weak_limits = True, "
            "accepts it)"
        )
    return "\n".join(lines)
