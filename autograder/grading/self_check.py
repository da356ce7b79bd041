"""``course check NOTEBOOK``: the learner's self-check, which lives with the learners
(``course_learner.check``, distribution ``cryoem-course-learner``) so that a learner's environment
needs nothing of the grader's. Re-exported here for the instructor's side.
"""

from course_learner.check import CheckReport, TestResult, check_notebook

__all__ = ["CheckReport", "TestResult", "check_notebook"]
