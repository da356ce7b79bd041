"""Shared by the hub's tests: the whole platform on loopback, started by the test itself.

Not a test module. ``hub_platform`` copies the course repository into a private folder, makes a
world-readable folder for the learners' repository and nbgrader's exchange, creates real Unix
accounts (two learners, an instructor) with fresh private homes, releases what the schedule
makes due on ``NOW`` and starts the hub (``autograder.hub.platform.LocalPlatform``). Needs root
(Unix accounts, PAM, the hub's spawner); with ``COURSE_REQUIRE_SERVICES=1`` (CI) anything
missing fails instead of skipping.

Screenshots go to ``artefacts()`` (``$COURSE_TEST_ARTEFACTS``, default
``_build/test-artefacts/hub``), which the tests print.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from autograder.hub.accounts import reset_home
from autograder.hub.launch import free_port, stop_hub
from autograder.hub.platform import LocalPlatform

REPO = Path(__file__).resolve().parent.parent
NOW = "2022-02-04T10:00"  # ps01 is released, not yet due
LEARNERS = {"e2e-ada": "ada-pw-4821", "e2e-ben": "ben-pw-7730"}
INSTRUCTORS = {"e2e-ines": "ines-pw-1175"}
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
_GENERATED = {"release", "source", "submitted", "autograded", "feedback", "exchange"}
_ANYWHERE = shutil.ignore_patterns(
    ".git",
    ".venv*",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".hypothesis",
    "_build",
    "node_modules",
    "gradebook.db*",
)


def _ignore(folder: str, names: list[str]) -> set[str]:
    """What a copy of the course repository leaves out: caches, builds, nbgrader's folders."""
    skip = set(_ANYWHERE(folder, names))
    if Path(folder).name == "assignments":
        skip |= {n for n in names if n in _GENERATED or n.endswith(".csv")}
    return skip


def _unavailable(reason: str) -> None:
    if os.environ.get("COURSE_REQUIRE_SERVICES") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def artefacts() -> Path:
    path = Path(
        os.environ.get("COURSE_TEST_ARTEFACTS") or REPO / "_build" / "test-artefacts" / "hub"
    )
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def hub_platform(tmp: Path, grader_workers: int = 0) -> Iterator[LocalPlatform]:
    """The platform; ``grader_workers`` > 0 also starts the grading service (autograder.service)
    with that many grading processes (off by default: the week's test grades by hand)."""
    if os.geteuid() != 0:
        _unavailable("the hub's tests run as root (Unix accounts, PAM, the spawner)")
    for tool in ("useradd", "chpasswd", "runuser", "git", "npm", "bwrap"):
        if shutil.which(tool) is None:
            _unavailable(f"{tool} is not installed")
    repo = tmp / "course"
    shutil.copytree(REPO, repo, ignore=_ignore)
    node_modules = REPO / "hub" / "node_modules"
    if node_modules.is_dir():  # the proxy, installed once per checkout
        shutil.copytree(node_modules, repo / "hub" / "node_modules", symlinks=True)
    # the book's site as the hub serves it at /services/book/ (the real build takes minutes and
    # is tested in tests/test_book.py; here only its serving through the hub is)
    site = repo / "_build" / "html"
    site.mkdir(parents=True)
    (site / "index.html").write_text(
        "<html><body><h1>Online cryo-EM study group</h1></body></html>"
    )
    base = Path("/srv/cryoem-course-tests")
    base.mkdir(parents=True, exist_ok=True)
    base.chmod(0o755)
    public = Path(tempfile.mkdtemp(prefix="hub-", dir=base))
    platform = LocalPlatform(
        repo=repo,
        public=public,
        state=tmp / "hub-state",
        port=free_port(),
        learners=dict(LEARNERS),
        instructors=dict(INSTRUCTORS),
        grader_workers=grader_workers,
    )
    try:
        platform.prepare()
        for name in [*LEARNERS, *INSTRUCTORS]:
            reset_home(name)
        platform.release_due(NOW)
        proc = platform.start()
        try:
            yield platform
        finally:
            stop_hub(proc)
    finally:
        shutil.rmtree(public, ignore_errors=True)


def as_learner(name: str, code: str, python: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` with ``python`` as the Unix user ``name``, in the environment the hub gives
    that learner's server (their home, no root environment)."""
    home = Path(f"~{name}").expanduser()
    return subprocess.run(
        [
            "runuser",
            "-u",
            name,
            "--",
            "env",
            "-i",
            f"HOME={home}",
            f"USER={name}",
            "PATH=/usr/bin:/bin",
            "LANG=C.UTF-8",
            python,
            "-c",
            code,
        ],
        cwd=home,
        capture_output=True,
        text=True,
        timeout=120,
    )
