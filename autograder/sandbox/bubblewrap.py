"""The sandbox a learner's kernel runs in: bubblewrap, resource limits and an unprivileged user.

What the sandboxed process sees and may do:

* its own user, PID, IPC, UTS, cgroup and **network** namespaces (loopback only: no DNS, no TCP
  to anything outside), no capabilities, no new user namespaces, killed with its parent;
* a read-only ``/usr`` (with the ``/lib``, ``/lib64``, ``/bin``, ``/sbin`` links into it) and
  the learners' kernel environment, read-only; nothing else of the host's filesystem — not the
  course repository, the gradebook, the reference implementation, other learners' work or
  ``/etc/passwd``;
* a read-only root: only ``/submission`` and ``/tmp`` are writable;
* ``/submission``: a private scratch copy of this learner's own files, writable, with a quota
  (size and file count: a tmpfs in the sandbox's own mount namespace as root, else watched by
  the ``Supervisor``); a size-capped tmpfs ``/tmp``; and the folder holding the kernel's
  connection file and ZMQ ``ipc`` sockets;
* limits per process (``prlimit``): address space, CPU seconds, processes (per user: each
  grading slot runs as its own uid), file size, open files, no core dumps;
* an empty environment (``--clearenv``) but for PATH, HOME, LANG, thread counts;
* a budget per grading slot — memory, processes and threads, an equal CPU share — held by a
  cgroup (v2 in a delegated subtree, or v1 as root; ``slot_cgroups``) or, where no cgroup can
  be used, by the grader's ``Supervisor`` (``autograder.sandbox.enforcement`` decides and
  reports which): a fork bomb or a memory hog in one sandbox then slows or kills only itself,
  never a learner graded beside it.

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
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from autograder.sandbox.enforcement import Enforcement, enforcement

__all__ = [
    "KERNEL_PACKAGES",
    "SandboxConfig",
    "SandboxUnavailable",
    "WeakLimits",
    "check_sandbox",
    "default_kernel_env",
    "kernel_argv",
    "new_cgroup_leaves",
    "scratch_dir",
    "setup_kernel_env",
    "slot_cgroups",
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


class WeakLimits(SandboxUnavailable):
    """The slot's memory or process budget cannot be enforced here, and weaker limits were not
    accepted (``course grade --accept-weak-limits``)."""


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
    """Limits and paths of one sandboxed kernel. Sizes in bytes, times in seconds.

    ``slot_limits``, ``scratch_quota_by`` and ``cgroup_v2_root`` choose how the slot's budgets
    (``memory``, ``pids``, the CPU share, the scratch quota) are enforced: see
    ``autograder.sandbox.enforcement``.
    """

    kernel_env: Path = field(default_factory=default_kernel_env)
    address_space: int = 6 * 2**30  # torch reserves a lot of virtual memory at import
    cpu_seconds: int = 600
    processes: int = 256  # threads count as processes for RLIMIT_NPROC
    file_size: int = 64 * 2**20
    open_files: int = 256
    tmp_size: int = 256 * 2**20
    slot: int = field(default_factory=lambda: _current_slot())  # this process's claimed slot
    memory: int = 4 * 2**30  # per slot
    pids: int = 512  # processes and threads per slot
    scratch_size: int = 256 * 2**20  # /submission, all files together
    scratch_files: int = 20_000  # /submission, files and folders
    max_message: int = 4 * 2**20  # largest message the grader accepts from the kernel
    slot_limits: str = "auto"
    scratch_quota_by: str = "auto"
    cgroup_v2_root: str = ""
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

    @property
    def enforcement(self) -> Enforcement:
        """How this host enforces the slot's budgets (decided once per process)."""
        return enforcement(self.slot_limits, self.scratch_quota_by, self.cgroup_v2_root)


def slot_cgroups(config: SandboxConfig) -> list[Path]:
    """Create (idempotently) this slot's cgroups with their limits and return them (one per
    hierarchy used; ``[]`` when no cgroup is used here). Sandboxes live in leaves below them
    (``new_cgroup_leaves``)."""
    groups: list[Path] = []
    for layout in config.enforcement.layouts:
        groups += layout.slot_groups(config.slot, config.memory, config.pids)
    return groups


def new_cgroup_leaves(config: SandboxConfig) -> list[Path]:
    """A fresh leaf group per cgroup hierarchy used, for one sandbox (``remove_leaves`` them
    when it ends)."""
    leaves: list[Path] = []
    for layout in config.enforcement.layouts:
        leaves += layout.new_leaf(config.slot, config.memory, config.pids)
    return leaves


def scratch_dir(kind: str = "sbx") -> Path:
    """A new host folder for one sandbox (``work`` = ``/submission``, ``run`` = sockets),
    named after this process so that a later run can reclaim it if this one is killed."""
    import tempfile

    return Path(tempfile.mkdtemp(prefix=f"course-{kind}-{os.getpid()}-"))


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
    cgroup_leaves: list[Path] | None = None,
) -> list[str]:
    """The full command line that runs ``command`` inside the sandbox.

    ``workdir`` (the learner's scratch copy) appears as ``/submission`` and is the cwd;
    ``rundir`` is bound read-write at its own path (it holds the connection file and sockets).
    The first process writes itself into ``cgroup_leaves`` and, when the scratch quota is a
    tmpfs, mounts one of ``config.scratch_size`` bytes and ``config.scratch_files`` inodes on
    ``workdir`` in a mount namespace of its own (so it vanishes with the sandbox, however the
    grader ends); then it drops privileges.
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
    steps = [f"echo $$ > {shlex.quote(str(leaf / 'cgroup.procs'))}" for leaf in cgroup_leaves or []]
    if config.enforcement.scratch == "tmpfs":
        owner = config.uid if config.uid is not None else os.geteuid()
        options = (
            f"size={config.scratch_size},nr_inodes={config.scratch_files + 1},"
            f"mode=0700,uid={owner},gid={owner},nosuid,nodev"
        )
        steps.append(f"mount -t tmpfs -o {options} course-scratch {shlex.quote(str(workdir))}")
        argv += [shutil.which("unshare") or "unshare", "--mount", "--propagation", "private", "--"]
    if steps:
        # as root, before dropping privileges: join the cgroups, mount the scratch tmpfs
        argv += ["/bin/sh", "-c", " && ".join([*steps, 'exec "$@"']), "sandbox"]
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
    config: SandboxConfig,
    workdir: Path,
    rundir: Path,
    connection_file: Path,
    cgroup_leaves: list[Path] | None = None,
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
    return sandbox_argv(config, workdir, rundir, command, cgroup_leaves)


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
st = os.statvfs("/submission")
out["scratch"] = {"bytes": st.f_blocks * st.f_frsize, "files": st.f_files}
print(json.dumps(out))
"""


def check_sandbox(
    config: SandboxConfig | None = None, secret_paths: list[Path] | None = None
) -> dict:
    """Run a probe inside the sandbox and raise ``SandboxUnavailable`` unless it is isolated.

    The probe must: run as an unprivileged uid (when the grader is root), fail to read
    ``/etc/passwd`` and every path in ``secret_paths`` (e.g. the course repository), reach no
    network, import numpy, sympy and ipykernel, and import neither scipy, ``reference_impl``,
    ``autograder`` nor nbgrader; and, where the scratch quota is a tmpfs, see ``/submission``
    with that size. Returns the probe's report. The probe runs in the slot's cgroups like a
    kernel, so a cgroup that cannot be joined fails it.
    """
    from autograder.sandbox.cgroups import remove_leaves

    config = config or SandboxConfig()
    if not config.python.exists():
        raise SandboxUnavailable(
            f"the learners' kernel environment {config.kernel_env} does not exist: "
            "run `course sandbox setup`"
        )
    paths = ["/etc/passwd", *(str(p) for p in (secret_paths or []))]
    base = scratch_dir("probe")
    leaves: list[Path] = []
    try:
        work, run = prepare_dirs(base, config)
        leaves = new_cgroup_leaves(config)
        argv = sandbox_argv(config, work, run, [str(config.python), "-c", _PROBE, *paths], leaves)
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SandboxUnavailable(f"the sandbox did not start: {exc}") from exc
    finally:
        remove_leaves(leaves)
        shutil.rmtree(base, ignore_errors=True)
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
    if config.enforcement.scratch == "tmpfs" and (
        abs(report["scratch"]["bytes"] - config.scratch_size) > 2**20
    ):
        problems.append(f"/submission is not the {config.scratch_size >> 20} MiB scratch tmpfs")
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
