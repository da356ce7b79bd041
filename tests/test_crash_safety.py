"""Crash safety, measured: ``course grade`` killed with SIGKILL again and again, then rerun.

Two copies of one released course with the same submissions. The first is graded once, cleanly.
The second is graded by a run that is SIGKILLed — at a fail point during a learner's kernel run,
during the hidden checks (in the evaluation child), inside the gradebook's write (a SQL commit,
its transaction open), then at random moments — and rerun after each kill, until a run ends on
its own. Afterwards every submission must have exactly one recorded grade, identical to the
clean run's cell by cell; and after each kill no grading or sandbox process may survive, and
after the last run no scratch folder and no cgroup leaf of these runs may be left.

The random moments come from ``random.Random(SEED)`` (``$CRASH_SEED`` to vary it): uniform
within the clean run's length, counted from the moment the killed run's first kernel starts.
Each kill is printed with what it hit and how many submissions were done (``pytest -s``).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from grading_support import REPO, append_to, learner_notebook, submit

from autograder.authoring import problem_set_dir
from autograder.sandbox.cgroups import CGROUP_FS, GROUP

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

PS = "ps01_quaternions"
COURSE = [str(Path(sys.executable).with_name("course"))]
SEED = int(os.environ.get("CRASH_SEED", "14"))
RUN_ID = "crash-safety"
MARKER_ENV = "COURSE_CRASH_TEST"
FAILPOINTS = ["kernel-run", "checks", "gradebook-commit"]
RANDOM_KILLS = 4


def _learners(root: Path) -> dict[str, object]:
    """Right, blank, two with known mistakes, one whose function raises, one not a notebook.
    (Nothing that waits on a time limit: the two runs must not differ by the machine's load.)"""
    solved = lambda: learner_notebook(root, PS, solved=True)  # noqa: E731
    return {
        "ada": solved(),
        "bo": learner_notebook(root, PS, solved=False),
        "cy": append_to(
            solved(),
            "quat_multiply",
            "_ok = quat_multiply\ndef quat_multiply(p, q):\n    return _ok(q, p)",
        ),
        "di": append_to(
            solved(), "conjugate_inverse", "def quat_inverse(q):\n    return quat_conjugate(q)"
        ),
        "ed": append_to(
            solved(), "quat_rotate", "def quat_rotate(q, v):\n    raise ValueError('no')"
        ),
        "fa": b"not a notebook",
    }


def _course(repo: Path) -> Path:
    (repo / "_toc.yml").write_text("")
    root = repo / "assignments"
    shutil.copytree(problem_set_dir(REPO / "assignments", PS), problem_set_dir(root, PS))
    (root / "nbgrader_config.py").write_text(
        "c = get_config()  # noqa: F821\n"
        # generous: on a loaded machine a short limit could make the two runs differ
        "c.SandboxedAutograde.cell_timeout = 120\n"
        "c.SandboxedAutograde.part_timeout = 120\n"
        "c.SandboxedAutograde.notebook_timeout = 900\n"
    )
    return root


_TMP: dict[Path, Path] = {}


def _tmp(repo: Path) -> Path:
    """The private temp dir of ``repo``'s runs: its scratch folders and slot locks. In /tmp,
    not under pytest's (mode 0700) folder: the sandbox's uid must be able to traverse it."""
    if repo not in _TMP:
        _TMP[repo] = Path(tempfile.mkdtemp(prefix="crash-safety-"))
        _TMP[repo].chmod(0o711)
    return _TMP[repo]


def _env(repo: Path, marker: str, failpoint: str | None = None) -> dict[str, str]:
    tmp = _tmp(repo)
    env = {
        **os.environ,
        "COURSE_ROOT": str(repo),
        "COURSE_EXCHANGE": str(repo / "exchange"),
        "TMPDIR": str(tmp),  # this test's scratch folders and slot locks, and nobody else's
        MARKER_ENV: marker,
    }
    env.pop("COURSE_SANDBOX_SLOT", None)
    if failpoint:
        env["COURSE_FAILPOINT"] = failpoint
        env["COURSE_FAILPOINT_FILE"] = str(repo / "failpoints.txt")
    return env


def _grade(repo: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*COURSE, "grade", PS, "--workers", "2", "--run-id", RUN_ID, "--quiet"],
        cwd=repo,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def _ours(marker: str) -> list[int]:
    """Live processes of this test's grading runs (their environment carries ``marker``)."""
    pids = []
    needle = f"{MARKER_ENV}={marker}".encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_text().split(") ")[1][0]
        except OSError:
            continue
        if needle in environ.split(b"\0") and state != "Z":
            pids.append(int(entry))
    return pids


def _sandboxes(tmp: Path, also: str = "") -> list[int]:
    """Live processes of sandboxes made under ``tmp`` (their command line names its folders;
    and ``also``, when given)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_text().split(") ")[1][0]
        except OSError:
            continue
        if str(tmp).encode() in cmdline and also.encode() in cmdline and state != "Z":
            pids.append(int(entry))
    return pids


def _leaves(owners: set[int]) -> list[Path]:
    found = []
    for base in list(CGROUP_FS.glob(f"*/{GROUP}")) + list(CGROUP_FS.glob(f"*/*/{GROUP}")):
        for leaf in base.glob("slot-*/sbx-*"):
            try:
                owner = int(leaf.name.split("-")[1])
            except (IndexError, ValueError):
                continue
            if owner in owners or not Path(f"/proc/{owner}").exists():
                found.append(leaf)
    return found


def _gradebook(root: Path) -> dict[str, object]:
    """Every recorded grade, by learner: the submission's score and each cell's auto score."""
    from nbgrader.api import Gradebook

    from autograder.config import db_url

    out: dict[str, object] = {}
    with Gradebook(db_url(root)) as gb:
        for student in gb.students:
            subs = [s for s in gb.assignment_submissions(PS) if s.student.id == student.id]
            assert len(subs) <= 1
            if not subs:
                continue
            cells = {}
            for nb in subs[0].notebooks:
                for grade in nb.grades:
                    key = (nb.name, grade.name)
                    assert key not in cells, f"{student.id}: two grades for {key}"
                    cells[key] = (grade.auto_score, grade.manual_score)
            out[student.id] = (subs[0].score, sorted(cells.items()))
    return out


def _markers(root: Path) -> dict[str, tuple[str, float]]:
    out = {}
    for path in root.glob(f"autograded/*/{PS}/.course-graded.json"):
        marker = json.loads(path.read_text())
        out[path.parent.parent.name] = (marker["status"], marker["score"])
    return out


def _wait(predicate, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def test_killed_and_rerun_grades_like_a_clean_run(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    clean_repo, crash_repo = tmp_path / "clean", tmp_path / "crash"
    clean_repo.mkdir()
    root = _course(clean_repo)
    release = subprocess.run(
        [*COURSE, "release", PS],
        cwd=clean_repo,
        env=_env(clean_repo, "release"),
        capture_output=True,
    )
    assert release.returncode == 0, release.stderr.decode()[-2000:]
    for name, content in _learners(root).items():
        submit(root, PS, name, content)
    shutil.copytree(clean_repo, crash_repo, symlinks=True)
    crash_root = crash_repo / "assignments"

    # the clean run
    marker = uuid.uuid4().hex
    t0 = time.monotonic()
    clean = _grade(clean_repo, _env(clean_repo, marker))
    _, err = clean.communicate(timeout=900)
    clean_wall = time.monotonic() - t0
    assert clean.returncode == 0, err.decode()[-3000:]
    expected = _gradebook(root)
    assert set(expected) == set(_learners(root)) and _markers(root)

    # the killed runs, then one that ends on its own
    marker = uuid.uuid4().hex
    kills: list[tuple[str, object]] = [("failpoint", p) for p in FAILPOINTS]
    # random moments: after the run's first kernel started, within the clean run's length
    kills += [("random", round(rng.uniform(0.0, clean_wall), 1)) for _ in range(RANDOM_KILLS)]
    hit = []
    mains: set[int] = set()
    log = crash_repo / "failpoints.txt"

    def stopped() -> bool:
        return log.exists() and log.read_text().strip() != ""

    for kind, what in kills:
        failpoint = str(what) if kind == "failpoint" else None
        log.unlink(missing_ok=True)
        proc = _grade(crash_repo, _env(crash_repo, marker, failpoint))
        mains.add(proc.pid)
        ended = lambda p=proc: p.poll() is not None  # noqa: E731
        if failpoint:
            _wait(lambda p=proc: stopped() or p.poll() is not None, 600)
            where = log.read_text().split()[0] if stopped() else "(finished first)"
        else:
            assert isinstance(what, float)
            tmp = _tmp(crash_repo)
            _wait(
                lambda p=proc, t=tmp: bool(_sandboxes(t, "ipykernel")) or p.poll() is not None, 600
            )
            where = "(finished first)" if _wait(ended, what) else f"{what} s after a kernel started"
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        else:  # a run that ended on its own must have ended well
            assert proc.returncode == 0, proc.stderr.read().decode()[-3000:] if proc.stderr else ""
        done = len(_markers(crash_root))
        hit.append((kind, what, where, done))
        print(f"kill {kind} {what}: {where}, {done} submission(s) graded so far")
        # nothing of that run may survive it: its grading processes, its sandboxes
        assert _wait(lambda: not _ours(marker), 15), f"grading processes left: {_ours(marker)}"
        assert _wait(lambda: not _sandboxes(_tmp(crash_repo)), 15), "sandbox processes left"

    assert [w for k, _, w, _ in hit if k == "failpoint"] == FAILPOINTS, hit
    final = _grade(crash_repo, _env(crash_repo, marker))
    _, err = final.communicate(timeout=900)
    assert final.returncode == 0, err.decode()[-3000:]

    # every submission: one grade, the clean run's
    assert _gradebook(crash_root) == expected
    assert _markers(crash_root) == _markers(root)
    for name in _learners(root):
        assert (crash_root / "autograded" / name / PS / f"{PS}.ipynb").is_file(), name
    # nothing left behind: processes, scratch folders, cgroup leaves
    assert _wait(lambda: not _ours(marker) and not _sandboxes(_tmp(crash_repo)), 15)
    scratch = [p.name for p in _tmp(crash_repo).iterdir() if p.name.startswith("course-")]
    assert scratch == [], scratch
    assert _leaves(mains) == []
    for tmp in _TMP.values():
        shutil.rmtree(tmp, ignore_errors=True)
