"""The Triton slice kernels against the PyTorch path, on CPU under ``TRITON_INTERPRET=1``.

Triton decides at decoration time whether a kernel is compiled or interpreted, so the module
is loaded here a second time, under its own name, with the variable set: the interpreted
copy does not disturb ``reference_impl.projection.triton_engine`` (which ``projection`` uses for
CUDA tensors). Skipped when Triton is not installed.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

import pytest
import torch

pytest.importorskip("triton")

from reference_impl import projection as P
from reference_impl.projection import _grids, extraction, torch_engine, transform
from reference_impl.quaternion import quat_to_matrix, random_quat

CUDA = torch.cuda.is_available()


@pytest.fixture(scope="module")
def interpreted() -> ModuleType:
    path = Path(P.__file__).with_name("triton_engine.py")
    old = os.environ.get("TRITON_INTERPRET")
    os.environ["TRITON_INTERPRET"] = "1"
    try:
        spec = importlib.util.spec_from_file_location("_projection_triton_interpreted", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        if old is None:
            del os.environ["TRITON_INTERPRET"]
        else:
            os.environ["TRITON_INTERPRET"] = old
    assert module.AVAILABLE
    assert type(module._sample_kernel).__name__ == "InterpretedFunction"
    return module


def rotations(n: int, seed: int, dtype: torch.dtype) -> torch.Tensor:
    return torch.tensor(quat_to_matrix(random_quat(n, rng=seed)), dtype=dtype)


def grids(dtype: torch.dtype) -> list[tuple[str, _grids.Grid, torch.Tensor]]:
    """The three grid layouts the sampler meets, with sample frequencies for each."""
    gen = torch.Generator().manual_seed(0)
    cdt = torch.complex128 if dtype == torch.float64 else torch.complex64
    out = []
    for N in (8, 9):  # a user's half volume, [z, y, re/im, x] rows
        V = torch.randn(N, N, N // 2 + 1, dtype=cdt, generator=gen)
        out.append(
            (f"half{N}", _grids.bordered_zyx(V, -(N // 2)), _grids.slice_freqs(N, dtype, "cpu"))
        )
    v = torch.randn(6, 6, 6, dtype=dtype, generator=gen)
    freqs = (torch.rand(70, 2, dtype=dtype, generator=gen) - 0.5) * 9  # some fall outside
    for method in ("matmul", "fft"):  # the two transforms' layouts
        out.append((method, transform.fourier_grid(v, 15, 3, True, method), freqs))
    return out


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_kernels_match_pytorch(interpreted: ModuleType, dtype: torch.dtype) -> None:
    tol = {"rtol": 1e-12, "atol": 1e-12} if dtype == torch.float64 else {"rtol": 2e-5, "atol": 2e-5}
    R = rotations(3, seed=5, dtype=dtype)
    for name, grid, freqs in grids(dtype):
        loc = torch_engine.Located(grid, R, freqs)
        ref, vals = torch_engine.sample_forward(grid, loc)
        out = interpreted.sample_slices(grid, R, freqs)
        torch.testing.assert_close(out, ref, **tol, msg=f"forward, {name}")
        g = torch.randn_like(ref)
        gd_ref, gr_ref = torch_engine.sample_backward(g, grid, loc, vals, freqs, True, True)
        gd, gr = interpreted.sample_slices_backward(g, grid, R, freqs, True, True)
        torch.testing.assert_close(gd, gd_ref, **tol, msg=f"adjoint, {name}")
        scale = float(gr_ref.abs().max())
        torch.testing.assert_close(gr / scale, gr_ref / scale, **tol, msg=f"rotations, {name}")


def test_kernel_adjoint_dot(interpreted: ModuleType) -> None:
    """The atomic insertion kernel is the exact adjoint of the gather kernel."""
    R = rotations(2, seed=8, dtype=torch.float64)
    _, grid, freqs = grids(torch.float64)[1]
    x = torch.randn_like(grid.data)
    y = torch.randn(2, 2, freqs.shape[0], dtype=torch.float64)
    lhs = float(
        (
            interpreted.sample_slices(
                _grids.Grid(x, grid.kmin, grid.strides, grid.hi, grid.im_off), R, freqs
            )
            * y
        ).sum()
    )
    gd, _ = interpreted.sample_slices_backward(y, grid, R, freqs, True, False)
    rhs = float((x * gd).sum())
    assert abs(lhs - rhs) <= 1e-12 * abs(lhs)


@pytest.mark.cuda
@pytest.mark.skipif(not CUDA, reason="needs a CUDA device")
def test_compiled_kernels_on_cuda() -> None:
    from reference_impl.projection import triton_engine as pt

    assert pt.AVAILABLE and extraction.triton_ok()
    R = rotations(4, seed=3, dtype=torch.float32)
    for name, grid, freqs in grids(torch.float32):
        loc = torch_engine.Located(grid, R, freqs)
        ref, _ = torch_engine.sample_forward(grid, loc)
        gc = _grids.Grid(grid.data.cuda(), grid.kmin, grid.strides, grid.hi, grid.im_off)
        out = pt.sample_slices(gc, R.cuda(), freqs.cuda())
        torch.testing.assert_close(out.cpu(), ref, rtol=2e-5, atol=2e-5, msg=name)


# ----------------------------------------------------------------------------- wide kernels


def stencil_cases(dtype: torch.dtype) -> list[tuple[str, object, torch.Tensor, torch.Tensor]]:
    """Periodic grids of the non-uniform FFT mode (odd and even ``N``, widths 2 to 7), with
    frequencies some of which fall outside the cube."""
    from reference_impl.projection import kernels, nufft

    gen = torch.Generator().manual_seed(1)
    out = []
    for name, D, N, w in (("es", 9, 12, 4), ("kb", 8, 9, 5), ("es", 7, 14, 7), ("kb", 6, 8, 2)):
        V = torch.randn(D, D, D, dtype=dtype, generator=gen)
        k = kernels.make_kernel(name, w, N / D)
        freqs = (torch.rand(90, 2, dtype=dtype, generator=gen) - 0.5) * 1.6 * N
        coef = kernels.kernel_table(k, dtype, "cpu")
        out.append((f"{name}{w} N={N}", nufft.nufft_grid(V, N, k), freqs, coef))
    return out


@pytest.fixture
def interpreting(interpreted: ModuleType, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The interpreted module, with ``TRITON_INTERPRET=1`` while it runs: the wide kernels call
    helpers with ``constexpr`` arguments, which the interpreter resolves at call time."""
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    return interpreted


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_stencil_kernels_match_pytorch(interpreting: ModuleType, dtype: torch.dtype) -> None:
    interpreted = interpreting
    tol = {"rtol": 1e-12, "atol": 1e-12} if dtype == torch.float64 else {"rtol": 2e-5, "atol": 2e-5}
    R = rotations(3, seed=6, dtype=dtype)
    for name, grid, freqs, coef in stencil_cases(dtype):
        st = torch_engine.Stencil(grid, R, freqs, coef)
        ref = torch_engine.stencil_forward(grid, st)
        out = interpreted.stencil_sample(grid, R, freqs, coef)
        g = torch.randn_like(ref)
        gd_ref, gr_ref = torch_engine.stencil_backward(g, grid, st, freqs, True, True)
        gd, gr = interpreted.stencil_sample_backward(g, grid, R, freqs, coef, True, True)
        assert gd_ref is not None and gr_ref is not None and gd is not None and gr is not None
        for what, a, b in (
            ("forward", out, ref),
            ("adjoint", gd, gd_ref),
            ("rotations", gr, gr_ref),
        ):
            scale = float(b.abs().max())  # (float32 sums of ~w³ terms: relative to the largest)
            torch.testing.assert_close(a / scale, b / scale, **tol, msg=f"{what}, {name}")


def test_stencil_kernel_adjoint_dot(interpreting: ModuleType) -> None:
    """The atomic spreading kernel is the exact adjoint of the interpolating one."""
    interpreted = interpreting
    from reference_impl.projection import _grids

    R = rotations(2, seed=9, dtype=torch.float64)
    _, grid, freqs, coef = stencil_cases(torch.float64)[1]
    x = torch.randn_like(grid.data)
    y = torch.randn(2, 2, freqs.shape[0], dtype=torch.float64)
    other = _grids.PeriodicGrid(x, grid.N, grid.b)
    lhs = float((interpreted.stencil_sample(other, R, freqs, coef) * y).sum())
    gd, _ = interpreted.stencil_sample_backward(y, grid, R, freqs, coef, True, False)
    rhs = float((x * gd).sum())
    assert abs(lhs - rhs) <= 1e-12 * abs(lhs)
