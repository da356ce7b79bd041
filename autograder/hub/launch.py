"""The hub's settings file and its process.

``HubSettings`` is what ``hub/jupyterhub_config.py`` reads (``write_settings`` puts it in the
hub's state folder, readable by root only); ``start_hub`` runs ``jupyterhub`` from the learner
environment as root and waits until it answers; ``stop_hub`` stops it (and with it, the proxy
and every user's server: ``cleanup_servers``).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["HubSettings", "free_port", "start_hub", "stop_hub", "write_settings"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class HubSettings:
    """Where the hub listens and what it serves (see ``hub/jupyterhub_config.py``)."""

    port: int
    state_dir: str
    hub_env: str
    proxy: str
    learners: list[str]
    instructors: list[str]
    environment: dict[str, str] = field(default_factory=dict)  # for every user's server
    book_dir: str = ""  # the built book, served at /services/book/
    ip: str = "127.0.0.1"
    hub_port: int = field(default_factory=free_port)
    proxy_api_port: int = field(default_factory=free_port)
    book_port: int = field(default_factory=free_port)
    #: the grading service the hub starts (``autograder.service``): command, cwd, environment,
    #: port; empty: none
    grader: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.ip in ("0.0.0.0", "") else self.ip
        return f"http://{host}:{self.port}"


def write_settings(settings: HubSettings) -> Path:
    state = Path(settings.state_dir)
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    state.chmod(0o700)
    path = state / "settings.json"
    path.write_text(json.dumps(asdict(settings), indent=2))
    return path


def start_hub(
    settings: HubSettings, config_file: Path, log: Path | None = None, timeout: float = 90
) -> subprocess.Popen[bytes]:
    """Start JupyterHub with ``config_file`` and ``settings``; return once it answers."""
    settings_file = write_settings(settings)
    state = Path(settings.state_dir)
    out = open(log or state / "jupyterhub.log", "ab")
    env = {
        "PATH": f"{settings.hub_env}/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "COURSE_HUB_SETTINGS": str(settings_file),
        "HOME": os.environ.get("HOME", "/root"),
    }
    proc = subprocess.Popen(
        [f"{settings.hub_env}/bin/jupyterhub", "-f", str(config_file)],
        cwd=state,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    proc.course_state = str(state)  # type: ignore[attr-defined]  # for stop_hub
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(f"{settings.url}/hub/api", timeout=2)
            return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                stop_hub(proc)
                tail = (log or state / "jupyterhub.log").read_text(errors="replace")[-4000:]
                raise RuntimeError(f"JupyterHub did not start:\n{tail}") from None
            time.sleep(0.5)


def stop_hub(proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """SIGTERM the hub (it stops the proxy and the users' servers), SIGKILL what is left —
    the hub's process group, and the proxy (its own session) named in the state's pid file."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
    state = getattr(proc, "course_state", None)
    if state is not None:
        _kill_proxy(Path(state) / "proxy.pid")


def _kill_proxy(pid_file: Path) -> None:
    try:
        pid = int(pid_file.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return
    if b"configurable-http-proxy" in cmdline:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
