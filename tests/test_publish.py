"""Publishing, against local bare git remotes: problem sets to the learners' branch (what
nbgitpuller pulls) and the book to ``gh-pages``."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import nbformat
import pytest
from grading_support import REPO

from autograder import schedule as sch
from autograder.config import COURSE_ID
from autograder.publish import (
    PublishError,
    ReleaseTarget,
    publish_book,
    publish_releases,
    release_due,
)
from autograder.publish.releases import published_files
from autograder.release import generate

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def bare(tmp: Path, name: str = "course.git") -> Path:
    path = tmp / name
    subprocess.run(["git", "init", "--quiet", "--bare", str(path)], check=True)
    return path


@pytest.fixture()
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository-like folder: the real schedule and _config.yml, every problem set source
    that exists, an exchange of its own."""
    (tmp_path / "_toc.yml").write_text("")
    shutil.copy(REPO / "_config.yml", tmp_path / "_config.yml")
    (tmp_path / "book").mkdir()
    shutil.copy(REPO / "book" / "schedule.yml", tmp_path / "book" / "schedule.yml")
    shutil.copytree(
        REPO / "assignments" / "problem_sets", tmp_path / "assignments" / "problem_sets"
    )
    monkeypatch.setenv("COURSE_EXCHANGE", str(tmp_path / "exchange"))
    return tmp_path


def test_publish_never_rewrites(repo: Path, tmp_path: Path) -> None:
    root = repo / "assignments"
    generate(root, "ps01_quaternions")
    target = ReleaseTarget(bare(tmp_path).as_uri())
    added = publish_releases(root, ["ps01_quaternions"], target)
    assert "ps01_quaternions/ps01_quaternions.ipynb" in added and "README.md" in added
    assert published_files(target) == set(added)
    assert publish_releases(root, ["ps01_quaternions"], target) == []  # idempotent: nothing new
    commits = git("rev-list", "--count", target.branch, cwd=Path(target.remote[7:]))
    assert commits.strip() == "1"
    # a changed release must not overwrite what learners already pulled
    nb_path = root / "release" / "ps01_quaternions" / "ps01_quaternions.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells[0].source += "\n\nA late correction."
    nbformat.write(nb, nb_path)
    with pytest.raises(PublishError, match="never rewritten"):
        publish_releases(root, ["ps01_quaternions"], target)
    assert git("rev-list", "--count", target.branch, cwd=Path(target.remote[7:])).strip() == "1"


def test_release_due_follows_the_schedule(repo: Path, tmp_path: Path) -> None:
    from nbgrader.api import Gradebook

    from autograder.config import db_url

    root = repo / "assignments"
    schedule = sch.load_schedule(repo / "book" / "schedule.yml")
    target = ReleaseTarget(bare(tmp_path).as_uri())
    tz = schedule.tz

    def released_by(now: dt.datetime) -> list[str]:
        return sorted(ps.id for ps in schedule.problem_sets if ps.release <= now)

    eve = dt.datetime(2022, 2, 3, 12, tzinfo=tz)
    before = release_due(root, eve, target, schedule)
    assert sorted(before.released) == released_by(eve)
    assert "ps01_quaternions" in before.not_yet and "ps01_quaternions" not in released_by(eve)
    start = dt.datetime(2022, 2, 4, 9, 0, tzinfo=tz)
    week = release_due(root, start, target, schedule)
    assert week.released == ["ps01_quaternions"]  # released at the meeting's start, not before
    assert sorted(before.released + week.released) == released_by(start)
    again = release_due(root, dt.datetime(2022, 2, 10, tzinfo=tz), target, schedule)
    assert again.released == [] and sorted(again.already) == released_by(start)
    assert (tmp_path / "exchange" / COURSE_ID / "outbound" / "ps01_quaternions").is_dir()
    with Gradebook(db_url(root)) as gb:
        due = gb.find_assignment("ps01_quaternions").duedate
    assert due == dt.datetime(2022, 2, 12, 7, 59)  # 11 Feb 23:59 PST in UTC


def test_a_fresh_checkout_gets_the_release_of_what_is_already_published(
    repo: Path, tmp_path: Path
) -> None:
    """The learners' branch already holds ps01 (published from another checkout); a fresh
    checkout's ``release_due`` must still generate ps01 in its own course, or its grading
    service and ``course grade`` would find nothing to grade submissions against."""
    from nbgrader.api import Gradebook

    from autograder.config import db_url

    schedule = sch.load_schedule(repo / "book" / "schedule.yml")
    target = ReleaseTarget(bare(tmp_path).as_uri())
    now = dt.datetime(2022, 2, 4, 9, 0, tzinfo=schedule.tz)
    first = release_due(repo / "assignments", now, target, schedule, validate=False)
    assert "ps01_quaternions" in first.released
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    shutil.copytree(repo / "assignments" / "problem_sets", fresh / "problem_sets")
    again = release_due(fresh, now, target, schedule, validate=False)
    assert again.released == [] and sorted(again.already) == sorted(first.released)
    for ps_id in again.already:
        assert (fresh / "release" / ps_id / f"{ps_id}.ipynb").is_file(), ps_id
    with Gradebook(db_url(fresh)) as gb:
        assert {a.name for a in gb.assignments} >= set(again.already)
    commits = git("rev-list", "--count", target.branch, cwd=Path(target.remote[7:]))
    assert commits.strip() == "1"


def test_every_launch_link_opens_a_published_notebook(repo: Path, tmp_path: Path) -> None:
    """Release everything the schedule names (as of the end of term), then follow each problem
    set's launch link: its branch and path must exist in the published release."""
    root = repo / "assignments"
    schedule = sch.load_schedule(repo / "book" / "schedule.yml")
    remote = bare(tmp_path)
    target = ReleaseTarget(remote.as_uri())
    report = release_due(
        root,
        dt.datetime(2022, 6, 1, tzinfo=schedule.tz),
        target,
        schedule,
        exchange=False,
        validate=False,
    )
    assert report.released and not report.not_yet
    cfg = sch.load_book_config(REPO)
    cfg["course"] = {**cfg["course"], "release_remote": remote.as_uri()}
    name = remote.name.removesuffix(".git")
    for ps in schedule.problem_sets:
        if ps.id in report.missing:
            continue
        q = {
            k: v[0]
            for k, v in parse_qs(
                urlsplit(sch.launch_url_from_config(ps.notebook_path, cfg)).query
            ).items()
        }
        assert q["repo"] == remote.as_uri()
        path = q["urlpath"].removeprefix(f"lab/tree/{name}/")
        subprocess.run(["git", "cat-file", "-e", f"{q['branch']}:{path}"], cwd=remote, check=True)


def test_publish_book_to_gh_pages(tmp_path: Path) -> None:
    from book_site import build_book

    html = build_book()
    remote = bare(tmp_path, "site.git")
    first = publish_book(html, remote.as_uri())
    files = set(git("ls-tree", "-r", "--name-only", "gh-pages", cwd=remote).split())
    for must in (
        "index.html",
        ".nojekyll",
        "schedule.ics",
        "book/problem-sets/ps01_quaternions.html",
        "book/conventions.html",
    ):
        assert must in files, must
    page = git("show", "gh-pages:book/problem-sets/ps01_quaternions.html", cwd=remote)
    assert "git-pull?repo=" in page and "launch-link" in page
    assert git("show", "gh-pages:schedule.ics", cwd=remote).startswith("BEGIN:VCALENDAR")
    second = publish_book(html, remote.as_uri(), message="Republish")
    assert second != first
    assert git("rev-parse", f"{second}^", cwd=remote).strip() == first  # history is kept


def test_publish_book_cli(tmp_path: Path) -> None:
    from book_site import build_book

    build_book()
    remote = bare(tmp_path, "cli.git")
    env = {**os.environ, "COURSE_ROOT": str(REPO)}
    course = str(Path(os.sys.executable).with_name("course"))
    proc = subprocess.run(
        [course, "publish-book", "--no-build", "--remote", remote.as_uri()],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "index.html" in git("ls-tree", "--name-only", "gh-pages", cwd=remote)
