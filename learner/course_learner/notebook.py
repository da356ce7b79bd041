"""Whether a file can be run (and graded) as a notebook: the grader's own rules."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import nbformat

__all__ = ["MAX_NOTEBOOK_BYTES", "inspect_notebook"]

#: Larger notebooks are refused (by the grader and by ``course check``).
MAX_NOTEBOOK_BYTES = 50 * 2**20


def inspect_notebook(path: Path) -> str | None:
    """Why ``path`` cannot be graded as a notebook, or None when it can."""
    if not path.exists():
        return f"missing notebook: {path.name} is not in the submission"
    if path.is_symlink() or not path.is_file():
        return f"{path.name} is not a regular file"
    size = path.stat().st_size
    if size == 0:
        return f"{path.name} is an empty file"
    if size > MAX_NOTEBOOK_BYTES:
        return f"{path.name} is larger than {MAX_NOTEBOOK_BYTES >> 20} MB"
    try:
        raw = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return f"{path.name} is not valid JSON (is it a notebook?)"
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        return f"{path.name} is not a Jupyter notebook"
    major, minor = raw.get("nbformat"), raw.get("nbformat_minor")
    if major != nbformat.current_nbformat or not isinstance(minor, int):
        return f"{path.name} has nbformat {major}; version 4 is required"
    if minor > nbformat.current_nbformat_minor:
        return (
            f"{path.name} has nbformat 4.{minor}, newer than the 4.{nbformat.current_nbformat_minor} "
            "this grader reads"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nb = nbformat.reads(json.dumps(raw), as_version=4)
            nbformat.validate(nb)
    except Exception as exc:
        return f"{path.name} is not a valid notebook ({type(exc).__name__}: {str(exc)[:200]})"
    return None
