"""The course honours nbgrader's configuration file, and no edit there can make grading run
outside the sandbox (``autograder.config``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from grading_support import REPO, grade, graded_notebook, learner_notebook, make_course, submit
from hypothesis import given
from hypothesis import strategies as st
from traitlets.config import Config

from autograder.config import ConfigError, Course, check_config, configure, course_config

PS = "ps01_quaternions"
COURSE = str(Path(sys.executable).with_name("course"))


def _course_root(tmp_path: Path, config: str = "") -> Path:
    root = tmp_path / "assignments"
    root.mkdir(parents=True)
    (tmp_path / "_toc.yml").write_text("")
    if config:
        (root / "nbgrader_config.py").write_text("c = get_config()  # noqa: F821\n" + config)
    return root


def test_an_edit_of_nbgrader_config_reaches_the_course(tmp_path: Path) -> None:
    root = _course_root(tmp_path)
    assert course_config(root).SandboxedAutograde.get("cell_timeout") is None  # the default
    (root / "nbgrader_config.py").write_text(
        "c = get_config()  # noqa: F821\n"
        "c.SandboxedAutograde.cell_timeout = 7.5\n"
        "c.SandboxLimits.memory_mb = 1234\n"
        "c.CourseDirectory.db_url = 'sqlite:////tmp/elsewhere.db'\n"
    )
    course = Course.at(root)
    assert course.config.SandboxedAutograde.cell_timeout == 7.5
    assert course.sandbox(slot=3).memory == 1234 * 2**20
    assert course.db_url == "sqlite:////tmp/elsewhere.db"
    # the defaults the file did not touch are still the course's
    assert course.course_id == "cryoem-study-group-2022"


UNSAFE = [
    ("Execute", "c.Autograde.autograde_preprocessors = ['nbgrader.preprocessors.Execute']\n"),
    (
        "lacks SandboxedAutograde",
        "c.Autograde.autograde_preprocessors = ['nbgrader.preprocessors.SaveAutoGrades']\n",
    ),
    (
        "OverwriteCells",
        "c.Autograde.sanitize_preprocessors = ['nbgrader.preprocessors.ClearOutput']\n",
    ),
    ("must be positive", "c.SandboxedAutograde.cell_timeout = 0\n"),
]


@pytest.mark.parametrize(("why", "config"), UNSAFE, ids=[u[0] for u in UNSAFE])
def test_a_configuration_that_weakens_grading_is_refused(
    tmp_path: Path, why: str, config: str
) -> None:
    root = _course_root(tmp_path, config)
    with pytest.raises(ConfigError, match=why):
        course_config(root)
    env = {**os.environ, "COURSE_ROOT": str(tmp_path)}
    result = subprocess.run(
        [COURSE, "grade", "ps01"], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 3, result.stderr
    assert "refused" in result.stderr and why in result.stderr


_SAFE = "autograder.grading.preprocessor.SandboxedAutograde"
_STEPS = [
    "nbgrader.preprocessors.IgnorePattern",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.Execute",
    "nbconvert.preprocessors.ExecutePreprocessor",
    _SAFE,
]


@given(st.lists(st.sampled_from(_STEPS), max_size=6))
def test_the_check_refuses_exactly_the_unsandboxed_pipelines(pipeline: list[str]) -> None:
    c = configure(Config(), "/tmp/nowhere/assignments")
    c.Autograde.autograde_preprocessors = pipeline
    unsafe = _SAFE not in pipeline or any(
        p.endswith(("Execute", "ExecutePreprocessor")) for p in pipeline
    )
    if unsafe:
        with pytest.raises(ConfigError):
            check_config(c)
    else:
        check_config(c)


def test_course_config_lists_the_options_with_their_help(tmp_path: Path) -> None:
    _course_root(tmp_path, "c.SandboxLimits.pids = 77\n")
    env = {**os.environ, "COURSE_ROOT": str(tmp_path)}
    out = subprocess.run(
        [COURSE, "config", "--json"], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    options = {o["name"]: o for o in json.loads(out.stdout)["options"]}
    assert options["SandboxLimits.pids"]["value"] == 77
    assert options["SandboxLimits.pids"]["default"] == 512
    for name in ("SandboxedAutograde.cell_timeout", "SandboxLimits.memory_mb", "Exchange.root"):
        assert options[name]["help"], name


@pytest.mark.sandbox
@pytest.mark.slow
def test_the_sandbox_limits_set_in_the_file_bind_the_learners_kernel(tmp_path: Path) -> None:
    """End to end: a limit set in nbgrader_config.py is the limit the learner's kernel runs
    under (its address-space rlimit, read from inside the sandbox)."""
    root = make_course(tmp_path, PS, config="c.SandboxLimits.address_space_mb = 3333\n")
    probe = "import resource\nprint('AS', resource.getrlimit(resource.RLIMIT_AS)[0] // 2**20)"
    nb = learner_notebook(root, PS)
    nb.cells.insert(1, __import__("nbformat").v4.new_code_cell(probe))
    submit(root, PS, "probe", nb)
    outcomes = grade(root, PS, workers=1)
    assert outcomes["probe"].status == "graded"
    text = json.dumps([c.get("outputs", []) for c in graded_notebook(root, PS, "probe").cells])
    assert "AS 3333" in text


def test_the_repositorys_own_configuration_is_accepted() -> None:
    course = Course.at(REPO / "assignments")
    assert course.root == (REPO / "assignments").resolve()
    assert course.config.Autograde.autograde_preprocessors[0] == _SAFE


def test_each_call_gets_its_own_configuration(tmp_path: Path) -> None:
    """The loaded files are cached, but a change made to one configuration (a run id, a test's
    short limits) never reaches the next caller."""
    root = _course_root(tmp_path, "c.SandboxedAutograde.cell_timeout = 9.0\n")
    first = course_config(root, run_id="first", notebook_timeout=5.0)
    first.Exchange.root = "/somewhere/else"
    second = course_config(root)
    assert "run_id" not in second.SandboxedAutograde
    assert "notebook_timeout" not in second.SandboxedAutograde
    assert second.SandboxedAutograde.cell_timeout == 9.0
    assert second.Exchange.root != "/somewhere/else"
