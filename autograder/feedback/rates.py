"""``course report``: which checks learners fail most, and the mistakes the feedback named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from autograder.feedback.export import read_markers

__all__ = ["format_pass_rates", "pass_rates"]


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
