"""Load a problem set's hidden checks (instructor code, in the grader process only)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from autograder.checks.parts import Part

__all__ = ["HIDDEN_CHECKS", "load_parts"]

HIDDEN_CHECKS = "hidden_checks.py"


def load_parts(source_dir: Path, notebook_id: str) -> list[Part]:
    """The ``Part``s of ``notebook_id`` from ``<source_dir>/hidden_checks.py``.

    The module defines ``PARTS`` (a list) or ``PARTS_BY_NOTEBOOK`` (a dict of lists). It is
    instructor code, loaded in the grader process only.
    """
    path = source_dir / HIDDEN_CHECKS
    if not path.is_file():
        return []
    name = f"_course_hidden_checks_{abs(hash(str(path)))}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    by_nb = getattr(module, "PARTS_BY_NOTEBOOK", None)
    if by_nb is not None:
        return list(by_nb.get(notebook_id, []))
    return list(getattr(module, "PARTS", []))
