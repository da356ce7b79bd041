"""The weekly cycle end to end, with real parts, doing exactly what the guides say.

A copy of the course repository publishes to a local bare git remote (the learners' branch and
``gh-pages``) and an exchange folder. A real Jupyter server with nbgitpuller serves the learner's
home; headless Chromium opens the problem set's launch link (the book's, pointed at that server)
and the notebook arrives. Every ``bash`` block of the learner guide and of the instructor guide
(``book/guides/``) is run verbatim, in the order the week happens; the test only fills in the
learner's answers and sets the clock (``COURSE_NOW``). A week later the next problem set's link
pulls the new notebook and leaves the learner's edited one alone.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import pytest
from grading_support import REPO, solutions

from autograder import schedule as sch

pytestmark = [pytest.mark.browser, pytest.mark.sandbox, pytest.mark.slow]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PS1, PS2 = "ps01_quaternions", "ps02_so3_metrics"
LEARNER = "ada"


def guide_blocks(name: str) -> list[tuple[str, list[str]]]:
    """(section heading, commands) of every ``bash`` block of ``book/guides/<name>.md``."""
    text = (REPO / "book" / "guides" / f"{name}.md").read_text()
    blocks, heading = [], ""
    for match in re.finditer(r"^(#+ [^\n]*)$|^```bash\n(.*?)^```", text, re.M | re.S):
        if match.group(1):
            heading = match.group(1).lstrip("# ").strip()
        else:
            lines = [
                ln.strip()
                for ln in match.group(2).splitlines()
                if ln.strip() and not ln.strip().startswith("#")
            ]
            blocks.append((heading, lines))
    return blocks


def run_block(
    lines: list[str], cwd: Path, env: dict[str, str]
) -> list[subprocess.CompletedProcess[str]]:
    done = []
    for line in lines:
        if line.startswith("cd "):
            cwd = Path(line[3:].strip().replace("~", env["HOME"], 1))
            continue
        proc = subprocess.run(
            line, shell=True, cwd=cwd, env=env, capture_output=True, text=True, timeout=900
        )
        assert proc.returncode == 0, (
            f"`{line}` failed in {cwd}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
        done.append(proc)
    return done


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def world(tmp_path: Path) -> Iterator[dict]:
    remote = tmp_path / "problem-sets.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(remote)], check=True)
    repo = tmp_path / "repo"
    ignore = shutil.ignore_patterns(
        ".git",
        ".venv*",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".hypothesis",
        "release",
        "submitted",
        "autograded",
        "feedback",
        "gradebook.db*",
        "*.csv",
        "exchange",
    )
    shutil.copytree(REPO, repo, ignore=ignore)
    cfg_path = repo / "_config.yml"
    cfg_path.write_text(
        cfg_path.read_text().replace(
            "release_remote: https://github.com/cryoem-study-group/problem-sets",
            f"release_remote: {remote.as_uri()}",
        )
    )
    assert remote.as_uri() in cfg_path.read_text()
    home = tmp_path / "home" / LEARNER
    home.mkdir(parents=True)
    venv_bin = str(Path(sys.executable).parent)
    base = {k: v for k, v in os.environ.items() if not k.startswith("COURSE_")}
    common = {
        **base,
        "PATH": f"{venv_bin}:{base['PATH']}",
        "COURSE_EXCHANGE": str(tmp_path / "exchange"),
    }
    instructor = common  # the remote comes from _config.yml, as in the course
    learner = {**common, "HOME": str(home), "JUPYTERHUB_USER": LEARNER}
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter_server",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.token=",
            "--ServerApp.password=",
            "--ServerApp.allow_root=True",
            f"--ServerApp.root_dir={home}",
            "--ServerApp.jpserver_extensions={'nbgitpuller': True, 'jupyterlab': True}",
        ],
        env=learner,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "server.log", "w"),
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=2)
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError((tmp_path / "server.log").read_text()[-3000:]) from None
            time.sleep(0.3)
    try:
        yield {
            "repo": repo,
            "remote": remote,
            "home": home,
            "instructor": instructor,
            "learner": learner,
            "server": f"http://127.0.0.1:{port}",
            "tmp": tmp_path,
        }
    finally:
        server.terminate()
        server.wait(timeout=30)


def open_link(world: dict, ps: str) -> Path:
    """Follow the problem set's launch link (the book's own, with the hub replaced by the local
    server) in headless Chromium; return the notebook it pulled."""
    from playwright.sync_api import sync_playwright

    cfg = sch.load_book_config(world["repo"])
    link = sch.launch_url_from_config(f"{ps}/{ps}.ipynb", cfg)
    parts = urlsplit(link)
    assert parts.path == "/hub/user-redirect/git-pull"
    local = f"{world['server']}/git-pull?{parts.query}"
    target = world["home"] / world["remote"].name.removesuffix(".git") / ps / f"{ps}.ipynb"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(local)
        page.wait_for_url(re.compile(r".*/lab/tree/.*"), timeout=120_000)
        assert page.url.endswith(f"/lab/tree/problem-sets/{ps}/{ps}.ipynb"), page.url
        browser.close()
    assert target.is_file(), f"nbgitpuller did not bring {target}"
    return target


def test_a_week_as_the_guides_say(world: dict) -> None:
    instructor_steps = dict(guide_blocks("instructor"))
    learner_steps = [cmds for _, cmds in guide_blocks("learner")]
    assert len(learner_steps) == 3 and len(instructor_steps) >= 4
    repo, home = world["repo"], world["home"]
    week1 = {**world["instructor"], "COURSE_NOW": "2022-02-04T10:00"}

    # Monday: the instructor releases what is due (ps01, and ps07 and ps09 from the January meetings)
    out = run_block(instructor_steps["Release what is due"], repo, week1)[0].stdout
    assert f"released and published: {PS1}" in out and PS2 in out  # ps02 is not due yet

    # the learner opens the link, works, checks, submits
    notebook = open_link(world, PS1)
    nb = nbformat.read(notebook, as_version=4)
    answers = solutions(repo / "assignments", PS1)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = answers[gid]
    nbformat.write(nb, notebook)
    edited = notebook.read_bytes()
    check = run_block(learner_steps[0], home, world["learner"])[0]
    assert "✓ test_quat_rotate" in check.stdout and "✗" not in check.stdout
    run_block(learner_steps[1], home, world["learner"])

    # after the deadline: collect, grade, feedback; the learner reads it
    graded = run_block(
        instructor_steps["After the deadline: collect, grade, return feedback"], repo, week1
    )
    assert (
        "collected 1" in graded[0].stdout
        and f"{LEARNER}" in graded[1].stdout
        and "36/36" in graded[1].stdout
    )
    run_block(learner_steps[2], home, world["learner"])
    feedback = list((home / "problem-sets" / PS1 / "feedback").rglob(f"{PS1}.html"))
    assert len(feedback) == 1 and "Autograder report" in feedback[0].read_text()

    # report, export, publish the book (to gh-pages of the same remote)
    report, _ = run_block(
        instructor_steps["See what learners found hard, and export the grades"], repo, week1
    )
    assert "100 %" in report.stdout
    # one row per released problem set for the learner: ps01 graded (raw score; the submission
    # is stamped with the real clock, so late), the others scored 0
    schedule = sch.load_schedule(repo / "book" / "schedule.yml")
    now = dt.datetime.fromisoformat(week1["COURSE_NOW"]).replace(tzinfo=schedule.tz)
    released = [ps.id for ps in schedule.problem_sets if ps.release <= now]
    rows = list(csv.DictReader(io.StringIO((repo / "assignments" / "grades.csv").read_text())))
    mine = {r["assignment"]: float(r["raw_score"]) for r in rows if r["student_id"] == LEARNER}
    assert sorted(mine) == sorted(released) and mine[PS1] == 36.0
    assert all(score == 0.0 for ps, score in mine.items() if ps != PS1)
    run_block(instructor_steps["Publish the book"], repo, week1)
    pages = subprocess.run(
        ["git", "ls-tree", "-r", "--name-only", "gh-pages"],
        cwd=world["remote"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "book/guides/learner.html" in pages.stdout and "schedule.ics" in pages.stdout

    # a week later: the next release arrives with the same link machinery; the edited notebook stays
    week3 = {**world["instructor"], "COURSE_NOW": "2022-02-25T10:00"}
    out = run_block(instructor_steps["Release what is due"], repo, week3)[0].stdout
    assert PS2 in out.split("released and published:")[1].splitlines()[0]
    open_link(world, PS2)
    assert notebook.read_bytes() == edited
    again = run_block(instructor_steps["Release what is due"], repo, week3)[0].stdout
    assert "released and published" not in again  # idempotent
