# nbgrader's configuration for the learners' Jupyter servers (the Assignments tab, fetch,
# submit, fetch feedback). Installed into the learner environment's etc/jupyter/ (the hub's
# set-up and the learner image both copy it there); the hub's spawner sets the variables.
import os

c = get_config()  # type: ignore[name-defined]  # noqa: F821
c.CourseDirectory.course_id = "cryoem-study-group-2022"
# nbgrader's exchange, shared by every user of the hub (a folder of mode 1777 on one machine,
# a shared volume at scale)
c.Exchange.root = os.environ.get("COURSE_EXCHANGE", "/srv/nbgrader/exchange")
c.Exchange.path_includes_course = False
# where problem sets live in a learner's home: the folder the book's launch links pull into
# (nbgitpuller's target, the name of the learners' repository), so that the Assignments tab
# lists a problem set opened from the book as downloaded and submits that folder
c.Exchange.assignment_dir = os.path.join(
    os.path.expanduser("~"), os.environ.get("COURSE_ASSIGNMENT_DIR", "problem-sets")
)
# a submission private to its learner (nbgrader leaves it world-writable): the instructor
# collects as root on the hub's machine
c.ExchangeFactory.submit = "course_learner.private_submit.PrivateSubmit"
