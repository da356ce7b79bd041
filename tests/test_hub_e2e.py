"""A week on the learners' hub, end to end, with real parts and point and click.

The test starts everything itself (``hub_site.hub_platform``): a real JupyterHub on loopback with
configurable-http-proxy, PAM logins of real Unix accounts, each learner's server spawned as that
learner (LocalProcessSpawner), nbgrader's exchange shared by the hub's users, the learners'
repository the book's launch links pull (nbgitpuller through ``hub/user-redirect/git-pull``).

In headless Chromium two learners log in through the hub's login page by following the problem
set's launch link, work (the answers are written through their Jupyter server's contents API,
as them), press Validate (``course check`` behind nbgrader's button) and Submit in the
Assignments tab; the instructor collects, grades and releases feedback; each learner fetches it
and opens it by clicking. Every step leaves a screenshot in ``hub_site.artefacts()``; what the
screenshots show is asserted on the page's DOM.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from grading_support import solutions
from hub_site import CHROMIUM, CHROMIUM_ARGS, INSTRUCTORS, LEARNERS, artefacts, hub_platform

from autograder import schedule as sch
from autograder.hub.platform import LocalPlatform

pytestmark = [pytest.mark.hub, pytest.mark.browser, pytest.mark.slow]
PS = "ps01_quaternions"
ADA, BEN = sorted(LEARNERS)
INES = next(iter(INSTRUCTORS))
#: Ben leaves this part unsolved: his Validate reports it, his grade lacks it.
BEN_SKIPS = "quat_matrix"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    with hub_platform(tmp_path_factory.mktemp("hub")) as pf:
        yield pf


def launch_link(pf: LocalPlatform) -> str:
    """The problem set's launch link, built as the book builds it (for this platform's hub)."""
    cfg = sch.load_book_config(pf.repo)
    cfg["course"] = {
        **cfg["course"],
        "jupyterhub_url": pf.url,
        "release_remote": pf.remote.as_uri(),
    }
    return sch.launch_url_from_config(f"{PS}/{PS}.ipynb", cfg)


class Learner:
    """One learner's browser session on the hub."""

    def __init__(self, browser: Any, pf: LocalPlatform, name: str) -> None:
        self.pf, self.name = pf, name
        self.context = browser.new_context(viewport={"width": 1400, "height": 900})
        self.page = self.context.new_page()
        self.page.set_default_timeout(60_000)
        self.shots = 0

    def shot(self, what: str) -> Path:
        self.shots += 1
        path = artefacts() / f"{self.name}-{self.shots:02d}-{what}.png"
        self.page.screenshot(path=str(path))
        return path

    @property
    def api(self) -> str:
        return f"{self.pf.url}/user/{self.name}/api"

    def xsrf(self) -> str:
        return next(c["value"] for c in self.context.cookies() if c["name"] == "_xsrf")

    def open_launch_link(self) -> None:
        page = self.page
        page.goto(launch_link(self.pf))
        page.wait_for_url(re.compile(r".*/hub/login.*"))
        self.shot("login")
        page.fill("input[name=username]", self.name)
        page.fill("input[name=password]", LEARNERS[self.name])
        page.click("input[type=submit], button[type=submit]")
        page.wait_for_url(re.compile(rf".*/user/{self.name}/lab/tree/.*"), timeout=180_000)
        assert page.url.endswith(f"/lab/tree/problem-sets/{PS}/{PS}.ipynb"), page.url
        self.wait_for_notebook()
        self.shot("launched")

    def wait_for_notebook(self) -> None:
        self.page.get_by_role("heading", name=re.compile("Problem set 1")).first.wait_for(
            timeout=120_000
        )
        self.page.locator(".jp-Notebook .jp-Cell").first.wait_for(state="visible")

    def write_answers(self, skip: str | None) -> None:
        """Fill in the solution cells through the contents API, as this learner."""
        path = f"problem-sets/{PS}/{PS}.ipynb"
        got = self.page.request.get(f"{self.api}/contents/{path}?content=1")
        assert got.ok, got.text()
        model = got.json()
        answers = solutions(self.pf.repo / "assignments", PS)
        for cell in model["content"]["cells"]:
            gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if cell.get("metadata", {}).get("nbgrader", {}).get("solution") and gid != skip:
                cell["source"] = answers[gid]
        put = self.page.request.put(
            f"{self.api}/contents/{path}",
            data=json.dumps({"type": "notebook", "format": "json", "content": model["content"]}),
            headers={"X-XSRFToken": self.xsrf(), "Content-Type": "application/json"},
        )
        assert put.ok, put.text()
        self.page.reload()
        self.wait_for_notebook()

    def validate(self) -> str:
        page = self.page
        page.locator(".jp-NotebookPanel-toolbar").get_by_text("Validate", exact=True).click()
        dialog = page.locator(".jp-Dialog")
        dialog.get_by_text("Validation Results").wait_for(timeout=240_000)
        page.wait_for_selector("#validation-message")
        text = dialog.inner_text()
        self.shot("validated")
        dialog.get_by_role("button", name=re.compile("Ok", re.I)).click()
        return text

    def open_assignments(self) -> Any:
        page = self.page
        page.get_by_role("menuitem", name="Nbgrader").click()
        page.get_by_text("Assignment List", exact=True).click()
        panel = page.locator("#nbgrader-assignment-list")
        panel.wait_for()
        return panel

    def submit(self) -> None:
        panel = self.open_assignments()
        fetched = panel.locator("#fetched_assignments_list")
        fetched.get_by_text(PS).first.wait_for()
        self.shot("assignments")
        fetched.get_by_role("button", name="Submit").first.click()
        panel.locator("#submitted_assignments_list .list_item", has_text=PS).first.wait_for()
        self.shot("submitted")

    def open_feedback(self) -> Any:
        page = self.page
        panel = self.open_assignments()
        panel.locator("#submitted_assignments_list").get_by_role(
            "button", name="Fetch Feedback"
        ).first.click()
        panel.get_by_text("(view feedback)").first.wait_for(timeout=60_000)
        self.shot("feedback-fetched")
        panel.get_by_text("(view feedback)").first.click()
        listing = page.locator(".jp-DirListing-content")
        listing.get_by_text(f"{PS}.html").wait_for()
        listing.get_by_text(f"{PS}.html").dblclick()
        frame = page.frame_locator(
            ".jp-HTMLViewer iframe, iframe.jp-HTMLViewer, .jp-MainAreaWidget iframe"
        )
        frame.locator("#toc").wait_for(timeout=60_000)
        time.sleep(1)
        self.shot("feedback")
        return frame


def test_a_week_on_the_hub(platform: LocalPlatform) -> None:
    from playwright.sync_api import sync_playwright

    print(f"\nscreenshots: {artefacts()}")
    t0 = time.monotonic()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        ada, ben = Learner(browser, platform, ADA), Learner(browser, platform, BEN)

        # both open the problem set from the book's launch link, log in, work
        for learner, skip in ((ada, None), (ben, BEN_SKIPS)):
            learner.open_launch_link()
            learner.write_answers(skip)
        home = Path(f"~{ADA}").expanduser()
        assert (home / "problem-sets" / PS / f"{PS}.ipynb").is_file()
        assert home.stat().st_mode & 0o777 == 0o700

        # Validate: course check's report, in the sandbox (this host has one)
        assert "Success! Your notebook passes all the tests." in ada.validate()
        report = ben.validate()
        assert "The following cell failed" in report
        assert f"course check {PS}.ipynb (sandboxed kernel)" in report
        assert "✓ test_quat_multiply" in report and f"✗ test_{BEN_SKIPS}" in report

        # Submit in the Assignments tab
        ada.submit()
        ben.submit()

        # the instructor collects, grades (sandboxed), writes and releases feedback
        collected = platform.course("collect", PS).stdout
        assert "collected 2" in collected, collected
        graded = platform.course("grade", PS, "--quiet").stdout
        assert ADA in graded and BEN in graded, graded
        released = platform.course("feedback", PS).stdout
        assert "feedback of 2 learner(s) released" in released, released

        # each learner fetches the feedback and opens it by clicking
        for learner in (ada, ben):
            frame = learner.open_feedback()
            toc = frame.locator("#toc").inner_text()
            assert "Test cell" not in toc, toc
            assert "Hamilton product" in toc, toc  # parts named as the hidden checks name them
            # the mathematics is typeset (MathJax ran when the feedback was made) …
            assert frame.locator("mjx-container").count() > 10
            body = frame.locator("body").inner_text()
            assert "$\\" not in body and "$q" not in body
            # … and the report's table has visibly separate columns
            table = frame.locator("table").first
            assert table.locator("th").count() == 3
            pad = table.locator("td").first.evaluate("e => getComputedStyle(e).paddingLeft")
            assert float(pad.removesuffix("px")) >= 4, pad
            assert "Autograder report" in body
        # ben's unsolved part scored nothing, and his feedback says which part that is
        toc = frame.locator("#toc").inner_text()
        assert re.search(
            r"Part D — quaternions and rotation matrices \(Score: 0\.0 / 6\.0\)", toc
        ), toc
        browser.close()
    print(f"the hub's week took {time.monotonic() - t0:.0f} s in the browser")


def test_the_hub_serves_the_book(platform: LocalPlatform) -> None:
    import urllib.request

    with urllib.request.urlopen(f"{platform.book_url}/index.html", timeout=10) as r:
        assert "Online cryo-EM study group" in r.read().decode()


# -- isolation, from a learner's own Unix account on the hub -------------------------------------
PROBE = r"""
import json, os, sys
out = {}
def attempt(name, fn):
    try:
        fn()
        out[name] = "allowed"
    except PermissionError:
        out[name] = "denied"
    except (ModuleNotFoundError, ImportError):
        out[name] = "no module"
    except FileNotFoundError:
        out[name] = "missing"
    except OSError as exc:
        out[name] = f"denied ({exc.errno})"
args = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
"""


def probe(pf: LocalPlatform, learner: str, python: str, checks: str, **args: str) -> dict[str, str]:
    from hub_site import as_learner

    code = PROBE + checks + "\nprint(json.dumps(out))"
    code = code.replace(
        "args = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}", f"args = {args!r}"
    )
    proc = as_learner(learner, code, python)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def ada_submitted(platform: LocalPlatform) -> Path:
    """Ada's submission in the exchange (submitted with the learner's ``course submit``, as her)."""
    from hub_site import as_learner

    home = Path(f"~{ADA}").expanduser()
    inbound = platform.exchange / "cryoem-study-group-2022" / "inbound"
    mine = lambda: sorted(p for p in inbound.iterdir() if p.name.startswith(f"{ADA}+{PS}+"))  # noqa: E731
    if not mine():
        folder = home / "problem-sets" / PS
        if not folder.is_dir():
            pytest.fail("ada has no problem set to submit: the week on the hub did not run")
        out = as_learner(
            ADA,
            f"import os, sys; os.chdir({str(home / 'problem-sets')!r}); "
            f"os.environ['COURSE_EXCHANGE'] = {str(platform.exchange)!r}; "
            f"from course_learner.cli import main; sys.exit(main(['submit', {PS!r}]))",
            str(platform.hub_env / "bin" / "python"),
        )
        assert out.returncode == 0, out.stderr
    return mine()[-1]


ENVS = ["hub-env", "kernel-env"]


@pytest.mark.parametrize("env", ENVS)
def test_a_learner_cannot_reach_the_answer_key(platform: LocalPlatform, env: str) -> None:
    from autograder.sandbox.bubblewrap import default_kernel_env

    python = (
        str(platform.hub_env / "bin" / "python")
        if env == "hub-env"
        else str(default_kernel_env() / "bin" / "python")
    )
    got = probe(
        platform,
        BEN,
        python,
        """
repo = args["repo"]
attempt("list the course repository", lambda: os.listdir(repo))
attempt("read the reference implementation", lambda: open(repo + "/reference_impl/quaternion.py").read())
attempt("read the hidden checks", lambda: open(repo + "/assignments/problem_sets/ps01_quaternions/hidden_checks.py").read())
attempt("read the gradebook", lambda: open(repo + "/assignments/gradebook.db", "rb").read())
sys.path.insert(0, repo)
attempt("import reference_impl", lambda: __import__("reference_impl"))
attempt("import autograder", lambda: __import__("autograder"))
""",
        repo=str(platform.repo),
    )
    assert (platform.repo / "assignments" / "gradebook.db").is_file()  # there, but not for ben
    for what, result in got.items():
        assert result.startswith(("denied", "no module")), (what, result)


def test_a_learner_cannot_read_another_learners_home(platform: LocalPlatform) -> None:
    for name in (ADA, BEN):
        assert Path(f"~{name}").expanduser().stat().st_mode & 0o777 == 0o700
    got = probe(
        platform,
        BEN,
        str(platform.hub_env / "bin" / "python"),
        """
attempt("list ada's home", lambda: os.listdir(args["home"]))
attempt("read ada's notebook", lambda: open(args["home"] + "/problem-sets/ps01_quaternions/ps01_quaternions.ipynb").read())
""",
        home=str(Path(f"~{ADA}").expanduser()),
    )
    assert set(got.values()) == {"denied"}, got


def test_a_learner_cannot_read_or_overwrite_another_learners_submission(
    platform: LocalPlatform, ada_submitted: Path
) -> None:
    before = {p: p.read_bytes() for p in ada_submitted.rglob("*") if p.is_file()}
    got = probe(
        platform,
        BEN,
        str(platform.hub_env / "bin" / "python"),
        """
import shutil
sub, inbound = args["sub"], os.path.dirname(args["sub"])
attempt("list the exchange's inbound", lambda: os.listdir(inbound))
attempt("list ada's submission", lambda: os.listdir(sub))
attempt("read ada's submitted notebook", lambda: open(sub + "/ps01_quaternions.ipynb").read())
attempt("overwrite ada's submitted notebook", lambda: open(sub + "/ps01_quaternions.ipynb", "w").write("{}"))
attempt("add a file to ada's submission", lambda: open(sub + "/extra.txt", "w").write("x"))
attempt("delete ada's submission", lambda: shutil.rmtree(sub))
attempt("rename ada's submission", lambda: os.rename(sub, sub + "-x"))
attempt("take the name of ada's submission", lambda: os.mkdir(sub))
""",
        sub=str(ada_submitted),
    )
    for what, result in got.items():
        assert result.startswith("denied") or (what.startswith("take") and result != "allowed"), (
            what,
            result,
        )
    after = {p: p.read_bytes() for p in ada_submitted.rglob("*") if p.is_file()}
    assert after == before
