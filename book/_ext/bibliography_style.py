"""Sphinx extension: the book's bibliography style (a pybtex plugin for sphinxcontrib-bibtex).

Registered in ``_config.yml`` (``sphinx: local_extensions``) and selected there with
``bibtex_default_style: book``. It is pybtex's ``alpha`` style, except that no field of an entry
is dropped:

- **A journal's volume and issue without pages.** pybtex's ``unsrt`` templates print a
  journal's volume and issue only together with page numbers (``40(4):1–10``), so an article
  without pages lost both; here it reads "ACM Transactions on Graphics, 40(4), 2021".
- **A chapter in a collection** (``@incollection``) needs no publisher or year: the syllabus
  gives neither for the chapter of Quine's notes it names, and the book title is typeset by the
  template (in italics) instead of a TeX command in a free-text field, which pybtex would print
  as it is ("\\emph Mathematical Techniques…").
"""

from __future__ import annotations

from typing import Any

import pybtex.plugin
from pybtex.style.formatting import toplevel
from pybtex.style.formatting.alpha import Style as AlphaStyle
from pybtex.style.formatting.unsrt import date, pages
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

#: The name under which the style is registered (``_config.yml`` selects it).
FORMATTING_STYLE = "book"


class BookStyle(AlphaStyle):
    """pybtex's ``alpha`` style with templates that drop no field."""

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


def setup(app: Sphinx) -> dict[str, Any]:
    pybtex.plugin.register_plugin("pybtex.style.formatting", FORMATTING_STYLE, BookStyle)
    # Sphinx does not see a change of this file: a version bump makes it re-read every page.
    return {
        "version": "1.0",
        "env_version": 2,
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }


__all__ = ["BookStyle"]
