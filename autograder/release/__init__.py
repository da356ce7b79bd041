"""Release: generate the learners' version of a problem set and prove it right (instructor side).

``release_assignment`` runs nbgrader's ``generate_assignment``, checks that nothing hidden leaks
(``leaks``), and grades the solution (full marks) and the blank release (zero) in the sandbox.
"""

from autograder.release.generation import ReleaseError, generate
from autograder.release.leak_check import leaks
from autograder.release.validation import ReleaseReport, release_assignment, validate_release

__all__ = [
    "ReleaseError",
    "ReleaseReport",
    "generate",
    "leaks",
    "release_assignment",
    "validate_release",
]
