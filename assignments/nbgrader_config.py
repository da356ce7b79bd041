# nbgrader reads this when run from assignments/ (the course root). Everything is configured in
# autograder.config.nbgrader, which the `course` command uses too.
from pathlib import Path

from autograder.config import configure

c = get_config()  # type: ignore[name-defined]  # noqa: F821
configure(c, Path(__file__).parent)
