"""Real services the tests start themselves: a PostgreSQL server on a loopback port.

Not a test module. ``scripts/dev.sh`` installs Debian's ``postgresql``; the server runs as the
``postgres`` user (PostgreSQL refuses root) in a throwaway data folder, trusting loopback.
With ``COURSE_REQUIRE_SERVICES=1`` (set by ``scripts/dev.sh test``, so CI) a missing server
fails the test instead of skipping it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def _unavailable(reason: str) -> None:
    if os.environ.get("COURSE_REQUIRE_SERVICES") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Start PostgreSQL; yield an SQLAlchemy URL (``postgresql+psycopg2://``) of a fresh
    database ``gradebook``; stop and delete everything afterwards."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not bins:
        _unavailable("PostgreSQL is not installed (apt-get install postgresql)")
    bindir = Path(bins[-1])
    as_user: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            _unavailable("runuser is needed to start PostgreSQL as the postgres user")
        as_user = ["runuser", "-u", "postgres", "--"]
    tmp = Path(tempfile.mkdtemp(prefix="course-pg-"))
    data, sock = tmp / "data", tmp / "sock"
    sock.mkdir()
    if as_user:
        shutil.chown(tmp, "postgres")
        shutil.chown(sock, "postgres")
    port = _free_port()
    run = lambda *cmd: subprocess.run([*as_user, *cmd], check=True, capture_output=True, text=True)  # noqa: E731
    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        run(
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(tmp / "log"),
            "-w",
            "-t",
            "60",
            "start",
            "-o",
            f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off",
        )
        run(
            str(bindir / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "postgres",
            "gradebook",
        )
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/gradebook"
    finally:
        with contextlib.suppress(Exception):
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        time.sleep(0.2)
        shutil.rmtree(tmp, ignore_errors=True)
