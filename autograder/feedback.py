"""``course feedback`` and ``course export``: nbgrader's feedback HTML and grade CSV, plus the
course's per-part detail (verdicts, parts, diagnoses) from the graded notebooks' markers."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import warnings
from pathlib import Path
from typing import Any

from autograder.grading import MARKER
from autograder.nbgrader_setup import COURSE_ID, course_config, db_url

__all__ = ["export_grades", "generate_feedback", "read_markers"]


def generate_feedback(course_root: Path, assignment: str) -> list[Path]:
    """nbgrader ``generate_feedback`` for every graded submission; returns the HTML files."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    cfg = course_config(course_root)
    api = NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)
    graded = sorted(
        p.parent.parent.name for p in (course_root / "autograded").glob(f"*/{assignment}/{MARKER}")
    )
    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        for learner in graded:
            result = api.generate_feedback(assignment, learner, force=True)
            if not result.get("success"):
                raise RuntimeError(
                    f"feedback for {learner} failed:\n{result.get('error') or result.get('log')}"
                )
    return sorted((course_root / "feedback").glob(f"*/{assignment}/*.html"))


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
    with warnings.catch_warnings(), Gradebook(db_url(course_root), course_id=COURSE_ID) as gb:
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


def pass_rates(course_root: Path, assignment: str) -> list[dict[str, Any]]:
    """Which checks learners fail most: one row per (part, check) over the graded submissions —
    the share of learners who passed every case, the mean share of cases passed, and the
    mistake the feedback named most often in that part. Sorted from the least passed."""
    checks: dict[tuple[str, str], list[float]] = {}
    mistakes: dict[str, dict[str, int]] = {}
    for marker in read_markers(course_root, assignment):
        if marker.get("status") != "graded":
            continue
        for gid, part in (marker.get("parts") or {}).items():
            for title, passed, total in part.get("checks", []):
                checks.setdefault((gid, title), []).append(passed / total if total else 0.0)
            for name in part.get("diagnoses", []):
                counts = mistakes.setdefault(gid, {})
                counts[name] = counts.get(name, 0) + 1
    rows = []
    for (gid, title), fractions in checks.items():
        top = max(mistakes.get(gid, {}).items(), key=lambda kv: kv[1], default=None)
        rows.append(
            {
                "part": gid,
                "check": title,
                "learners": len(fractions),
                "pass_rate": sum(f == 1.0 for f in fractions) / len(fractions),
                "mean_fraction": sum(fractions) / len(fractions),
                "top_diagnosis": f"{top[0]} ({top[1]})" if top else "",
            }
        )
    return sorted(rows, key=lambda r: (r["pass_rate"], r["mean_fraction"], r["part"], r["check"]))


def format_pass_rates(rows: list[dict[str, Any]]) -> str:
    table = [
        (
            "part",
            "check",
            "learners",
            "all cases passed",
            "mean cases passed",
            "most common mistake",
        )
    ]
    for r in rows:
        table.append(
            (
                r["part"],
                r["check"],
                str(r["learners"]),
                f"{100 * r['pass_rate']:.0f} %",
                f"{100 * r['mean_fraction']:.0f} %",
                r["top_diagnosis"],
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in table
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
