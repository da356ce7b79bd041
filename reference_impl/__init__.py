"""Reference implementation the problem sets are graded against.

Runs on the grader's side of the sandbox (the hidden checks compare learners' answers with it);
learners' kernels can neither import nor read it. The conventions are written out in
``book/conventions.md`` and enforced by ``conventions``.

Modules by concept (import them by name; ``import reference_impl`` alone loads nothing):

* ``conventions`` — the conventions and their checks (``as_float_array``, ``ConventionError``,
  ``check_rotation_matrix``).
* ``quaternion`` — unit quaternions ``[w, x, y, z]``: product, rotation, conversions, slerp.
* ``euler`` — Euler angles ↔ matrices, including RELION, SPIDER and EMAN.
* ``so3`` — exp/log maps and the metrics between rotations.
* ``averaging`` — single rotation averaging: chordal, quaternion and geodesic means, median.
* ``projection`` — projections of volumes, in real and Fourier space (PyTorch).

The speed machinery, imported openly by the modules above:

* ``blockwise`` — runs a formula written on a block of component rows over a batch, block by
  block and over threads (``map_rows``). Each batched rotation function is followed by its formula
  in that form (``quat_multiply`` → ``quat_multiply_rows``).
* ``compiled`` — the numba loops of the same formulas for the largest batches (optional; the
  loops themselves are in ``compiled_kernels``, imported only when numba is there).

Every module states its functions in ``__all__`` (for ``so3`` and ``averaging`` these are also
the names the problem sets' stubs must have); the ``*_rows`` formulas are public names beside
them. No module imports another's underscored names.
"""

__all__ = [
    "averaging",
    "blockwise",
    "compiled",
    "conventions",
    "euler",
    "projection",
    "quaternion",
    "so3",
]
