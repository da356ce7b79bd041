"""The built book, opened in headless Chromium (Debian's ``chromium`` driven by Playwright).

The book is built once (``book_site.build_book``: ``jupyter-book build --warningiserror``), served
on localhost, and every page of the table of contents is opened once; the tests check what the
browser saw: every meeting page and its questions, mathematics typeset by MathJax with no raw
``$`` and no raw TeX command left, every internal link resolving, well-formed launch and
problem-set links, none of the syllabus's private data, and the book's fidelity to the syllabus
(its own additions marked as such, its claims about itself true, every citation pointing
unambiguously at its entry, every field of every reference shown).
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

import bs4
import pytest
import yaml
from book_site import (
    REPO,
    build_book,
    private_strings,
    seed_file,
    serve,
    source_of,
    toc_docnames,
)

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
# The same for the whole page (navigation, sidebars and footer included), with the tooltips
# (title attributes: a citation's tooltip is its entry) appended.
BODY_TEXT_JS = """() => {
  const clone = document.body.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, mjx-container').forEach(e => e.remove());
  const tips = Array.from(document.body.querySelectorAll('[title]')).map(e => e.title);
  return [document.title, clone.textContent, ...tips].join('\\n');
}"""
# Every citation: what it reads as ("Sanderson, 2018a"; a textual citation "Slabaugh [n.d.]"
# reads "Slabaugh, n.d."), where its link goes and the entry's text (its tooltip).
CITATIONS_JS = """() => Array.from(document.querySelectorAll('span.bibtex-citation a[href]'))
  .map(a => {
    const span = a.closest('span.bibtex-citation');
    const range = document.createRange();
    range.setStart(span, 0);
    range.setEndBefore(a);
    const m = range.toString().match(/([^\\[\\];]*?)\\s*\\[\\s*$/);
    const author = m ? m[1].replace(/^[,\\s]+/, '').trim() : '';
    const year = a.textContent.trim();
    return {cite: author ? author + ', ' + year : year, abs: a.href, title: a.title};
  })"""
# Every entry of every reference list: its id, label (brackets and back-links left out), text,
# and the section holding the list.
ENTRIES_JS = """() => Array.from(document.querySelectorAll('div.citation')).map(d => {
  const label = d.querySelector('span.label');
  const clone = label ? label.cloneNode(true) : null;
  if (clone) clone.querySelectorAll('.fn-bracket').forEach(e => e.remove());
  const p = d.querySelector('p');
  return {id: d.id, label: clone ? clone.textContent.trim() : '',
          text: p ? p.textContent.replace(/\\s+/g, ' ').trim() : '',
          section: d.closest('section') ? d.closest('section').id : ''};
})"""
# The meeting header box: its title, its text, and the book's own additions marked in it.
HEADER_JS = """() => {
  const box = document.querySelector('.meeting-header');
  if (!box) return null;
  const title = box.querySelector('.admonition-title');
  return {title: title ? title.textContent.trim() : '',
          text: box.textContent.replace(/\\s+/g, ' ').trim(),
          items: Array.from(box.querySelectorAll('li'))
                      .map(li => li.textContent.replace(/\\s+/g, ' ').trim()),
          editorial: Array.from(box.querySelectorAll('em.editorial'))
                          .map(e => e.textContent.trim())};
}"""
SIDEBAR_JS = """() => Array.from(document.querySelectorAll('nav.bd-docs-nav a.reference.internal'))
  .map(a => a.href)"""
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
    body_text: str = ""
    citations: list[dict[str, str]] = field(default_factory=list)
    entries: list[dict[str, str]] = field(default_factory=list)
    header: dict[str, Any] | None = None
    sidebar: list[str] = field(default_factory=list)


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
                body_text=page.evaluate(BODY_TEXT_JS),
                citations=page.evaluate(CITATIONS_JS),
                entries=page.evaluate(ENTRIES_JS),
                header=page.evaluate(HEADER_JS),
                sidebar=page.evaluate(SIDEBAR_JS),
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
        # the grading service's policy for it (book/schedule.yml's grading_policy)
        policy = f"Feedback: {sch.describe_policy(ps.grading_policy)}"
        assert policy in " ".join(page.text.split()), ps.id


def test_meeting_pages_link_to_their_problem_sets(site: Any) -> None:
    pages: dict[str, Page] = site["pages"]
    schedule = sch.load_schedule()
    linked = 0
    for m in schedule.dated_meetings:
        hrefs = {urljoin(pages[m.docname].url, lk["href"]) for lk in pages[m.docname].links}
        for ps in schedule.problem_sets_for(m):
            assert urljoin(pages[m.docname].url, f"/{ps.docname}.html") in hrefs, (m.slug, ps.id)
            linked += 1
    # every (problem set, meeting) pair of the schedule is a link, and there are such pairs
    assert linked == sum(len(ps.meetings) for ps in schedule.problem_sets) >= 7


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


# --------------------------------------------------------------------------- raw TeX

#: A TeX command (``\emph``, ``\textit``, ``\cite``…) or a TeX-escaped character (``\_``).
TEX_COMMAND = re.compile(r"\\(?:[A-Za-z@]+|[_&%$#{}])")


def tex_leftovers(html: str) -> list[str]:
    """TeX commands in what an HTML page shows (its text, its title and its tooltips), outside
    the math MathJax typesets (Sphinx's ``.math`` elements) and outside code."""
    soup = bs4.BeautifulSoup(html, "html.parser")
    tips = [str(t["title"]) for t in soup.find_all(attrs={"title": True})]
    for hidden in soup.select("script, style, pre, code, .math, mjx-container"):
        hidden.decompose()
    found = []
    for text in [soup.get_text(" "), *tips]:
        found += [text[max(0, m.start() - 30) : m.end() + 30] for m in TEX_COMMAND.finditer(text)]
    return found


def test_the_raw_tex_scan_finds_what_it_should() -> None:
    assert tex_leftovers("<p>Chapter 4 of \\emph Mathematical Techniques</p>")
    assert tex_leftovers('<a title="In \\textit{X}">x</a>')
    assert tex_leftovers("<p>learn\\_cryoem\\_math</p>")
    assert not tex_leftovers('<p>ok <span class="math notranslate">\\(\\vec r\\)</span></p>')
    assert not tex_leftovers("<pre>\\begin{x}</pre><p>plain</p>")


def test_no_page_shows_a_raw_tex_command(site: Any) -> None:
    # What the browser shows (typeset math removed), tooltips included …
    for doc, page in site["pages"].items():
        leftovers = [
            page.body_text[max(0, m.start() - 30) : m.end() + 30]
            for m in TEX_COMMAND.finditer(page.body_text)
        ]
        assert not leftovers, f"{doc}: raw TeX in the rendered page: {leftovers[:3]}"
    # … and every HTML file of the site, the index and search pages included.
    html: Path = site["html"]
    files = [p for p in html.rglob("*.html") if not {"_static", "_sources"} & set(p.parts)]
    assert len(files) > len(site["pages"])
    for p in files:
        leftovers = tex_leftovers(p.read_text(encoding="utf-8"))
        assert not leftovers, f"{p.relative_to(html)}: raw TeX: {leftovers[:3]}"


# --------------------------------------------------------------------------- references


def _bib_entries() -> dict[str, Any]:
    from pybtex.database import parse_file

    return dict(parse_file(REPO / "book" / "references.bib").entries.items())


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKD", re.sub(r"[{}\\]", "", text))
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def _rendered(entries: list[dict[str, str]], bib_entry: Any) -> dict[str, str]:
    """The rendered entry of ``bib_entry``: the one with its title and first author."""
    title = _norm(str(bib_entry.fields["title"]))
    authors = bib_entry.persons.get("author", [])
    surname = _norm(str(authors[0].last_names[0])) if authors else ""
    found = [e for e in entries if title in _norm(e["text"]) and surname in _norm(e["text"])]
    assert len(found) == 1, (bib_entry.key, len(found))
    return found[0]


def test_no_field_of_a_reference_is_dropped(site: Any) -> None:
    page: Page = site["pages"]["book/bibliography"]
    bib = _bib_entries()
    for key, e in bib.items():
        text = _rendered(page.entries, e)["text"]
        f = {k.lower(): str(v) for k, v in e.fields.items()}
        expect = []
        if "volume" in f and "number" in f and e.type == "article":
            expect.append(f"{f['volume']}({f['number']})")
        expect += [f[k] for k in ("volume", "year", "doi", "eprint", "isbn", "edition") if k in f]
        if "pages" in f:
            expect.append(f["pages"].replace("--", "–"))
        for k in ("journal", "booktitle", "publisher", "howpublished", "note"):
            if k in f:
                expect.append(re.sub(r"[{}]", "", f[k]).replace("--", "–"))
        for value in expect:
            assert value in text, f"{key}: {value!r} is missing from {text!r}"
    # the errata's claim about the Xiang et al. entry
    errata = re.sub(r"\s+", " ", site["pages"]["book/errata"].text)
    assert "ACM Transactions on Graphics 40(4)" in errata
    xiang = _rendered(page.entries, bib["xiang2021eliminating"])["text"]
    assert "ACM Transactions on Graphics, 40(4), 2021" in xiang


# --------------------------------------------------------------------------- citations


def _entry_at(site: Any, url: str) -> dict[str, str]:
    """The reference-list entry a citation's link points at."""
    parts = urlsplit(url)
    doc = parts.path.lstrip("/").removesuffix(".html")
    for entry in site["pages"][doc].entries:
        if entry["id"] == parts.fragment:
            return entry
    raise AssertionError(f"no entry #{parts.fragment} on {doc}")


def test_every_citation_points_unambiguously_at_its_entry(site: Any) -> None:
    pages: dict[str, Page] = site["pages"]
    # Two works by the same author in the same year are told apart (the syllabus's 4 February
    # meeting names two videos by Sanderson and two Wikipedia articles, both 2022) …
    text = re.sub(r"\s+", " ", pages["book/meetings/2022-02-04-rotations"].text)
    for cite in [
        "[Sanderson, 2018a]",
        "[Sanderson, 2018b]",
        "[Wikipedia contributors, 2022a]",
        "[Wikipedia contributors, 2022c]",
    ]:
        assert cite in text, cite
    # … and everywhere: what a citation reads is the label of the entry it links to, and one
    # label is one entry.
    by_label: dict[str, set[str]] = {}
    for page in pages.values():
        for entry in page.entries:
            by_label.setdefault(entry["label"], set()).add(entry["text"])
    shared = {label: texts for label, texts in by_label.items() if len(texts) > 1}
    assert not shared, f"one label, several entries: {shared}"
    checked = 0
    for doc, page in pages.items():
        for c in page.citations:
            entry = _entry_at(site, c["abs"])
            assert c["cite"] == entry["label"], (doc, c["cite"], entry["label"])
            # the tooltip is the entry (the theme shortens the text of GitHub links)
            assert entry["text"].split(" URL: ")[0] == c["title"].split(" URL: ")[0], doc
            checked += 1
    assert checked > 60


def test_references_add_no_year_or_place_the_syllabus_does_not_give(site: Any) -> None:
    # "Gregory G. Slabaugh. Computing Euler angles from a rotation matrix" is all the syllabus
    # says: no year, no institution.
    page: Page = site["pages"]["book/bibliography"]
    (slabaugh,) = [e for e in page.entries if e["label"].startswith("Slabaugh")]
    assert slabaugh["label"] == "Slabaugh, n.d."
    assert not re.search(r"\b(19|20)\d\d\b", slabaugh["text"]), slabaugh["text"]
    assert "University" not in slabaugh["text"] and "Technical Report" not in slabaugh["text"]
    assert "gives no year" in slabaugh["text"]


#: Pages that transcribe the syllabus (as opposed to the book's own: problem sets, figures…).
SYLLABUS_PAGES = ("book/meetings/", "book/reading/", "book/about/")


def test_bibliography_page_says_what_it_lists(site: Any) -> None:
    page: Page = site["pages"]["book/bibliography"]
    bib = _bib_entries()
    cited_on: dict[str, set[str]] = {}  # entry label -> pages citing it
    for doc, p in site["pages"].items():
        for c in p.citations:
            cited_on.setdefault(c["cite"], set()).add(doc)
    apart = {e["label"] for e in page.entries if e["section"] == "cited-by-this-book-only"}
    listed = {e["label"] for e in page.entries if e["section"] != "cited-by-this-book-only"}
    assert "Every reference the syllabus names" in page.text
    assert len(listed | apart) == len(bib) and not listed & apart
    assert apart == {"Shepperd, 1978"}
    # The page's claim: the first list holds the references the syllabus names (cited by the
    # pages that transcribe it), the second those cited only by the book's own pages.
    for label in listed:
        assert any(d.startswith(SYLLABUS_PAGES) for d in cited_on.get(label, ())), label
    for label in apart:
        assert cited_on.get(label), f"{label} is listed but cited by no page"
        assert not any(d.startswith(SYLLABUS_PAGES) for d in cited_on[label]), label
    # … and against the syllabus itself: its text names every listed work (by title, link or
    # first author) and none of those listed apart.
    seed = seed_file()
    if seed is None:
        pytest.skip("the syllabus (shared/seed) is not beside this checkout")
    syllabus = _norm(seed.read_text(encoding="utf-8"))
    for bib_entry in bib.values():
        title = " ".join(_norm(str(bib_entry.fields["title"])).split()[:4])
        url = _norm(str(bib_entry.fields.get("url", "")))
        authors = bib_entry.persons.get("author", [])
        surname = _norm(str(authors[0].last_names[0])) if authors else ""
        named = (
            title in syllabus
            or (url and url in syllabus)
            or (surname and re.search(rf"\b{surname}\b", syllabus))
        )
        label = _rendered(page.entries, bib_entry)["label"]
        assert bool(named) == (label in listed), (bib_entry.key, label)


# --------------------------------------------------------------------------- the errata


def _syllabus_places(text: str) -> dict[str, str]:
    """The syllabus cut into the places the errata name: "Title page", "Contents", and each
    numbered section of the body ("6.3"), with "6.3 heading" its heading line; a section's
    text includes its subsections'."""
    contents_at = text.index("\nContents\n")
    body_at = text.index("\n1 Dates and Topics\n")
    places = {"Title page": text[:contents_at], "Contents": text[contents_at:body_at]}
    body = text[body_at:]
    heads = list(re.finditer(r"^(\d+(?:\.\d+)*) (\S.*)$", body, re.M))
    for i, h in enumerate(heads):
        number = h[1]
        end = next(
            (
                n.start()
                for n in heads[i + 1 :]
                if not n[1].startswith(number + ".") and n[1] != number
            ),
            len(body),
        )
        places[number] = body[h.start() : end]
        places[f"{number} heading"] = h[0]
    return places


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("’", "'")).strip()


def test_errata_quote_the_syllabus_where_they_say(site: Any) -> None:
    seed = seed_file()
    if seed is None:
        pytest.skip("the syllabus (shared/seed) is not beside this checkout")
    places = {k: _flat(v) for k, v in _syllabus_places(seed.read_text(encoding="utf-8")).items()}
    assert places["6.3 heading"] == "6.3 4 Feb 2022 - SO(3) - encoding of SO(3)"
    # the built file, not the browser's DOM: its math is still TeX (MathJax replaces it)
    html = (site["html"] / "book" / "errata.html").read_text(encoding="utf-8")
    soup = bs4.BeautifulSoup(html, "html.parser")
    rows = soup.select("table.errata tbody tr")
    assert len(rows) >= 70
    checked = 0
    for row in rows:
        number, where, quoted = (c.get_text() for c in row.find_all("td")[:3])
        where = _flat(where)
        names = re.findall(r"§(\d+(?:\.\d+)*)", where)
        if "heading" in where:
            scope = [places[f"{n} heading"] for n in names]
        else:
            scope = [places[n] for n in names]
            scope += [places[p] for p in ("Title page", "Contents") if where.startswith(p)]
        assert scope, f"erratum {number}: no place of the syllabus in {where!r}"
        # the quoted words (pieces between ellipses) and the TeX of any quoted formula
        pieces = [
            p.strip(" .,") for q in re.findall(r"“([^”]*)”", _flat(quoted)) for p in q.split("…")
        ]
        pieces += [_flat(m) for m in re.findall(r"\\\((.+?)\\\)", quoted)]
        for piece in filter(None, pieces):
            assert any(piece in s for s in scope), f"erratum {number}: {piece!r} not in {where}"
            checked += 1
    assert checked >= 75
    # The digit zero of "S0(3)" is in the table of contents only (§6.3 and §6.5 have SO(3)).
    assert "S0(3)" in places["Contents"]
    assert not any("S0(3)" in v for k, v in places.items() if k != "Contents")


# --------------------------------------------------------------------------- the schedule, and what the book adds to the syllabus


def _utc_clock(t: Any) -> str:
    u = t.astimezone(dt.UTC)
    return f"{u.hour}:{u.minute:02d} UTC"


def _table_rows(page: Page, containing: str) -> list[list[str]]:
    """The rows (cell texts) of the page's table whose text contains ``containing``."""
    soup = bs4.BeautifulSoup(page.html, "html.parser")
    for table in soup.select("article table"):
        if containing in table.get_text():
            return [
                [re.sub(r"\s+", " ", td.get_text()).strip() for td in tr.find_all(["td", "th"])]
                for tr in table.select("tbody tr")
            ]
    raise AssertionError(f"{page.docname}: no table with {containing!r}")


def test_schedule_table_gives_vancouver_time_and_utc(site: Any) -> None:
    pages: dict[str, Page] = site["pages"]
    # the claim about/format makes …
    assert "in Vancouver time and in UTC" in re.sub(r"\s+", " ", pages["book/about/format"].text)
    # … is what the schedule's table shows, for every meeting
    rows = {row[0]: row for row in _table_rows(pages["book/schedule"], "Fri 21 Jan 2022")}
    for m in sch.load_schedule().dated_meetings:
        assert m.date is not None and m.start is not None
        time = rows[f"{m.date:%a} {m.date.day} {m.date:%b %Y}"][1]
        local = f"{m.start.hour}:{m.start.minute:02d} {m.start.tzname()}"
        assert time == f"{local} ({_utc_clock(m.start)})", (m.slug, time)


def test_meeting_headers_mark_what_the_book_assumes(site: Any) -> None:
    pages: dict[str, Page] = site["pages"]
    schedule = sch.load_schedule()
    for m in schedule.dated_meetings:
        assert m.start is not None
        header = pages[m.docname].header
        assert header is not None, m.slug
        # the start, local and UTC, as the syllabus gives it …
        time = next(i for i in header["items"] if i.startswith("Time:"))
        assert f"{m.start.hour}:{m.start.minute:02d} {m.start.tzname()}" in time, m.slug
        assert _utc_clock(m.start) in time, m.slug
        # … no end time presented as a fact, and the assumed length marked as the book's
        assert not re.search(r"\d:\d\d\s*[–-]\s*\d", header["text"]), m.slug
        length = next(i for i in header["items"] if i.startswith("Length:"))
        assert "one hour, assumed by this book" in length, m.slug
        assert any("assumed by this book" in e for e in header["editorial"]), m.slug
    # the schedule page says how the calendar feed represents the assumed length
    schedule_text = re.sub(r"\s+", " ", pages["book/schedule"].text)
    assert "The syllabus gives start times only" in schedule_text
    assert "ends one hour after its start, a length this book assumes" in schedule_text


def test_topics_inferred_by_the_book_are_marked_on_the_site(site: Any) -> None:
    pages: dict[str, Page] = site["pages"]
    schedule = sch.load_schedule()
    inferred = {"upcoming-miolane", "upcoming-lederman"}  # the syllabus names no topic (§4.3, 4.4)
    for m in schedule.meetings:
        if not m.has_page:
            continue
        header = pages[m.docname].header
        assert header is not None, m.slug
        topic = next(i for i in header["items"] if i.startswith("Topic:"))
        marks = [e for e in header["editorial"] if "inferred" in e]
        if m.slug in inferred:
            assert marks and marks[0] in topic, f"{m.slug}: inferred topic not marked"
        else:
            assert not marks, m.slug
    rows = _table_rows(pages["book/schedule"], "Nina Miolane")
    assert any("topic inferred by this book" in cell for row in rows for cell in row)


def test_upcoming_pages_say_nothing_twice(site: Any) -> None:
    pages: dict[str, Page] = site["pages"]
    for m in sch.load_schedule().meetings:
        if m.kind != "upcoming":
            continue
        header = pages[m.docname].header
        assert header is not None
        assert header["title"] == "Upcoming meeting, not yet dated"
        when = next(i for i in header["items"] if i.startswith("When:"))
        assert when == f"When: {m.when}", m.slug
        assert not re.search(r"\)\s*\(", header["text"]), f"{m.slug}: {header['text']}"
    for doc, page in pages.items():
        assert "(upcoming; not yet scheduled)" not in page.text, doc


def test_upcoming_guests_appear_in_the_syllabus_order(site: Any) -> None:
    pages: dict[str, Page] = site["pages"]
    upcoming = [m for m in sch.load_schedule().meetings if m.kind == "upcoming"]
    guests = [m.guest for m in upcoming]
    assert guests == ["Nina Miolane", "Roy Lederman", "David Silva", "Ellen Zhong"]
    rows = _table_rows(pages["book/schedule"], "Nina Miolane")
    assert [row[1] for row in rows] == guests
    sidebar = [urlsplit(u).path for u in pages["book/schedule"].sidebar]
    order = [sidebar.index(f"/{m.docname}.html") for m in upcoming]
    assert order == sorted(order)
