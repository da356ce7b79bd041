"""The ``course`` command as instructors and learners run it: a real console script in a
subprocess, on a throwaway course (``COURSE_ROOT``), with real nbgrader and the real sandbox."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from grading_support import REPO, learner_notebook, submit

from autograder.authoring import problem_set_dir

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

PS = "ps01_quaternions"
COURSE = [str(Path(sys.executable).with_name("course"))]


def run(
    root: Path, *args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 600
) -> subprocess.CompletedProcess:
    environ = {
        **os.environ,
        "COURSE_ROOT": str(root.parent),
        "COURSE_EXCHANGE": str(root.parent / "exchange"),
        **(env or {}),
    }
    return subprocess.run(
        [*COURSE, *args],
        cwd=cwd or root.parent,
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository-like folder (``_toc.yml`` + ``assignments/``) with PS1 released by the CLI."""
    repo = tmp_path_factory.mktemp("cli")
    (repo / "_toc.yml").write_text("format: jb-book\nroot: intro\n")
    root = repo / "assignments"
    shutil.copytree(problem_set_dir(REPO / "assignments", PS), problem_set_dir(root, PS))
    result = run(root, "release", "ps01")
    assert result.returncode == 0, result.stderr
    assert "solution 36/36, blank 0/36" in result.stdout
    # a long command says what it is doing, step by step, on stderr
    for step in ("[course] [1/1] releasing ps01_quaternions", "generating", "validat"):
        assert step in result.stderr, result.stderr
    return root


def test_help_and_usage_errors(course: Path) -> None:
    result = run(course, "--help")
    assert result.returncode == 0
    for command in ("release", "grade", "feedback", "export", "check"):
        assert command in result.stdout
    assert run(course, "grade").returncode == 2  # missing argument
    bad = run(course, "grade", "ps99")
    assert bad.returncode == 2 and "unknown problem set 'ps99'" in bad.stderr


def test_release_has_nothing_hidden(course: Path) -> None:
    release = course / "release" / PS
    assert not (release / "hidden_checks.py").exists()
    text = (release / f"{PS}.ipynb").read_text()
    assert "BEGIN SOLUTION" not in text and 'Q5_STORE = \\"quaternion\\"' not in text


def test_release_refuses_a_leak(tmp_path: Path) -> None:
    """A solution line that also sits in an unlocked markdown cell would leak: refused, exit 3."""
    (tmp_path / "_toc.yml").write_text("")
    root = tmp_path / "assignments"
    shutil.copytree(problem_set_dir(REPO / "assignments", PS), problem_set_dir(root, PS))
    path = problem_set_dir(root, PS) / f"{PS}.py"
    path.write_text(
        path.read_text() + "\n# %% [markdown]\n# Hint: `return points @ quat_to_matrix(q).T`\n"
    )
    result = run(root, "release", PS)
    assert result.returncode == 3
    assert "a solution line is in the release" in result.stderr
    assert not (root / "release" / PS).exists()


def test_grade_feedback_export(course: Path) -> None:
    submit(course, PS, "ada", learner_notebook(course, PS, solved=True))
    submit(course, PS, "bo", learner_notebook(course, PS, solved=False))
    submit(course, PS, "cy", b"not json")
    result = run(course, "grade", "ps01", "--workers", "2")
    assert result.returncode == 0, result.stderr
    table = result.stdout
    assert "ada" in table and "36/36" in table and "broken" in table
    assert "2 graded" in table and "1 broken" in table

    again = run(course, "grade", "ps01", "--json")
    assert again.returncode == 0, again.stderr
    skipped = {o["learner"]: o for o in json.loads(again.stdout)}  # nothing is graded twice
    assert {o["status"] for o in skipped.values()} == {"skipped"} and len(skipped) == 3
    assert skipped["ada"]["score"] == 36.0

    report = run(course, "report", "ps01", "--json", "--log-level", "WARNING")
    assert report.returncode == 0, report.stderr
    rows = json.loads(report.stdout)["checks"]
    assert {r["part"] for r in rows} >= {"test_quat_multiply", "test_symbolic_jacobian"}
    assert all(0.0 <= r["pass_rate"] <= 1.0 for r in rows) and report.stderr == ""

    fb = run(course, "feedback", "ps01")
    assert fb.returncode == 0, fb.stderr
    assert "left in feedback/: ada, bo, cy" in fb.stdout  # copied in by hand, not via the exchange
    html = (course / "feedback" / "ada" / PS / f"{PS}.html").read_text()
    assert "Autograder report" in html
    hidden = (problem_set_dir(course, PS) / "hidden_checks.py").read_text()
    for secret in ("R_EXPECTED", "J_EXPECTED", "def product_cases", "BEGIN SOLUTION", "roll_wxyz"):
        assert secret in hidden or secret == "BEGIN SOLUTION"
        assert secret not in html
    assert "could not be graded" in (course / "feedback" / "cy" / PS / f"{PS}.html").read_text()

    out = run(course, "export", "--to", str(course / "out.csv"))
    assert out.returncode == 0, out.stderr
    rows = {r["student_id"]: r for r in csv.DictReader((course / "out.csv").open())}
    assert (
        float(rows["ada"]["score"]) == 36.0
        and float(rows["bo"]["score"]) == 0.0
        and float(rows["cy"]["score"]) == 0.0
    )
    parts = list(csv.DictReader((course / "out-parts.csv").open()))
    assert {r["learner"] for r in parts} == {"ada", "bo", "cy"}


def test_grade_from_assignments_folder(course: Path) -> None:
    result = run(course, "grade", "ps01", "--learner", "ada", cwd=course, env={"COURSE_ROOT": ""})
    assert result.returncode == 0, result.stderr


def test_kill_and_rerun(tmp_path: Path) -> None:
    """SIGKILL `course grade` mid-run, rerun: finished grades kept, nothing graded twice, all done."""
    (tmp_path / "_toc.yml").write_text("")
    root = tmp_path / "assignments"
    shutil.copytree(problem_set_dir(REPO / "assignments", PS), problem_set_dir(root, PS))
    assert run(root, "release", PS).returncode == 0
    learners = [f"l{i}" for i in range(6)]
    for i, name in enumerate(learners):
        submit(root, PS, name, learner_notebook(root, PS, solved=i % 2 == 0))
    env = {**os.environ, "COURSE_ROOT": str(tmp_path)}
    proc = subprocess.Popen(
        [*COURSE, "grade", PS, "--workers", "2", "--run-id", "first"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    markers = lambda: sorted(root.glob("autograded/*/*/.course-graded.json"))  # noqa: E731
    deadline = time.monotonic() + 120
    while not markers() and time.monotonic() < deadline:
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(1.0)
    first = {p.parent.parent.name for p in markers()}
    assert 1 <= len(first) < len(learners)
    second = run(root, "grade", PS, "--workers", "2", "--run-id", "second")
    assert second.returncode == 0, second.stderr
    runs = {p.parent.parent.name: json.loads(p.read_text())["run_id"] for p in markers()}
    assert set(runs) == set(learners)
    assert {n for n, r in runs.items() if r == "first"} == first  # kept, not regraded
    assert f"{len(first)} skipped" in second.stdout
    for i, name in enumerate(learners):
        marker = json.loads((root / "autograded" / name / PS / ".course-graded.json").read_text())
        assert marker["score"] == (36.0 if i % 2 == 0 else 0.0)


def test_missing_sandbox_is_a_loud_error(course: Path) -> None:
    submit(course, PS, "dee", learner_notebook(course, PS, solved=True))
    result = run(
        course, "grade", "ps01", "--learner", "dee", env={"COURSE_KERNEL_ENV": "/nonexistent/env"}
    )
    assert result.returncode == 3
    assert "kernel environment" in result.stderr and "course sandbox setup" in result.stderr
    assert not (course / "autograded" / "dee").exists()


def test_check_exit_codes(course: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.ipynb"
    nbformat.write(learner_notebook(course, PS, solved=True), good)
    ok = run(course, "check", str(good))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "✓ test_quat_rotate (4 points)" in ok.stdout and "sandboxed kernel" in ok.stdout

    blank = tmp_path / "blank.ipynb"
    nbformat.write(learner_notebook(course, PS, solved=False), blank)
    failed = run(course, "check", str(blank), "--no-sandbox")
    assert failed.returncode == 1
    assert "✗ test_quat_multiply" in failed.stdout and "NotImplementedError" in failed.stdout

    junk = tmp_path / "junk.ipynb"
    junk.write_text("{")
    bad = run(course, "check", str(junk))
    assert bad.returncode == 2 and "not valid JSON" in bad.stderr


def test_grading_refuses_weak_limits(tmp_path: Path) -> None:
    """Where the slots' memory and process budgets cannot be enforced (forced here with
    ``slot_limits = 'none'``), `course sandbox check` says so and `course grade` refuses, exit
    3, unless --accept-weak-limits; the supervisor (forced) enforces them and grading runs."""
    (tmp_path / "_toc.yml").write_text("")
    root = tmp_path / "assignments"
    shutil.copytree(problem_set_dir(REPO / "assignments", PS), problem_set_dir(root, PS))
    config = root / "nbgrader_config.py"
    config.write_text("c = get_config()  # noqa: F821\nc.SandboxLimits.slot_limits = 'none'\n")
    assert run(root, "release", PS).returncode == 0
    submit(root, PS, "ada", learner_notebook(root, PS, solved=True))

    check = run(root, "sandbox", "check")
    assert check.returncode == 0, check.stderr
    memory_line = next(line for line in check.stdout.splitlines() if "memory " in line)
    assert "NOT ENFORCED" in memory_line and "grading refuses to start" in check.stdout

    refused = run(root, "grade", PS)
    assert refused.returncode == 3
    assert "cannot be enforced" in refused.stderr and "--accept-weak-limits" in refused.stderr
    assert not (root / "autograded" / "ada").exists()

    accepted = run(root, "grade", PS, "--accept-weak-limits")
    assert accepted.returncode == 0 and "36/36" in accepted.stdout, accepted.stderr

    config.write_text(
        "c = get_config()  # noqa: F821\nc.SandboxLimits.slot_limits = 'supervisor'\n"
    )
    report = json.loads(run(root, "sandbox", "check", "--json").stdout)["limits"]
    assert report["weak"] == [] and report["memory"]["by"].startswith("the grader's supervisor")
    supervised = run(root, "grade", PS, "--force")
    assert supervised.returncode == 0 and "36/36" in supervised.stdout, supervised.stderr
