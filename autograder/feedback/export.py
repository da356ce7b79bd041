"""``course export``: nbgrader's grade CSV, plus the course's per-part detail, from the verdict
markers that ``course grade`` writes beside each graded submission."""

from __future__ import annotations

import csv
import json
import warnings
from pathlib import Path
from typing import Any

from autograder.config.nbgrader import course_config
from autograder.grading.submissions import MARKER

__all__ = ["export_grades", "read_markers"]


def read_markers(course_root: Path, assignment: str | None = None) -> list[dict[str, Any]]:
    """The verdict markers that ``course grade`` wrote, one per graded submission."""
    pattern = f"*/{assignment or '*'}/{MARKER}"
    rows = []
    for path in sorted((course_root / "autograded").glob(pattern)):
        marker = json.loads(path.read_text())
        marker["assignment"] = path.parent.name
        rows.append(marker)
    return rows


def export_grades(course_root: Path, out: Path) -> tuple[Path, Path]:
    """nbgrader's CSV export to ``out``, and ``<out stem>-parts.csv`` with one row per
    (assignment, learner, part): score, max, status, verdict, diagnoses."""
    from nbgrader.api import Gradebook
    from nbgrader.plugins import CsvExportPlugin

    cfg = course_config(course_root)
    plugin = CsvExportPlugin(config=cfg)
    plugin.to = str(out)
    with (
        warnings.catch_warnings(),
        Gradebook(
            str(cfg.CourseDirectory.db_url), course_id=str(cfg.CourseDirectory.course_id)
        ) as gb,
    ):
        warnings.simplefilter("ignore")
        plugin.export(gb)
    detail = out.with_name(out.stem + "-parts.csv")
    with detail.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                "assignment",
                "learner",
                "part",
                "score",
                "max_score",
                "status",
                "verdict",
                "diagnoses",
            ]
        )
        for m in read_markers(course_root):
            parts = m.get("parts") or {
                "(all)": {"score": m.get("score"), "max_score": m.get("max_score")}
            }
            for gid, p in parts.items():
                writer.writerow(
                    [
                        m["assignment"],
                        m["learner"],
                        gid,
                        p.get("score"),
                        p.get("max_score"),
                        m["status"],
                        m["verdict"],
                        "; ".join(p.get("diagnoses", [])),
                    ]
                )
    return out, detail
