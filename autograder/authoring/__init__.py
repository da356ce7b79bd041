"""Authoring: a problem set's source → the nbgrader source notebook (instructor side).

Runs in the instructor's process only; nothing here reaches a learner or the sandbox.
"""

from autograder.authoring.notebook_builder import NotebookBuilder, build_source

__all__ = ["NotebookBuilder", "build_source"]
