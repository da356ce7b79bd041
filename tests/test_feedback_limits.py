"""The feedback's mathematics is typeset page by page, each page within a time and memory budget.

A learner's markdown cells go into their feedback page as they wrote them, so a page may carry
more TeX than MathJax can typeset in reasonable time or memory. Such a page keeps its TeX as
text and says so at the top; the pages beside it are typeset as usual. (The per-learner budget
of the page's rendering by nbconvert is exercised on the hostile corpus,
``tests/test_hostile_submissions.py::test_feedback_of_hostile_kinds_is_bounded``.)
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from grading_support import REPO

from autograder.feedback.typeset import LIMIT_NOTE, node_modules, typeset_math

MODULES = node_modules(REPO)
pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (MODULES / "mathjax-full").is_dir(),
    reason="needs node and MathJax (npm ci in hub/)",
)


def _page(path: Path, formulas: int) -> Path:
    body = " ".join(f"$x_{{{i}}}^2 + \\frac{{a}}{{b_{{{i}}}}}$" for i in range(formulas))
    path.write_text(f"<!DOCTYPE html><html><head></head><body><p>{body}</p></body></html>")
    return path


@pytest.mark.parametrize(
    ("seconds", "memory_mb", "why"),
    [(12.0, 4096, "more than 12 s"), (600.0, 48, "more than 48 MiB of memory")],
)
def test_a_page_over_its_budget_keeps_its_tex_and_says_so(
    tmp_path: Path, seconds: float, memory_mb: int, why: str
) -> None:
    before = _page(tmp_path / "before.html", 3)
    bomb = _page(tmp_path / "bomb.html", 40_000)  # 15 s and 730 MiB for half of it, measured;
    # the small pages take under 1 s each, node's start included (a 12x margin for load)
    after = _page(tmp_path / "after.html", 2)
    tex = bomb.read_text()
    t0 = time.monotonic()
    count = typeset_math([before, bomb, after], MODULES, seconds=seconds, memory_mb=memory_mb)
    assert time.monotonic() - t0 < seconds + 60  # the two small pages and node's start-ups
    assert count == 5  # the small pages' formulas, not the bomb's
    for page, n in ((before, 3), (after, 2)):
        assert page.read_text().count("<mjx-container") == n and LIMIT_NOTE not in page.read_text()
    text = bomb.read_text()
    assert LIMIT_NOTE in text and why in text, text[:500]
    note = text[text.index('<div class="course-limit-note"') : text.index("</div>") + len("</div>")]
    assert text.replace(note, "") == tex  # the page itself untouched
    assert "<mjx-container" not in text


def test_pages_within_the_budget_are_typeset_alike(tmp_path: Path) -> None:
    pages = [_page(tmp_path / f"p{i}.html", n) for i, n in enumerate([1, 4, 0])]
    assert typeset_math(pages, MODULES, seconds=120.0, memory_mb=512) == 5
    assert [p.read_text().count("<mjx-container") for p in pages] == [1, 4, 0]
    assert not any(LIMIT_NOTE in p.read_text() for p in pages)
