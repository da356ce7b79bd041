"""The grading service with real processes: ``python -m autograder.service serve`` on a course,
learners submitting through nbgrader's exchange (the learners' own submit, each with their own
nbgrader cache) and fetching their feedback, the service killed with SIGKILL mid-grading and
started again, the instructor's batch ``course grade`` running at the same time, bad and hostile
submissions, the grading policy's caps and held feedback, and extensions.

"Graded exactly once" is read from the journal of gradings (``autograder.grading.journal``): one
line per grading that recorded a verdict, by whichever grader.
"""

from __future__ import annotations

import collections
import contextlib
import csv
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from grading_support import append_to, learner_notebook
from service_support import ServiceCourse, is_feedback, notice_kind, wait_for

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

PS = "ps01_quaternions"
#: Limits for a loaded 2-core host: a correct notebook must not time out, a loop must.
LIMITS = {"cell_timeout": 20.0, "part_timeout": 45.0, "notebook_timeout": 150.0, "max_restarts": 3}
COURSE = str(Path(sys.executable).with_name("course"))
GRADING = 600  # seconds allowed for a handful of gradings on a loaded machine
FORK_BOMB = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"


@pytest.fixture
def service(tmp_path: Path) -> Iterator[ServiceCourse]:
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed")
    course = ServiceCourse(tmp_path, overrides=dict(LIMITS))
    try:
        yield course
    finally:
        course.cleanup()
        print(course.log_tail(6000))


def _released(course: ServiceCourse, n: int) -> bool:
    states = course.states()
    return len(states) >= n and all(
        s in ("released", "superseded", "refused") for s in states.values()
    )


def _graded_once(course: ServiceCourse) -> collections.Counter[str]:
    """fingerprint → gradings in the journal; asserts none was graded twice."""
    counts = collections.Counter(e["fingerprint"] for e in course.journal())
    twice = {fp: n for fp, n in counts.items() if n > 1}
    assert not twice, f"graded more than once: {twice}\n{course.journal()}"
    return counts


def _course_cmd(course: ServiceCourse, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [COURSE, *args],
        cwd=course.repo,
        env={**os.environ, **course.env},
        capture_output=True,
        text=True,
        timeout=1200,
    )


def _descendants(pid: int) -> list[int]:
    """Every process whose ancestry leads to ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parents.items() if pp == p]
        found += kids
        frontier += kids
    return found


def test_learners_submit_and_each_gets_feedback(service: ServiceCourse) -> None:
    service.start()
    root = service.root
    wrong = append_to(
        learner_notebook(root, PS),
        "quat_multiply",
        "def quat_multiply(p, q):\n    return p * q  # elementwise: not the Hamilton product",
    )
    learners = {
        "ada": learner_notebook(root, PS),
        "ben": learner_notebook(root, PS, solved=False),
        "cy": wrong,
    }
    t0 = time.time()
    stamps = {name: service.submit(name, nb) for name, nb in learners.items()}
    # right away, Fetch Feedback finds the service's notice: received, being graded
    pages = wait_for(lambda: service.fetch("ada"), 60, say="ada's notice")
    assert notice_kind(pages[stamps["ada"]]) == "received" or is_feedback(pages[stamps["ada"]])
    wait_for(lambda: _released(service, 3), GRADING, 2, "three released")
    print(f"three learners' feedback released {time.time() - t0:.0f} s after they submitted")
    scores = {}
    for name in learners:
        pages = service.fetch(name)
        assert set(pages) == {stamps[name]}, pages.keys()  # feedback for that very submission
        assert is_feedback(pages[stamps[name]])
    for e in service.entries():
        scores[e.learner] = (e.status, e.score, e.max_score)
        assert e.graded_by == "grading service" and e.latency is not None and e.latency > 0
    assert scores["ada"] == ("graded", 36.0, 36.0)
    assert scores["ben"] == ("graded", 0.0, 36.0)
    assert scores["cy"][0] == "graded" and 0 < scores["cy"][1] < 36
    assert len(_graded_once(service)) == 3
    # the gradebook is nbgrader's: the instructor's batch finds everything graded
    graded = _course_cmd(service, "grade", PS, "--quiet")
    assert graded.returncode == 0, graded.stderr
    assert "3 skipped" in graded.stdout, graded.stdout
    report = _course_cmd(service, "report", PS)
    assert report.returncode == 0, report.stderr
    assert "submission → feedback over 3 released" in report.stdout, report.stdout
    assert "scores of 3 learner(s)" in report.stdout
    assert "3 released" in report.stdout
    # what the service graded, `course export` writes for nbgrader and for Canvas
    out = service.tmp / "grades.csv"
    exported = _course_cmd(service, "export", "--to", str(out))
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.reader(out.with_name("grades-canvas.csv").open()))
    assert rows[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    column = rows[0].index(PS)
    assert rows[1][0].strip() == "Points Possible" and rows[1][column] == "36"
    canvas = {r[3]: r[column] for r in rows[2:]}
    assert {k: float(v) for k, v in canvas.items()} == {
        name: score for name, (_, score, _) in scores.items()
    }


def test_sigkill_mid_grading_then_restart_loses_nothing_and_grades_once(
    service: ServiceCourse,
) -> None:
    service.workers = 2
    service.start()
    names = [f"l{i}" for i in range(4)]
    for i, name in enumerate(names):
        service.submit(name, learner_notebook(service.root, PS, solved=i % 2 == 0))
    # kill while gradings run: the sandboxes and grading processes must go with the service
    wait_for(lambda: "grading" in service.states().values(), GRADING, 0.2, "a grading")
    time.sleep(3)
    assert service.proc is not None
    pid = service.proc.pid
    workers = _descendants(pid)
    assert workers, "the service has no grading processes"
    service.kill()
    wait_for(lambda: not any(Path(f"/proc/{p}").exists() for p in workers), 30, 0.5, "workers gone")
    before = service.states()
    # a submission arrives while the service is down
    service.submit("late-comer", learner_notebook(service.root, PS))
    service.start()
    # kill again, just after a grading finished this time (its verdict recorded, maybe its
    # feedback not yet released)
    wait_for(
        lambda: any(s in ("graded", "released") for s in service.states().values()),
        GRADING,
        0.2,
        "a finished grading",
    )
    service.kill()
    service.start()
    wait_for(lambda: _released(service, 5), GRADING, 2, "all five released")
    states = service.states()
    assert set(before) <= set(states) and len(states) == 5  # nothing lost
    assert all(s == "released" for s in states.values()), states
    counts = _graded_once(service)
    # every submission's verdict was recorded exactly once (by whichever run graded it)
    assert len(counts) == 5 and set(counts.values()) == {1}
    for name in [*names, "late-comer"]:
        pages = service.fetch(name)
        assert len(pages) == 1 and is_feedback(next(iter(pages.values()))), name
    recovered = [e for e in service.entries() if e.attempts > 1]
    assert recovered, "no grading was interrupted: the test did not test a crash"


def test_the_instructors_batch_at_the_same_time_never_grades_one_twice(
    service: ServiceCourse,
) -> None:
    service.workers = 1
    service.start()
    names = [f"m{i}" for i in range(4)]
    for i, name in enumerate(names):
        service.submit(name, learner_notebook(service.root, PS, solved=i % 2 == 1))
    wait_for(lambda: "grading" in service.states().values(), GRADING, 0.2, "a grading")
    # the instructor collects and grades by hand while the service grades
    collected = _course_cmd(service, "collect", PS)
    assert collected.returncode == 0, collected.stderr
    batch = _course_cmd(service, "grade", PS, "--workers", "2", "--quiet")
    assert batch.returncode == 0, batch.stderr + batch.stdout
    wait_for(lambda: _released(service, 4), GRADING, 2, "four released")
    counts = _graded_once(service)
    assert len(counts) == 4
    by = collections.Counter(e["by"] for e in service.journal())
    assert sum(by.values()) == 4, by
    adopted = [e for e in service.entries() if e.graded_by == "adopted"]
    assert len(adopted) == by["course grade"]  # what the batch graded, the service adopted
    for name in names:
        assert any(is_feedback(p) for p in service.fetch(name).values()), name
    again = _course_cmd(service, "grade", PS, "--quiet")
    assert "4 skipped" in again.stdout, again.stdout


def test_bad_and_hostile_submissions_get_their_verdict_and_never_stop_it(
    service: ServiceCourse,
) -> None:
    import pwd

    root = service.root
    # a folder in inbound that names a learner with an account here but belongs to another
    # (made before the service looks: a folder of root's, the instructor's, would be accepted)
    nobody = pwd.getpwnam("nobody")
    stamp = service.submit("nobody", learner_notebook(root, PS))
    forged = next(p for p in service.inbound() if p.name.startswith("nobody+"))
    os.chown(forged, 1, 1)  # daemon's, not nobody's
    assert nobody.pw_uid != 1
    # a folder made by hand in inbound (writable by every learner) holding a FIFO, which would
    # block a copy forever
    piped = service.inbound_folder("piper", learner_notebook(root, PS))
    os.mkfifo(piped / "pipe")
    service.seal(piped)
    service.start()
    service.submit("notjson", b"this is not a notebook {")
    looping = (
        "def quat_multiply(p, q):\n    while True:\n        pass"  # the part's checks time out
    )
    service.submit("looper", append_to(learner_notebook(root, PS), "quat_multiply", looping))
    service.submit("fork-bomb", append_to(learner_notebook(root, PS), "quat_multiply", FORK_BOMB))
    service.submit("fine", learner_notebook(root, PS))
    wait_for(lambda: _released(service, 6), GRADING, 2, "every verdict")
    assert service.alive()
    entries = {e.learner: e for e in service.entries()}
    assert entries["notjson"].status == "broken" and entries["notjson"].score == 0
    assert entries["looper"].status == "graded" and entries["looper"].score == 32.0
    assert entries["fork-bomb"].status == "graded" and entries["fork-bomb"].score is not None
    assert entries["nobody"].state == "refused" and "not by nobody" in (
        entries["nobody"].verdict or ""
    )
    assert entries["piper"].state == "refused" and "pipe is not a regular file" in (
        entries["piper"].verdict or ""
    )
    assert entries["fine"].score == 36.0
    assert notice_kind(service.fetch("nobody")[stamp]) == "refused"
    for name in ("notjson", "looper", "fork-bomb", "fine"):
        assert any(is_feedback(p) for p in service.fetch(name).values()), name


SCHEDULE = """\
    timezone: UTC
    grading_policy: {{feedback: after-due, per_hour: 1}}
    meetings:
      - {{slug: 2022-02-04-a, kind: meeting, date: 2022-02-04, start: "09:00", topic: A}}
    problem_sets:
      - id: ps01_quaternions
        title: Quaternions
        meetings: [2022-02-04]
        release: "2022-02-04 09:00"
        due: "{due}"
"""


def _set_due(course: ServiceCourse, due: dt.datetime) -> None:
    """The instructor moves the due date: in the schedule and in the gradebook (as
    ``course release`` puts it there)."""
    from nbgrader.api import Gradebook

    from autograder.config import db_url

    text = textwrap.dedent(SCHEDULE.format(due=f"{due:%Y-%m-%d %H:%M}"))
    (course.repo / "book" / "schedule.yml").write_text(text)
    with Gradebook(db_url(course.root)) as gb:
        gb.update_or_create_assignment(PS, duedate=due.astimezone(dt.UTC).replace(tzinfo=None))


def test_policy_after_due_cap_and_extensions(tmp_path: Path) -> None:
    from nbgrader.api import Gradebook

    from autograder.config import db_url

    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed")
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    tomorrow = now + dt.timedelta(days=1)
    course = ServiceCourse(
        tmp_path,
        schedule=textwrap.dedent(SCHEDULE.format(due=f"{tomorrow:%Y-%m-%d %H:%M}")),
        overrides=dict(LIMITS),
    )
    try:
        _set_due(course, tomorrow)
        course.start()
        root = course.root
        # before the due date: graded on arrival, feedback held; a second one within the hour
        # waits for the cap, and the learner is told until when
        first = course.submit("ada", learner_notebook(root, PS, solved=False))
        wait_for(lambda: "graded" in course.states().values(), GRADING, 1, "ada graded")
        second = course.submit("ada", learner_notebook(root, PS))
        pages = wait_for(
            lambda: (
                (p := course.fetch("ada"))
                and second in p
                and notice_kind(p[second]) == "waiting"
                and p
            ),
            120,
            say="ada told to wait",
        )
        assert notice_kind(pages[first]) == "held"
        entries = {e.name.split("+")[2]: e for e in course.entries()}
        held, waiting = entries[first], entries[second]
        assert held.state == "graded" and held.release_at == pytest.approx(tomorrow.timestamp())
        assert waiting.state == "queued" and waiting.wait_reason == "cap"
        assert waiting.not_before == pytest.approx((held.started_at or 0) + 3600)
        assert (
            str((dt.datetime.fromtimestamp(waiting.not_before or 0, dt.UTC)).strftime("%H:%M"))
            in pages[second]
        )
        # ben has an extension: his feedback is held until it ends
        until = now + dt.timedelta(days=3)
        ext = _course_cmd(
            course, "extend", "ps01", "ben", "--until", until.strftime("%Y-%m-%dT%H:%M+00:00")
        )
        assert ext.returncode == 0 and "ben may submit" in ext.stdout, ext.stderr
        listed = _course_cmd(course, "extend", "ps01")
        assert "ben: until" in listed.stdout
        # the due date passes (the instructor moves it to an hour ago): ada's held feedback is
        # released; ben and cy submit late — ben within his extension, cy not
        _set_due(course, now - dt.timedelta(hours=1))
        wait_for(lambda: is_feedback(course.fetch("ada").get(first, "")), 120, 1, "ada's feedback")
        ben = course.submit("ben", learner_notebook(root, PS))
        cy = course.submit("cy", learner_notebook(root, PS))
        wait_for(lambda: is_feedback(course.fetch("cy").get(cy, "")), GRADING, 2, "cy's feedback")
        wait_for(
            lambda: notice_kind(course.fetch("ben").get(ben, "")) == "held", GRADING, 2, "ben held"
        )
        with Gradebook(db_url(root)) as gb:
            assert gb.find_submission(PS, "cy").late_submission_penalty == pytest.approx(3.6)
            ben_sub = gb.find_submission(PS, "ben")
            assert ben_sub.extension is not None and ben_sub.late_submission_penalty == 0
        ben_entry = next(e for e in course.entries() if e.learner == "ben")
        assert ben_entry.release_at == pytest.approx(until.timestamp())
        # the extension is revoked: ben's penalty is recomputed and his feedback released now
        revoked = _course_cmd(course, "extend", "ps01", "ben", "--revoke")
        assert revoked.returncode == 0 and "late penalty" in revoked.stdout, revoked.stdout
        with Gradebook(db_url(root)) as gb:
            assert gb.find_submission(PS, "ben").late_submission_penalty == pytest.approx(3.6)
        wait_for(lambda: is_feedback(course.fetch("ben").get(ben, "")), 120, 1, "ben's feedback")
        assert course.alive()
        assert len(_graded_once(course)) == 3  # ada's first, ben, cy; ada's second still waits
    finally:
        course.cleanup()
        print(course.log_tail(6000))


def test_the_service_grades_on_a_dask_cluster(tmp_path: Path) -> None:
    from distributed import LocalCluster

    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed")
    course = ServiceCourse(tmp_path, overrides=dict(LIMITS))
    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=40,
    ) as cluster:
        try:
            course.start("--scheduler", cluster.scheduler_address)
            for i in range(3):
                course.submit(f"d{i}", learner_notebook(course.root, PS, solved=i != 1))
            wait_for(lambda: _released(course, 3), GRADING, 2, "three released on Dask")
            assert {e.learner: e.score for e in course.entries()} == {
                "d0": 36.0,
                "d1": 0.0,
                "d2": 36.0,
            }
            assert len(_graded_once(course)) == 3
        finally:
            course.cleanup()
            print(course.log_tail(4000))


def test_sigterm_stops_the_service_and_its_graders(service: ServiceCourse) -> None:
    service.start()
    service.submit("t0", learner_notebook(service.root, PS))
    wait_for(lambda: "grading" in service.states().values(), GRADING, 0.2, "a grading")
    assert service.proc is not None
    kids = _descendants(service.proc.pid)
    service.proc.send_signal(signal.SIGTERM)
    assert service.proc.wait(60) == 0
    wait_for(lambda: not any(Path(f"/proc/{p}").exists() for p in kids), 30, 0.5, "graders gone")
    assert "Traceback" not in service.log_tail(100000), service.log_tail(6000)  # a quiet stop


#: Starts its arguments in a session of their own, as the hub starts a managed service, writes
#: the child's pid to the file named first, and waits for it.
HUB_LIKE_PARENT = (
    "import subprocess, sys\n"
    "p = subprocess.Popen(sys.argv[2:], start_new_session=True)\n"
    "open(sys.argv[1], 'w').write(str(p.pid))\n"
    "p.wait()"
)


def test_a_service_started_with_exit_with_parent_stops_when_its_starter_is_killed(
    service: ServiceCourse,
) -> None:
    """The hub passes ``--exit-with-parent``: a hub SIGKILLed before it could stop its
    services (its process group does not hold the service) leaves no grading service behind."""
    pid_file = service.tmp / "service.pid"
    cmd = [sys.executable, "-m", "autograder.service", "serve", "--workers", "1", "--poll", "0.3"]
    cmd += ["--overrides", json.dumps(service.overrides), "--exit-with-parent"]
    with service.log.open("ab") as log:
        starter = subprocess.Popen(
            [sys.executable, "-c", HUB_LIKE_PARENT, str(pid_file), *cmd],
            cwd=service.repo,
            env={**os.environ, **service.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        pid = int(wait_for(lambda: pid_file.is_file() and pid_file.read_text(), 60, 0.2, "pid"))
        service.submit("orphan", learner_notebook(service.root, PS))
        wait_for(lambda: "grading" in service.states().values(), GRADING, 0.2, "a grading")
        graders = _descendants(pid)
        assert graders
        starter.kill()
        starter.wait()
        wait_for(lambda: not Path(f"/proc/{pid}").exists(), 60, 0.5, "the service gone")
        wait_for(lambda: not any(Path(f"/proc/{p}").exists() for p in graders), 30, 0.5, "graders")
        assert "is gone: stopping" in service.log_tail(100000)
    finally:
        with contextlib.suppress(ProcessLookupError, ValueError, OSError):
            os.killpg(int(pid_file.read_text()), signal.SIGKILL)
