"""Authoring: a problem set's folder → nbgrader's source notebook (instructor side).

Runs in the instructor's process only; nothing here reaches a learner or the sandbox. A problem
set is one folder, ``assignments/problem_sets/<ps>/``: the notebook (``<ps>.py``, jupytext's
percent format with nbgrader's cell metadata), its hidden checks (``hidden_checks.py``) and its
bank of wrong implementations (``mutants.py``, see ``mutants``).
"""

from autograder.authoring.mutants import Mutant, load_mutants
from autograder.authoring.notebook_source import (
    INSTRUCTOR_FILES,
    NotebookPart,
    SourceError,
    build_source,
    notebook_parts,
    problem_set_dir,
    problem_sets,
    read_notebook,
)

__all__ = [
    "INSTRUCTOR_FILES",
    "Mutant",
    "NotebookPart",
    "SourceError",
    "build_source",
    "load_mutants",
    "notebook_parts",
    "problem_set_dir",
    "problem_sets",
    "read_notebook",
]
