"""Reference implementation the problem sets are graded against.

Runs on the grader's side of the sandbox (the hidden checks compare learners' answers with it);
learners' kernels can neither import nor read it. The conventions are written out in
``book/conventions.md`` and enforced by ``conventions``.

Modules by concept:

* ``conventions`` — the conventions and their checks (``as_float_array``, ``ConventionError``,
  ``check_rotation_matrix``).
* ``quaternion`` — unit quaternions ``[w, x, y, z]``: product, rotation, conversions, slerp.
* ``euler`` — Euler angles ↔ matrices, including RELION, SPIDER and EMAN.
* ``so3`` — exp/log maps and the metrics between rotations.
* ``averaging`` — single rotation averaging: chordal, quaternion and geodesic means, median.
* ``transforms`` — Rodrigues' formula, 4×4 rigid transforms, conversions between the Euler
  conventions of SPIDER, EMAN and RELION (Baldwin & Penczek, 2007).
* ``haar`` — the metric and the volume element of SO(3).
* ``sampling`` — orientation grids (Baldwin & Penczek's quasi-uniform grid, super-Fibonacci) and
  uniform random rotations (Shoemake).
* ``uniformity`` — how uniformly a set of rotations or directions covers SO(3) or S².
* ``superposition`` — least-squares superposition of point sets: Kabsch with the reflection fixed,
  Horn's and Hanson's quaternion eigenvector, the RMSD.
* ``bayesian_superposition`` — the uniform prior over rotations of Sanz Moreta et al. and their
  Student-t superposition, fitted by gradient descent (PyTorch; import it by name).
* ``denoising`` — Bayesian denoising by conjugacy: the Wiener filter (Gaussian–Gaussian) and the
  Poisson–Gamma posterior (import it by name).
* ``map_alignment`` — aligning two density maps, VESPER-style: Gaussian-atom maps, rotation by
  trilinear resampling, the cross-correlation at every shift by FFT, an exhaustive rotational
  search, local density vectors and the DOT score, Z-scores (import it by name).
* ``projection`` — projections of volumes, in real and Fourier space (PyTorch; import it by
  name, it is not re-exported here, so that the rotations never load torch).
* ``pose_losses`` — losses on rotations, the 6D representation, handedness and symmetry
  (problem set 8; PyTorch, differentiable; imported by name like ``projection``).

The speed machinery, imported openly by the modules above:

* ``blockwise`` — runs a formula written on a block of component rows over a batch, block by
  block and over threads (``map_rows``). Each batched rotation function is followed by its formula
  in that form (``quat_multiply`` → ``quat_multiply_rows``).
* ``compiled`` — the numba loops of the same formulas for the largest batches (optional; the
  loops themselves are in ``compiled_kernels``, imported only when numba is there).

``__all__`` below is the public API of the rotations: every function of ``quaternion``, ``euler``,
``so3`` and ``averaging`` and the conventions' checks, re-exported, so ``reference_impl.so3_log``
is ``reference_impl.so3.so3_log`` (names say their representation, so one namespace holds them
without clashes). Every module states its own functions in ``__all__`` (for ``so3`` and
``averaging`` also the names the problem sets' stubs must have); the ``*_rows`` formulas are
public names beside them. No module imports another's underscored names.
"""

from reference_impl.averaging import chordal_mean, geodesic_mean, geodesic_median, quaternion_mean
from reference_impl.conventions import (
    ConventionError,
    FloatArray,
    as_float_array,
    check_rotation_matrix,
    result_dtype,
)
from reference_impl.euler import elementary_rotation, euler_to_matrix, matrix_to_euler
from reference_impl.quaternion import (
    axis_angle_to_quat,
    matrix_to_quat,
    quat_canonical,
    quat_conjugate,
    quat_inverse,
    quat_multiply,
    quat_normalize,
    quat_rotate,
    quat_slerp,
    quat_to_axis_angle,
    quat_to_matrix,
    quat_to_rotvec,
    random_quat,
    rotvec_to_quat,
)
from reference_impl.so3 import (
    chordal_distance,
    geodesic_distance,
    hat,
    quat_geodesic_distance,
    quaternion_distance,
    rotation_angle,
    so3_exp,
    so3_log,
    vee,
)

__all__ = [
    "ConventionError",
    "FloatArray",
    "as_float_array",
    "axis_angle_to_quat",
    "check_rotation_matrix",
    "chordal_distance",
    "chordal_mean",
    "elementary_rotation",
    "euler_to_matrix",
    "geodesic_distance",
    "geodesic_mean",
    "geodesic_median",
    "hat",
    "matrix_to_euler",
    "matrix_to_quat",
    "quat_canonical",
    "quat_conjugate",
    "quat_geodesic_distance",
    "quat_inverse",
    "quat_multiply",
    "quat_normalize",
    "quat_rotate",
    "quat_slerp",
    "quat_to_axis_angle",
    "quat_to_matrix",
    "quat_to_rotvec",
    "quaternion_distance",
    "quaternion_mean",
    "random_quat",
    "result_dtype",
    "rotation_angle",
    "rotvec_to_quat",
    "so3_exp",
    "so3_log",
    "vee",
]
