"""Reference implementation the problem sets are graded against.

Modules: ``conventions`` (the conventions, and their checks), ``quaternion``, ``euler``, ``so3``,
``averaging`` (NumPy), ``projection`` and ``pose_losses`` (PyTorch). See ``book/conventions.md``.
"""
