"""The sandbox's limits as documented nbgrader configuration (``c.SandboxLimits.*``).

Set them in ``assignments/nbgrader_config.py`` like any nbgrader option; ``course`` reads that
file. The defaults are ``SandboxConfig``'s. Timeouts per cell, per notebook and per part, and
the budget of the hidden checks' evaluation in the grader, are ``SandboxedAutograde``'s
(``c.SandboxedAutograde.cell_timeout``, ``….evaluate_timeout`` …).

How the slot's budgets are enforced (cgroup v2, cgroup v1, the grader's supervisor, a tmpfs for
the scratch folder) is chosen per host; ``course sandbox setup`` reports it, and ``course grade``
refuses to start while memory or processes are not enforced unless ``accept_weak_limits``.
A cgroup v2 host needs a *delegated* subtree: as root, nothing (``/sys/fs/cgroup/cryoem-course``
is made, with the memory, pids and cpu controllers enabled); as an unprivileged grader, start it
in a delegated cgroup — e.g. ``systemd-run --user --scope -p Delegate=yes course grade …``, or
a systemd service with ``Delegate=yes`` — or name one in ``cgroup_v2_root``.
"""

from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path

from traitlets import Bool, Enum, Integer, Unicode
from traitlets.config import Configurable

from autograder.sandbox.bubblewrap import SandboxConfig
from autograder.sandbox.enforcement import MODES, SCRATCH_MODES

__all__ = ["SandboxLimits"]

_MIB = 2**20
_DEFAULTS = {f.name: f.default for f in fields(SandboxConfig) if f.name != "kernel_env"}


def _text(name: str) -> str:
    value = _DEFAULTS[name]
    assert isinstance(value, str)
    return value


def _mib(name: str) -> int:
    value = _DEFAULTS[name]
    assert isinstance(value, int)
    return value // _MIB


def _count(name: str) -> int:
    value = _DEFAULTS[name]
    assert isinstance(value, int)
    return value


class SandboxLimits(Configurable):
    """What one learner's kernel may use. Per process: address space, CPU time, file size,
    open files, the ``/tmp`` tmpfs; per grading slot (all processes of one learner's kernel):
    memory, processes, an equal CPU share, the scratch folder ``/submission``; per message
    from the kernel: its size."""

    kernel_env = Unicode(
        "",
        help="The learners' kernel environment (a venv with numpy, sympy, torch…; no course "
        "code). Default: $COURSE_KERNEL_ENV, else /opt/cryoem-course/kernel-env for root.",
    ).tag(config=True)
    address_space_mb = Integer(
        _mib("address_space"), help="Address space per process, MiB (RLIMIT_AS)."
    ).tag(config=True)
    cpu_seconds = Integer(_count("cpu_seconds"), help="CPU seconds per process (RLIMIT_CPU).").tag(
        config=True
    )
    processes = Integer(
        _count("processes"), help="Processes and threads of the slot's uid (RLIMIT_NPROC)."
    ).tag(config=True)
    file_size_mb = Integer(_mib("file_size"), help="Largest file written, MiB (RLIMIT_FSIZE).").tag(
        config=True
    )
    open_files = Integer(_count("open_files"), help="Open files per process (RLIMIT_NOFILE).").tag(
        config=True
    )
    tmp_size_mb = Integer(_mib("tmp_size"), help="Size of the sandbox's /tmp tmpfs, MiB.").tag(
        config=True
    )
    memory_mb = Integer(
        _mib("memory"), help="Memory of the whole slot, MiB (cgroup, else the supervisor)."
    ).tag(config=True)
    pids = Integer(
        _count("pids"),
        help="Processes and threads of the whole slot (cgroup pids, else the supervisor).",
    ).tag(config=True)
    scratch_size_mb = Integer(
        _mib("scratch_size"),
        help="The scratch folder /submission (the learner's files and all it writes there), "
        "MiB, all files together: a tmpfs of that size as root, else watched by the supervisor.",
    ).tag(config=True)
    scratch_files = Integer(
        _count("scratch_files"), help="Files and folders in /submission, at most."
    ).tag(config=True)
    message_mb = Integer(
        _mib("max_message"),
        help="Largest message the grader accepts from a kernel, MiB (ZMQ_MAXMSGSIZE): a "
        "larger one is never received, so it cannot exhaust the grader's memory.",
    ).tag(config=True)
    slot_limits = Enum(
        MODES,
        _text("slot_limits"),
        help="How the slot's memory, process and CPU budgets are enforced: 'auto' (cgroup v2 "
        "in a delegated subtree, else cgroup v1 as root, else the grader's supervisor, which "
        "samples the sandbox's process tree every 0.1 s and ends it when over), or only "
        "'cgroup-v2', 'cgroup-v1' or 'supervisor', or 'none'. `course sandbox setup` reports "
        "the result.",
    ).tag(config=True)
    scratch_quota_by = Enum(
        SCRATCH_MODES,
        _text("scratch_quota_by"),
        help="How the /submission quota is enforced: 'auto' (a tmpfs in the sandbox's own "
        "mount namespace when root, else the supervisor), 'tmpfs' or 'supervisor'.",
    ).tag(config=True)
    cgroup_v2_root = Unicode(
        _text("cgroup_v2_root"),
        help="A delegated cgroup v2 directory for the slots' groups (it must offer the memory "
        "and pids controllers, and the grader must be able to write to it). Default: "
        "<cgroup2 mount>/cryoem-course as root, else the grader's own cgroup when delegated.",
    ).tag(config=True)
    accept_weak_limits = Bool(
        False,
        help="Grade even where the slot's memory or process budget cannot be enforced (only "
        "per-process rlimits then hold): `course grade` refuses otherwise (exit 3).",
    ).tag(config=True)

    def sandbox_config(self, slot: int) -> SandboxConfig:
        """The runtime sandbox of grading slot ``slot`` with these limits."""
        config = SandboxConfig(
            address_space=self.address_space_mb * _MIB,
            cpu_seconds=self.cpu_seconds,
            processes=self.processes,
            file_size=self.file_size_mb * _MIB,
            open_files=self.open_files,
            tmp_size=self.tmp_size_mb * _MIB,
            memory=self.memory_mb * _MIB,
            pids=self.pids,
            scratch_size=self.scratch_size_mb * _MIB,
            scratch_files=self.scratch_files,
            max_message=self.message_mb * _MIB,
            slot_limits=self.slot_limits,
            scratch_quota_by=self.scratch_quota_by,
            cgroup_v2_root=self.cgroup_v2_root,
            slot=slot,
        )
        return replace(config, kernel_env=Path(self.kernel_env)) if self.kernel_env else config
