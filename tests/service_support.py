"""Shared by the grading service's tests and its benchmark: a course, its exchange, learners who
submit through it and fetch their feedback, and the service as a real process.

Not a test module. ``ServiceCourse`` makes a throwaway repository (``grading_support.make_course``
for the problem set, optionally a ``book/schedule.yml``), releases the problem set to its own
exchange and starts ``python -m autograder.service serve`` on it — a process of its own, in its
own session, so that a test can SIGKILL it like any crash would, and start it again. Learners
submit with the learners' own code (``course_learner.exchange``: nbgrader's submit, each learner
with their own nbgrader cache, as on the hub) and fetch their feedback the same way.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from grading_support import FAST_LIMITS, make_course

REPO = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def _env(**values: str) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def wait_for(what: Callable[[], Any], timeout: float, every: float = 0.5, say: str = "") -> Any:
    """Poll ``what()`` until it is truthy; its value, or AssertionError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        got = what()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {say or what}")
        time.sleep(every)


@dataclass
class ServiceCourse:
    """A course with its exchange, its learners and its grading service (see the module)."""

    tmp: Path
    ps: str = "ps01_quaternions"
    schedule: str | None = None  # the text of book/schedule.yml, if any
    workers: int = 2
    overrides: dict[str, Any] = field(default_factory=lambda: dict(FAST_LIMITS))
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def __post_init__(self) -> None:
        from autograder.publish import exchange_release

        self.repo = self.tmp / "repo"
        self.repo.mkdir(parents=True)
        (self.repo / "_toc.yml").write_text("")
        if self.schedule is not None:
            (self.repo / "book").mkdir()
            (self.repo / "book" / "schedule.yml").write_text(self.schedule)
        self.exchange = self.tmp / "exchange"
        self.exchange.mkdir(mode=0o1777)
        self.exchange.chmod(0o1777)
        with _env(**self.env):
            self.root = make_course(self.repo, self.ps)
            exchange_release(self.root, self.ps)
        self.log = self.tmp / "service.log"

    @property
    def env(self) -> dict[str, str]:
        return {"COURSE_ROOT": str(self.repo), "COURSE_EXCHANGE": str(self.exchange)}

    @property
    def state(self) -> Path:
        return self.root / ".course-service"

    # -- the service --------------------------------------------------------------------------
    def start(self, *extra: str) -> None:
        assert self.proc is None or self.proc.poll() is not None
        self.starts += 1
        with self.log.open("a") as out:
            out.write(f"\n==== start {self.starts} ====\n")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "autograder.service",
                "serve",
                "--workers",
                str(self.workers),
                "--poll",
                "0.3",
                "--overrides",
                json.dumps(self.overrides),
                *extra,
            ],
            cwd=self.repo,
            env={**os.environ, **self.env},
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        """SIGKILL the service (its grading processes die with it, as they would)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def cleanup(self) -> None:
        self.stop()
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-n:] if self.log.is_file() else ""

    # -- learners -----------------------------------------------------------------------------
    def home(self, learner: str) -> Path:
        return self.tmp / "home" / learner

    def submit(self, learner: str, notebook: Any) -> str:
        """Submit ``notebook`` (a notebook object, or bytes) as ``learner`` through the exchange;
        returns nbgrader's timestamp of the submission."""
        from course_learner.exchange import submit

        folder = self.home(learner) / self.ps
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{self.ps}.ipynb"
        if isinstance(notebook, bytes):
            target.write_bytes(notebook)
        else:
            nbformat.write(notebook, target)
        with _env(**self.env, JUPYTER_DATA_DIR=str(self.home(learner) / ".data")):
            log = submit(self.ps, self.home(learner), learner)
        import re

        found = re.search(r"Submitted as: \S+ \S+ (.+)", log)
        assert found, log
        return found[1].strip()

    def inbound_folder(self, learner: str, notebook: Any) -> Path:
        """A submission folder made by hand in inbound (not by nbgrader's submit), complete:
        the notebook, a timestamp and, last, a secret."""
        import datetime as dt

        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
        folder = (
            self.exchange
            / "cryoem-study-group-2022"
            / "inbound"
            / f"{learner}+{self.ps}+{stamp}+hand"
        )
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / f"{self.ps}.ipynb")
        (folder / "timestamp.txt").write_text(stamp)
        return folder

    def seal(self, folder: Path) -> None:
        """Write the secret last, as nbgrader's submit does: the folder is complete."""
        import secrets

        (folder / "submission_secret.txt").write_text(secrets.token_hex(64))

    def fetch(self, learner: str) -> dict[str, str]:
        """Fetch ``learner``'s feedback; timestamp folder → the page's text."""
        from course_learner.exchange import ExchangeError, fetch_feedback

        with _env(**self.env, JUPYTER_DATA_DIR=str(self.home(learner) / ".data")):
            try:
                files = fetch_feedback(self.ps, self.home(learner), learner)
            except ExchangeError:
                return {}
        return {f.parent.name: f.read_text() for f in files}

    def inbound(self) -> list[Path]:
        folder = self.exchange / "cryoem-study-group-2022" / "inbound"
        return sorted(folder.iterdir()) if folder.is_dir() else []

    # -- what the service recorded ------------------------------------------------------------
    def entries(self) -> list[Any]:
        from autograder.service.ledger import Ledger

        path = self.state / "ledger.sqlite"
        if not path.is_file():
            return []
        ledger = Ledger(path)
        try:
            return ledger.entries()
        finally:
            ledger.close()

    def states(self) -> dict[str, str]:
        """inbound folder name → its state in the ledger."""
        return {e.name: e.state for e in self.entries()}

    def journal(self) -> list[dict[str, Any]]:
        from autograder.grading.journal import read_journal

        return read_journal(self.root, self.ps)


def is_feedback(page: str) -> bool:
    """A real feedback page (not one of the service's notices)."""
    return "Autograder report" in page and "course-notice" not in page


def notice_kind(page: str) -> str | None:
    import re

    m = re.search(r"data-kind='(\w+)'", page)
    return m[1] if m else None
