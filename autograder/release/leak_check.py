"""What of a problem set's hidden material would reach learners through its release.

Checked before anything is published: no hidden checks file, no solution or hidden-test marker,
no line of any solution region (ignoring trivial lines), no hidden-test block in a cell.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from autograder.checks.loader import HIDDEN_CHECKS

__all__ = ["leaks"]

_SOLUTION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)


def leaks(source: Path, release: Path) -> list[str]:
    """What of the source's hidden material appears in the release (empty when nothing)."""
    problems = []
    for path in release.rglob("*"):
        if path.name in (HIDDEN_CHECKS, "mutants.py"):
            problems.append(f"{path.relative_to(release)}: instructor-only code was released")
    released_text = "\n".join(
        p.read_text(errors="replace")
        for p in release.rglob("*")
        if p.is_file() and p.suffix in (".ipynb", ".py", ".md", ".txt")
    )
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        if marker in released_text:
            problems.append(f"the marker '{marker}' is in the release")
    released_sources = []
    for nb_path in release.glob("*.ipynb"):
        nb = nbformat.read(nb_path, as_version=4)
        released_sources += [c.source for c in nb.cells]
    released_code = "\n".join(released_sources)
    for nb_path in source.glob("*.ipynb"):
        nb = nbformat.read(nb_path, as_version=4)
        for cell in nb.cells:
            for region in _SOLUTION.findall(cell.source):
                for line in region.splitlines():
                    stripped = line.strip()
                    if (
                        len(stripped) >= 25
                        and not stripped.startswith("#")
                        and stripped in released_code
                    ):
                        problems.append(f"a solution line is in the release: {stripped[:60]!r}")
            if "BEGIN HIDDEN TESTS" in cell.source:
                problems.append(
                    f"{nb_path.name}: hidden tests belong in {HIDDEN_CHECKS}, not in a cell"
                )
    return problems
