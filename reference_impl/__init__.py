"""Reference implementation the problem sets are graded against.

Modules: ``conventions`` (the conventions, and their checks), ``quaternion``, ``euler``, ``so3``,
``averaging``, ``transforms`` (Rodrigues, 4×4 rigid transforms, Euler conventions), ``haar`` (the
metric and volume element of SO(3)), ``sampling`` (orientation grids and uniform samplers),
``uniformity`` (how uniformly a set covers SO(3) or S²) (NumPy) and ``projection`` (PyTorch).
See ``book/conventions.md``.
"""
