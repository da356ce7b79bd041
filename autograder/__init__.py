"""The course platform's grading pipeline and the ``course`` command line.

Modules: ``cli`` (the ``course`` command), ``book`` (build and serve the Jupyter Book).
"""
