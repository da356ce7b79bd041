"""The grading service's loop: see what arrived, grade it, release its feedback.

Each ``tick`` (every ``poll`` seconds):

1. **watch** — every complete submission in the exchange's inbound (of a released problem set)
   that the ledger has not seen is added, queued; one whose folder belongs to another learner
   is refused. A submission that arrived while the service was down is simply seen now.
2. **collect** — finished gradings are recorded: the verdict, where the feedback is kept, and
   when it is released (at once, or at the learner's due date). A failure of the machinery is
   retried after a pause, then given up (``failed``: the instructor sees it); a grading process
   that died is replaced. A learner's bad or hostile notebook is not such a failure: it gets its
   recorded verdict from ``grade_one``, as in the batch.
3. **dispatch** — what may start, starts (``dispatch.plan``): superseded submissions and waits
   are recorded first.
4. **release** — feedback whose time has come is published to the exchange (then the ledger
   says so), and the notices the learners should see (received, waiting, held…) are published.

Every step is a transaction of the ledger, so the service can be killed at any moment: on
restart, what was being graded is queued again, and a grading that had recorded its verdict
before the kill is adopted from its marker, not graded again.
"""

from __future__ import annotations

import logging
import os
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.service.dispatch import plan
from autograder.service.executors import DaskPool, Executor, LocalPool
from autograder.service.feedback import notice_html, publish
from autograder.service.inbound import owner_problem, scan_inbound
from autograder.service.job import Job, JobResult
from autograder.service.ledger import Entry, Ledger
from autograder.service.policy import CoursePolicies

__all__ = ["MAX_ATTEMPTS", "MAX_FAILURES", "GradingService", "ServiceConfig"]

log = logging.getLogger("course.service")

#: failures of the machinery on one submission before it is given up (``failed``)
MAX_FAILURES = 3
#: gradings started for one submission (killed runs included) before it is given up
MAX_ATTEMPTS = 10


@dataclass
class ServiceConfig:
    """Where the course and the service's state are, and how to grade."""

    course_root: Path
    state_dir: Path
    workers: int = 2
    scheduler: str | None = None  # a Dask scheduler's address: grade on its workers
    poll: float = 0.5
    overrides: dict[str, Any] = field(default_factory=dict)  # SandboxedAutograde traits
    #: a grading running longer is given up as a failure of the machinery (its process killed)
    job_timeout: float = 900.0

    @property
    def ledger_path(self) -> Path:
        return self.state_dir / "ledger.sqlite"


class GradingService:
    """The loop of the module's docstring; ``run`` runs it, ``tick`` is one turn."""

    def __init__(self, config: ServiceConfig, executor: Executor | None = None) -> None:
        from autograder.config.course import Course

        self.config = config
        self.course = Course.at(config.course_root)
        self.root = self.course.root
        self.course_id = self.course.course_id
        self.exchange = self.course.exchange / self.course_id
        config.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        config.state_dir.chmod(0o700)
        self.ledger = Ledger(config.ledger_path)
        self.policies = CoursePolicies(self.root)
        self.overrides = {"run_id": f"service-{os.getpid()}", **config.overrides}
        self._executor = executor
        self._running: dict[int, Any] = {}  # entry id → future
        #: called (from another thread) when a grading finishes: the loop's next turn, now
        self.wake: Callable[[], None] | None = None
        self._notebooks: dict[str, list[str]] = {}

    # -- set-up -------------------------------------------------------------------------------
    @property
    def executor(self) -> Executor:
        if self._executor is None:
            if self.config.scheduler:
                self._executor = DaskPool(self.root, self.config.scheduler, self.overrides)
            else:
                self._executor = LocalPool(self.root, self.config.workers, self.overrides)
        return self._executor

    def start(self) -> None:
        """Recover what a killed run was grading; start the grading processes."""
        from autograder.sandbox.bubblewrap import check_sandbox
        from autograder.sandbox.slots import current_slot

        back = self.ledger.start_run(os.getpid())
        if back:
            log.warning(
                "%d submission(s) were being graded when the service stopped: queued again", back
            )
        check_sandbox(  # loud, as the batch: grading never runs unsandboxed
            self.course.sandbox(current_slot()),
            secret_paths=[
                self.root / "problem_sets",
                self.root / "source",
                self.root.parent / "reference_impl",
            ],
        )
        start = getattr(self.executor, "start", None)
        if start is not None:
            start()
        log.info(
            "grading service: %s, exchange %s, %s",
            self.root,
            self.exchange,
            f"Dask at {self.config.scheduler}"
            if self.config.scheduler
            else f"{self.config.workers} local grading process(es)",
        )

    def close(self) -> None:
        if self._executor is not None:
            self._executor.close()
        self.ledger.close()

    def released_assignments(self) -> set[str]:
        folder = self.root / "release"
        return {p.name for p in folder.iterdir() if p.is_dir()} if folder.is_dir() else set()

    def notebooks(self, assignment: str) -> list[str]:
        if assignment not in self._notebooks:
            from autograder.grading.submissions import expected_notebooks

            self._notebooks[assignment] = expected_notebooks(self.root, assignment)
        return self._notebooks[assignment]

    # -- one turn -----------------------------------------------------------------------------
    def tick(self, now: float | None = None) -> None:
        self.watch()
        self.collect()
        self.dispatch(time.time() if now is None else now)
        self.release(time.time() if now is None else now)

    def watch(self) -> list[int]:
        """Add what arrived in the exchange; returns the new entries."""
        known = self.ledger.names()
        added = []
        for sub in scan_inbound(self.exchange / "inbound", self.released_assignments(), known):
            try:
                secret = sub.secret()
            except OSError:
                continue
            entry_id = self.ledger.add(
                sub.name, sub.learner, sub.assignment, sub.submitted_at, secret
            )
            if entry_id is None:
                continue
            added.append(entry_id)
            problem = owner_problem(sub)
            if problem:
                self.ledger.refuse(entry_id, problem)
                log.warning("refused %s: %s", sub.name, problem)
            else:
                log.info("received %s", sub.name)
        return added

    def collect(self) -> None:
        """Record finished gradings; a grading stuck past ``job_timeout`` is a failure, and the
        grading processes are replaced."""
        broken = False
        now = time.time()
        for entry in self.ledger.in_flight():
            if (
                entry.id in self._running
                and now - (entry.started_at or now) > self.config.job_timeout
            ):
                self._running.pop(entry.id).cancel()
                self._failed(entry.id, f"no verdict after {self.config.job_timeout:.0f} s")
                broken = True
        for entry_id, future in list(self._running.items()):
            if not future.done():
                continue
            del self._running[entry_id]
            try:
                result: JobResult = future.result()
            except Exception as exc:  # the machinery failed: not the learner's fault
                from concurrent.futures.process import BrokenProcessPool

                broken |= isinstance(exc, BrokenProcessPool)
                self._failed(entry_id, f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
                continue
            self._record(result)
        if broken:
            log.error("a grading process died: starting fresh ones")
            self.executor.restart()

    def _record(self, result: JobResult) -> None:
        entry = self.ledger.get(result.entry_id)
        if result.refused:
            self.ledger.refuse(entry.id, result.refused)
            return
        release_at = self.policies.release_at(entry.assignment, entry.learner)
        self.ledger.finish(
            entry.id,
            result.outcome,
            result.fingerprint,
            result.feedback,
            release_at,
            result.graded_by,
        )
        log.info(
            "graded %s: %s %s/%s (%s, %.1f s)",
            entry.name,
            result.outcome.status,
            result.outcome.score,
            result.outcome.max_score,
            result.graded_by,
            result.outcome.seconds,
        )

    def _failed(self, entry_id: int, error: str) -> None:
        entry = self.ledger.get(entry_id)
        if entry.failures + 1 >= MAX_FAILURES:
            log.error("giving up on %s: %s", entry.name, error.splitlines()[0])
            self.ledger.give_up(entry_id, error)
        else:
            pause = 15.0 * 2**entry.failures
            log.error(
                "grading %s failed (retry in %.0f s): %s", entry.name, pause, error.splitlines()[0]
            )
            self.ledger.retry(entry_id, error, time.time() + pause)

    def dispatch(self, now: float) -> None:
        free = self.executor.capacity() - len(self._running)
        decision = plan(self.ledger, self.policies, now, free)
        for older, newer in decision.superseded:
            self.ledger.supersede(older.id, newer)
        for entry, until, reason in decision.waits:
            self.ledger.wait(entry.id, until, reason)
        for entry in decision.start:
            if entry.attempts >= MAX_ATTEMPTS:
                self.ledger.give_up(entry.id, f"{entry.attempts} gradings started, none finished")
                continue
            if not self.ledger.claim(entry.id):
                continue
            job = Job(
                entry.id,
                entry.learner,
                entry.assignment,
                str(self.exchange / "inbound" / entry.name),
                str(self.config.state_dir / "feedback" / str(entry.id)),
            )
            future = self.executor.submit(job)
            future.add_done_callback(self._finished)
            self._running[entry.id] = future
            log.info("grading %s", entry.name)

    def _finished(self, future: Any) -> None:
        if self.wake is not None:
            self.wake()

    def release(self, now: float) -> None:
        """Publish feedback whose time has come, and the notices due."""
        for entry in self.ledger.entries(states=("graded",)):
            when = self.policies.release_at(entry.assignment, entry.learner)
            if when != entry.release_at:
                self.ledger.set_release(entry.id, when)  # an extension moved it
            if when is not None and when > now:
                continue
            self._publish_feedback(entry)
            self.ledger.mark_released(entry.id)
        for entry in self.ledger.notices_due():
            if entry.notice:
                self._publish_notice(entry, entry.notice)
                self.ledger.notice_sent(entry.id, entry.notice)

    def _publish_feedback(self, entry: Entry) -> None:
        for page in entry.feedback_files:
            path = Path(page)
            publish(self.exchange / "feedback", entry.secret, path.stem, path.read_bytes())
        log.info("feedback of %s released", entry.name)

    def _publish_notice(self, entry: Entry, kind: str) -> None:
        if not entry.secret:
            return
        if kind == "held" and entry.state != "graded":
            return
        try:
            names = self.notebooks(entry.assignment)
        except FileNotFoundError:
            return
        page = notice_html(
            kind,
            assignment=entry.assignment,
            submitted_at=entry.submitted_at,
            tz=self.policies.timezone,
            until=entry.release_at if kind == "held" else entry.not_before,
            cap=self.policies.policy(entry.assignment).per_hour,
            reason=entry.verdict or "",
            later=(entry.verdict or "").rpartition(" of ")[2],
        )
        for name in names:
            publish(self.exchange / "feedback", entry.secret, name, page)

    # -- the loop -----------------------------------------------------------------------------
    def run(self, stop: Any = None) -> None:
        """Tick until ``stop()`` is true (forever by default); errors of a tick are logged and
        the next tick goes on."""
        self.start()
        try:
            while stop is None or not stop():
                t0 = time.monotonic()
                try:
                    self.tick()
                except Exception:
                    log.exception("the grading service's tick failed; going on")
                time.sleep(max(0.0, self.config.poll - (time.monotonic() - t0)))
        finally:
            self.close()
