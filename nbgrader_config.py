# nbgrader reads this when run from the repository root: the course root is assignments/.
from pathlib import Path

from autograder.config import configure

c = get_config()  # type: ignore[name-defined]  # noqa: F821
configure(c, Path(__file__).parent / "assignments")
