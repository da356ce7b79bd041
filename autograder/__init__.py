"""The course's grading pipeline around nbgrader, and the ``course`` command line.

The folders read as the pipeline, in the order a problem set goes through it:

* ``authoring`` — problem-set sources (one folder each) → nbgrader source notebooks;
* ``release`` — nbgrader's ``generate_assignment``, then proof that the release is right;
* ``sandbox`` — the learner's kernel in bubblewrap, with limits (host side);
* ``harness`` — the only grader code that runs *inside* the learner's kernel, and its wire format;
* ``checks`` — hidden checks, evaluated in the grader process, never in the kernel;
* ``grading`` — nbgrader's autograde with ``SandboxedAutograde``, in parallel or on Dask;
* ``feedback`` — feedback, grade export and pass rates;
* ``publish`` — nbgrader's exchange, the learners' release branch, the book's build and pages.

Set apart from grading: ``schedule`` (the book's schedule, which also says what is due) and
``config`` (where things are, and the one nbgrader configuration). ``cli`` is the ``course``
command.
"""
