"""The built book, opened in headless Chromium (Debian's ``chromium`` driven by Playwright).

The book is built once (``book_site.build_book``: ``jupyter-book build --warningiserror``), served
on localhost, and every page of the table of contents is opened once; the tests check what the
browser saw: every meeting page and its questions, mathematics typeset by MathJax with no raw
``$`` left, every internal link resolving, well-formed launch and problem-set links, and none of
the syllabus's private data.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

import pytest
import yaml
from book_site import REPO, build_book, private_strings, serve, source_of, toc_docnames

from autograder import schedule as sch

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

#: Each meeting page's questions, counted from the syllabus: (how many, a phrase of the first,
#: a phrase of the last).
EXPECTED_QUESTIONS: dict[str, tuple[int, str, str]] = {
    "2022-01-21-vesper": (9, "Z-score results", "Why would a researcher want to align maps"),
    "2022-01-28-huang": (1, "Gamma conjugacy", "What would be Poisson"),
    "2022-02-04-rotations": (
        6,
        "Problems (e.g. problem 7)",
        "how would we do so with this equation",
    ),
    "2022-02-11-sparx-eman2": (8, "Compare eq. 7", "uniform sampling on the sphere"),
    "2022-02-25-rotation-averaging": (7, "accompanying notebook", "using what distance"),
    "2022-03-04-orientation-estimation": (17, "problem setup in Figure 1", "computational cost"),
    "2022-03-11-sanz-moreta": (15, "conformational heterogeneity", "No-U-Turn Sampler"),
    "2022-03-18-cryoai-1": (0, "", ""),
    "2022-03-25-cryoai-2": (6, "simulated datasets different", "iterative refinement"),
    "2022-04-01-hanson": (0, "", ""),
    "2022-04-08-cryofold": (0, "", ""),
    "upcoming-lederman": (0, "", ""),
    "upcoming-miolane": (0, "", ""),
    "upcoming-silva": (0, "", ""),
    "upcoming-zhong": (2, "schematic (computational graph)", "how would CryoDRGN perform"),
}

# Rendered text of the article, without code, scripts and typeset math (JavaScript).
ARTICLE_TEXT_JS = """() => {
  const art = document.querySelector('article.bd-article') || document.body;
  const clone = art.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, mjx-container, .headerlink')
       .forEach(e => e.remove());
  return clone.textContent;
}"""
QUESTIONS_JS = """() => Array.from(document.querySelectorAll('div.questions > ol > li'))
                      .map(li => li.textContent.replace(/\\s+/g, ' ').trim())"""
LINKS_JS = """() => Array.from(document.querySelectorAll('a[href]'))
  .map(a => ({href: a.getAttribute('href'), abs: a.href, cls: a.className,
              text: a.textContent.trim()}))"""


@dataclass
class Page:
    docname: str
    url: str
    status: int
    title: str
    text: str
    html: str
    math_nodes: int
    mathjax_loaded: bool
    questions: list[str]
    links: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture(scope="module")
def site() -> Any:
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: scripts/dev.sh setup installs Debian's chromium")
    html = build_book()
    pages: dict[str, Page] = {}
    with serve(html) as base, playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        for doc in toc_docnames():
            url = f"{base}/{doc}.html"
            resp = page.goto(url, wait_until="load")
            loaded = bool(page.locator("script[src*='mathjax']").count())
            if loaded:
                page.wait_for_function(
                    "() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                    timeout=30_000,
                )
                page.evaluate("() => MathJax.startup.promise")
            pages[doc] = Page(
                docname=doc,
                url=url,
                status=resp.status if resp else 0,
                title=page.title(),
                text=page.evaluate(ARTICLE_TEXT_JS),
                html=page.content(),
                math_nodes=page.locator("mjx-container").count(),
                mathjax_loaded=loaded,
                questions=page.evaluate(QUESTIONS_JS),
                links=page.evaluate(LINKS_JS),
            )
        browser.close()
    yield {"pages": pages, "html": html, "base": base, "js_errors": errors}


def test_every_page_of_the_toc_opens(site: Any) -> None:
    pages: dict[str, Page] = site["pages"]
    assert len(pages) == len(toc_docnames()) >= 35
    bad = {d: p.status for d, p in pages.items() if p.status != 200}
    assert not bad
    # sphinx-thebe (part of Jupyter Book's theme) declares THEBE_JS_URL twice on every page: a
    # known, harmless theme quirk. Any other JavaScript error fails.
    errors = [e for e in site["js_errors"] if "THEBE_JS_URL" not in e]
    assert not errors, errors


def test_every_meeting_page_exists_and_has_its_questions(site: Any) -> None:
    pages: dict[str, Page] = site["pages"]
    schedule = sch.load_schedule()
    with_page = [m for m in schedule.meetings if m.has_page]
    assert {m.slug for m in with_page} == set(EXPECTED_QUESTIONS)
    for m in with_page:
        page = pages[m.docname]
        n, first, last = EXPECTED_QUESTIONS[m.slug]
        assert len(page.questions) == n, f"{m.slug}: {len(page.questions)} questions, not {n}"
        if n:
            assert first in page.questions[0], m.slug
            assert last in page.questions[-1], m.slug
        # the generated header: title, date and time with the time zone, topic, guest
        assert m.title in page.title
        if m.start is not None:
            assert f"{m.start.hour}:{m.start.minute:02d}" in page.text
            assert str(m.start.tzname()) in page.text and "America/Vancouver" in page.text
        else:
            assert str(m.when) in page.text
        if m.guest:
            assert m.guest in page.text


def test_schedule_page_lists_every_date_time_topic_and_guest(site: Any) -> None:
    text = site["pages"]["book/schedule"].text
    schedule = sch.load_schedule()
    for m in schedule.meetings:
        if m.date is not None:
            assert f"{m.date.day} {m.date:%b %Y}" in text, m.slug
        assert m.topic.replace("$", "") in text or m.topic in text, m.slug
        if m.guest:
            assert m.guest in text
    assert "No meeting" in text and "PST" in text and "PDT" in text


def _math_expected(docname: str) -> bool:
    src = source_of(docname).read_text(encoding="utf-8")
    if re.search(r"\$[^$\n]+\$", src):
        return True
    generated = REPO / "book" / "_generated" / "meetings" / (Path(docname).name + ".md")
    return generated.is_file() and "$" in generated.read_text(encoding="utf-8")


def test_mathematics_is_typeset_and_no_raw_dollar_is_left(site: Any) -> None:
    pages: dict[str, Page] = site["pages"]
    with_math = [d for d in pages if _math_expected(d)]
    assert len(with_math) >= 15
    for doc in with_math:
        page = pages[doc]
        assert page.mathjax_loaded, f"{doc}: MathJax not loaded"
        assert page.math_nodes > 0, f"{doc}: no mjx-container (math not typeset)"
    for doc, page in pages.items():
        leftovers = re.findall(r".{0,30}(?:\$|\\\(|\\\[|\\begin\{).{0,30}", page.text)
        assert not leftovers, f"{doc}: raw TeX left in the rendered text: {leftovers[:3]}"


def test_mathjax_is_served_locally(site: Any) -> None:
    for doc, page in site["pages"].items():
        for src in re.findall(r'<script[^>]+src="([^"]*mathjax[^"]*)"', page.html, re.I):
            assert not src.startswith(("http:", "https:", "//")), f"{doc}: MathJax from {src}"


def _target_ids(path: Path, cache: dict[Path, set[str]]) -> set[str]:
    if path not in cache:
        text = path.read_text(encoding="utf-8", errors="replace")
        cache[path] = set(re.findall(r'\bid="([^"]+)"', text))
    return cache[path]


def test_every_internal_link_resolves(site: Any) -> None:
    pages: dict[str, Page] = site["pages"]
    base, html = site["base"], site["html"]
    ids: dict[Path, set[str]] = {}
    broken, checked = [], 0
    for doc, page in pages.items():
        for link in page.links:
            href = link["href"]
            if not href or href.startswith(("mailto:", "javascript:")):
                continue
            absolute = urljoin(page.url, href)
            if not absolute.startswith(base + "/"):
                continue
            parts = urlsplit(absolute)
            target = html / unquote(parts.path).lstrip("/")
            if target.is_dir():
                target = target / "index.html"
            checked += 1
            if not target.is_file():
                broken.append(f"{doc}: {href} (no {target.relative_to(html)})")
            elif parts.fragment and target.suffix == ".html":
                if unquote(parts.fragment) not in _target_ids(target, ids):
                    broken.append(f"{doc}: {href} (no #{parts.fragment})")
    assert checked > 300
    assert not broken, "\n".join(broken[:20])


def _config() -> dict[str, Any]:
    return yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))


def _check_launch(href: str, cfg: dict[str, Any], branch: str) -> str:
    parts = urlsplit(href)
    hub = urlsplit(cfg["course"]["jupyterhub_url"])
    assert (parts.scheme, parts.netloc) == (hub.scheme, hub.netloc), href
    assert parts.path == "/hub/user-redirect/git-pull", href
    q = parse_qs(parts.query)
    assert set(q) <= {"repo", "branch", "urlpath", "targetpath"} and {
        "repo",
        "branch",
        "urlpath",
    } <= set(q), href
    repo_url = (
        cfg["course"]["release_remote"]
        if branch == sch.release_branch(cfg)
        else cfg["repository"]["url"]
    )
    assert q["repo"] == [repo_url]
    assert q["branch"] == [branch]
    repo_name = repo_url.rstrip("/").rsplit("/", 1)[-1]
    prefix = f"lab/tree/{repo_name}/"
    assert q["urlpath"][0].startswith(prefix), href
    return q["urlpath"][0][len(prefix) :]


def test_problem_set_launch_links_are_well_formed(site: Any) -> None:
    pages: dict[str, Page] = site["pages"]
    cfg = _config()
    schedule = sch.load_schedule()
    for ps in schedule.problem_sets:
        page = pages[ps.docname]
        launch = [lk for lk in page.links if "launch-link" in lk["cls"]]
        assert len(launch) == 1, ps.id
        path = _check_launch(launch[0]["href"], cfg, sch.release_branch(cfg))
        assert path == ps.notebook_path
        if not sch.is_published(path, cfg, REPO):  # not published yet: clearly marked
            assert "launch-placeholder" in launch[0]["cls"].split()
            assert "placeholder" in page.text
        assert ps.release.strftime("%-d %b %Y") in page.text
        assert ps.due.strftime("%-d %b %Y") in page.text


def test_meeting_pages_link_to_their_problem_sets(site: Any) -> None:
    pages: dict[str, Page] = site["pages"]
    schedule = sch.load_schedule()
    linked = 0
    for m in schedule.dated_meetings:
        hrefs = {urljoin(pages[m.docname].url, lk["href"]) for lk in pages[m.docname].links}
        for ps in schedule.problem_sets_for(m):
            assert urljoin(pages[m.docname].url, f"/{ps.docname}.html") in hrefs, (m.slug, ps.id)
            linked += 1
    assert linked == 6  # 4 Feb; 25 Feb (two); 4, 18 and 25 Mar


def test_no_link_points_at_the_private_course_repository(site: Any) -> None:
    """The course repository holds the solutions: no repository button, no launch button that
    would pull it; the only launch links are the problem sets' (the learners' repository)."""
    private = _config()["repository"]["url"].rstrip("/")
    for doc, page in site["pages"].items():
        for lk in page.links:
            assert not lk["href"].startswith(private), f"{doc} links to {lk['href']}"
            if "git-pull" in lk["href"]:
                assert "launch-link" in lk["cls"], f"{doc}: a launch button {lk['href']}"


def test_calendar_feed_is_linked_and_served(site: Any) -> None:
    page = site["pages"]["book/schedule"]
    ics = [lk for lk in page.links if lk["href"].endswith("schedule.ics")]
    assert ics and urljoin(page.url, ics[0]["href"]) == f"{site['base']}/schedule.ics"
    assert (site["html"] / "schedule.ics").read_bytes().startswith(b"BEGIN:VCALENDAR")


def test_no_page_holds_the_syllabus_private_data(site: Any) -> None:
    specific = private_strings()
    generic = [r"forms\.gle", "pass" + "code", r"zoom\.us"]
    for doc, page in site["pages"].items():
        for s in specific:
            assert s not in page.html, f"{doc} holds private data from the syllabus"
        for rx in generic:
            assert not re.search(rx, page.html, re.I), f"{doc} matches {rx}"


def test_errata_lists_each_correction(site: Any) -> None:
    page = site["pages"]["book/errata"]
    rows = re.findall(r"<tr[^>]*>", page.html)
    assert len(rows) - 1 >= 60
    for fixed in [
        "Fridays",
        "Rotation Averaging",
        "SO(3)",
        "incorporated",
        "Forré",
        "ISBN 0-12-088400-3",
        "25 February 2022",
        "432–457",
    ]:
        assert fixed in page.text, fixed
