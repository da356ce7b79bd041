"""``PartTitles``: names each test cell of a graded notebook after its part, for the feedback.

nbgrader's feedback page lists every test cell as "Test cell"; this preprocessor (run by
``course feedback`` after nbgrader's ``GetGrades``) puts the part's title in the cell's metadata
(``cryoem_course_part``), which the course's feedback template shows instead: the hidden checks'
``Part.title`` where the cell has hidden checks, else the heading of the notebook section the
cell closes.
"""

from __future__ import annotations

import re
from pathlib import Path

from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor

from autograder.authoring.notebook_source import problem_set_dir
from autograder.checks.loader import load_parts

__all__ = ["PART_KEY", "PartTitles"]

PART_KEY = "cryoem_course_part"
_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*$", re.M)
_POINTS = re.compile(r"\s*\(\s*\d+(?:\.\d+)?\s+points?\s*\)\s*$")


class PartTitles(NbGraderPreprocessor):
    def preprocess(
        self, nb: NotebookNode, resources: ResourcesDict
    ) -> tuple[NotebookNode, ResourcesDict]:
        info = resources.get("nbgrader", {})
        titles: dict[str, str] = {}
        try:
            root = Path(CourseDirectory(config=self.config).root)
            parts = load_parts(problem_set_dir(root, info["assignment"]), info["notebook"])
            titles = {p.grade_id: p.title for p in parts}
        except Exception:  # no hidden checks for this notebook: headings only
            titles = {}
        heading = ""
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                found = _HEADING.findall(cell.source)
                if found:
                    heading = _POINTS.sub("", found[-1])
                continue
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and not meta.get("solution"):
                title = titles.get(meta.get("grade_id", "")) or heading
                if title:
                    cell.metadata[PART_KEY] = title
        return nb, resources
