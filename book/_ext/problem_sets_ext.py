"""Sphinx extension: each problem set's parts and points, read from its notebook.

A problem set's points are declared once, in its notebook's test cells
(``assignments/problem_sets/<ps>/<ps>.py``); this writes
``book/_generated/problem-sets/<ps>-parts.md`` — a table of the parts, their points and the
total — which the problem set's page includes, so the book can never disagree with the grader.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)


def parts_markdown(root: Path, ps: str) -> str:
    """The markdown table of ``ps``'s parts and points."""
    from autograder.authoring import notebook_parts

    parts = notebook_parts(root / "assignments", ps)
    rows = ["| part | points |", "|---|---|"]
    rows += [f"| {p.heading} | {p.points:g} |" for p in parts]
    rows.append(f"| **total** | **{sum(p.points for p in parts):g}** |")
    return "\n".join(rows) + "\n"


def _generate(app: Sphinx) -> None:
    root = Path(app.srcdir)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from autograder.authoring import problem_sets

    out = root / "book" / "_generated" / "problem-sets"
    out.mkdir(parents=True, exist_ok=True)
    for ps in problem_sets(root / "assignments"):
        target = out / f"{ps}-parts.md"
        text = parts_markdown(root, ps)
        if not target.is_file() or target.read_text() != text:
            target.write_text(text)
            logger.info(f"[problem sets] wrote {target.relative_to(root)}")


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", _generate)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
