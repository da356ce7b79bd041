"""The sandbox's limits as documented nbgrader configuration (``c.SandboxLimits.*``).

Set them in ``assignments/nbgrader_config.py`` like any nbgrader option; ``course`` reads that
file. The defaults are ``SandboxConfig``'s. Timeouts per cell, per notebook and per part are
``SandboxedAutograde``'s (``c.SandboxedAutograde.cell_timeout`` …).
"""

from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path

from traitlets import Integer, Unicode
from traitlets.config import Configurable

from autograder.sandbox.bubblewrap import SandboxConfig

__all__ = ["SandboxLimits"]

_MIB = 2**20
_DEFAULTS = {f.name: f.default for f in fields(SandboxConfig) if f.name != "kernel_env"}


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
    open files, the ``/tmp`` tmpfs; per grading slot (all processes of one learner's kernel,
    where cgroups are available): memory and processes."""

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
    memory_mb = Integer(_mib("memory"), help="Memory of the whole slot, MiB (cgroup).").tag(
        config=True
    )
    pids = Integer(_count("pids"), help="Processes of the whole slot (cgroup pids).").tag(
        config=True
    )

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
            slot=slot,
        )
        return replace(config, kernel_env=Path(self.kernel_env)) if self.kernel_env else config
