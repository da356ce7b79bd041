"""`course release` validation for every problem set: nothing hidden leaks into the release, the
source notebook (solutions filled in) scores full marks and the blank release scores zero, both
graded through the sandbox like a real submission (``autograder.release.validation.release_assignment``,
which runs ``validate_release`` and raises when it finds a problem)."""

from __future__ import annotations

from pathlib import Path

import pytest
from grading_support import REPO, make_course

from autograder.authoring import problem_sets
from autograder.release import release_assignment

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

PROBLEM_SETS = problem_sets(REPO / "assignments")


def test_the_problem_sets_of_the_meeting_pages_are_here() -> None:
    assert {
        "ps01_quaternions",
        "ps02_so3_metrics",
        "ps03_rotation_averaging",
        "ps04_projection_layer",
        "ps06_superposition",
        "ps08_pose_losses",
    } <= set(PROBLEM_SETS)


@pytest.mark.parametrize("ps", PROBLEM_SETS)
def test_release_is_valid(tmp_path: Path, ps: str) -> None:
    root = make_course(tmp_path, ps)
    # validated for real (never from the cache), and remembered for the later tests
    report = release_assignment(root, ps, use_cache=False)
    assert report.problems == []
    assert report.max_score > 0
    assert report.solution_score == report.max_score
    assert report.blank_score == 0
