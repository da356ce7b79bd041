"""Reference implementation the problem sets are graded against.

Modules: ``conventions`` (the conventions, and their checks), ``quaternion``, ``euler``, ``so3``,
``averaging``, ``superposition`` (NumPy), ``projection`` and ``bayesian_superposition``
(PyTorch). See ``book/conventions.md``.
"""
