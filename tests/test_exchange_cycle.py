"""One week through nbgrader's exchange, with the ``course`` command on both sides:
learners submit (one of them late), the instructor collects, grades, writes and releases
feedback, learners fetch it; the late penalty follows the course's policy."""

from __future__ import annotations

import csv
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from grading_support import learner_notebook, make_course
from hypothesis import given
from hypothesis import strategies as st

from autograder.config import COURSE_ID
from autograder.grading.late import late_penalty

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

PS = "ps01_quaternions"
COURSE = str(Path(sys.executable).with_name("course"))


@given(
    score=st.floats(0, 100),
    late=st.floats(0, 40 * 86400),
    more=st.floats(0, 10 * 86400),
    per_day=st.floats(0, 100),
    cap=st.floats(0, 100),
    grace=st.floats(0, 120),
)
def test_late_penalty_properties(
    score: float, late: float, more: float, per_day: float, cap: float, grace: float
) -> None:
    p = late_penalty(score, late, per_day, cap, grace)
    assert 0 <= p <= score * cap / 100 + 1e-9  # never more than the cap
    assert (
        p <= late_penalty(score, late + more, per_day, cap, grace) + 1e-9
    )  # later never costs less
    if late <= 60 * grace:
        assert p == 0  # within the grace period
    assert late_penalty(score, 86400 * 1.5 + 60 * grace, 10, 50, grace) == pytest.approx(
        0.2 * score
    )


def course(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [COURSE, *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_submit_collect_grade_feedback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nbgrader.api import Gradebook

    from autograder.config import db_url
    from autograder.publish import exchange_release

    (tmp_path / "_toc.yml").write_text("")
    exchange = tmp_path / "exchange"
    env = {"COURSE_ROOT": str(tmp_path), "COURSE_EXCHANGE": str(exchange)}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    root = make_course(tmp_path, PS)
    exchange_release(root, PS)
    due = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(
        days=2, hours=12
    )  # 3 started days ago
    on_time = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=1)
    with Gradebook(db_url(root)) as gb:
        gb.update_or_create_assignment(PS, duedate=due)

    for learner, solved in (("alice", True), ("bob", False)):
        home = tmp_path / "home" / learner
        (home / PS).mkdir(parents=True)
        nbformat.write(learner_notebook(root, PS, solved=solved), home / PS / f"{PS}.ipynb")
        sub = course(
            "submit", PS, cwd=home, env={**env, "JUPYTERHUB_USER": learner, "HOME": str(home)}
        )
        assert sub.returncode == 0, sub.stderr
    assert len(list((exchange / COURSE_ID / "inbound").iterdir())) == 2

    collected = course("collect", "ps01", cwd=tmp_path, env=env)
    assert collected.returncode == 0 and "collected 2" in collected.stdout, collected.stderr
    graded = course("grade", "ps01", cwd=tmp_path, env=env)
    assert graded.returncode == 0, graded.stderr
    assert "36/36 (late −10.8)" in graded.stdout
    fb = course("feedback", "ps01", cwd=tmp_path, env=env)
    assert (
        fb.returncode == 0 and "feedback of 2 learner(s) released to the exchange" in fb.stdout
    ), fb.stderr

    alice_home = tmp_path / "home" / "alice"  # each learner has their own home (and nbgrader cache)
    fetched = course(
        "fetch-feedback",
        PS,
        cwd=alice_home,
        env={**env, "JUPYTERHUB_USER": "alice", "HOME": str(alice_home)},
    )
    assert fetched.returncode == 0, fetched.stderr
    html = list((tmp_path / "home" / "alice" / PS / "feedback").rglob("*.html"))
    assert len(html) == 1 and "Autograder report" in html[0].read_text()

    # alice was 2.5 days late: 3 started days × 10 % = 30 % of 36 points
    with Gradebook(db_url(root)) as gb:
        alice = gb.find_submission(PS, "alice")
        assert alice.score == 36.0 and alice.late_submission_penalty == pytest.approx(
            10.8
        )  # raw, penalty
        assert gb.find_submission(PS, "bob").score == 0.0
        gb.update_or_create_assignment(PS, duedate=on_time)
    out = course("export", "--to", str(tmp_path / "grades.csv"), cwd=tmp_path, env=env)
    assert out.returncode == 0
    rows = {r["student_id"]: r for r in csv.DictReader((tmp_path / "grades.csv").open())}
    assert float(rows["alice"]["late_submission_penalty"]) == pytest.approx(10.8)
    assert float(rows["alice"]["score"]) == pytest.approx(36 * 0.7)

    report = course("report", "ps01", cwd=tmp_path, env=env)
    assert report.returncode == 0, report.stderr
    lines = report.stdout.splitlines()
    assert (
        lines[0].startswith("part") and "50 %" in report.stdout
    )  # one of two learners passes each check


def test_collect_and_feedback_wait_for_a_grader_at_work_on_the_submission(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """nbgrader's collect replaces ``submitted/<learner>/<ps>/`` and its feedback
    ``feedback/<learner>/<ps>/``: while a grader (the grading service) holds that submission's
    lock, ``course collect`` and ``course feedback`` wait instead of working under it (a race
    the service's test once lost: FileExistsError)."""
    import time

    from autograder.grading.locking import submission_lock
    from autograder.publish import exchange_release

    (tmp_path / "_toc.yml").write_text("")
    env = {"COURSE_ROOT": str(tmp_path), "COURSE_EXCHANGE": str(tmp_path / "exchange")}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    root = make_course(tmp_path, PS)
    exchange_release(root, PS)
    home = tmp_path / "home" / "ada"
    (home / PS).mkdir(parents=True)
    nbformat.write(learner_notebook(root, PS), home / PS / f"{PS}.ipynb")
    sub = course("submit", PS, cwd=home, env={**env, "JUPYTERHUB_USER": "ada", "HOME": str(home)})
    assert sub.returncode == 0, sub.stderr

    def waits_for_the_lock(*command: str, made: Path) -> str:
        with submission_lock(root, "ada", PS):  # a grader at work on ada's submission
            running = subprocess.Popen(
                [COURSE, *command],
                cwd=tmp_path,
                env={**os.environ, **env},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            time.sleep(8)  # the command starts, finds ada's submission and waits for the lock
            assert running.poll() is None and not made.exists(), command
        out, err = running.communicate(timeout=300)
        assert running.returncode == 0, err
        return out

    assert "collected 1" in waits_for_the_lock("collect", PS, made=root / "submitted" / "ada" / PS)
    assert (root / "submitted" / "ada" / PS / f"{PS}.ipynb").is_file()
    graded = course("grade", PS, cwd=tmp_path, env=env)
    assert graded.returncode == 0, graded.stderr
    page = root / "feedback" / "ada" / PS / f"{PS}.html"
    waits_for_the_lock("feedback", PS, "--no-release", made=page)
    assert "Autograder report" in page.read_text()
