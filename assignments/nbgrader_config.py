# The course's nbgrader configuration file: `course` and plain `nbgrader` both read it (from
# assignments/, the course root), on top of the course's defaults (autograder.config.nbgrader).
# Set any nbgrader option or the course's own here; `course config` lists them with their help.
# Whatever is set, grading stays in the sandbox: a configuration that would run nbgrader's own
# Execute, drop SandboxedAutograde or stop restoring the test cells is refused.
from pathlib import Path

from autograder.config import configure

c = get_config()  # type: ignore[name-defined]  # noqa: F821
configure(c, Path(__file__).parent)

# Examples (the defaults are shown):
# c.CourseDirectory.db_url = "sqlite:///.../assignments/gradebook.db"  # or postgresql+psycopg2://…
# c.Exchange.root = "/srv/nbgrader/exchange"
# c.SandboxedAutograde.cell_timeout = 30.0       # seconds per cell
# c.SandboxedAutograde.notebook_timeout = 180.0  # seconds for the whole notebook
# c.SandboxLimits.memory_mb = 4096               # the memory of one learner's kernel
