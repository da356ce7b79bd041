"""The kernel a learner's check runs in: the grading sandbox when this host has one, else the
learner's own kernel.

The sandbox is the grader's (``autograder.sandbox``), entered here by the learner's own,
unprivileged user: bubblewrap with every namespace unshared (no network), no capabilities, a
read-only ``/usr`` and the learners' kernel environment, nothing else of the host — not the
learner's home, not the course — and a private copy of the notebook's folder as ``/submission``;
``prlimit`` caps address space, CPU time, file size and open files. ZMQ runs over ``ipc`` sockets
in a folder bound at its own path (a private network namespace has no TCP to the host).

``kernel_manager`` hands out a started-ready ``KernelManager`` for either kind; ``sandbox_problem``
says why the sandbox cannot run here (None when it can).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager

__all__ = [
    "SandboxUnavailable",
    "hand_over",
    "kernel_manager",
    "prepare",
    "sandbox_argv",
    "sandbox_problem",
]

SUBMISSION_DIR = "/submission"

#: Per-process limits of the learner's sandboxed kernel (the grader's own).
LIMITS = {
    "as": 6 * 2**30,
    "cpu": 600,
    "fsize": 64 * 2**20,
    "nofile": 256,
    "core": 0,
}
TMP_SIZE = 256 * 2**20
NOBODY = 65534


def prepare(base: Path) -> tuple[Path, Path]:
    """``base/work`` and ``base/run`` for one check, private to whoever runs the kernel."""
    work, run = base / "work", base / "run"
    for d in (base, work, run):
        d.mkdir(mode=0o700, exist_ok=True)
    if os.geteuid() == 0:
        os.chmod(base, 0o711)
        os.chmod(base.parent, os.stat(base.parent).st_mode | 0o111)
        for d in (work, run):
            os.chown(d, NOBODY, NOBODY)
    return work, run


def hand_over(folder: Path) -> None:
    """Give the files below ``folder`` to the kernel's user (nobody, when root checks)."""
    if os.geteuid() != 0:
        return
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, NOBODY, NOBODY, follow_symlinks=False)


class SandboxUnavailable(RuntimeError):
    """The grading sandbox cannot run on this host; the message says why."""


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


def sandbox_argv(env: Path, work: Path, run: Path, command: list[str]) -> list[str]:
    """``command`` inside the sandbox: ``work`` is ``/submission`` (and the cwd), ``run`` is
    bound read-write at its own path (the connection file and the ZMQ sockets)."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed on this host")
    setenv = {
        "PATH": f"{env}/bin:/usr/bin:/bin",
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
        "TRITON_INTERPRET": "1",
    }
    argv: list[str] = []
    if os.geteuid() == 0:
        # root checking a notebook (an instructor): the kernel runs as nobody, as the grader's
        # kernels run as unprivileged uids
        argv += [shutil.which("setpriv") or "setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}"]
        argv += ["--clear-groups", "--inh-caps=-all", "--"]
    argv += [shutil.which("prlimit") or "prlimit"]
    argv += [f"--{k}={v}" for k, v in LIMITS.items()] + ["--"]
    argv += [
        bwrap,
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
        "--ro-bind",
        "/proc/sys",
        "/proc/sys",
        "--dev",
        "/dev",
        "--size",
        str(TMP_SIZE),
        "--tmpfs",
        "/tmp",
        "--ro-bind",
        str(env),
        str(env),
        "--bind",
        str(work),
        SUBMISSION_DIR,
        "--bind",
        str(run),
        str(run),
        "--remount-ro",
        "/",
        "--chdir",
        SUBMISSION_DIR,
    ]
    for key, value in setenv.items():
        argv += ["--setenv", key, value]
    return [*argv, "--", *command]


def sandbox_problem(env: Path, scratch: Path) -> str | None:
    """Why the sandbox cannot run a kernel here (None when it can): bubblewrap missing, the
    kernel environment missing, or a probe inside it failing (no user namespaces, …)."""
    python = env / "bin" / "python"
    if shutil.which("bwrap") is None:
        return "bubblewrap is not installed on this host"
    if not python.exists():
        return f"the learners' kernel environment {env} is not on this host"
    work, run = prepare(scratch)
    probe = "import ipykernel, os, socket; print(os.path.exists('/etc/passwd'))"
    try:
        proc = subprocess.run(
            sandbox_argv(env, work, run, [str(python), "-c", probe]),
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"the sandbox did not start ({exc})"
    if proc.returncode != 0 or proc.stdout.strip() != "False":
        return f"the sandbox did not start (exit {proc.returncode}: {proc.stderr.strip()[-300:]})"
    return None


class _SandboxKernelManager(KernelManager):
    """Hands the connection file to the kernel's user (nobody, when root checks)."""

    def write_connection_file(self, **kwargs: object) -> None:
        super().write_connection_file(**kwargs)
        if os.geteuid() == 0:
            os.chown(self.connection_file, NOBODY, NOBODY)


def kernel_manager(work: Path, run: Path, sandboxed: bool, env: Path) -> KernelManager:
    """A (not yet started) kernel manager for a kernel working in ``work``.

    Sandboxed: a kernelspec written into ``run`` whose command is the sandbox around the kernel
    environment's Python, ZMQ over ``ipc`` in ``run``, interrupts as messages (a SIGINT would
    kill bubblewrap). Otherwise the learner's own ``python3`` kernel.
    """
    if not sandboxed:
        return KernelManager(kernel_name="python3")
    specs = run.parent / "kernels"
    spec_dir = specs / "course-sandbox"
    spec_dir.mkdir(parents=True, exist_ok=True)
    command = [
        str(env / "bin" / "python"),
        "-m",
        "ipykernel_launcher",
        "-f",
        "{connection_file}",
        "--HistoryManager.enabled=False",
        "--IPCompleter.use_jedi=False",
    ]
    spec = {
        "argv": sandbox_argv(env, work, run, command),
        "display_name": "course sandbox",
        "language": "python",
        "interrupt_mode": "message",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    return _SandboxKernelManager(
        kernel_name="course-sandbox",
        kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(specs)]),
        transport="ipc",
        ip=str(run / "zmq"),
        connection_file=str(run / "kernel.json"),
    )
