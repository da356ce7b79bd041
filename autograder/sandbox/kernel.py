"""A learner's IPython kernel in the sandbox, driven over the Jupyter messaging protocol.

``SandboxedKernel`` launches ``ipykernel`` inside ``sandbox.sandbox_argv`` with ZMQ over the
``ipc`` transport (the sandbox has its own network namespace, so TCP to the grader is impossible
by design), and runs code with:

* a wall-clock limit per request: on expiry the kernel is interrupted by an
  ``interrupt_request`` message (the kernelspec's ``interrupt_mode: message``; a SIGINT would
  kill bubblewrap), and killed if it does not yield within a grace period;
* an output cap: at most ``max_output_bytes`` of outputs are kept per request; the rest is
  counted and dropped as it arrives, so a flood of output cannot exhaust the grader; and no
  single message larger than ``SandboxConfig.max_message`` is even received (``ZMQ_MAXMSGSIZE``
  on the grader's sockets: ZMQ drops such a connection before allocating the message, and the
  IOPub connection is then made again);
* death detection: a kernel that exits (``os._exit``, a segfault, SIGXCPU, the OOM killer, the
  ``Supervisor`` ending a sandbox over its slot's budget) is reported as ``died`` (with the
  reason, when the grader knows it) and can be restarted;
* its own cgroup leaf (removed, with anything left in it, at shutdown), its scratch quota and,
  where no cgroup holds the slot's budget, a ``Supervisor`` thread.

Nothing the kernel sends is trusted beyond being data: outputs are stored for feedback, and the
results of hidden checks are decoded by ``autograder.checks.sympy_tree`` with strict limits.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zmq
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.connect import write_connection_file

from autograder.sandbox.bubblewrap import (
    SandboxConfig,
    kernel_argv,
    new_cgroup_leaves,
    prepare_dirs,
    scratch_dir,
)
from autograder.sandbox.cgroups import remove_leaves
from autograder.sandbox.supervisor import Supervisor

__all__ = ["ExecResult", "KernelStartError", "LocalKernel", "SandboxedKernel"]

_MAX_COPY_BYTES = 64 * 2**20
#: Seconds to wait for the IOPub ``idle`` status once the shell reply has arrived.
_IDLE_GRACE = 5.0


class KernelStartError(RuntimeError):
    """The sandboxed kernel did not start (the message carries its log)."""


@dataclass
class ExecResult:
    """What one execute request produced.

    ``status``: ``ok``; ``error`` (the code raised); ``timeout`` (interrupted after the limit;
    the kernel lives); ``died`` (the kernel exited or was killed: restart it).
    ``outputs`` are nbformat v4 output dicts.
    """

    status: str
    outputs: list[dict[str, Any]] = field(default_factory=list)
    ename: str = ""
    evalue: str = ""
    execution_count: int | None = None
    dropped_bytes: int = 0
    elapsed: float = 0.0


def copy_learner_files(src: Path, dest: Path, max_bytes: int = _MAX_COPY_BYTES) -> list[str]:
    """Copy the regular files below ``src`` into ``dest`` (no links, no special files, at most
    ``max_bytes`` in all); return the skipped names. The copy is what the sandbox sees."""
    skipped: list[str] = []
    total = 0
    for root, dirs, files in os.walk(src, followlinks=False):
        rel = Path(root).relative_to(src)
        dirs[:] = [d for d in dirs if not (Path(root) / d).is_symlink()]
        for name in files:
            path = Path(root) / name
            try:
                st = path.lstat()
            except OSError:
                skipped.append(str(rel / name))
                continue
            if not path.is_file() or path.is_symlink() or total + st.st_size > max_bytes:
                skipped.append(str(rel / name))
                continue
            target = dest / rel / name
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target, follow_symlinks=False)
            except OSError:  # e.g. over the scratch quota: the kernel starts without it
                with contextlib.suppress(OSError):
                    target.unlink()
                skipped.append(str(rel / name))
                continue
            total += st.st_size
    return skipped


class SandboxedKernel:
    """One learner's kernel. Use as a context manager; ``execute`` runs code in it."""

    def __init__(
        self,
        config: SandboxConfig,
        files_from: Path | None = None,
        startup_timeout: float = 60.0,
        max_output_bytes: int = 256 * 1024,
    ) -> None:
        self.config = config
        self.files_from = files_from
        self.startup_timeout = startup_timeout
        self.max_output_bytes = max_output_bytes
        self.proc: subprocess.Popen[bytes] | None = None
        self.client: BlockingKernelClient | None = None
        self.base: Path | None = None
        self.restarts = 0
        self.start_seconds = 0.0
        self.leaves: list[Path] = []
        self.supervisor: Supervisor | None = None
        self.ended_because = ""  # why the grader ended the sandbox (over the slot's budget)
        self._context: zmq.Context[Any] | None = None

    # -- life cycle -------------------------------------------------------------------------
    def __enter__(self) -> SandboxedKernel:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    def start(self) -> None:
        """Launch the kernel in a fresh sandbox and wait until it answers ``kernel_info``."""
        self.launch()
        self.wait_ready()

    def add_files(self, src: Path) -> None:
        """Copy the learner's files from ``src`` into the sandbox's ``/submission`` (also after
        the kernel has started: a pre-started kernel receives its learner's files this way)."""
        work = self._scratch_view()
        # at most half the scratch quota, so that the learner's code has room to write
        copy_learner_files(src, work, min(_MAX_COPY_BYTES, self.config.scratch_size // 2))
        if self.config.uid is not None:
            for root, dirs, files in os.walk(work):
                for name in dirs + files:
                    os.chown(Path(root) / name, self.config.uid, self.config.uid)

    @property
    def _sandboxed(self) -> bool:
        return True

    @property
    def _scratch_tmpfs(self) -> bool:
        return self._sandboxed and self.config.enforcement.scratch == "tmpfs"

    def _scratch_view(self) -> Path:
        """Where the host writes into ``/submission``: the work folder itself, or — when the
        scratch quota is a tmpfs mounted in the sandbox's own mount namespace — that folder as
        the sandbox's first process sees it (``/proc/<pid>/root/…``), once it is mounted."""
        assert self.base is not None
        work = self.base / "work"
        if not self._scratch_tmpfs:
            return work
        assert self.proc is not None
        view = Path(f"/proc/{self.proc.pid}/root") / str(work).lstrip("/")
        deadline = time.monotonic() + self.startup_timeout
        while True:
            try:
                if os.stat(view).st_dev != os.stat(work).st_dev:
                    return view
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise KernelStartError(f"the sandbox exited at start:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.kill()
                raise KernelStartError("the sandbox's scratch tmpfs was not mounted in time")
            time.sleep(0.005)

    def launch(self) -> None:
        """Start the sandbox process and connect; ``wait_ready`` waits for the kernel."""
        self._t0 = time.perf_counter()
        self.base = scratch_dir("sbx")
        self.ended_because = ""
        work, run = prepare_dirs(self.base, self.config)
        if self.files_from is not None and not self._scratch_tmpfs:
            self.add_files(self.files_from)
        conn = run / "kernel.json"
        write_connection_file(
            str(conn), transport="ipc", ip=str(run / "zmq"), key=uuid.uuid4().hex.encode()
        )
        if self.config.uid is not None:
            os.chown(conn, self.config.uid, self.config.uid)
        log = open(self.base / "kernel.log", "wb")
        self._log = log
        if self._sandboxed:
            self.leaves = new_cgroup_leaves(self.config)
        self.proc = subprocess.Popen(
            self._argv(work, run, conn),
            cwd=work,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        self._supervise(work)
        if self.files_from is not None and self._scratch_tmpfs:
            self.add_files(self.files_from)
        # a context of our own: no message over ``max_message`` is ever received
        self._context = zmq.Context()
        self._context.setsockopt(zmq.MAXMSGSIZE, self.config.max_message)
        client = BlockingKernelClient(context=self._context)
        client.load_connection_file(str(conn))
        client.start_channels()
        self.client = client

    def _supervise(self, work: Path) -> None:
        """Start the ``Supervisor`` for what no cgroup or tmpfs holds here."""
        if not self._sandboxed or not self.config.enforcement.supervised:
            return
        assert self.proc is not None
        plan = self.config.enforcement
        self.supervisor = Supervisor(
            self.proc.pid,
            memory=self.config.memory if plan.memory == "supervisor" else None,
            tasks=self.config.pids if plan.pids == "supervisor" else None,
            scratch=work if plan.scratch == "supervisor" else None,
            scratch_bytes=self.config.scratch_size,
            scratch_files=self.config.scratch_files,
            on_kill=self._ended,
        )
        self.supervisor.start()

    def _ended(self, reason: str) -> None:
        self.ended_because = reason

    def wait_ready(self) -> None:
        """Wait until the kernel answers ``kernel_info`` on the shell channel *and* its IOPub
        messages reach us (``KernelStartError`` otherwise).

        ZMQ's PUB/SUB drops what is published before a subscription is established (the "slow
        joiner"): a kernel that answers on the shell channel may still be unheard on IOPub, and
        the first cell's outputs and ``idle`` status would be lost. So a ``kernel_info`` request
        is repeated until its IOPub ``status`` message arrives.
        """
        assert self.client is not None and self.proc is not None
        t_wait = time.perf_counter()
        client = self.client
        deadline = time.monotonic() + self.startup_timeout
        shell_ok = iopub_ok = False
        while not (shell_ok and iopub_ok):
            if self.proc.poll() is not None:
                raise KernelStartError(f"the sandboxed kernel exited at start:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.kill()
                raise KernelStartError(f"the sandboxed kernel did not answer:\n{self.log_tail()}")
            msg_id = client.kernel_info()
            until = time.monotonic() + 0.5
            while time.monotonic() < until and not (shell_ok and iopub_ok):
                with contextlib.suppress(queue.Empty):
                    reply = client.get_shell_msg(timeout=0.01)
                    shell_ok = shell_ok or reply["parent_header"].get("msg_id") == msg_id
                with contextlib.suppress(queue.Empty):
                    msg = client.get_iopub_msg(timeout=0.01)
                    iopub_ok = iopub_ok or (
                        msg["msg_type"] == "status" and msg["parent_header"].get("msg_id") == msg_id
                    )
        # drain what is left of the start-up messages
        with contextlib.suppress(queue.Empty):
            while True:
                client.get_iopub_msg(timeout=0.005)
        with contextlib.suppress(queue.Empty):
            while True:
                client.get_shell_msg(timeout=0)
        self.start_seconds = time.perf_counter() - t_wait  # time spent waiting for it

    def _argv(self, work: Path, run: Path, conn: Path) -> list[str]:
        return kernel_argv(self.config, work, run, conn, self.leaves)

    def log_tail(self, n: int = 4000) -> str:
        if self.base is None or not (self.base / "kernel.log").exists():
            return ""
        return (self.base / "kernel.log").read_bytes()[-n:].decode(errors="replace")

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the sandbox: bwrap dies, its PID namespace and every process in it follow."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()

    def shutdown(self) -> None:
        """Kill the kernel (no graceful shutdown: nothing in it is worth waiting for), close the
        channels, remove its cgroup leaf (killing anything left in it) and delete the scratch
        folder."""
        if self.supervisor is not None:
            self.supervisor.stop()
            self.supervisor = None
        self.kill()
        remove_leaves(self.leaves)
        self.leaves = []
        if self.client is not None:
            self.client.stop_channels()
            self.client = None
        if self._context is not None:
            self._context.destroy(linger=0)
            self._context = None
        if getattr(self, "_log", None) is not None:
            self._log.close()
        if self.base is not None:
            shutil.rmtree(self.base, ignore_errors=True)
            self.base = None

    def restart(self) -> None:
        self.shutdown()
        self.restarts += 1
        self.start()

    # -- execution --------------------------------------------------------------------------
    def interrupt(self) -> None:
        assert self.client is not None
        msg = self.client.session.msg("interrupt_request", content={})
        self.client.control_channel.send(msg)

    def execute(self, code: str, timeout: float, grace: float = 5.0) -> ExecResult:
        """Run ``code``; wait at most ``timeout`` seconds, then interrupt, then kill."""
        if not self.alive or self.client is None:
            return ExecResult("died", ename="KernelDied", evalue="the kernel is not running")
        client = self.client
        t0 = time.monotonic()
        msg_id = client.execute(code, store_history=True, allow_stdin=False, stop_on_error=False)
        result = ExecResult("ok")
        kept = 0
        reply: dict[str, Any] | None = None
        idle = False
        deadline = t0 + timeout
        interrupted = False
        reply_at: float | None = None
        iopub_lost = False
        while reply is None or not idle:
            now = time.monotonic()
            if reply_at is not None and now - reply_at > _IDLE_GRACE:
                # the reply came and no idle status followed: outputs may be incomplete, and the
                # IOPub connection may be gone (a message over ``max_message`` ends it)
                iopub_lost = True
                break
            if now > deadline:
                if interrupted:
                    self.kill()
                    result.status = "died"
                    result.ename = "CellTimeoutError"
                    result.evalue = f"no answer {timeout:g} s after an interrupt: kernel killed"
                    break
                self.interrupt()
                interrupted = True
                deadline = now + grace
            if self.proc is not None and self.proc.poll() is not None:
                result.status = "died"
                result.ename = "KernelDied"
                result.evalue = f"the kernel exited (status {self.proc.returncode})"
                if self.ended_because:
                    result.ename = "SandboxLimitExceeded"
                    result.evalue = f"{self.ended_because}: the sandbox was ended"
                break
            try:
                msg = client.get_iopub_msg(timeout=0.02)
            except Exception:
                msg = None
            if msg is not None and msg["parent_header"].get("msg_id") == msg_id:
                kept = self._handle_output(msg, result, kept)
                if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                    idle = True
            if reply is None:
                try:
                    shell = client.get_shell_msg(timeout=0)
                except Exception:
                    shell = None
                if shell is not None and shell["parent_header"].get("msg_id") == msg_id:
                    reply = shell["content"]
                    reply_at = time.monotonic()
        result.elapsed = time.monotonic() - t0
        if iopub_lost and result.status == "ok":
            self._reconnect_iopub()
        if reply is not None:
            result.execution_count = reply.get("execution_count")
            if reply.get("status") == "error" and result.status == "ok":
                result.status = "error"
                result.ename = str(reply.get("ename", ""))[:200]
                result.evalue = str(reply.get("evalue", ""))[:2000]
        if interrupted and result.status != "died":
            result.status = "timeout"
            result.ename = "CellTimeoutError"
            result.evalue = f"the cell ran longer than {timeout:g} s and was interrupted"
        if result.status in ("timeout", "died") and result.ename:
            result.outputs.append(
                {
                    "output_type": "error",
                    "ename": result.ename,
                    "evalue": result.evalue,
                    "traceback": [f"{result.ename}: {result.evalue}"],
                }
            )
        if iopub_lost:
            result.outputs.append(
                {
                    "output_type": "stream",
                    "name": "stdout",
                    "text": "\n[... output not received: the kernel's messages stopped arriving; "
                    f"one larger than {self.config.max_message >> 20} MiB is never received ...]\n",
                }
            )
        if result.dropped_bytes:
            result.outputs.append(
                {
                    "output_type": "stream",
                    "name": "stdout",
                    "text": f"\n[... {result.dropped_bytes} bytes of output dropped ...]\n",
                }
            )
        return result

    def _reconnect_iopub(self) -> None:
        """Connect the IOPub channel again (ZMQ does not reconnect a connection it ended for an
        oversized message) and wait until the kernel's status messages arrive again."""
        client = self.client
        if client is None or not self.alive:
            return
        old = client._iopub_channel
        if old is not None:
            old.stop()
            old.close()
        client._iopub_channel = None
        client.iopub_channel.start()
        deadline = time.monotonic() + _IDLE_GRACE
        while time.monotonic() < deadline:
            msg_id = client.kernel_info()
            until = time.monotonic() + 0.5
            while time.monotonic() < until:
                try:
                    msg = client.get_iopub_msg(timeout=0.05)
                except Exception:
                    continue
                if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status":
                    with contextlib.suppress(queue.Empty):
                        while True:
                            client.get_shell_msg(timeout=0.05)
                    return

    def _handle_output(self, msg: dict[str, Any], result: ExecResult, kept: int) -> int:
        kind = msg["msg_type"]
        content = msg["content"]
        if kind == "clear_output":
            result.outputs.clear()
            return 0
        if kind not in ("stream", "display_data", "execute_result", "error"):
            return kept
        size = len(json.dumps(content, default=str))
        if kept + size > self.max_output_bytes:
            result.dropped_bytes += size
            return kept
        if kind == "stream":
            name = content.get("name") if content.get("name") in ("stdout", "stderr") else "stdout"
            text = str(content.get("text", ""))
            last = result.outputs[-1] if result.outputs else None
            if last is not None and last["output_type"] == "stream" and last["name"] == name:
                last["text"] += text
            else:
                result.outputs.append({"output_type": "stream", "name": name, "text": text})
        elif kind == "error":
            result.outputs.append(
                {
                    "output_type": "error",
                    "ename": str(content.get("ename", ""))[:200],
                    "evalue": str(content.get("evalue", ""))[:2000],
                    "traceback": [str(t) for t in content.get("traceback", [])][:200],
                }
            )
        else:
            out: dict[str, Any] = {
                "output_type": kind,
                "data": content.get("data", {}),
                "metadata": content.get("metadata", {}),
            }
            if kind == "execute_result":
                out["execution_count"] = content.get("execution_count")
            result.outputs.append(out)
        return kept + size


class LocalKernel(SandboxedKernel):
    """The same kernel driver without the sandbox, for a learner's own ``course check
    --no-sandbox`` on a machine without bubblewrap. Never used for grading."""

    def __init__(
        self, files_from: Path | None = None, python: str | None = None, **kwargs: Any
    ) -> None:
        import sys

        super().__init__(SandboxConfig(slot=0), files_from=files_from, **kwargs)
        self.python = python or sys.executable

    @property
    def _sandboxed(self) -> bool:
        return False

    def _argv(self, work: Path, run: Path, conn: Path) -> list[str]:
        return [
            self.python,
            "-m",
            "ipykernel_launcher",
            "-f",
            str(conn),
            "--HistoryManager.enabled=False",
        ]
