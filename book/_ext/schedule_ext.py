"""Sphinx extension: generate the book's schedule-derived pages and the iCalendar feed.

Registered in ``_config.yml`` (``sphinx: local_extensions``), so ``jupyter-book build`` (and
``course build``) runs it with nothing extra to do:

- on ``builder-inited`` (before any page is read) it loads ``book/schedule.yml`` and writes the
  schedule tables and the meeting and problem-set headers into ``book/_generated/`` (git-ignored),
  which the pages ``{include}``. A file is rewritten only when its content changed, so a rebuild
  re-reads only the pages whose header changed;
- on ``build-finished`` it writes ``schedule.ics`` into the root of the HTML output.

A schedule that does not validate stops the build with the loader's message; a meeting or
problem set without its page is a warning (an error under ``--warningiserror``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

ICS_NAME = "schedule.ics"


def _schedule_module(root: Path) -> Any:
    # The repository the book is built from comes first: its autograder/schedule/ is the one
    # that matches its book/schedule.yml.
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from autograder import schedule as schedule

    return schedule


def _generate(app: Sphinx) -> None:
    root = Path(app.srcdir)
    mod = _schedule_module(root)
    try:
        sched = mod.load_schedule(root / "book" / "schedule.yml")
    except mod.ScheduleError as exc:
        raise ExtensionError(f"book/schedule.yml: {exc}") from exc
    written = mod.generate_book_files(sched, root / "book" / "_generated", root=root)
    for docname in mod.missing_pages(sched, root):
        logger.warning(f"schedule.yml names a page that does not exist: {docname}.md")
    if written:
        logger.info(f"[schedule] generated {len(written)} file(s) in book/_generated")
    app.env.course_schedule = sched  # type: ignore[attr-defined]


def _write_ics(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    root = Path(app.srcdir)
    mod = _schedule_module(root)
    sched = mod.load_schedule(root / "book" / "schedule.yml")
    out = mod.write_ics(sched, Path(app.outdir) / ICS_NAME)
    logger.info(f"[schedule] wrote {out}")


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", _generate)
    app.connect("build-finished", _write_ics)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
