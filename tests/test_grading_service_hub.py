"""Graded on submit, on the learners' hub: the grading service started and supervised by
JupyterHub (a managed service), learners submitting in the Assignments tab and reading their
feedback a minute later through Fetch Feedback, with no instructor in between; the service's
page in Chromium for an instructor (through the hub's login), a 403 for a learner; the service
killed with SIGKILL, restarted by the hub, and grading again.

Everything is started by the test (``hub_site.hub_platform`` with the grading service on); the
screenshots go to ``hub_site.artefacts()``.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hub_site import CHROMIUM, CHROMIUM_ARGS, INSTRUCTORS, LEARNERS, artefacts, hub_platform
from service_support import wait_for
from test_hub_e2e import PS, Learner

from autograder.hub.platform import LocalPlatform

pytestmark = [pytest.mark.hub, pytest.mark.browser, pytest.mark.sandbox, pytest.mark.slow]
ADA, BEN = sorted(LEARNERS)
INES = next(iter(INSTRUCTORS))
GRADING = 600


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    with hub_platform(tmp_path_factory.mktemp("hub-service"), grader_workers=2) as pf:
        yield pf


class ServiceLearner(Learner):
    def shot(self, what: str) -> Path:
        self.shots += 1
        path = artefacts() / f"service-{self.name}-{self.shots:02d}-{what}.png"
        self.page.screenshot(path=str(path))
        return path


def _entries(pf: LocalPlatform) -> list[Any]:
    from autograder.service import open_ledger

    ledger = open_ledger(pf.repo / "assignments")
    if ledger is None:
        return []
    try:
        return ledger.entries()
    finally:
        ledger.close()


def _released(pf: LocalPlatform, n: int) -> bool:
    entries = _entries(pf)
    return len(entries) >= n and all(e.state == "released" for e in entries)


def _service_pids(pf: LocalPlatform) -> list[int]:
    """The grading service's own process (started by the hub, from the course repository)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
            cwd = (entry / "cwd").resolve()
        except OSError:
            continue
        if b"autograder.service" in cmd and b"serve" in cmd and cwd == pf.repo.resolve():
            found.append(int(entry.name))
    return found


def test_graded_on_submit_through_the_hub(platform: LocalPlatform) -> None:
    from playwright.sync_api import sync_playwright

    print(f"\nscreenshots: {artefacts()}")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        ada, ben = ServiceLearner(browser, platform, ADA), ServiceLearner(browser, platform, BEN)
        for learner, skip in ((ada, None), (ben, "quat_matrix")):
            learner.open_launch_link()
            learner.write_answers(skip)
        t0 = time.monotonic()
        ada.submit()
        ben.submit()
        # nobody runs a course command: the service grades and releases the feedback
        wait_for(lambda: _released(platform, 2), GRADING, 2, "both learners' feedback")
        print(f"graded on submit: both released {time.monotonic() - t0:.0f} s after submitting")
        for learner in (ada, ben):
            frame = learner.open_feedback()
            toc = frame.locator("#toc").inner_text()
            assert "Hamilton product" in toc, toc
            assert "Autograder report" in frame.locator("body").inner_text()
        toc = frame.locator("#toc").inner_text()  # ben's: his skipped part scored nothing
        assert re.search(r"Part D — quaternions and rotation matrices \(Score: 0\.0 / 6\.0\)", toc)

        # the instructor's page, through the hub's login
        ctx = browser.new_context(viewport={"width": 1300, "height": 1000})
        page = ctx.new_page()
        page.set_default_timeout(60_000)
        page.goto(f"{platform.url}/services/grader/")
        page.wait_for_url(re.compile(r".*/hub/login.*"))
        page.fill("input[name=username]", INES)
        page.fill("input[name=password]", INSTRUCTORS[INES])
        page.click("input[type=submit], button[type=submit]")
        page.get_by_role("heading", name="Grading service").wait_for()
        section = page.locator(f"section#{PS}")
        section.wait_for()
        page.screenshot(path=str(artefacts() / "service-instructor-page.png"), full_page=True)
        text = section.inner_text()
        assert "2 released" in text and "Submission → released feedback (2)" in text, text
        assert "Queue" in text and "Empty: every submission is graded." in text, text
        recent = section.locator("table.recent")
        assert recent.locator("tr").count() == 3  # a header and the two gradings
        assert ADA in recent.inner_text() and BEN in recent.inner_text()
        assert section.locator("table.parts tr").count() >= 9
        bars = section.locator("svg.histogram rect.bar")
        assert (
            sum(int(bars.nth(i).get_attribute("data-count") or 0) for i in range(bars.count())) == 2
        )
        figures = page.request.get(f"{platform.url}/services/grader/api/figures")
        assert figures.ok and figures.json()[0]["assignment"] == PS

        # a learner, logged in to the hub, is refused
        resp = ben.page.goto(f"{platform.url}/services/grader/")
        assert resp is not None and resp.status == 403, resp and resp.status
        assert ben.page.request.get(f"{platform.url}/services/grader/api/figures").status == 403
        ben.shot("refused")

        # SIGKILL the service: the hub starts it again, and it grades what came meanwhile
        pids = _service_pids(platform)
        assert len(pids) == 1, pids

        os.kill(pids[0], signal.SIGKILL)
        ada.submit()  # submitted again while the service is down
        new = wait_for(
            lambda: [q for q in _service_pids(platform) if q not in pids], 120, 2, "a new service"
        )
        print(f"the hub started the service again: pid {new[0]}")
        wait_for(lambda: _released(platform, 3), GRADING, 2, "ada's second submission")
        entries = _entries(platform)
        assert [e.learner for e in entries].count(ADA) == 2
        browser.close()
