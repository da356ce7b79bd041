"""The compiled CPU slice sampler (``reference_impl.projection.numba_engine``) against the PyTorch
sampler it replaces for large batches: the same samples, adjoint and rotation gradient; the
adjoint dot test and ``gradcheck`` through it."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from reference_impl import compiled
from reference_impl import projection as P
from reference_impl.projection import numba_engine as pn
from reference_impl.quaternion import quat_to_matrix, random_quat

pytestmark = pytest.mark.skipif(not compiled.enabled(), reason="numba is not installed")


def rotations(n: int, seed: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.tensor(quat_to_matrix(random_quat(n, rng=seed)), dtype=dtype)


def rinner(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(torch.sum(torch.view_as_real(a) * torch.view_as_real(b)))


def batch_for(N: int) -> int:
    """Rotations enough for ``MIN_SAMPLES`` samples on an ``N`` half slice."""
    return -(-pn.MIN_SAMPLES // (N * (N // 2 + 1)))


def both_paths(monkeypatch: pytest.MonkeyPatch, fn, *args):  # type: ignore[no-untyped-def]
    """``fn(*args)`` through the compiled sampler, then through the PyTorch one."""
    calls: list[int] = []
    forward = pn.sample_slices
    monkeypatch.setattr(pn, "sample_slices", lambda *a: calls.append(1) or forward(*a))
    compiled_out = fn(*args)
    assert calls, "the compiled sampler was not used"
    monkeypatch.setenv("REFERENCE_IMPL_NUMBA", "0")
    torch_out = fn(*args)
    assert len(calls) == 1
    monkeypatch.delenv("REFERENCE_IMPL_NUMBA")
    return compiled_out, torch_out


@settings(max_examples=8, deadline=None)
@given(
    N=st.integers(min_value=5, max_value=24),
    seed=st.integers(min_value=0, max_value=2**31 - 1),
    single=st.booleans(),
    slabs=st.booleans(),
)
def test_extract_and_its_gradients_match_the_torch_sampler(
    N: int, seed: int, single: bool, slabs: bool
) -> None:
    dt, ct = (torch.float32, torch.complex64) if single else (torch.float64, torch.complex128)
    gen = torch.Generator().manual_seed(seed)
    B = batch_for(N) + seed % 3
    R0 = rotations(B, seed, dt)
    x0 = torch.randn(N, N, N // 2 + 1, dtype=ct, generator=gen)
    y = torch.randn(B, N, N // 2 + 1, dtype=ct, generator=gen)

    def run() -> tuple[torch.Tensor, ...]:
        x = x0.clone().requires_grad_(True)
        R = R0.clone().requires_grad_(True)
        S = P.extract_central_slices(x, R)
        torch.view_as_real(S).mul(torch.view_as_real(y)).sum().backward()
        assert x.grad is not None and R.grad is not None
        return S.detach(), x.grad, R.grad

    with pytest.MonkeyPatch.context() as mp:
        # both ways of writing the adjoint: a buffer per thread, or one buffer by slabs
        mp.setattr(pn, "SLABS_FROM", 0 if slabs else 1 << 62)
        got, want = both_paths(mp, run)
    tol = 2e-5 if single else 1e-12
    for g, w, name in zip(
        got, want, ("slices", "volume gradient", "rotation gradient"), strict=True
    ):
        assert g.dtype == w.dtype and g.shape == w.shape, name
        err = float((g - w).abs().max() / w.abs().max())
        assert err <= tol, (name, err)


@pytest.mark.parametrize("slabs", [False, True])
@pytest.mark.parametrize("N", [16, 17])
def test_adjoint_dot_through_the_compiled_sampler(
    N: int, slabs: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pn, "SLABS_FROM", 0 if slabs else 1 << 62)
    gen = torch.Generator().manual_seed(N)
    B = batch_for(N)
    R = rotations(B, seed=N)
    x = torch.randn(N, N, N // 2 + 1, dtype=torch.complex128, generator=gen)
    y = torch.randn(B, N, N // 2 + 1, dtype=torch.complex128, generator=gen)
    lhs = rinner(P.extract_central_slices(x, R), y)
    rhs = rinner(x, P.insert_central_slices(y, R, N))
    assert abs(lhs - rhs) <= 1e-12 * max(abs(lhs), 1.0)


@pytest.mark.slow
def test_gradcheck_through_the_compiled_sampler() -> None:
    N = 16
    B = batch_for(N)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(N, N, N // 2 + 1, dtype=torch.complex128, generator=gen, requires_grad=True)
    R = rotations(B, seed=2).requires_grad_(True)
    assert pn.usable(x, B * N * (N // 2 + 1))
    assert torch.autograd.gradcheck(lambda R: P.extract_central_slices(x.detach(), R), (R,))
    assert torch.autograd.gradcheck(
        lambda x: P.extract_central_slices(x, R.detach()), (x,), fast_mode=True
    )


@pytest.mark.parametrize("slabs", [False, True])
def test_project_fourier_matches_the_torch_sampler(slabs: bool) -> None:
    pn.SLABS_FROM, saved = (0 if slabs else 1 << 62), pn.SLABS_FROM
    D = 40
    gen = torch.Generator().manual_seed(5)
    V0 = torch.randn(D, D, D, dtype=torch.float64, generator=gen)
    R0 = rotations(16, seed=6)

    def run() -> tuple[torch.Tensor, ...]:
        V = V0.clone().requires_grad_(True)
        R = R0.clone().requires_grad_(True)
        img = P.project_fourier(V, R, 3.5, kernel="trilinear", cutoff=0.2)
        (img * img).sum().backward()
        assert V.grad is not None and R.grad is not None
        return img.detach(), V.grad, R.grad

    try:
        with pytest.MonkeyPatch.context() as mp:
            got, want = both_paths(mp, run)
    finally:
        pn.SLABS_FROM = saved
    for g, w in zip(got, want, strict=True):
        assert float((g - w).abs().max() / w.abs().max()) <= 1e-12


def test_small_batches_keep_the_torch_sampler() -> None:
    x = torch.zeros(8, 8, 5, dtype=torch.complex128)
    assert not pn.usable(x, pn.MIN_SAMPLES - 1)
    assert pn.usable(x, pn.MIN_SAMPLES)
