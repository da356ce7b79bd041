"""Sphinx extension: the book's bibliography style (sphinxcontrib-bibtex and pybtex plugins).

Registered in ``_config.yml`` (``sphinx: local_extensions``) and selected there with
``bibtex_default_style: book`` and ``bibtex_reference_style: author_year_book``. It makes three
changes to sphinxcontrib-bibtex's ``alpha`` entries and ``author_year`` citations:

- **Works by the same authors in the same year are told apart** by a letter after the year,
  "[Sanderson, 2018a]" and "[Sanderson, 2018b]", the same on every page. The letters are given
  once for the whole of ``references.bib`` (:func:`year_suffixes`): works whose citations would
  read the same (same author text, same year) get a, b, c… in the order of their titles, which
  is their order in every reference list.
- **Each entry's label is its citation**: the bibliography lists "[Sanderson, 2018a]" where
  ``alpha`` listed "[San18a]", so what a page cites is what its reference list shows, and the
  lists are in the order of their labels. Labels are unique across the book (a duplicate would
  be sphinxcontrib-bibtex's ``duplicate_label`` warning, an error under ``--warningiserror``).
- **No field of an entry is dropped.** pybtex's ``unsrt`` templates print a journal's volume
  and issue only together with page numbers (``40(4):1–10``), so an article without pages lost
  both; here it reads "ACM Transactions on Graphics, 40(4), 2021". A chapter in a collection
  (``@incollection``) needs no publisher or year: the syllabus gives neither for the chapter of
  Quine's notes it names, and the book title is typeset by the template (in italics) instead of
  a TeX command in a free-text field, which pybtex would print as it is ("\\emph Mathematical
  Techniques…").
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pybtex.plugin
from pybtex.richtext import Text
from pybtex.style.formatting import toplevel
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.formatting.unsrt import date, pages
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.sorting import BaseSortingStyle
from pybtex.style.template import (
    field,
    first_of,
    join,
    optional,
    optional_field,
    sentence,
    tag,
    words,
)
from sphinx.application import Sphinx
from sphinxcontrib.bibtex.plugin import register_plugin
from sphinxcontrib.bibtex.style.referencing import PersonStyle
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle
from sphinxcontrib.bibtex.style.referencing.basic_author_year import (
    BasicAuthorYearParentheticalReferenceStyle,
    BasicAuthorYearTextualReferenceStyle,
)
from sphinxcontrib.bibtex.style.referencing.extra_author import ExtraAuthorReferenceStyle
from sphinxcontrib.bibtex.style.referencing.extra_empty import ExtraEmptyReferenceStyle
from sphinxcontrib.bibtex.style.referencing.extra_label import ExtraLabelReferenceStyle
from sphinxcontrib.bibtex.style.referencing.extra_year import ExtraYearReferenceStyle
from sphinxcontrib.bibtex.style.template import join2, node, post_text, pre_text, reference

#: Names under which the styles are registered (``_config.yml`` selects them).
FORMATTING_STYLE = "book"
REFERENCE_STYLE = "author_year_book"
NO_YEAR = "n.d."

#: Entry key (lower case) -> the letter that tells its year apart ("" for most entries).
#: Filled by :func:`_assign_suffixes` once the bibliography files are read.
_SUFFIXES: dict[str, str] = {}


# --------------------------------------------------------------------------- year letters


def _plain_year(entry: Any) -> str:
    return str(entry.fields.get("year", "")).strip() or NO_YEAR


@node
def suffixed_year(children: list[Any], data: dict[str, Any]) -> Text:
    """The entry's year (or "n.d.") followed by its letter, if it shares author and year."""
    assert not children
    entry = data["entry"]
    year = first_of[optional[field("year")], NO_YEAR].format_data(data)
    letter = _SUFFIXES.get(entry.key.lower(), "")
    if letter and year == Text(NO_YEAR):
        letter = "-" + letter  # "n.d.-a", as APA writes it
    return Text(year, letter)


def _author_text(entry: Any, person: PersonStyle) -> str:
    """What a parenthetical citation shows before the year ("Zhong et al.", the title where
    an entry has no author), as plain text."""
    template = person.author_or_editor_or_title(full=False)
    data = {"entry": entry, "style": SimpleNamespace(person=person)}
    return str(template.format_data(data).render_as("text"))


def _bare(text: str) -> str:
    return re.sub(r"[{}\\]", "", text).lower()


def citation_sort_key(entry: Any, person: PersonStyle) -> tuple[str, str, str, str]:
    """Entries in the order of their citations: author text as cited, year, title, key."""
    return (
        _bare(_author_text(entry, person)),
        _plain_year(entry),
        _bare(str(entry.fields.get("title", ""))),
        entry.key.lower(),
    )


def year_suffixes(entries: Iterable[Any], person: PersonStyle | None = None) -> dict[str, str]:
    """The letter after the year of every entry whose citation would read like another's.

    Entries are grouped by what their parenthetical citation shows (author text and year, see
    :func:`_author_text`); in a group of two or more, the letters a, b, c… follow the order of
    the bibliography (:func:`citation_sort_key`: by title). Returns ``{key (lower case):
    letter}`` for those entries only.
    """
    person = person or PersonStyle()
    groups: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for entry in entries:
        groups[(_author_text(entry, person), _plain_year(entry))].append(entry)
    letters: dict[str, str] = {}
    for group in groups.values():
        if len(group) < 2:
            continue
        group.sort(key=lambda e: citation_sort_key(e, person))
        for i, entry in enumerate(group):
            letters[entry.key.lower()] = _letter(i)
    return letters


def _letter(i: int) -> str:
    """a, b, …, z, aa, ab, …"""
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(ord("a") + r) + out
    return out


# --------------------------------------------------------------------------- citations


@dataclass
class _Parenthetical(BasicAuthorYearParentheticalReferenceStyle):
    def inner(self, role_name: str) -> Any:
        return join2(sep1=self.pre_text_sep, sep2=self.post_text_sep)[
            pre_text,
            reference[
                join(sep=self.author_year_sep)[
                    self.person.author_or_editor_or_title(full="s" in role_name),
                    suffixed_year,
                ]
            ],
            post_text,
        ]


@dataclass
class _Textual(BasicAuthorYearTextualReferenceStyle):
    def inner(self, role_name: str) -> Any:
        return join(sep=self.text_reference_sep)[
            self.person.author_or_editor_or_title(full="s" in role_name),
            join[
                self.bracket.left,
                join2(sep1=self.pre_text_sep, sep2=self.post_text_sep)[
                    pre_text,
                    reference[suffixed_year],
                    post_text,
                ],
                self.bracket.right,
            ],
        ]


@dataclass
class _YearOnly(ExtraYearReferenceStyle):
    def inner(self, role_name: str) -> Any:
        return reference[suffixed_year]


@dataclass
class BookReferenceStyle(AuthorYearReferenceStyle):
    """sphinxcontrib-bibtex's ``author_year`` citations, with the year's letter
    (:func:`suffixed_year`) wherever the year is shown."""

    def __post_init__(self) -> None:
        self.styles.extend(
            [
                _Parenthetical(
                    bracket=self.bracket_parenthetical,
                    person=self.person,
                    author_year_sep=self.author_year_sep,
                    pre_text_sep=self.pre_text_sep,
                    post_text_sep=self.post_text_sep,
                ),
                _Textual(
                    bracket=self.bracket_textual,
                    person=self.person,
                    text_reference_sep=self.text_reference_sep,
                    pre_text_sep=self.pre_text_sep,
                    post_text_sep=self.post_text_sep,
                ),
                ExtraAuthorReferenceStyle(bracket=self.bracket_author, person=self.person),
                ExtraLabelReferenceStyle(bracket=self.bracket_label),
                _YearOnly(bracket=self.bracket_year),
                ExtraEmptyReferenceStyle(),
            ]
        )
        # GroupReferenceStyle's __post_init__ (not AuthorYearReferenceStyle's, which would add
        # the stock styles again) maps the role names onto these styles.
        super(AuthorYearReferenceStyle, self).__post_init__()


# --------------------------------------------------------------------------- entries


@functools.cache
def _person() -> PersonStyle:
    """How the citations format names (labels and sorting must format them the same way)."""
    return BookReferenceStyle().person


class CitationLabelStyle(BaseLabelStyle):
    """Each entry's label is its parenthetical citation without brackets:
    "Sanderson, 2018a", "Baldwin and Penczek, 2007", "Zhong et al., 2021b"."""

    def format_labels(self, sorted_entries: Iterable[Any]) -> Iterator[str]:
        person = _person()
        for entry in sorted_entries:
            data = {"entry": entry, "style": SimpleNamespace(person=person)}
            year = str(suffixed_year.format_data(data).render_as("text"))
            yield f"{_author_text(entry, person)}, {year}"


class CitationSortingStyle(BaseSortingStyle):
    """Entries in the order of their labels (:func:`citation_sort_key`), braces and case
    ignored: "Wikipedia contributors" under W, "{CryoDRGN2}" under C."""

    def sorting_key(self, entry: Any) -> tuple[str, str, str, str]:
        return citation_sort_key(entry, _person())


class BookStyle(UnsrtStyle):
    """pybtex's ``unsrt`` templates with citation labels (:class:`CitationLabelStyle`), entries
    in the order of their labels (:class:`CitationSortingStyle`), and templates that drop no
    field."""

    default_label_style = CitationLabelStyle
    default_sorting_style = CitationSortingStyle

    def get_article_template(self, e: Any) -> Any:
        volume_and_pages = first_of[
            # volume, issue and pages: 76(4):432–457
            optional[join[field("volume"), optional["(", field("number"), ")"], ":", pages]],
            # volume and issue without pages: 40(4)
            optional[join[field("volume"), optional["(", field("number"), ")"]]],
            # pages only
            words["pages", pages],
        ]
        return toplevel[
            self.format_names("author"),
            self.format_title(e, "title"),
            sentence[tag("em")[field("journal")], optional[volume_and_pages], date],
            sentence[optional_field("note")],
            self.format_web_refs(e),
        ]

    def get_incollection_template(self, e: Any) -> Any:
        # unsrt's template, with publisher and date both optional
        return toplevel[
            sentence[self.format_names("author")],
            self.format_title(e, "title"),
            words[
                "In",
                sentence[
                    optional[self.format_editor(e, as_sentence=False)],
                    self.format_btitle(e, "booktitle", as_sentence=False),
                    self.format_volume_and_series(e, as_sentence=False),
                    self.format_chapter_and_pages(e),
                ],
            ],
            sentence[
                optional_field("publisher"),
                optional_field("address"),
                self.format_edition(e),
                optional[date],
            ],
            sentence[optional_field("note")],
            self.format_web_refs(e),
        ]


# --------------------------------------------------------------------------- Sphinx


def _assign_suffixes(app: Sphinx) -> None:
    """Give the year letters once sphinxcontrib-bibtex has read the bibliography files."""
    domain = app.env.get_domain("cite")
    entries = domain.bibdata.data.entries.values()  # type: ignore[attr-defined]
    _SUFFIXES.clear()
    _SUFFIXES.update(year_suffixes(entries, _person()))


def setup(app: Sphinx) -> dict[str, Any]:
    pybtex.plugin.register_plugin("pybtex.style.formatting", FORMATTING_STYLE, BookStyle)
    register_plugin("sphinxcontrib.bibtex.style.referencing", REFERENCE_STYLE, BookReferenceStyle)
    # after sphinxcontrib-bibtex's own builder-inited handler (priority 500) reads the files
    app.connect("builder-inited", _assign_suffixes, priority=800)
    # Sphinx does not see a change of this file: a version bump makes it re-read every page.
    return {
        "version": "1.0",
        "env_version": 3,
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }


__all__ = [
    "BookReferenceStyle",
    "BookStyle",
    "CitationLabelStyle",
    "CitationSortingStyle",
    "suffixed_year",
    "year_suffixes",
]
