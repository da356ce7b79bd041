"""Publishing: problem sets to the learners' git branch, and the book to ``gh-pages``.

**Releases.** Learners open a problem set from a link in the book: nbgitpuller clones (first
time) or pulls (later) the student-facing branch of the course repository — ``releases`` by
default (``_config.yml``: ``course.release_branch``, ``course.release_remote``) — into their
home, laid out as ``<problem set>/<notebook>.ipynb``. nbgitpuller's merge keeps a learner's
edited copy of a file that changed upstream, so a published file is never rewritten: a new week
adds files, and publishing a file that exists with other content is an error
(``PublishError``). ``release_due`` releases (``autograder.release.validation``: generate and validate)
and publishes every problem set whose release time in ``book/schedule.yml`` has come; it is
idempotent. It also sets each assignment's due date in the gradebook (for late penalties) and
puts the release in nbgrader's exchange (for ``course submit``).

**The book.** ``publish_book`` copies the built site (with ``schedule.ics``) to the ``gh-pages``
branch with ``ghp-import`` (``.nojekyll`` included) and pushes it to a remote.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.authoring.notebook_source import problem_set_dir

__all__ = [
    "PublishError",
    "ReleaseTarget",
    "publish_book",
    "publish_releases",
    "published_files",
    "release_due",
    "release_target",
]

_GIT_ENV = {
    "GIT_AUTHOR_NAME": "cryo-EM course platform",
    "GIT_AUTHOR_EMAIL": "course@cryoem-study-group.invalid",
    "GIT_COMMITTER_NAME": "cryo-EM course platform",
    "GIT_COMMITTER_EMAIL": "course@cryoem-study-group.invalid",
}


class PublishError(RuntimeError):
    """Publishing would rewrite a learner's file, or git failed; the message says which."""


@dataclass(frozen=True)
class ReleaseTarget:
    remote: str  # a git URL (file:// works) the learners' branch is pushed to
    branch: str = "releases"


def release_target(config: dict[str, Any] | None = None, repo: Path | None = None) -> ReleaseTarget:
    """The learners' branch from ``_config.yml`` (``course.release_remote``, default
    ``repository.url``; ``course.release_branch``, default ``releases``); ``course release --due
    --remote`` overrides the remote."""
    from autograder.schedule.model import load_book_config

    cfg = config if config is not None else load_book_config(repo)
    course = cfg.get("course") or {}
    remote = course.get("release_remote") or (cfg.get("repository") or {}).get("url")
    if not remote:
        raise PublishError("_config.yml names no repository.url (or course.release_remote)")
    return ReleaseTarget(str(remote), str(course.get("release_branch") or "releases"))


def _git(
    *args: str, cwd: Path | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, env={**os.environ, **_GIT_ENV}
    )
    if check and proc.returncode != 0:
        raise PublishError(f"git {' '.join(args)} failed: {proc.stderr.strip()[-1000:]}")
    return proc


def _checkout(target: ReleaseTarget, dest: Path) -> bool:
    """Clone ``target``'s branch into ``dest``; False when the branch does not exist yet."""
    probe = _git("ls-remote", "--heads", target.remote, target.branch)
    if probe.stdout.strip():
        _git(
            "clone",
            "--quiet",
            "--branch",
            target.branch,
            "--single-branch",
            "--depth",
            "1",
            target.remote,
            str(dest),
        )
        return True
    dest.mkdir(parents=True)
    _git("init", "--quiet", "--initial-branch", target.branch, cwd=dest)
    _git("remote", "add", "origin", target.remote, cwd=dest)
    return False


def published_files(target: ReleaseTarget) -> set[str]:
    """Paths on the learners' branch (empty when it does not exist)."""
    with tempfile.TemporaryDirectory(prefix="course-published-") as tmp:
        if not _checkout(target, Path(tmp) / "r"):
            return set()
        out = _git("ls-files", cwd=Path(tmp) / "r").stdout
    return {line for line in out.splitlines() if line}


_README = """# Problem sets of the online cryo-EM study group

This branch is what learners pull (nbgitpuller) when they open a problem set from the book.
Each folder is one problem set, released once and never rewritten. Do not commit here by hand:
`course release --due` publishes.
"""


def publish_releases(course_root: Path, assignments: list[str], target: ReleaseTarget) -> list[str]:
    """Add ``release/<ps>/`` of each assignment as ``<ps>/`` on the learners' branch; push.

    Files already published with the same content are left alone; a published file whose
    content would change raises ``PublishError`` and nothing is pushed. Returns the added paths.
    """
    added: list[str] = []
    with tempfile.TemporaryDirectory(prefix="course-publish-") as tmp:
        work = Path(tmp) / "r"
        _checkout(target, work)
        if not (work / "README.md").exists():
            (work / "README.md").write_text(_README)
            added.append("README.md")
        for ps in assignments:
            release = course_root / "release" / ps
            if not release.is_dir():
                raise PublishError(f"{release} does not exist: release {ps} first")
            for path in sorted(p for p in release.rglob("*") if p.is_file()):
                rel = Path(ps) / path.relative_to(release)
                dest = work / rel
                if dest.exists():
                    if dest.read_bytes() != path.read_bytes():
                        raise PublishError(
                            f"{rel} is already published with other content; learners may have "
                            "edited it, so it is never rewritten (publish a new file instead)"
                        )
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, dest)
                added.append(str(rel))
        if added:
            _git("add", "--all", cwd=work)
            _git(
                "commit", "--quiet", "-m", f"Release {', '.join(assignments) or 'README'}", cwd=work
            )
            _git("push", "--quiet", "origin", f"HEAD:refs/heads/{target.branch}", cwd=work)
    return added


@dataclass
class DueReport:
    released: list[str] = field(default_factory=list)  # newly released and published
    already: list[str] = field(default_factory=list)  # published before
    not_yet: list[str] = field(default_factory=list)  # release time still ahead
    missing: list[str] = field(default_factory=list)  # in the schedule, no source yet


def _set_due_dates(course_root: Path, ps_ids: list[str], schedule: Any) -> None:
    from nbgrader.api import Gradebook

    from autograder.config.course import Course

    by_id = {p.id: p for p in schedule.problem_sets}
    course = Course.at(course_root)
    with Gradebook(course.db_url, course_id=course.course_id) as gb:
        for ps in ps_ids:
            if ps in by_id:
                due = (
                    by_id[ps].due.astimezone(dt.UTC).replace(tzinfo=None)
                )  # nbgrader stores naive UTC
                gb.update_or_create_assignment(ps, duedate=due)


def release_due(
    course_root: Path,
    now: dt.datetime,
    target: ReleaseTarget,
    schedule: Any | None = None,
    exchange: bool = True,
    validate: bool = True,
) -> DueReport:
    """Release and publish every problem set whose release time is at or before ``now``
    (``validate=False`` only generates: for tests of the publishing itself)."""
    from autograder.publish.exchange import exchange_release
    from autograder.release.generation import generate
    from autograder.release.validation import release_assignment
    from autograder.schedule.model import load_schedule

    schedule = schedule or load_schedule(course_root.parent / "book" / "schedule.yml")
    report = DueReport()
    on_branch = published_files(target)
    for ps in schedule.problem_sets:
        if ps.release > now:
            report.not_yet.append(ps.id)
            continue
        if not problem_set_dir(course_root, ps.id).is_dir():
            report.missing.append(ps.id)
            continue
        if f"{ps.id}/{ps.id}.ipynb" in on_branch:
            if not (course_root / "release" / ps.id).is_dir():
                # published from another checkout, or the generated release/ was removed: this
                # course still needs its release (and gradebook entry) to grade what comes in
                (release_assignment if validate else generate)(course_root, ps.id)
            report.already.append(ps.id)
            continue
        if validate:
            release_assignment(course_root, ps.id)
        else:
            generate(course_root, ps.id)
        report.released.append(ps.id)
    if report.released:
        publish_releases(course_root, report.released, target)
    due_now = report.released + report.already
    if due_now:
        _set_due_dates(course_root, due_now, schedule)
        if exchange:
            for ps_id in due_now:
                if (course_root / "release" / ps_id).is_dir():
                    exchange_release(course_root, ps_id)
    return report


def publish_book(
    html: Path, remote: str, branch: str = "gh-pages", message: str = "Publish the book"
) -> str:
    """Put the built site ``html`` on ``branch`` with ghp-import and push it to ``remote``.

    Returns the pushed commit. ghp-import works on a git repository; a scratch one is used so
    the course repository's own branches are left alone.
    """
    if not (html / "index.html").is_file():
        raise PublishError(f"{html} has no index.html: build the book first")
    ghp = shutil.which("ghp-import") or str(Path(sys.executable).with_name("ghp-import"))
    with tempfile.TemporaryDirectory(prefix="course-pages-") as tmp:
        work = Path(tmp)
        _git("init", "--quiet", cwd=work)
        _git("remote", "add", "origin", remote, cwd=work)
        # build on the published history when there is one (ghp-import adds a commit on top)
        _git("fetch", "--quiet", "origin", f"{branch}:{branch}", cwd=work, check=False)
        proc = subprocess.run(
            [
                ghp,
                "--no-jekyll",
                "--branch",
                branch,
                "--message",
                message,
                "--push",
                "--remote",
                "origin",
                str(html),
            ],
            cwd=work,
            capture_output=True,
            text=True,
            env={**os.environ, **_GIT_ENV},
        )
        if proc.returncode != 0:
            raise PublishError(f"ghp-import failed: {(proc.stderr or proc.stdout).strip()[-1000:]}")
        return _git("rev-parse", branch, cwd=work).stdout.strip()
