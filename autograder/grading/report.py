"""The report a graded notebook shows: per test cell, and a summary at the top."""

from __future__ import annotations

from typing import Any

from autograder.checks.parts import PartResult

__all__ = ["cell_output_text", "part_report_lines", "summary_markdown"]


def cell_output_text(outputs: list[dict[str, Any]]) -> str:
    """Plain text of what a cell printed or raised in the kernel (for the report)."""
    parts = []
    for out in outputs:
        if out["output_type"] == "stream":
            parts.append(out.get("text", ""))
        elif out["output_type"] == "error":
            parts.append(f"{out.get('ename', '')}: {out.get('evalue', '')}\n")
        elif "text/plain" in out.get("data", {}):
            parts.append(str(out["data"]["text/plain"]) + "\n")
    text = "".join(parts)
    return text if len(text) < 4000 else text[:4000] + "\n[...]\n"


def part_report_lines(result: PartResult) -> list[str]:
    lines = [f"**{result.title}: {result.score:g} / {result.max_score:g} points.**"]
    if result.note:
        lines.append(f"⚠ {result.note}.")
    for chk in result.checks:
        lines.append(f"- {chk.title}: {chk.passed}/{chk.total} cases passed.")
        lines += [f"  - {line}" for line in chk.lines[:6]]
    for mistake in result.diagnoses:
        lines.append(f"**Diagnosis — {mistake.name}:** {mistake.message}")
    return lines


def summary_markdown(results: dict[str, PartResult], notes: list[str]) -> str:
    total = sum(r.score for r in results.values())
    maximum = sum(r.max_score for r in results.values())
    rows = ["| part | points | diagnosis |", "|---|---|---|"]
    for r in results.values():
        diag = "; ".join(m.name for m in r.diagnoses) or ("—" if not r.note else r.note)
        rows.append(f"| {r.title} | {r.score:g} / {r.max_score:g} | {diag} |")
    text = (
        "## Autograder report\n\n"
        f"Hidden checks ran outside your kernel on inputs drawn for you: **{total:g} / {maximum:g}** "
        "points from them (the gradebook total also counts any manually graded cells).\n\n"
        + "\n".join(rows)
    )
    if notes:
        text += "\n\nWhile running your notebook:\n\n" + "\n".join(f"- {n}" for n in notes[:20])
    return text
