"""The grades in the form Canvas imports: its gradebook CSV (Grades → Import).

Canvas reads a CSV whose first columns identify the learner — ``Student`` ("Last, First"),
``ID`` (Canvas's own user id), ``SIS User ID``, ``SIS Login ID``, ``Section`` — and then one
column per assignment; a second row ``Points Possible`` gives each assignment's points, and a
column whose name is not yet an assignment of the course creates one. Canvas matches a row to a
learner by any of the ids; here the ``SIS Login ID`` is the learner's id in nbgrader's gradebook
(their hub login), the Canvas ``ID`` is left empty, and each problem set is a column named by its
id, scored as nbgrader's CSV scores it (the score less the late penalty, never below zero). A
learner with no submission of a problem set has an empty cell: Canvas leaves such a grade as it
is (or applies the course's missing-submission policy) rather than recording a zero.
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

__all__ = ["CANVAS_COLUMNS", "export_canvas"]

#: The columns Canvas needs before the assignments' columns, in its own order.
CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def _name(first: str | None, last: str | None, learner: str) -> str:
    if last and first:
        return f"{last}, {first}"
    return last or first or learner


def export_canvas(course_root: Path, out: Path) -> Path:
    """Write the gradebook to ``out`` in Canvas's import format; returns ``out``."""
    from nbgrader.api import Gradebook, MissingEntry

    from autograder.config.nbgrader import course_config

    cfg = course_config(course_root)
    with (
        warnings.catch_warnings(),
        Gradebook(
            str(cfg.CourseDirectory.db_url), course_id=str(cfg.CourseDirectory.course_id)
        ) as gb,
    ):
        warnings.simplefilter("ignore")
        assignments = sorted(gb.assignments, key=lambda a: a.name)
        rows = []
        for student in sorted(gb.students, key=lambda s: s.id):
            cells = []
            for a in assignments:
                try:
                    sub = gb.find_submission(a.name, student.id)
                except MissingEntry:
                    cells.append("")
                    continue
                if sub.timestamp is None:  # a row made for an extension, never submitted
                    cells.append("")
                    continue
                score = max(0.0, float(sub.score) - float(sub.late_submission_penalty or 0.0))
                cells.append(f"{score:g}")
            rows.append(
                [_name(student.first_name, student.last_name, student.id), "", "", student.id, ""]
                + cells
            )
        points = ["    Points Possible", "", "", "", ""] + [
            f"{float(a.max_score):g}" for a in assignments
        ]
        header = CANVAS_COLUMNS + [a.name for a in assignments]
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerow(points)
        writer.writerows(rows)
    return out
