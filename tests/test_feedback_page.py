"""The feedback page a learner opens: mathematics typeset with no script and no network, the
report's table legible, each test cell named after its part — checked on the HTML that
``course feedback`` writes, and in headless Chromium with scripts disabled (as JupyterLab's HTML
viewer shows it)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from grading_support import REPO, grade, learner_notebook, make_course, submit

from autograder.authoring import problem_set_dir
from autograder.checks.loader import load_parts
from autograder.feedback.generate import generate_feedback

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]
PS = "ps01_quaternions"


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_course(tmp_path_factory.mktemp("fb"), PS)
    submit(root, PS, "ada", learner_notebook(root, PS, solved=True))
    grade(root, PS, workers=1)
    files = generate_feedback(root, PS)
    assert len(files) == 1
    return files[0]


def test_no_mathjax_from_a_cdn_and_the_mathematics_is_typeset(page: Path) -> None:
    html = page.read_text()
    assert "cdnjs" not in html and "mathjax/2.7" not in html.lower()
    assert "<script" not in html.split("<body", 1)[1].lower()  # nothing to run in the page
    assert html.count("<mjx-container") > 10
    # no TeX left outside code: every $…$ of the notebook's text became SVG
    text = re.sub(r"<(pre|code|style|script)\b.*?</\1>", "", html, flags=re.S | re.I)
    assert not re.search(r"\$[^$<>\s][^$<>]*\\[a-zA-Z]+[^$<>]*\$", text)


def test_parts_are_named_and_the_table_is_legible(page: Path) -> None:
    html = page.read_text()
    toc = html.split('<div id="toc">', 1)[1].split("</div>", 1)[0]
    assert "Test cell" not in toc
    titles = [p.title for p in load_parts(problem_set_dir(REPO / "assignments", PS), PS)]
    for title in titles:
        assert f">{title}</a>" in toc, title
    assert ".rendered_html th, .rendered_html td" in html


@pytest.mark.browser
def test_in_a_browser_without_scripts(page: Path) -> None:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        ctx = browser.new_context(java_script_enabled=False, offline=True)
        view = ctx.new_page()
        view.goto(page.as_uri())
        svg = view.locator("mjx-container svg").first
        assert svg.bounding_box()["width"] > 5
        head = view.locator("table").first.locator("th")
        assert head.count() == 3
        boxes = [head.nth(i).bounding_box() for i in range(3)]
        gap = boxes[1]["x"] - (boxes[0]["x"] + boxes[0]["width"])
        assert gap >= 0
        pad = view.locator("table td").first.evaluate("e => getComputedStyle(e).paddingLeft")
        assert float(pad.removesuffix("px")) >= 4
        browser.close()
