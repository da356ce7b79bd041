"""The grading service's rules, without grading: the schedule's ``grading_policy``, the cap per
hour, the release of held feedback, extensions, the durable queue's transitions (and what a
crash at any point leaves), what to grade next, the notices, the plot and the Canvas CSV."""

from __future__ import annotations

import csv
import datetime as dt
import sqlite3
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from autograder import schedule as sch
from autograder.grading.submissions import Outcome
from autograder.schedule.policy import GradingPolicy, describe_policy
from autograder.service.dispatch import plan
from autograder.service.feedback import feedback_address, notice_html, publish
from autograder.service.figures import percentile
from autograder.service.ledger import STATES, TERMINAL, Ledger
from autograder.service.plot import histogram_bins, histogram_svg
from autograder.service.policy import WINDOW, CoursePolicies, next_grading_at, release_at

GOOD = """\
    timezone: America/Vancouver
    grading_policy: {feedback: instant, per_hour: 4}
    meetings:
      - {slug: 2022-02-04-a, kind: meeting, date: 2022-02-04, start: "09:00", topic: A}
    problem_sets:
      - id: ps01_a
        title: A
        meetings: [2022-02-04]
        release: "2022-02-04 09:00"
        due: "2022-02-11 23:59"
      - id: ps02_b
        title: B
        meetings: [2022-02-04]
        release: "2022-02-04 09:00"
        due: "2022-02-11 23:59"
        grading_policy: {feedback: after-due}
"""


def _schedule(tmp_path: Path, text: str = GOOD) -> Path:
    path = tmp_path / "schedule.yml"
    path.write_text(textwrap.dedent(text))
    return path


# -- the schedule's grading_policy -----------------------------------------------------------------
def test_policy_is_read_per_problem_set_over_the_default(tmp_path: Path) -> None:
    s = sch.load_schedule(_schedule(tmp_path))
    assert s.problem_set("ps01_a").grading_policy == GradingPolicy("instant", 4)
    # per problem set, key by key over the default: the cap is inherited
    assert s.problem_set("ps02_b").grading_policy == GradingPolicy("after-due", 4)
    bare = sch.load_schedule(
        _schedule(
            tmp_path, GOOD.replace("    grading_policy: {feedback: instant, per_hour: 4}\n", "")
        )
    )
    assert bare.problem_set("ps01_a").grading_policy == GradingPolicy("instant", None)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("feedback: instant", "feedback: weekly", "feedback must be one of"),
        ("per_hour: 4", "per_hour: 0", "per_hour must be a positive integer"),
        ("per_hour: 4", "per_hour: 2.5", "per_hour must be a positive integer"),
        ("per_hour: 4", "per_minute: 4", "unknown grading_policy setting 'per_minute'"),
        (
            "{feedback: after-due}",
            "after-due",
            r"problem_sets\[1\] \(ps02_b\): grading_policy must be a mapping",
        ),
    ],
)
def test_a_bad_policy_is_refused_naming_where(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert old in GOOD
    with pytest.raises(sch.ScheduleError, match=message):
        sch.load_schedule(_schedule(tmp_path, GOOD.replace(old, new)))


def test_the_courses_schedule_has_a_policy_for_every_problem_set_and_shows_it() -> None:
    s = sch.load_schedule()
    for ps in s.problem_sets:
        md = sch.problem_set_header_markdown(s, ps, "http://hub/x", True)
        assert f"- **Feedback:** {describe_policy(ps.grading_policy)}" in md
        assert "your latest submission counts" in md


def test_the_description_says_what_the_policy_does() -> None:
    assert "a minute or two" in describe_policy(GradingPolicy("instant"))
    text = describe_policy(GradingPolicy("after-due", 3))
    assert "released at the due date" in text and "at most 3 submissions graded per hour" in text
    assert "at most 1 submission graded" in describe_policy(GradingPolicy("instant", 1))


# -- the cap -----------------------------------------------------------------------------------------
@given(
    started=st.lists(st.floats(0, 3 * WINDOW, allow_nan=False), max_size=12),
    cap=st.integers(1, 6),
    now=st.floats(0, 3 * WINDOW, allow_nan=False),
)
def test_the_cap_waits_exactly_until_the_hour_allows(
    started: list[float], cap: int, now: float
) -> None:
    started = [t for t in started if t <= now]
    when = next_grading_at(started, cap, now)

    def in_window(t: float) -> int:
        return sum(1 for s in started if s <= t < s + WINDOW)

    if when is None:
        assert in_window(now) < cap
    else:
        assert in_window(now) >= cap and when > now
        assert in_window(when) < cap  # allowed then …
        assert in_window(when - 1e-6) >= cap or when - 1e-6 <= now  # … and not a moment before
    assert next_grading_at(started, None, now) is None


def test_release_time_follows_the_policy_and_the_extension() -> None:
    due = dt.datetime(2022, 2, 11, 23, 59, tzinfo=dt.UTC)
    later = due + dt.timedelta(days=3)
    assert release_at(GradingPolicy("instant"), due, later) is None
    assert release_at(GradingPolicy("after-due"), due, None) == due.timestamp()
    assert release_at(GradingPolicy("after-due"), due, later) == later.timestamp()
    # an extension never releases earlier than the problem set's due date
    assert (
        release_at(GradingPolicy("after-due"), due, due - dt.timedelta(days=1)) == due.timestamp()
    )
    assert release_at(GradingPolicy("after-due"), None, None) is None


# -- extensions ------------------------------------------------------------------------------------
def test_extensions_round_trip_and_are_private(tmp_path: Path) -> None:
    until = sch.parse_until("2022-02-14 09:00", "America/Vancouver")
    assert until.utcoffset() == dt.timedelta(hours=-8)
    assert sch.set_extension(tmp_path, "ps01_a", "ada", until) is None
    assert sch.extension_until(tmp_path, "ps01_a", "ada") == until
    assert sch.extension_until(tmp_path, "ps01_a", "ben") is None
    path = tmp_path / sch.EXTENSIONS_FILE
    assert path.stat().st_mode & 0o077 == 0  # learners' names: the instructor's only
    later = sch.parse_until("2022-02-15", "America/Vancouver")
    assert (later.hour, later.minute) == (23, 59)
    assert sch.set_extension(tmp_path, "ps01_a", "ada", later) == until
    assert sch.load_extensions(tmp_path) == {"ps01_a": {"ada": later}}
    sch.set_extension(tmp_path, "ps01_a", "ada", None)
    assert sch.load_extensions(tmp_path) == {}
    with pytest.raises(sch.ExtensionError):
        sch.parse_until("next tuesday", "UTC")


def test_course_policies_read_the_schedule_and_the_extensions(tmp_path: Path) -> None:
    root = tmp_path / "assignments"
    root.mkdir()
    (tmp_path / "book").mkdir()
    _schedule(tmp_path / "book")
    policies = CoursePolicies(root)
    policies._dues_at = time.monotonic() + 1e9  # no gradebook in this course: the schedule's dates
    assert policies.policy("ps02_b").after_due and policies.policy("ps01_a").per_hour == 4
    due = policies.due("ps02_b")
    assert due is not None and due.tzinfo is not None
    assert policies.release_at("ps02_b", "ada") == due.timestamp()
    until = due + dt.timedelta(days=2)
    sch.set_extension(root, "ps02_b", "ada", until)
    assert policies.release_at("ps02_b", "ada") == until.timestamp()
    assert policies.release_at("ps02_b", "ben") == due.timestamp()
    assert policies.policy("ps99_unknown") == GradingPolicy()


# -- the ledger ------------------------------------------------------------------------------------
def _outcome(learner: str = "ada") -> Outcome:
    return Outcome(learner, "graded", "graded", 30.0, 36.0)


def test_the_ledger_is_sqlite_in_wal_mode_private_to_the_instructor(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "state" / "ledger.sqlite")
    assert ledger.add("ada+ps01+t1+x", "ada", "ps01", 1.0, "s") is not None
    assert ledger.add("ada+ps01+t1+x", "ada", "ps01", 1.0, "s") is None  # seen once
    ledger.close()
    con = sqlite3.connect(tmp_path / "state" / "ledger.sqlite")
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert (tmp_path / "state" / "ledger.sqlite").stat().st_mode & 0o077 == 0


class LedgerWithCrashes(RuleBasedStateMachine):
    """Random arrivals, gradings, failures, releases — and kills at any point, after which the
    service starts again on the same file. Whatever happens: no submission is lost, each is in
    one state, a finished grading is never undone, a terminal state is final."""

    def __init__(self) -> None:
        super().__init__()
        import tempfile

        self.dir = Path(tempfile.mkdtemp(prefix="ledger-"))
        self.ledger = Ledger(self.dir / "ledger.sqlite")
        self.ledger.start_run(1)
        self.names: list[str] = []
        self.graded: set[int] = set()
        self.terminal: dict[int, str] = {}
        self.clock = 0.0

    @rule(learner=st.sampled_from(["ada", "ben", "cy"]))
    def arrive(self, learner: str) -> None:
        self.clock += 1
        name = f"{learner}+ps01+{self.clock}+r"
        self.ledger.add(name, learner, "ps01", self.clock, "secret")
        self.names.append(name)

    @rule(data=st.data())
    def claim_one(self, data: st.DataObject) -> None:
        queued = self.ledger.queued()
        if queued:
            entry = data.draw(st.sampled_from(queued))
            assert self.ledger.claim(entry.id)
            assert not self.ledger.claim(entry.id)  # a claim happens once

    @rule(data=st.data(), fail=st.booleans())
    def finish_one(self, data: st.DataObject, fail: bool) -> None:
        running = self.ledger.in_flight()
        if not running:
            return
        entry = data.draw(st.sampled_from(running))
        if fail:
            self.ledger.retry(entry.id, "machinery", self.clock + 5)
        else:
            self.ledger.finish(entry.id, _outcome(entry.learner), "fp", [], None, "grading service")
            self.graded.add(entry.id)

    @rule(data=st.data())
    def release_one(self, data: st.DataObject) -> None:
        graded = self.ledger.entries(states=("graded",))
        if graded:
            self.ledger.mark_released(data.draw(st.sampled_from(graded)).id)

    @rule(data=st.data())
    def supersede_or_refuse(self, data: st.DataObject) -> None:
        queued = self.ledger.queued()
        if len(queued) >= 2:
            older, newer = queued[0], queued[-1]
            self.ledger.supersede(older.id, newer)
        elif queued:
            self.ledger.refuse(queued[0].id, "not theirs")

    @rule()
    def crash_and_restart(self) -> None:
        # SIGKILL between transactions: the file is all there is; a new process opens it
        self.ledger.close()
        self.ledger = Ledger(self.dir / "ledger.sqlite")
        self.ledger.start_run(2)
        assert not self.ledger.in_flight()  # what was being graded is queued again

    @invariant()
    def nothing_lost_nothing_undone(self) -> None:
        entries = {e.name: e for e in self.ledger.entries()}
        assert set(entries) == set(self.names)
        for e in entries.values():
            assert e.state in STATES
            if e.id in self.graded:
                assert e.state in ("graded", "released") and e.status == "graded"
            if e.id in self.terminal:
                assert e.state == self.terminal[e.id]
            if e.state in TERMINAL:
                self.terminal[e.id] = e.state


TestLedgerWithCrashes = LedgerWithCrashes.TestCase
TestLedgerWithCrashes.settings = settings(max_examples=30, stateful_step_count=30, deadline=None)


def test_a_killed_transaction_leaves_the_step_undone(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite")
    entry_id = ledger.add("ada+ps01+t+x", "ada", "ps01", 1.0, "s")
    assert entry_id is not None
    with pytest.raises(RuntimeError), ledger.transaction() as db:
        db.execute("UPDATE submissions SET state = 'grading' WHERE id = ?", (entry_id,))
        raise RuntimeError("killed mid-step")
    assert ledger.get(entry_id).state == "queued"


# -- what to grade next ----------------------------------------------------------------------------
def test_dispatch_grades_the_latest_one_at_a_time_under_the_cap(tmp_path: Path) -> None:
    root = tmp_path / "assignments"
    root.mkdir()
    (tmp_path / "book").mkdir()
    _schedule(tmp_path / "book", GOOD.replace("per_hour: 4", "per_hour: 2"))
    policies = CoursePolicies(root)
    policies._dues_at = time.monotonic() + 1e9
    ledger = Ledger(tmp_path / "l.sqlite")
    now = time.time()
    ids = [ledger.add(f"ada+ps01_a+{i}+x", "ada", "ps01_a", now + i, "s") for i in range(3)]
    ben = ledger.add("ben+ps01_a+0+x", "ben", "ps01_a", now, "s")
    d = plan(ledger, policies, now, free=4)
    # ada's two older submissions are superseded by her latest; ben's and ada's latest start
    assert {(o.id, n.id) for o, n in d.superseded} == {(ids[0], ids[2]), (ids[1], ids[2])}
    assert [e.id for e in d.start] == [ben, ids[2]]
    assert plan(ledger, policies, now, free=1).start[0].id == ben  # oldest first
    for o, n in d.superseded:
        ledger.supersede(o.id, n)
    for e in d.start:
        ledger.claim(e.id)
    ada4 = ledger.add("ada+ps01_a+9+x", "ada", "ps01_a", now + 9, "s")
    assert plan(ledger, policies, now, free=4).start == []  # her previous one is still grading
    ledger.finish(ids[2], _outcome(), "fp", [], None, "grading service")
    assert [e.id for e in plan(ledger, policies, now, free=4).start] == [ada4]
    ledger.claim(ada4)
    ledger.finish(ada4, _outcome(), "fp", [], None, "grading service")
    # two graded within the hour: a third waits until the first of them is an hour old
    ada5 = ledger.add("ada+ps01_a+10+x", "ada", "ps01_a", now + 10, "s")
    d = plan(ledger, policies, time.time(), free=4)
    assert d.start == [] and [(e.id, r) for e, _, r in d.waits] == [(ada5, "cap")]
    first = min(ledger.get(i).started_at or 0 for i in (ids[2], ada4))
    assert d.waits[0][1] == pytest.approx(first + WINDOW)
    assert [e.id for e in plan(ledger, policies, first + WINDOW + 1, free=4).start] == [ada5]


# -- feedback and notices --------------------------------------------------------------------------
def test_feedback_goes_where_nbgrader_looks_for_it(tmp_path: Path) -> None:
    from nbgrader.utils import notebook_hash

    dest = publish(tmp_path / "feedback", "s3cret", "ps01", b"<html>x</html>")
    assert (
        dest == tmp_path / "feedback" / f"{notebook_hash(secret='s3cret', notebook_id='ps01')}.html"
    )
    assert dest == feedback_address(tmp_path / "feedback", "s3cret", "ps01")
    assert dest.stat().st_mode & 0o777 == 0o644 and dest.read_bytes() == b"<html>x</html>"
    assert [p.name for p in (tmp_path / "feedback").iterdir()] == [dest.name]  # no leftovers


@pytest.mark.parametrize("kind", ["received", "waiting", "held", "superseded", "refused", "failed"])
def test_every_notice_names_its_kind_and_the_time_in_the_courses_zone(kind: str) -> None:
    moment = dt.datetime(2022, 2, 4, 18, 30, tzinfo=dt.UTC).timestamp()
    page = notice_html(
        kind,
        assignment="ps01",
        submitted_at=moment,
        tz="America/Vancouver",
        until=moment + 3600,
        cap=3,
        reason="submitted by ben, not by ada",
        later="2022-02-04 18:45",
    ).decode()
    assert f"data-kind='{kind}'" in page and "10:30 PST (18:30 UTC)" in page
    if kind in ("waiting", "held"):
        assert "11:30 PST (19:30 UTC)" in page
    assert "<script" not in page


# -- figures ---------------------------------------------------------------------------------------
@given(st.lists(st.floats(0, 1000, allow_nan=False), min_size=1, max_size=60))
def test_percentiles_by_nearest_rank(values: list[float]) -> None:
    p95 = percentile(values, 95)
    assert p95 in values
    assert sum(v <= p95 for v in values) >= 0.95 * len(values)
    assert sum(v < p95 for v in values) < 0.95 * len(values)
    assert percentile(values, 100) == max(values)


@given(st.lists(st.floats(0, 36, allow_nan=False), max_size=80), st.integers(1, 20))
def test_histogram_counts_every_score_once(values: list[float], bins: int) -> None:
    counts = histogram_bins(values, 36.0, bins)
    assert len(counts) == bins and sum(counts) == len(values)
    svg = histogram_svg(values, 36.0, "ps01", bins)
    assert svg.count('class="bar"') == bins
    assert [int(c) for c in __import__("re").findall(r'data-count="(\d+)"', svg)] == counts


# -- Canvas ----------------------------------------------------------------------------------------
def test_canvas_csv_has_canvas_columns_points_and_net_scores(tmp_path: Path) -> None:
    from nbgrader.api import Gradebook

    from autograder.config import db_url
    from autograder.feedback.canvas import CANVAS_COLUMNS, export_canvas

    root = tmp_path / "assignments"
    root.mkdir()
    with Gradebook(db_url(root)) as gb:
        for ps in ("ps01_a", "ps02_b"):
            gb.add_assignment(ps)
            gb.add_notebook(ps, ps)
            gb.add_grade_cell("c1", ps, ps, max_score=10, cell_type="code")
        gb.add_student("ada", first_name="Ada", last_name="Lovelace")
        gb.add_student("ben")
        gb.add_student("cy")
        for who, points, penalty in (("ada", 8, 2), ("cy", 3, 5)):
            gb.add_submission("ps01_a", who, timestamp="2022-02-12 10:00:00 UTC")
            gb.find_grade("c1", "ps01_a", "ps01_a", who).auto_score = points
            gb.find_submission_notebook("ps01_a", "ps01_a", who).late_submission_penalty = penalty
        gb.add_submission("ps02_b", "ben")  # no timestamp: made for an extension, not submitted
        gb.db.commit()
    out = export_canvas(root, tmp_path / "grades-canvas.csv")
    rows = list(csv.reader(out.open()))
    assert rows[0] == [*CANVAS_COLUMNS, "ps01_a", "ps02_b"]
    assert rows[1][0].strip() == "Points Possible" and rows[1][5:] == ["10", "10"]
    by_login = {r[3]: r for r in rows[2:]}
    assert by_login["ada"][:5] == ["Lovelace, Ada", "", "", "ada", ""]
    assert by_login["ada"][5:] == ["6", ""]  # 8 less a late penalty of 2; ps02_b not submitted
    assert by_login["cy"][5] == "0"  # never below zero
    assert by_login["ben"][0] == "ben" and by_login["ben"][5:] == ["", ""]
