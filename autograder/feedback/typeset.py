"""The feedback's mathematics, typeset when ``course feedback`` writes it.

nbgrader's feedback page loads MathJax from a CDN: without internet access (and in
JupyterLab's HTML viewer, which runs no script at all) a learner saw raw ``$…$``. Here MathJax
itself (``mathjax-full`` from npm, in ``hub/node_modules`` beside the hub's proxy, the same TeX
engine the book's offline MathJax runs in the browser) typesets every formula into SVG in the
HTML file, so the page shows its mathematics anywhere, with no script.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

__all__ = ["MathUnavailable", "node_modules", "typeset_math"]

_SCRIPT = Path(__file__).with_name("typeset_math.js")


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


def typeset_math(files: list[Path], modules: Path) -> int:
    """Typeset the TeX of ``files`` in place; return how many formulas were typeset."""
    if not files:
        return 0
    node = shutil.which("node")
    if node is None or not (modules / "mathjax-full").is_dir():
        raise MathUnavailable(
            f"typesetting the feedback's mathematics needs node and MathJax in {modules} "
            "(scripts/dev.sh setup installs them: npm ci in hub/)"
        )
    proc = subprocess.run(
        [node, str(_SCRIPT), *map(str, files)],
        env={**os.environ, "NODE_PATH": str(modules)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        raise MathUnavailable(f"MathJax failed: {proc.stderr.strip()[-2000:]}")
    return int(json.loads(proc.stdout.strip().splitlines()[-1])["typeset"])
