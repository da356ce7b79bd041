"""The feedback's mathematics, typeset when ``course feedback`` writes it.

nbgrader's feedback page loads MathJax from a CDN: without internet access (and in
JupyterLab's HTML viewer, which runs no script at all) a learner saw raw ``$…$``. Here MathJax
itself (``mathjax-full`` from npm, in ``hub/node_modules`` beside the hub's proxy, the same TeX
engine the book's offline MathJax runs in the browser) typesets every formula into SVG in the
HTML file, so the page shows its mathematics anywhere, with no script.

The pages hold what learners wrote (their markdown cells may carry up to the notebook size
limit of TeX), so each page is typeset by its own ``node`` process within a budget — ``seconds``
of wall clock and ``memory_mb`` of V8 heap (``--max-old-space-size``). A page over it keeps its
TeX as text, gets a note at the top saying so (``LIMIT_NOTE``), and the other pages are typeset
as usual: one learner's page can neither stop nor stall the others'. (Measured here: 20 000
formulas, 200 kB of markdown, took 15 s and 730 MiB; a 50 MB notebook of them would take hours.)
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

__all__ = ["LIMIT_NOTE", "MathUnavailable", "node_modules", "typeset_math"]

_SCRIPT = Path(__file__).with_name("typeset_math.js")
LIMIT_NOTE = "The mathematics of this page could not be typeset within the limits"
_BODY = re.compile(rb"<body\b[^>]*>", re.I)


class MathUnavailable(RuntimeError):
    """node or MathJax is missing; the message says how to install them."""


def node_modules(repo: Path) -> Path:
    """``$COURSE_NODE_MODULES``, else ``<repo>/hub/node_modules`` (``npm ci`` in ``hub/``), else
    this checkout's."""
    env = os.environ.get("COURSE_NODE_MODULES")
    if env:
        return Path(env)
    here = repo / "hub" / "node_modules"
    return here if here.is_dir() else Path(__file__).resolve().parents[2] / "hub" / "node_modules"


def typeset_math(
    files: list[Path], modules: Path, seconds: float = 60.0, memory_mb: int = 1024
) -> int:
    """Typeset the TeX of ``files`` in place, each page within ``seconds`` and ``memory_mb``;
    return how many formulas were typeset. A page over its budget keeps its TeX and gets a
    note (``LIMIT_NOTE``); ``MathUnavailable`` only when node or MathJax is missing."""
    if not files:
        return 0
    node = shutil.which("node")
    if node is None or not (modules / "mathjax-full").is_dir():
        raise MathUnavailable(
            f"typesetting the feedback's mathematics needs node and MathJax in {modules} "
            "(scripts/dev.sh setup installs them: npm ci in hub/)"
        )
    count = 0
    for file in files:
        why = ""
        try:
            proc = subprocess.run(
                [node, f"--max-old-space-size={memory_mb}", str(_SCRIPT), str(file)],
                env={**os.environ, "NODE_PATH": str(modules)},
                capture_output=True,
                text=True,
                timeout=seconds,
            )
        except subprocess.TimeoutExpired:
            why = f"more than {seconds:g} s"
        else:
            if proc.returncode == 0:
                count += int(json.loads(proc.stdout.strip().splitlines()[-1])["typeset"])
                continue
            if "heap out of memory" in proc.stderr or proc.returncode in (134, -6, -9):
                why = f"more than {memory_mb} MiB of memory"
            else:  # MathJax itself failed: the node environment, not the page
                raise MathUnavailable(f"MathJax failed on {file}: {proc.stderr.strip()[-2000:]}")
        _note_limit(file, why)
    return count


def _note_limit(file: Path, why: str) -> None:
    """Put ``LIMIT_NOTE`` at the top of the (untouched, TeX-as-text) page ``file``."""
    note = (
        '<div class="course-limit-note" style="border:1px solid #c60;padding:.5em;margin:1em">'
        f"{html.escape(LIMIT_NOTE)} ({html.escape(why)}): it shows as TeX.</div>"
    ).encode()
    page = file.read_bytes()
    body = _BODY.search(page)
    at = body.end() if body else 0
    file.write_bytes(page[:at] + note + page[at:])
