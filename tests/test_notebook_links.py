"""What a learner reads in a released notebook is true: its links into the book resolve (the
book's address comes from ``_config.yml``, once), and "Before you submit" names the folder the
book's launch link makes."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from book_site import REPO, build_book

from autograder import schedule as sch
from autograder.authoring import problem_sets, read_notebook

COURSE = REPO / "assignments"
PROBLEM_SETS = problem_sets(COURSE)
LINK = re.compile(r"\]\((https?://[^)\s]+)\)")


def _markdown(ps: str) -> str:
    nb = read_notebook(COURSE, ps)
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


@pytest.mark.parametrize("ps", PROBLEM_SETS)
def test_before_you_submit_names_the_folder_the_launch_link_makes(ps: str) -> None:
    cfg = sch.load_book_config(REPO)
    link = urlsplit(sch.launch_url_from_config(f"{ps}/{ps}.ipynb", cfg))
    query = {k: v[0] for k, v in parse_qs(link.query).items()}
    folder = query["targetpath"]
    assert folder == sch.launch_folder(cfg)
    text = _markdown(ps)
    before = text.split("## Before you submit", 1)[1]
    assert f"`{folder}/{ps}/{ps}.ipynb`" in before
    assert query["urlpath"].endswith(f"/{folder}/{ps}/{ps}.ipynb")
    assert "{book_url}" not in text and "{launch_folder}" not in text
    assert "Validate" in before and "Assignment List" in before


@pytest.mark.slow
@pytest.mark.parametrize("ps", PROBLEM_SETS)
def test_links_into_the_book_resolve(ps: str) -> None:
    html = build_book()
    book = sch.book_url(sch.load_book_config(REPO))
    links = LINK.findall(_markdown(ps))
    ours = [u for u in links if u.startswith(book + "/")]
    assert ours, f"{ps} links nowhere into the book"
    for url in ours:
        parts = urlsplit(url[len(book) :])
        page = html / parts.path.lstrip("/")
        assert page.is_file(), f"{ps}: {url} → no {page.relative_to(html)}"
        if parts.fragment:
            assert f'id="{parts.fragment}"' in page.read_text(), url
    # the rest points outside the course (papers, libraries), never at its private repository
    private = sch.load_book_config(REPO)["repository"]["url"]
    assert not [u for u in links if u.startswith(private)]
