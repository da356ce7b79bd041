"""The learner's check (``course_learner``): the hub's Validate and ``course check`` give the
same visible-test report, in the grading sandbox where the host has one and in the learner's own
kernel where it has none — and the report says which."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from course_learner.check import check_notebook
from course_learner.server import validate_answer
from grading_support import learner_notebook, make_course

pytestmark = [pytest.mark.slow]
PS = "ps01_quaternions"


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("check")
    root = make_course(tmp, PS)
    out = {}
    for name, solved in (("good", True), ("blank", False)):
        folder = tmp / name
        folder.mkdir()
        nbformat.write(learner_notebook(root, PS, solved=solved), folder / f"{PS}.ipynb")
        out[name] = folder / f"{PS}.ipynb"
    return out


def learner_course(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The learner's own ``course`` (course_learner.cli), not the instructor's."""
    import os

    return subprocess.run(
        [sys.executable, "-m", "course_learner.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


@pytest.mark.sandbox
def test_validate_reports_course_checks_report_in_the_sandbox(notebooks: dict[str, Path]) -> None:
    answer = validate_answer(notebooks["blank"])
    assert answer["success"]
    value = json.loads(answer["value"])
    report = check_notebook(notebooks["blank"])
    assert report.sandboxed and not report.ok
    assert answer["report"] == report.format()
    failed = value["failed"]
    assert len(failed) == sum(1 for r in report.results if not r.ok) == 9
    assert (
        "(sandboxed kernel)" in failed[0]["error"] and "✗ test_quat_multiply" in failed[0]["error"]
    )
    assert failed[0]["source"] == report.results[0].source
    good = validate_answer(notebooks["good"])
    assert (
        json.loads(good["value"]) == {}
    )  # nbgrader's "Success! Your notebook passes all the tests."
    assert "✓ test_symbolic_jacobian" in good["report"]


def test_without_a_sandbox_the_learners_own_kernel_and_the_report_says_so(
    notebooks: dict[str, Path],
) -> None:
    no_sandbox = {"COURSE_KERNEL_ENV": "/nonexistent/kernel-env"}
    out = learner_course("check", str(notebooks["good"]), env=no_sandbox)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "(NOT sandboxed kernel)" in out.stdout
    assert "ran in your own kernel" in out.stdout and "✓ test_quat_rotate (4 points)" in out.stdout
    failed = learner_course("check", str(notebooks["blank"]), env=no_sandbox)
    assert failed.returncode == 1 and "✗ test_quat_multiply" in failed.stdout
    required = learner_course("check", "--sandbox", str(notebooks["good"]), env=no_sandbox)
    assert required.returncode == 3 and "no grading sandbox here" in required.stderr


def test_a_file_that_is_not_a_notebook(tmp_path: Path) -> None:
    junk = tmp_path / "junk.ipynb"
    junk.write_text("{")
    out = learner_course("check", str(junk))
    assert out.returncode == 2 and "not valid JSON" in out.stderr
    answer = validate_answer(junk)
    assert answer["success"] is False and "not valid JSON" in answer["value"]
