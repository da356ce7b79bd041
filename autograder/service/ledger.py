"""The grading service's durable queue: every submission it has seen, and where each stands.

One SQLite file in write-ahead-log mode (``<state>/ledger.sqlite``, the instructor's only).
Every change of state is one transaction (``BEGIN IMMEDIATE``), so a service killed at any
moment — SIGKILL included — leaves each submission in the state of its last committed step,
and on restart ``recover`` puts back in the queue what was being graded. States::

    queued ──claim──▶ grading ──finish──▶ graded ──mark_released──▶ released
      │  ▲                │                  (its feedback held while release_at is ahead)
      │  └──retry─────────┤
      │                   └──give_up──▶ failed        (the grading machinery failed, repeatedly)
      ├──supersede──▶ superseded   (a later submission of the learner's came first: it counts)
      └──refuse──▶ refused         (not a submission of this learner's, or it vanished)

A queued submission may wait (``not_before``): over its learner's cap per hour, or after a
failure. ``notice`` is what the learner should be told about a submission in the exchange while
its feedback is not there; ``notice_sent`` what was told (published after the transaction, so a
crash between the two only publishes it again).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.grading.submissions import Outcome

__all__ = ["ACTIVE", "STATES", "TERMINAL", "Entry", "Ledger", "open_ledger", "service_state"]

STATES = ("queued", "grading", "graded", "released", "superseded", "refused", "failed")
ACTIVE = ("queued", "grading", "graded")
TERMINAL = ("released", "superseded", "refused", "failed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,          -- the folder's name in the exchange's inbound
    learner TEXT NOT NULL,
    assignment TEXT NOT NULL,
    submitted_at REAL NOT NULL,         -- nbgrader's timestamp
    seen_at REAL NOT NULL,              -- when the service first saw it
    secret TEXT NOT NULL DEFAULT '',    -- nbgrader's submission secret: addresses its feedback
    state TEXT NOT NULL DEFAULT 'queued',
    not_before REAL,                    -- queued, but not to be graded before then
    wait_reason TEXT,                   -- why (cap, retry)
    attempts INTEGER NOT NULL DEFAULT 0,   -- gradings started
    failures INTEGER NOT NULL DEFAULT 0,   -- of them, failures of the grading machinery
    started_at REAL,                    -- when the grading that counted started
    graded_at REAL,
    release_at REAL,                    -- feedback held until then (after-due policy)
    released_at REAL,
    fingerprint TEXT,
    status TEXT,                        -- the verdict's kind: graded | broken | skipped
    verdict TEXT,
    score REAL,
    max_score REAL,
    penalty REAL,
    seconds REAL,                       -- the grading itself
    graded_by TEXT,                     -- 'grading service', or an earlier grader adopted
    feedback TEXT,                      -- JSON list of stored feedback files
    notice TEXT,                        -- what the learner should be told (received, waiting, …)
    notice_sent TEXT,                   -- what was published
    error TEXT
);
CREATE INDEX IF NOT EXISTS by_state ON submissions(state);
CREATE INDEX IF NOT EXISTS by_learner ON submissions(assignment, learner);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    submission INTEGER NOT NULL,
    at REAL NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS events_by_submission ON events(submission);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    started_at REAL NOT NULL,
    pid INTEGER NOT NULL,
    recovered INTEGER NOT NULL DEFAULT 0
);
"""


@dataclass(frozen=True)
class Entry:
    """A row of the ledger."""

    id: int
    name: str
    learner: str
    assignment: str
    submitted_at: float
    seen_at: float
    secret: str
    state: str
    not_before: float | None
    wait_reason: str | None
    attempts: int
    failures: int
    started_at: float | None
    graded_at: float | None
    release_at: float | None
    released_at: float | None
    fingerprint: str | None
    status: str | None
    verdict: str | None
    score: float | None
    max_score: float | None
    penalty: float | None
    seconds: float | None
    graded_by: str | None
    feedback: str | None
    notice: str | None
    notice_sent: str | None
    error: str | None

    @property
    def key(self) -> tuple[str, str]:
        return (self.assignment, self.learner)

    @property
    def feedback_files(self) -> list[str]:
        return list(json.loads(self.feedback)) if self.feedback else []

    @property
    def latency(self) -> float | None:
        """Submission to released feedback, in seconds (None until released)."""
        return None if self.released_at is None else self.released_at - self.submitted_at


class Ledger:
    """The durable queue at ``path`` (created when missing)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # one connection, used by one thread at a time (the service's start-up runs in a thread
        # while its page starts listening; ticks and pages then share the event loop's thread)
        self._db = sqlite3.connect(
            self.path, timeout=60, isolation_level=None, check_same_thread=False
        )
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a committed step survives a power cut
        self._db.execute("PRAGMA busy_timeout=60000")
        self._db.executescript(_SCHEMA)
        self.path.chmod(0o600)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic step: all of it is committed, or none."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- reading ------------------------------------------------------------------------------
    def _entries(self, where: str = "1", args: tuple[Any, ...] = (), tail: str = "") -> list[Entry]:
        rows = self._db.execute(f"SELECT * FROM submissions WHERE {where} {tail}", args).fetchall()
        return [Entry(**dict(r)) for r in rows]

    def get(self, entry_id: int) -> Entry:
        found = self._entries("id = ?", (entry_id,))
        if not found:
            raise KeyError(entry_id)
        return found[0]

    def by_name(self, name: str) -> Entry | None:
        found = self._entries("name = ?", (name,))
        return found[0] if found else None

    def entries(
        self, assignment: str | None = None, states: tuple[str, ...] = STATES
    ) -> list[Entry]:
        marks = ",".join("?" * len(states))
        if assignment is None:
            return self._entries(f"state IN ({marks})", states, "ORDER BY submitted_at, id")
        return self._entries(
            f"assignment = ? AND state IN ({marks})",
            (assignment, *states),
            "ORDER BY submitted_at, id",
        )

    def names(self) -> set[str]:
        return {r[0] for r in self._db.execute("SELECT name FROM submissions")}

    def assignments(self) -> list[str]:
        return [
            r[0] for r in self._db.execute("SELECT DISTINCT assignment FROM submissions ORDER BY 1")
        ]

    def events(self, entry_id: int) -> list[tuple[float, str, str]]:
        return [
            (r[0], r[1], r[2])
            for r in self._db.execute(
                "SELECT at, kind, detail FROM events WHERE submission = ? ORDER BY id", (entry_id,)
            )
        ]

    def started_times(self, assignment: str, learner: str, since: float) -> list[float]:
        """When this learner's gradings by the service started (the cap counts them)."""
        rows = self._db.execute(
            "SELECT started_at FROM submissions WHERE assignment = ? AND learner = ? "
            "AND started_at IS NOT NULL AND started_at > ? AND graded_by IS NOT 'adopted'",
            (assignment, learner, since),
        )
        return [r[0] for r in rows]

    def notices_due(self) -> list[Entry]:
        return self._entries("notice IS NOT NULL AND notice IS NOT notice_sent", (), "ORDER BY id")

    # -- writing (each a transaction) ---------------------------------------------------------
    @staticmethod
    def _event(db: sqlite3.Connection, entry_id: int, kind: str, detail: str = "") -> None:
        db.execute(
            "INSERT INTO events (submission, at, kind, detail) VALUES (?, ?, ?, ?)",
            (entry_id, time.time(), kind, detail),
        )

    def start_run(self, pid: int) -> int:
        """Record a start of the service; what a killed run was grading goes back to the queue.
        Returns how many submissions were put back."""
        with self.transaction() as db:
            cur = db.execute(
                "UPDATE submissions SET state = 'queued', started_at = NULL "
                "WHERE state = 'grading' RETURNING id"
            )
            back = [r[0] for r in cur.fetchall()]
            for entry_id in back:
                self._event(db, entry_id, "recovered", "the service stopped while grading it")
            db.execute(
                "INSERT INTO runs (started_at, pid, recovered) VALUES (?, ?, ?)",
                (time.time(), pid, len(back)),
            )
        return len(back)

    def add(
        self, name: str, learner: str, assignment: str, submitted_at: float, secret: str
    ) -> int | None:
        """A newly seen submission, queued; None when it was seen before."""
        now = time.time()
        with self.transaction() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO submissions "
                "(name, learner, assignment, submitted_at, seen_at, secret, notice) "
                "VALUES (?, ?, ?, ?, ?, ?, 'received')",
                (name, learner, assignment, submitted_at, now, secret),
            )
            if cur.rowcount == 0:
                return None
            entry_id = int(cur.lastrowid or 0)
            self._event(db, entry_id, "received")
        return entry_id

    def refuse(self, entry_id: int, reason: str) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE submissions SET state = 'refused', verdict = ?, notice = 'refused' "
                "WHERE id = ? AND state IN ('queued', 'grading')",
                (reason, entry_id),
            )
            self._event(db, entry_id, "refused", reason)

    def queued(self) -> list[Entry]:
        """Queued submissions, oldest first (``not_before`` says when each may start)."""
        return self._entries("state = 'queued'", (), "ORDER BY submitted_at, id")

    def in_flight(self) -> list[Entry]:
        return self._entries("state = 'grading'", (), "ORDER BY started_at")

    def supersede(self, entry_id: int, by: Entry) -> bool:
        with self.transaction() as db:
            cur = db.execute(
                "UPDATE submissions SET state = 'superseded', notice = 'superseded', "
                "verdict = ? WHERE id = ? AND state = 'queued'",
                (f"superseded by the submission of {by.name.split('+')[2]}", entry_id),
            )
            if cur.rowcount:
                self._event(db, entry_id, "superseded", by.name)
        return bool(cur.rowcount)

    def wait(self, entry_id: int, until: float, reason: str) -> None:
        """Keep a queued submission until ``until`` (over the cap: the learner is told)."""
        with self.transaction() as db:
            cur = db.execute(
                "UPDATE submissions SET not_before = ?, wait_reason = ?, notice_sent = NULL, "
                "notice = CASE WHEN ? = 'cap' THEN 'waiting' ELSE notice END "
                "WHERE id = ? AND state = 'queued' AND (not_before IS NOT ? OR wait_reason IS NOT ?)",
                (until, reason, reason, entry_id, until, reason),
            )
            if cur.rowcount:
                self._event(db, entry_id, "waiting", f"{reason} until {until:.0f}")

    def claim(self, entry_id: int) -> bool:
        """Start grading a queued submission (False when it is no longer queued)."""
        now = time.time()
        with self.transaction() as db:
            cur = db.execute(
                "UPDATE submissions SET state = 'grading', attempts = attempts + 1, "
                "started_at = ?, not_before = NULL, wait_reason = NULL "
                "WHERE id = ? AND state = 'queued'",
                (now, entry_id),
            )
            if cur.rowcount:
                self._event(db, entry_id, "grading")
        return bool(cur.rowcount)

    def finish(
        self,
        entry_id: int,
        outcome: Outcome,
        fingerprint: str,
        feedback: list[str],
        release_at: float | None,
        graded_by: str,
    ) -> None:
        """The verdict is recorded (in the gradebook and its marker); its feedback is stored."""
        now = time.time()
        held = release_at is not None and release_at > now
        with self.transaction() as db:
            db.execute(
                "UPDATE submissions SET state = 'graded', graded_at = ?, release_at = ?, "
                "fingerprint = ?, status = ?, verdict = ?, score = ?, max_score = ?, "
                "penalty = ?, seconds = ?, graded_by = ?, feedback = ?, error = NULL, "
                "notice = CASE WHEN ? THEN 'held' ELSE notice END "
                "WHERE id = ? AND state = 'grading'",
                (
                    now,
                    release_at,
                    fingerprint,
                    outcome.status,
                    outcome.verdict,
                    outcome.score,
                    outcome.max_score,
                    outcome.penalty,
                    outcome.seconds,
                    graded_by,
                    json.dumps(feedback),
                    held,
                    entry_id,
                ),
            )
            self._event(db, entry_id, "graded", f"{outcome.status}: {outcome.verdict}"[:500])

    def retry(self, entry_id: int, error: str, not_before: float) -> None:
        """The grading machinery failed (not the learner): queued again, after a pause."""
        with self.transaction() as db:
            db.execute(
                "UPDATE submissions SET state = 'queued', failures = failures + 1, error = ?, "
                "not_before = ?, wait_reason = 'retry', started_at = NULL "
                "WHERE id = ? AND state = 'grading'",
                (error[-2000:], not_before, entry_id),
            )
            self._event(db, entry_id, "retry", error[-500:])

    def give_up(self, entry_id: int, error: str) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE submissions SET state = 'failed', failures = failures + 1, error = ?, "
                "verdict = 'the grading machinery failed repeatedly', notice = 'failed' "
                "WHERE id = ? AND state IN ('grading', 'queued')",
                (error[-2000:], entry_id),
            )
            self._event(db, entry_id, "failed", error[-500:])

    def set_release(self, entry_id: int, release_at: float | None) -> None:
        """A held feedback's release time moved (an extension was granted or revoked)."""
        with self.transaction() as db:
            db.execute(
                "UPDATE submissions SET release_at = ?, notice_sent = NULL, "
                "notice = CASE WHEN ? THEN 'held' ELSE notice END "
                "WHERE id = ? AND state = 'graded'",
                (release_at, release_at is not None and release_at > time.time(), entry_id),
            )

    def mark_released(self, entry_id: int) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE submissions SET state = 'released', released_at = ?, notice = NULL, "
                "notice_sent = NULL WHERE id = ? AND state = 'graded'",
                (time.time(), entry_id),
            )
            self._event(db, entry_id, "released")

    def notice_sent(self, entry_id: int, notice: str) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE submissions SET notice_sent = ? WHERE id = ? AND notice = ?",
                (notice, entry_id, notice),
            )


def service_state(course_root: Path) -> Path:
    """The service's folder in a course (its ledger, its kept feedback): the instructor's only,
    and ignored by nbgrader (``.course-*``)."""
    return Path(course_root) / ".course-service"


def open_ledger(course_root: Path, state: Path | None = None) -> Ledger | None:
    """The service's ledger of the course, or None where the service never ran."""
    path = (state or service_state(course_root)) / "ledger.sqlite"
    return Ledger(path) if path.is_file() else None
