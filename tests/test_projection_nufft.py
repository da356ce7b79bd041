"""Tests of the non-uniform FFT mode of ``reference_impl.projection`` (``project_fourier`` with
``kernel="es"`` or ``"kb"``): the kernels, the direct transform it approximates, the analytic
oracles, adjoints, float64 gradients for the volume and the rotations, and the agreement of
its engines (PyTorch and numba here; Triton in ``test_projection_triton.py``).

Small sizes keep the module within a few tens of seconds on two cores.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from reference_impl import compiled
from reference_impl import projection as P
from reference_impl.projection import kernels, nufft
from reference_impl.projection import numba_engine as pn
from reference_impl.projection.project import frequency_plan
from reference_impl.quaternion import quat_to_matrix, random_quat


def rotations(n: int, seed: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.tensor(quat_to_matrix(random_quat(n, rng=seed)), dtype=dtype)


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(torch.linalg.norm(a - b) / torch.linalg.norm(b))


def dtft(V: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """The definition: ``Σ_r V(r) exp(-2πi q·r / D)`` at points ``q`` ``(m, 3)`` (xyz), ``r``
    relative to the centre ``D // 2`` — the sum over every voxel, no grid, no kernel."""
    D = V.shape[0]
    r = torch.arange(D, dtype=torch.float64) - D // 2
    ez = torch.exp(-2j * math.pi * q[:, 2, None] * r / D)  # (m, D)
    ey = torch.exp(-2j * math.pi * q[:, 1, None] * r / D)
    ex = torch.exp(-2j * math.pi * q[:, 0, None] * r / D)
    Vc = V.to(torch.complex128)
    return torch.einsum("zyx,mz,my,mx->m", Vc, ez, ey, ex)


# ----------------------------------------------------------------------------- kernels


FIT = {"es": {3: 4e-3, 4: 5e-4, 6: 2e-5, 8: 5e-7}, "kb": {3: 1e-3, 4: 1e-4, 6: 3e-7, 8: 1e-9}}


@pytest.mark.parametrize("name", ["es", "kb"])
@pytest.mark.parametrize("width", [3, 4, 6, 8])
def test_kernel_pieces_and_their_transform(name: str, width: int) -> None:
    """The piecewise polynomial meets the formula (the ES kernel's square-root edge fits worst);
    its transform meets a fine Riemann sum of the formula to that accuracy; the pieces meet
    where a node enters or leaves the stencil (continuity), and vanish at the edge."""
    k = kernels.make_kernel(name, width, 1.25)
    assert k.fit_error < FIT[name][width], k.fit_error
    x = np.linspace(-width / 2, width / 2, 400001)
    xi = (np.arange(11) - 5) / 11
    riemann = (k.phi(x)[None] * np.cos(2 * np.pi * xi[:, None] * x[None])).sum(1) * (x[1] - x[0])
    np.testing.assert_allclose(
        k.deapodisation(11, 11), riemann, rtol=0, atol=2 * width * k.fit_error + 1e-9
    )
    ends = k.weights(np.array([0.0, 1.0]))  # node j at f = 1 is node j - 1 at f = 0
    np.testing.assert_allclose(ends[1, 1:], ends[0, :-1], rtol=0, atol=1e-13)
    assert abs(ends[1, 0]) < 1e-13 and abs(ends[0, -1]) < 1e-13  # zero at the edge


def test_trilinear_kernel_is_the_tent_and_its_transform_sinc2() -> None:
    k = kernels.make_kernel("trilinear", 2, 1.0)
    np.testing.assert_allclose(k.weights(np.array([0.25])), [[0.75, 0.25]], atol=1e-15)
    r = np.arange(9) - 4
    np.testing.assert_allclose(k.deapodisation(9, 12), np.sinc(r / 12) ** 2, rtol=1e-13)


@pytest.mark.parametrize("name", ["es", "kb"])
def test_deapodisation_is_the_transform_of_the_pieces(name: str) -> None:
    """``deapodisation`` integrates the kernel's pieces exactly: against a fine midpoint sum
    of the same piecewise polynomial."""
    k = kernels.make_kernel(name, 5, 1.5)
    m = 200000
    f = (np.arange(m) + 0.5) / m
    vals = k.weights(f)  # (m, w)
    d = k.width / 2 - 1 - np.arange(k.width)[None, :] + f[:, None]
    r = np.arange(12) - 6
    xi = r / 18
    ref = np.einsum("mj,xmj->x", vals, np.cos(2 * np.pi * xi[:, None, None] * d[None])) / m
    np.testing.assert_allclose(k.deapodisation(12, 18), ref, rtol=1e-9)


# ----------------------------------------------------------------------------- the transform


@pytest.mark.parametrize(("D", "N"), [(8, 10), (9, 12), (9, 9), (10, 15)])
def test_periodic_grid_is_the_deapodised_dft(D: int, N: int) -> None:
    """Every node of the bordered grid, inside the stored half or in its periodic Hermitian
    border, is the DFT of the deapodised volume padded to ``N`` at that integer ``k``."""
    gen = torch.Generator().manual_seed(D * N)
    V = torch.randn(D, D, D, dtype=torch.float64, generator=gen)
    k = kernels.make_kernel("kb", 4, N / D)
    grid = nufft.nufft_grid(V, N, k)
    a = torch.tensor(1 / k.deapodisation(D, N))
    Vd = V * a[:, None, None] * a[None, :, None] * a[None, None, :]
    Lz, Ly, Lx, _ = grid.data.shape
    ox, oy, oz = grid.offsets
    kz, ky, kx = torch.meshgrid(
        torch.arange(Lz) - oz, torch.arange(Ly) - oy, torch.arange(Lx) - ox, indexing="ij"
    )
    q = torch.stack([kx, ky, kz], -1).reshape(-1, 3).double() * D / N  # DFT on the N-grid
    want = dtft(Vd, q).reshape(Lz, Ly, Lx)
    got = torch.view_as_complex(grid.data)
    torch.testing.assert_close(got, want, rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize(
    ("name", "width", "pad"), [("es", 4, 1.25), ("es", 6, 1.25), ("kb", 5, 2.0), ("es", 8, 2.0)]
)
@pytest.mark.parametrize("D", [10, 11])
def test_samples_are_the_dtft(name: str, width: int, pad: float, D: int) -> None:
    """The mode computes the volume's discrete-time Fourier transform off the grid (a type-2
    non-uniform FFT) at any point of the cube ``|q_i| ≤ D/2`` (zero outside: the volume's
    band), within the bound of the kernel's aliasing: ``|error| ≤ Σ_r |V(r)| ((1 + ε)³ - 1)`` with ``ε`` the
    largest 1D error weight (``Kernel.aliasing``) — the worst case, for a random volume
    filling the box. The bound is tight within a factor of a few: it fails by far if the
    deapodisation, the border or the wrap-around is wrong."""
    gen = torch.Generator().manual_seed(D)
    V = torch.randn(D, D, D, dtype=torch.float64, generator=gen)
    N = round(pad * D)
    k = kernels.make_kernel(name, width, N / D)
    R = rotations(3, seed=D)
    freqs = (torch.rand(200, 2, dtype=torch.float64, generator=gen) - 0.5) * 1.5 * D
    out = nufft.sample_nufft(nufft.nufft_grid(V, N, k), R, freqs * N / D, k)
    q = torch.einsum("bj,n->bnj", R[:, 0], freqs[:, 0]) + torch.einsum(
        "bj,n->bnj", R[:, 1], freqs[:, 1]
    )
    inside = (q.abs() <= D / 2).all(-1)
    assert 0 < int(inside.sum()) < inside.numel()
    want = torch.where(inside, dtft(V, q.reshape(-1, 3)).reshape(3, -1), 0)
    got = torch.complex(out[0], out[1])
    eps = float(k.aliasing(D, N).max())
    bound = float(V.abs().sum()) * ((1 + eps) ** 3 - 1)
    err = float((got - want).abs().max())
    assert err <= bound, (err, bound)
    assert err > bound / 1e3 or bound < 1e-9 * float(want.abs().max()), (err, bound)


def test_error_falls_with_width() -> None:
    """The error against the analytic oracle falls fast with the kernel's width (ES, σ = 2)."""
    D = 32
    R = rotations(6, seed=3)
    V, images = P.gaussian_blobs(D, R)
    assert images is not None
    errs = [rel(P.project_fourier(V, R, 2.0, width=w), images) for w in (3, 4, 5)]
    assert all(b < a / 5 for a, b in itertools.pairwise(errs)), errs
    assert rel(P.project_fourier(V, R, 2.0, width=6), images) < 3e-5


# ----------------------------------------------------------------------------- the oracles

# Relative L2 error against the analytic images (eight random rotations); measured values are
# about a third of these bounds. "atoms" is an atomic model, σ = 1.5 px (band-limited on the
# grid; its own floor, the Gaussians' tails beyond the box, is 1e-4 at D = 32).
SETTINGS = {
    "default": ({}, {"blobs": 5e-3, "atoms": 6e-3}),
    "es w6": ({"width": 6}, {"blobs": 1.5e-4, "atoms": 4e-4}),
    "kb σ2 w5": ({"kernel": "kb", "pad": 2.0, "width": 5}, {"blobs": 2e-4, "atoms": 4e-4}),
}


@pytest.mark.parametrize("D", [32, 33])
@pytest.mark.parametrize("name", list(SETTINGS))
def test_analytic_oracles(name: str, D: int) -> None:
    kw, bounds = SETTINGS[name]
    R = rotations(8, seed=D)
    for oracle, (V, images) in {
        "blobs": P.gaussian_blobs(D, R),
        "atoms": P.gaussian_atoms(D, R, sigma=1.5),
    }.items():
        assert images is not None
        out = P.project_fourier(V, R, **kw)
        err = rel(out, images)
        print(f"{name} {oracle} D={D}: relative L2 error {err:.2e}")
        assert err < bounds[oracle], (oracle, err)
    # The blobs are chiral: the transposed rotation and the mirrored hand are far off.
    V, _ = P.gaussian_blobs(D)
    out = P.project_fourier(V, R, **kw)
    for other in (P.gaussian_blobs(D, R.mT)[1], P.gaussian_blobs(D, R, mirror=True)[1]):
        assert other is not None and rel(out, other) > 0.2


def test_atomic_oracle_is_exact() -> None:
    """``gaussian_atoms``' images are the sums along ``z`` of its volume at the identity, and
    it is chiral (the mirrored model projects differently)."""
    D = 21
    eye = torch.eye(3, dtype=torch.float64)[None]
    # within D/6 of the centre, σ ≤ 1.2: every Gaussian is inside the box to 1e-9
    V, images = P.gaussian_atoms(D, eye, sigma=(1.0, 1.2), radius=D / 6, n_atoms=40)
    assert images is not None
    torch.testing.assert_close(images[0], V.sum(0), rtol=1e-8, atol=1e-8)
    R = rotations(2, seed=1)
    _, a = P.gaussian_atoms(D, R, n_atoms=40)
    _, b = P.gaussian_atoms(D, R, n_atoms=40, mirror=True)
    assert a is not None and b is not None and rel(a, b) > 0.1


# ----------------------------------------------------------------------------- identities


@pytest.mark.parametrize("kernel", ["es", "kb"])
def test_in_plane_rotation_is_rot90(kernel: str) -> None:
    """``Rz(90°) R`` gives the image of ``R`` turned by 90° — exactly, for odd D."""
    D = 15
    V = torch.randn(D, D, D, dtype=torch.float64)
    R = rotations(3, seed=5)
    c, s = 0.0, 1.0
    rz = torch.tensor([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float64)
    a = P.project_fourier(V, R, kernel=kernel)
    b = P.project_fourier(V, rz @ R, kernel=kernel)
    torch.testing.assert_close(b, torch.rot90(a, -1, dims=(-2, -1)), rtol=1e-10, atol=1e-10)


def rinner(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a * b).sum())


@settings(max_examples=12, deadline=None)
@given(
    D=st.integers(min_value=4, max_value=11),
    pad=st.sampled_from([1.25, 1.5, 2.0]),
    width=st.integers(min_value=2, max_value=8),
    kernel=st.sampled_from(["es", "kb"]),
    seed=st.integers(min_value=0, max_value=2**31 - 1),
)
def test_backward_is_the_adjoint(D: int, pad: float, width: int, kernel: str, seed: int) -> None:
    """``project_fourier`` is linear in ``V``; its backward is the exact adjoint (the type-1
    transform: spreading, the border folded back, the adjoint FFT, the deapodisation)."""
    gen = torch.Generator().manual_seed(seed)
    R = rotations(2, seed=seed)
    V = torch.randn(D, D, D, dtype=torch.float64, generator=gen, requires_grad=True)
    Y = torch.randn(2, D, D, dtype=torch.float64, generator=gen)
    out = P.project_fourier(V, R, pad, kernel=kernel, width=width)
    (g,) = torch.autograd.grad(out, V, Y)
    lhs, rhs = rinner(out.detach(), Y), rinner(V.detach(), g)
    norm = torch.linalg.norm
    scale = float(norm(V.detach()) * norm(g) + norm(out.detach()) * norm(Y))
    assert abs(lhs - rhs) <= 1e-12 * scale, (lhs, rhs, scale)


@pytest.mark.parametrize("D", [8, 9])
def test_sampler_adjoint_dot(D: int) -> None:
    """The sampler's backward for the grid is the adjoint of its forward (on any grid data)."""
    gen = torch.Generator().manual_seed(D)
    k = kernels.make_kernel("es", 5, 1.5)
    grid = nufft.nufft_grid(torch.zeros(D, D, D, dtype=torch.float64), round(1.5 * D), k)
    x = torch.randn(grid.data.shape, dtype=torch.float64, generator=gen, requires_grad=True)
    grid = nufft.PeriodicGrid(x, grid.N, grid.b)
    R = rotations(3, seed=D)
    freqs = (torch.rand(50, 2, dtype=torch.float64, generator=gen) - 0.5) * 2 * grid.N
    out = nufft.sample_nufft(grid, R, freqs, k)
    y = torch.randn(out.shape, dtype=torch.float64, generator=gen)
    (gx,) = torch.autograd.grad(out, x, y)
    lhs, rhs = rinner(out.detach(), y), rinner(x.detach(), gx)
    assert abs(lhs - rhs) <= 1e-12 * max(abs(lhs), 1.0)


# ----------------------------------------------------------------------------- gradients


@pytest.mark.parametrize(
    ("kernel", "width", "pad", "D"),
    [
        ("es", 4, 1.25, 7),
        pytest.param("es", 4, 1.25, 6, marks=pytest.mark.slow),
        pytest.param("kb", 5, 1.5, 6, marks=pytest.mark.slow),
        pytest.param("kb", 5, 1.5, 7, marks=pytest.mark.slow),
        ("es", 6, 2.0, 6),
        pytest.param("es", 6, 2.0, 7, marks=pytest.mark.slow),
    ],
)
def test_gradcheck_volume_and_rotations(kernel: str, width: int, pad: float, D: int) -> None:
    """float64 ``gradcheck`` in the volume and the rotations (random rotations: no sample on a
    node)."""
    gen = torch.Generator().manual_seed(D + width)
    V = torch.randn(D, D, D, dtype=torch.float64, generator=gen, requires_grad=True)
    R = rotations(2, seed=D + width).requires_grad_(True)

    def f(V: torch.Tensor, R: torch.Tensor) -> torch.Tensor:
        return P.project_fourier(V, R, pad, kernel=kernel, width=width)

    assert torch.autograd.gradcheck(f, (V, R))


@pytest.mark.slow
def test_gradcheck_through_the_compiled_sampler() -> None:
    """The same with a batch large enough for the numba engine."""
    if not compiled.enabled():
        pytest.skip("numba is not installed")
    D = 12
    B = -(-pn.MIN_SAMPLES // ((D - 1) * (D // 2)))  # (no Nyquist row, column)
    gen = torch.Generator().manual_seed(0)
    V = torch.randn(D, D, D, dtype=torch.float64, generator=gen, requires_grad=True)
    R = rotations(B, seed=1).requires_grad_(True)
    assert pn.usable(V, B * D * (D // 2 + 1))

    def f(R: torch.Tensor) -> torch.Tensor:
        return P.project_fourier(V.detach(), R, width=5)

    assert torch.autograd.gradcheck(f, (R,), fast_mode=True)
    assert torch.autograd.gradcheck(
        lambda V: P.project_fourier(V, R.detach(), width=5), (V,), fast_mode=True
    )


def test_rotation_gradient_points_downhill() -> None:
    D = 17
    R_true = rotations(1, seed=21)
    V, target = P.gaussian_atoms(D, R_true, sigma=1.5)
    assert target is not None
    c, s = math.cos(0.05), math.sin(0.05)
    rz = torch.tensor([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float64)
    R = (rz @ R_true).requires_grad_(True)
    loss = ((P.project_fourier(V, R, width=6) - target) ** 2).sum()
    (g,) = torch.autograd.grad(loss, R)
    R2 = (R - 1e-6 * g / g.norm()).detach()
    assert float(((P.project_fourier(V, R2, width=6) - target) ** 2).sum()) < float(loss)


# ----------------------------------------------------------------------------- engines


def both_engines(fn):  # type: ignore[no-untyped-def]
    """``fn()`` with the numba engine, then with the PyTorch one."""
    calls: list[int] = []
    forward = pn.stencil_sample
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pn, "stencil_sample", lambda *a: calls.append(1) or forward(*a))
        compiled_out = fn()
        assert calls, "the numba engine was not used"
        mp.setenv("REFERENCE_IMPL_NUMBA", "0")
        torch_out = fn()
        assert len(calls) == 1
    return compiled_out, torch_out


@pytest.mark.slow
@pytest.mark.skipif(not compiled.enabled(), reason="numba is not installed")
@settings(max_examples=6, deadline=None)
@given(
    D=st.integers(min_value=9, max_value=20),
    width=st.sampled_from([2, 4, 5, 6]),  # (each width compiles its own loops)
    kernel=st.sampled_from(["es", "kb"]),
    pad=st.sampled_from([1.25, 2.0]),
    single=st.booleans(),
    seed=st.integers(min_value=0, max_value=2**31 - 1),
)
def test_numba_engine_matches_the_torch_engine(
    D: int, width: int, kernel: str, pad: float, single: bool, seed: int
) -> None:
    """Samples, volume gradient and rotation gradient of the fused loops (binned, per-layer
    adjoint) against the PyTorch definition."""
    dt = torch.float32 if single else torch.float64
    gen = torch.Generator().manual_seed(seed)
    B = -(-pn.MIN_SAMPLES // ((D - 1) * (D // 2))) + seed % 3  # (no Nyquist row, column)
    V0 = torch.randn(D, D, D, dtype=dt, generator=gen)
    R0 = rotations(B, seed, dt)
    Y = torch.randn(B, D, D, dtype=dt, generator=gen)

    def run() -> tuple[torch.Tensor, ...]:
        V = V0.clone().requires_grad_(True)
        R = R0.clone().requires_grad_(True)
        img = P.project_fourier(V, R, pad, kernel=kernel, width=width)
        (img * Y).sum().backward()
        assert V.grad is not None and R.grad is not None
        return img.detach(), V.grad, R.grad

    got, want = both_engines(run)
    tol = 1e-5 if single else 1e-12
    for g, w, name in zip(
        got, want, ("images", "volume gradient", "rotation gradient"), strict=True
    ):
        assert g.dtype == w.dtype and g.shape == w.shape, name
        assert rel(g.double(), w.double()) <= tol, (name, rel(g.double(), w.double()))


@pytest.mark.skipif(not compiled.enabled(), reason="numba is not installed")
def test_numba_sampler_on_its_own() -> None:
    """The engine's entry points against the PyTorch stencil, off any image plan (frequencies
    anywhere, some beyond the grid's period), with and without a precomputed bin order."""
    from reference_impl.projection import torch_engine

    gen = torch.Generator().manual_seed(2)
    k = kernels.make_kernel("kb", 6, 1.25)
    V = torch.randn(16, 16, 16, dtype=torch.float64, generator=gen)
    grid = nufft.nufft_grid(V, 20, k)
    R = rotations(40, seed=3)
    freqs = (torch.rand(300, 2, dtype=torch.float64, generator=gen) - 0.5) * 50
    coef = kernels.kernel_table(k, torch.float64, "cpu")
    st_ = torch_engine.Stencil(grid, R, freqs, coef)
    ref = torch_engine.stencil_forward(grid, st_)
    y = torch.randn(ref.shape, dtype=torch.float64, generator=gen)
    gd_ref, gr_ref = torch_engine.stencil_backward(y, grid, st_, freqs, True, True)
    order = pn.stencil_order(grid, R, freqs, 6)
    for o in (None, order):
        torch.testing.assert_close(pn.stencil_sample(grid, R, freqs, coef, o), ref)
        gd, gr = pn.stencil_sample_backward(y, grid, R, freqs, coef, True, True, o)
        assert gd is not None and gr is not None and gd_ref is not None and gr_ref is not None
        torch.testing.assert_close(gd, gd_ref, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(gr, gr_ref, rtol=1e-12, atol=1e-12)
    samples = sorted((order.rot * freqs.shape[0] + order.col).tolist())
    assert samples == list(range(R.shape[0] * freqs.shape[0]))
    assert order.layers[0] == 0 and order.layers[-1] == order.rot.size


# ----------------------------------------------------------------------------- dtypes, modules


def test_float32_matches_float64() -> None:
    D = 16
    R = rotations(4, seed=9)
    V, _ = P.gaussian_blobs(D)
    for kw in ({}, {"width": 6}, {"kernel": "kb", "pad": 2.0}):
        ref = P.project_fourier(V, R, **kw)
        out = P.project_fourier(V.float(), R.float(), **kw)
        assert out.dtype == torch.float32
        assert rel(out.double(), ref) < 3e-6, kw


def test_projector_with_the_high_accuracy_mode_learns() -> None:
    D = 10
    R = rotations(6, seed=17)
    V, _ = P.gaussian_atoms(D, sigma=1.5, n_atoms=20)
    target = P.project_fourier(V, R, width=6)
    model = P.Projector(D, dtype=torch.float64, width=6)
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = ((model(R) - target) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.2 * losses[0]


def test_frequency_plan_covers_the_half_plane_once() -> None:
    D = 10
    (pos, freqs), *_ = frequency_plan(D, D, ((13, math.inf),), "cpu", torch.float64)[0]
    n = D * (D // 2 + 1)
    assert pos.unique().numel() == pos.numel() and pos.max() < n
    assert pos.numel() == n - D - (D // 2 + 1) + 1  # the Nyquist row and column left out
    assert float(freqs.abs().max()) <= 13 / 2 + 1e-12
