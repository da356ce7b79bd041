"""The sandbox a learner's kernel runs in: bubblewrap, resource limits and an unprivileged user.

What the sandboxed process sees and may do:

* its own user, PID, IPC, UTS, cgroup and **network** namespaces (loopback only: no DNS, no TCP
  to anything outside), no capabilities, no new user namespaces, killed with its parent;
* a read-only ``/usr`` (with the ``/lib``, ``/lib64``, ``/bin``, ``/sbin`` links into it) and
  the learners' kernel environment, read-only; nothing else of the host's filesystem — not the
  course repository, the gradebook, the reference implementation, other learners' work or
  ``/etc/passwd``;
* a read-only root: only ``/submission`` and ``/tmp`` are writable;
* ``/submission``: a private scratch copy of this learner's own files, writable; a size-capped
  tmpfs ``/tmp``; and the folder holding the kernel's connection file and ZMQ ``ipc`` sockets;
* limits per process (``prlimit``): address space, CPU seconds, processes (per user: each
  grading slot runs as its own uid), file size, open files, no core dumps;
* an empty environment (``--clearenv``) but for PATH, HOME, LANG, thread counts;
* when cgroup v1 controllers are writable (root), a cgroup per grading slot with equal CPU
  shares, a memory cap and a process cap (``slot_cgroups``): a fork bomb or a memory hog in one
  sandbox then slows or kills only itself, never a learner graded beside it.

When the grader runs as root, the sandbox is entered as a per-slot unprivileged uid
(``setpriv``), so that RLIMIT_NPROC applies and concurrent learners never share a process budget.
The learners' kernel environment is a separate virtual environment built from Debian's
``/usr/bin/python3`` (readable by that uid) that holds only what the problem sets import: numpy,
sympy, torch, triton, matplotlib and ipykernel — not scipy (whose ``Rotation`` would answer the
problem sets), not nbgrader, not this package.

A missing or broken sandbox is an error (``SandboxUnavailable``), never a silent fallback.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

__all__ = [
    "KERNEL_PACKAGES",
    "SandboxConfig",
    "SandboxUnavailable",
    "check_sandbox",
    "default_kernel_env",
    "kernel_argv",
    "setup_kernel_env",
]

#: What the learners' kernel may import (torch is the CPU build that lies on disk here).
KERNEL_PACKAGES = ["torch==2.13.0", "numpy", "sympy", "ipykernel", "matplotlib", "triton"]

#: Inside the sandbox, the learner's files are here.
SUBMISSION_DIR = "/submission"

_UID_BASE = 61000


def _current_slot() -> int:
    from autograder.sandbox.slots import current_slot

    return current_slot()


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot run here; the message says what is missing and how to fix it."""


def default_kernel_env() -> Path:
    """``$COURSE_KERNEL_ENV``, else ``/opt/cryoem-course/kernel-env`` for root (it must be
    readable by the sandbox's unprivileged uid), else ``~/.cache/cryoem-course/kernel-env``."""
    env = os.environ.get("COURSE_KERNEL_ENV")
    if env:
        return Path(env)
    if os.geteuid() == 0:
        return Path("/opt/cryoem-course/kernel-env")
    return Path.home() / ".cache" / "cryoem-course" / "kernel-env"


@dataclass(frozen=True)
class SandboxConfig:
    """Limits and paths of one sandboxed kernel. Sizes in bytes, times in seconds."""

    kernel_env: Path = field(default_factory=default_kernel_env)
    address_space: int = 6 * 2**30  # torch reserves a lot of virtual memory at import
    cpu_seconds: int = 600
    processes: int = 256  # threads count as processes for RLIMIT_NPROC
    file_size: int = 64 * 2**20
    open_files: int = 256
    tmp_size: int = 256 * 2**20
    slot: int = field(default_factory=lambda: _current_slot())  # this process's claimed slot
    memory: int = 4 * 2**30  # per slot, when cgroups are available
    pids: int = 512  # per slot, when cgroups are available
    extra_env: tuple[tuple[str, str], ...] = (("TRITON_INTERPRET", "1"),)

    def for_slot(self, slot: int) -> SandboxConfig:
        return replace(self, slot=slot)

    @property
    def python(self) -> Path:
        return self.kernel_env / "bin" / "python"

    @property
    def uid(self) -> int | None:
        """The uid the sandbox runs as: per slot when the grader is root, else the grader's."""
        return _UID_BASE + self.slot if os.geteuid() == 0 else None


_CGROUP_ROOT = Path("/sys/fs/cgroup")


def slot_cgroups(config: SandboxConfig) -> list[Path]:
    """Create (idempotently) this slot's cgroups and return their ``cgroup.procs`` files.

    cgroup v1 ``cpu`` (shares 1024, the same for every slot), ``memory`` (``config.memory``,
    swap included where the kernel allows it) and ``pids`` (``config.pids``). Returns ``[]``
    when they cannot be used (not root, no v1 hierarchy): the sandbox still isolates, but CPU
    and memory are then shared between slots (rlimits still apply per process).
    """
    if os.geteuid() != 0:
        return []
    procs = []
    settings = {
        "cpu": {"cpu.shares": "1024"},
        "memory": {"memory.limit_in_bytes": str(config.memory)},
        "pids": {"pids.max": str(config.pids)},
    }
    for controller, values in settings.items():
        base = _CGROUP_ROOT / controller
        if not (base / "cgroup.procs").exists():
            continue
        group = base / "cryoem-course" / f"slot-{config.slot}"
        try:
            group.mkdir(parents=True, exist_ok=True)
            for name, value in values.items():
                (group / name).write_text(value)
            if controller == "memory" and (group / "memory.memsw.limit_in_bytes").exists():
                try:
                    (group / "memory.memsw.limit_in_bytes").write_text(str(config.memory))
                except OSError:
                    pass
        except OSError:
            continue
        procs.append(group / "cgroup.procs")
    return procs


def _bwrap() -> str:
    path = shutil.which("bwrap")
    if path is None:
        raise SandboxUnavailable(
            "bubblewrap (bwrap) is not installed: `apt-get install bubblewrap` "
            "(scripts/dev.sh setup does it)"
        )
    return path


def _system_binds() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("lib", "lib64", "bin", "sbin"):
        p = Path("/") / name
        if p.is_symlink():
            args += ["--symlink", os.readlink(p), str(p)]
        elif p.is_dir():
            args += ["--ro-bind", str(p), str(p)]
    for f in ("/etc/ld.so.cache", "/etc/localtime"):
        if Path(f).exists():
            args += ["--ro-bind", f, f]
    return args


def sandbox_argv(
    config: SandboxConfig,
    workdir: Path,
    rundir: Path,
    command: list[str],
) -> list[str]:
    """The full command line that runs ``command`` inside the sandbox.

    ``workdir`` (the learner's scratch copy) appears as ``/submission`` and is the cwd;
    ``rundir`` is bound read-write at its own path (it holds the connection file and sockets).
    """
    env = {
        "PATH": f"{config.kernel_env}/bin:/usr/bin:/bin",
        "HOME": "/tmp",
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "JUPYTER_PLATFORM_DIRS": "1",
        "MPLCONFIGDIR": "/tmp/matplotlib",
        "TRITON_CACHE_DIR": "/tmp/triton",
        **dict(config.extra_env),
    }
    argv: list[str] = []
    procs = slot_cgroups(config)
    if procs:
        # enter the slot's cgroups (as root, before dropping privileges), then exec the rest
        script = "".join(f'echo $$ > "{p}" && ' for p in procs) + 'exec "$@"'
        argv += ["/bin/sh", "-c", script, "sandbox"]
    if config.uid is not None:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            raise SandboxUnavailable("setpriv (util-linux) is needed to drop root privileges")
        argv += [setpriv, f"--reuid={config.uid}", f"--regid={config.uid}", "--clear-groups"]
        argv += ["--inh-caps=-all", "--"]
    argv += [
        shutil.which("prlimit") or "prlimit",
        f"--as={config.address_space}",
        f"--cpu={config.cpu_seconds}",
        f"--nproc={config.processes}",
        f"--fsize={config.file_size}",
        f"--nofile={config.open_files}",
        "--core=0",
        "--",
    ]
    argv += [
        _bwrap(),
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--clearenv",
        "--hostname",
        "sandbox",
        *_system_binds(),
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--size",
        str(config.tmp_size),
        "--tmpfs",
        "/tmp",
        "--ro-bind",
        str(config.kernel_env),
        str(config.kernel_env),
        "--bind",
        str(workdir),
        SUBMISSION_DIR,
        "--bind",
        str(rundir),
        str(rundir),
        "--remount-ro",
        "/",
        "--chdir",
        SUBMISSION_DIR,
    ]
    for key, value in env.items():
        argv += ["--setenv", key, value]
    return argv + ["--", *command]


def kernel_argv(
    config: SandboxConfig, workdir: Path, rundir: Path, connection_file: Path
) -> list[str]:
    """Command line of an IPython kernel inside the sandbox, for ``connection_file``."""
    command = [
        str(config.python),
        "-m",
        "ipykernel_launcher",
        "-f",
        str(connection_file),
        "--HistoryManager.enabled=False",
        "--IPCompleter.use_jedi=False",
    ]
    return sandbox_argv(config, workdir, rundir, command)


def prepare_dirs(base: Path, config: SandboxConfig) -> tuple[Path, Path]:
    """Make ``base/work`` and ``base/run``, owned by the sandbox's uid; return them."""
    work, run = base / "work", base / "run"
    for d in (base, work, run):
        d.mkdir(mode=0o700, exist_ok=True)
    if config.uid is not None:
        for d in (work, run):
            os.chown(d, config.uid, config.uid)
        os.chmod(base, 0o711)  # the uid may traverse, not list
    return work, run


_PROBE = r"""
import json, os, socket, sys
out = {"uid": os.getuid(), "python": sys.executable}
def can_read(p):
    try:
        with open(p, "rb") as f:
            f.read(1)
        return True
    except OSError:
        return False
out["reads"] = {p: can_read(p) for p in sys.argv[1:]}
try:
    socket.create_connection(("1.1.1.1", 53), timeout=1).close()
    out["network"] = True
except OSError:
    out["network"] = False
try:
    socket.getaddrinfo("pypi.org", 443)
    out["dns"] = True
except OSError:
    out["dns"] = False
out["imports"] = {}
for m in ("numpy", "sympy", "ipykernel", "scipy", "reference_impl", "autograder", "nbgrader"):
    try:
        __import__(m)
        out["imports"][m] = True
    except Exception:
        out["imports"][m] = False
print(json.dumps(out))
"""


def check_sandbox(
    config: SandboxConfig | None = None, secret_paths: list[Path] | None = None
) -> dict:
    """Run a probe inside the sandbox and raise ``SandboxUnavailable`` unless it is isolated.

    The probe must: run as an unprivileged uid (when the grader is root), fail to read
    ``/etc/passwd`` and every path in ``secret_paths`` (e.g. the course repository), reach no
    network, import numpy, sympy and ipykernel, and import neither scipy, ``reference_impl``,
    ``autograder`` nor nbgrader. Returns the probe's report.
    """
    import tempfile

    config = config or SandboxConfig()
    if not config.python.exists():
        raise SandboxUnavailable(
            f"the learners' kernel environment {config.kernel_env} does not exist: "
            "run `course sandbox setup`"
        )
    paths = ["/etc/passwd", *(str(p) for p in (secret_paths or []))]
    with tempfile.TemporaryDirectory(prefix="course-probe-") as tmp:
        work, run = prepare_dirs(Path(tmp), config)
        argv = sandbox_argv(config, work, run, [str(config.python), "-c", _PROBE, *paths])
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SandboxUnavailable(f"the sandbox did not start: {exc}") from exc
    if proc.returncode != 0:
        raise SandboxUnavailable(
            f"the sandbox probe failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}"
        )
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    problems = []
    if config.uid is not None and report["uid"] == 0:
        problems.append("runs as root")
    problems += [f"can read {p}" for p, ok in report["reads"].items() if ok]
    if report["network"] or report["dns"]:
        problems.append("reaches the network")
    for m in ("numpy", "sympy", "ipykernel"):
        if not report["imports"][m]:
            problems.append(f"cannot import {m}")
    for m in ("scipy", "reference_impl", "autograder", "nbgrader"):
        if report["imports"][m]:
            problems.append(f"can import {m}")
    if problems:
        raise SandboxUnavailable("the sandbox is not isolated: " + "; ".join(problems))
    return report


def setup_kernel_env(path: Path | None = None, quiet: bool = False) -> Path:
    """Create (or complete) the learners' kernel environment at ``path``; idempotent."""
    path = path or default_kernel_env()
    python = path / "bin" / "python"
    stamp = path / ".course-packages"
    wanted = "\n".join(KERNEL_PACKAGES)
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return path
    base = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable
    path.parent.mkdir(parents=True, exist_ok=True)
    if not python.exists():
        subprocess.run([base, "-m", "venv", str(path)], check=True)
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check"]
    if quiet:
        pip.append("-q")
    subprocess.run([*pip, KERNEL_PACKAGES[0]], check=True)  # torch first: the CPU build pin
    subprocess.run([*pip, *KERNEL_PACKAGES[1:]], check=True)
    stamp.write_text(wanted)
    return path
