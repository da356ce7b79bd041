"""The compiled kernels of ``reference_impl.compiled`` against the NumPy path they replace for
large batches: same values (to a few ulps), dtypes, shapes, errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rotation_strategies import seeds
from scipy.spatial.transform import Rotation

from reference_impl import compiled
from reference_impl.conventions import ConventionError
from reference_impl.quaternion import quat_rotate, quat_to_matrix
from reference_impl.so3 import geodesic_distance, so3_exp

pytestmark = [
    pytest.mark.skipif(not compiled.enabled(), reason="numba is not installed"),
    pytest.mark.filterwarnings("error::RuntimeWarning"),
]

N = compiled.MIN_ROWS + 37  # not a multiple of anything the kernel might assume


def numpy_path_of(fn: Any, *args: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> np.ndarray:
    """``fn(*args)`` with the compiled kernels turned off."""
    with monkeypatch.context() as m:
        m.setenv("REFERENCE_IMPL_NUMBA", "0")
        assert not compiled.enabled()
        return fn(*args)  # type: ignore[no-any-return]


@settings(max_examples=5, deadline=None)
@given(seed=seeds(), dtype=st.sampled_from([np.float32, np.float64]), unit=st.booleans())
def test_quat_to_matrix_compiled_equals_numpy(seed: int, dtype: type, unit: bool) -> None:
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(N, 4)) * rng.uniform(0.1, 10.0, size=(N, 1))
    if unit:
        q /= np.linalg.norm(q, axis=1, keepdims=True)
    q = q.astype(dtype)
    with pytest.MonkeyPatch.context() as mp:
        expected = numpy_path_of(quat_to_matrix, q, monkeypatch=mp)
    got = quat_to_matrix(q)
    assert got.dtype == q.dtype and got.shape == (N, 3, 3)
    # the compiled loop computes float32 input in float64 before rounding: within float32 rounding
    tol = 1e-6 if dtype == np.float32 else 4e-16
    np.testing.assert_allclose(got, expected, rtol=0, atol=tol)
    ref = Rotation.from_quat(q.astype(np.float64), scalar_first=True).as_matrix()
    np.testing.assert_allclose(got, ref, rtol=0, atol=50 * tol)


def test_quat_to_matrix_compiled_batch_shapes_and_layouts() -> None:
    rng = np.random.default_rng(3)
    q = rng.normal(size=(4, N // 4 + 1, 4))
    got = quat_to_matrix(q)
    assert got.shape == (*q.shape[:-1], 3, 3)
    strided = np.asfortranarray(q)[:, ::-1]  # neither C-contiguous nor in order
    np.testing.assert_allclose(quat_to_matrix(strided), got[:, ::-1], rtol=0, atol=1e-15)


def test_quat_to_matrix_compiled_rejects_a_zero_quaternion() -> None:
    q = np.random.default_rng(4).normal(size=(N, 4))
    q[N // 2] = 0.0
    with pytest.raises(ConventionError, match="zero quaternion"):
        quat_to_matrix(q)


def test_the_compiled_path_is_taken_only_for_large_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    kernel = compiled.quat_to_matrix_kernel()

    def spy(q: np.ndarray, out: np.ndarray) -> int:
        calls.append(len(q))
        return int(kernel(q, out))

    monkeypatch.setattr(compiled, "quat_to_matrix_kernel", lambda: spy)
    quat_to_matrix(np.ones((compiled.MIN_ROWS - 1, 4)))
    assert calls == []
    quat_to_matrix(np.ones((compiled.MIN_ROWS, 4)))
    assert calls == [compiled.MIN_ROWS]


def rotations_at_angles(
    rng: np.random.Generator, theta: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (R1, R2) with R1ᵀR2 a rotation by exactly ``theta`` about a random axis."""
    n = len(theta)
    R1 = Rotation.random(n, rng=rng).as_matrix()
    axis = rng.normal(size=(n, 3))
    axis /= np.linalg.norm(axis, axis=1, keepdims=True)
    return R1, R1 @ Rotation.from_rotvec(axis * theta[:, None]).as_matrix()


@settings(max_examples=5, deadline=None)
@given(seed=seeds(), dtype=st.sampled_from([np.float32, np.float64]))
def test_geodesic_distance_compiled_equals_numpy(seed: int, dtype: type) -> None:
    rng = np.random.default_rng(seed)
    # every regime: near 0, generic, within 0.02 of π (the exact formula), exactly π
    theta = np.concatenate(
        [
            10.0 ** rng.uniform(-9, -1, N // 4),
            rng.uniform(0, np.pi, N // 4),
            np.pi - 10.0 ** rng.uniform(-9, np.log10(0.02), N // 4),
            np.full(N - 3 * (N // 4), np.pi),
        ]
    )
    R1, R2 = rotations_at_angles(rng, theta)
    R1, R2 = R1.astype(dtype), R2.astype(dtype)
    with pytest.MonkeyPatch.context() as mp:
        expected = numpy_path_of(geodesic_distance, R1, R2, monkeypatch=mp)
    got = geodesic_distance(R1, R2)
    assert got.dtype == R1.dtype and got.shape == (N,)
    if dtype == np.float64:
        np.testing.assert_allclose(got, theta, rtol=0, atol=1e-12)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-13)
    else:  # float32 input: the compiled loop rounds once, at the end; both within float32 error
        np.testing.assert_allclose(got, expected, rtol=0, atol=2e-3)
        assert np.abs(got - theta).max() <= np.abs(expected - theta).max() + 1e-6


def test_geodesic_distance_compiled_broadcasts() -> None:
    rng = np.random.default_rng(5)
    R = Rotation.random(N, rng=rng).as_matrix()
    one = Rotation.random(rng=rng).as_matrix()
    got = geodesic_distance(one, R)
    assert got.shape == (N,)
    expected = np.linalg.norm(Rotation.from_matrix(one.T @ R).as_rotvec(), axis=-1)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


@settings(max_examples=5, deadline=None)
@given(seed=seeds(), dtype=st.sampled_from([np.float32, np.float64]))
def test_so3_exp_compiled_equals_numpy(seed: int, dtype: type) -> None:
    rng = np.random.default_rng(seed)
    # angles from 1e-310 (the limit of sin(θ/2)/θ) to 3π, any axis
    axis = rng.normal(size=(N, 3))
    axis /= np.linalg.norm(axis, axis=1, keepdims=True)
    theta = np.where(
        rng.random(N) < 0.3, 10.0 ** rng.uniform(-310, -1, N), rng.uniform(0, 3 * np.pi, N)
    )
    w = (axis * theta[:, None]).astype(dtype)
    w[:5] = 0.0
    with pytest.MonkeyPatch.context() as mp:
        expected = numpy_path_of(so3_exp, w, monkeypatch=mp)
    got = so3_exp(w)
    assert got.dtype == w.dtype and got.shape == (N, 3, 3)
    # libm's sin and cos against NumPy's: a few ulps apart
    tol = 1e-6 if dtype == np.float32 else 4e-15
    np.testing.assert_allclose(got, expected, rtol=0, atol=tol)
    ref = Rotation.from_rotvec(w.astype(np.float64)).as_matrix()
    np.testing.assert_allclose(got, ref, rtol=0, atol=10 * tol)


def test_compiled_kernels_called_from_several_threads_at_once() -> None:
    # numba's workqueue threading layer (the one numba falls back to without OpenMP or TBB)
    # aborts the process on concurrent parallel launches unless they take turns
    script = """
import numpy as np
from concurrent.futures import ThreadPoolExecutor
from reference_impl import compiled
from reference_impl.quaternion import quat_rotate, quat_to_matrix
from reference_impl.so3 import geodesic_distance
rng = np.random.default_rng(6)
qs = [rng.normal(size=(compiled.MIN_ROWS + 5, 4)) for _ in range(8)]
with ThreadPoolExecutor(4) as pool:
    Rs = list(pool.map(quat_to_matrix, qs))
    d = list(pool.map(geodesic_distance, Rs, Rs[::-1]))
import numba
print(numba.threading_layer(), len(d))
"""
    env = {**os.environ, "NUMBA_THREADING_LAYER": "workqueue", "NUMBA_NUM_THREADS": "2"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    proc = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["workqueue", "8"]


@settings(max_examples=5, deadline=None)
@given(seed=seeds(), dtype=st.sampled_from([np.float32, np.float64]))
def test_quat_rotate_compiled_equals_numpy(seed: int, dtype: type) -> None:
    rng = np.random.default_rng(seed)
    q = (rng.normal(size=(N, 4)) * rng.uniform(0.1, 10.0, size=(N, 1))).astype(dtype)
    v = (rng.normal(size=(N, 3)) * 10.0 ** rng.uniform(-3, 3, size=(N, 1))).astype(dtype)
    with pytest.MonkeyPatch.context() as mp:
        expected = numpy_path_of(quat_rotate, q, v, monkeypatch=mp)
    got = quat_rotate(q, v)
    assert got.dtype == q.dtype and got.shape == (N, 3)
    scale = np.linalg.norm(v.astype(np.float64), axis=1, keepdims=True)
    tol = 1e-6 if dtype == np.float32 else 1e-15
    assert np.all(np.abs(got - expected) <= tol * scale)
    ref = Rotation.from_quat(q.astype(np.float64), scalar_first=True).apply(v.astype(np.float64))
    assert np.all(np.abs(got - ref) <= 10 * tol * scale)
    # broadcasting (one rotation, many points) takes the NumPy path, with the same answer
    one = quat_rotate(q[:1], v)
    np.testing.assert_allclose(
        one,
        Rotation.from_quat(q[0].astype(np.float64), scalar_first=True).apply(v),
        rtol=0,
        atol=float(10 * tol * scale.max()),
    )
