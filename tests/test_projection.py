"""Tests of ``reference_impl.projection``: oracles, identities, adjoints and gradients.

Small sizes (D ≤ 33) keep the whole module within a few tens of seconds on two cores. The
Triton kernels are tested in ``test_projection_triton.py``.
"""

from __future__ import annotations

import math
import sys

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from reference_impl import projection as P
from reference_impl.projection import _grids, transform
from reference_impl.quaternion import quat_to_matrix, random_quat

CUDA = torch.cuda.is_available()
devices = [
    "cpu",
    pytest.param(
        "cuda",
        marks=[pytest.mark.cuda, pytest.mark.skipif(not CUDA, reason="needs a CUDA device")],
    ),
]


def rotations(n: int, seed: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Haar-random rotations ``(n, 3, 3)`` (never axis-aligned in practice)."""
    return torch.tensor(quat_to_matrix(random_quat(n, rng=seed)), dtype=dtype)


def rz(angle: float, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    c, s = math.cos(angle), math.sin(angle)
    return torch.tensor([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]], dtype=dtype)


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(torch.linalg.norm(a - b) / torch.linalg.norm(b))


def rinner(a: torch.Tensor, b: torch.Tensor) -> float:
    """The real inner product ``Re⟨a, b⟩`` (the one autograd uses for complex tensors)."""
    return float(torch.sum(torch.view_as_real(a) * torch.view_as_real(b)))


# ----------------------------------------------------------------------------- analytic oracle

# Relative L2 error against the analytic projections (σ = 2 px, blobs spread over D/5), for
# the oracle's eight random rotations; measured values are about half these bounds.
PROJECTORS = {
    "real_space": (lambda V, R: P.project_real_space(V, R), 0.04),
    "fourier_default": (lambda V, R: P.project_fourier(V, R), 0.01),
    "fourier_two_level": (
        lambda V, R: P.project_fourier(V, R, 3.5, kernel="trilinear", cutoff=0.2),
        0.02,
    ),
    "fourier_pad2_uniform": (lambda V, R: P.project_fourier(V, R, 2, kernel="trilinear"), 0.05),
}


@pytest.mark.parametrize("D", [24, 25])
@pytest.mark.parametrize("name", list(PROJECTORS))
def test_analytic_oracle(name: str, D: int, record_property) -> None:
    project, bound = PROJECTORS[name]
    R = rotations(8, seed=D)
    V, images = P.gaussian_blobs(D, R)
    assert images is not None
    out = project(V, R)
    err = rel(out, images)
    record_property("relative_l2_error", err)
    print(f"{name} D={D}: relative L2 error {err:.2e} (bound {bound})")
    assert err < bound
    # The oracle is chiral: the transposed rotation and the mirrored hand are far off.
    _, images_t = P.gaussian_blobs(D, R.transpose(1, 2))
    _, images_m = P.gaussian_blobs(D, R, mirror=True)
    assert images_t is not None and images_m is not None
    assert rel(out, images_t) > max(0.2, 10 * err)
    assert rel(out, images_m) > max(0.2, 10 * err)


def test_default_beats_uniform_pad2() -> None:
    """The default settings, and the trilinear two-level scheme, are more accurate than the
    classic uniform ``pad=2`` scheme."""
    D = 32
    R = rotations(8, seed=7)
    V, images = P.gaussian_blobs(D, R)
    assert images is not None
    err_default = rel(P.project_fourier(V, R), images)
    err_two = rel(P.project_fourier(V, R, 3.5, kernel="trilinear", cutoff=0.2), images)
    err_pad2 = rel(P.project_fourier(V, R, 2, kernel="trilinear", image_pad=2), images)
    assert err_default < err_pad2 and err_two < err_pad2


def test_projectors_agree() -> None:
    """Real-space and Fourier projections of a smooth volume agree to interpolation error."""
    D = 25
    R = rotations(4, seed=11)
    V, _ = P.gaussian_blobs(D, sigma=1.5)
    assert rel(P.project_fourier(V, R), P.project_real_space(V, R)) < 0.05


# ----------------------------------------------------------------------------- identities


@pytest.mark.parametrize("D", [8, 9])
def test_identity_real_space_is_sum_along_z(D: int) -> None:
    V = torch.randn(D, D, D, dtype=torch.float64)
    out = P.project_real_space(V, torch.eye(3, dtype=torch.float64)[None])
    torch.testing.assert_close(out[0], V.sum(0), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("pad", [1, 2, 3])
def test_identity_fourier_is_sum_along_z(pad: int) -> None:
    """At the identity every sample sits on a node: without sinc², exact (odd D)."""
    D = 9
    V = torch.randn(D, D, D, dtype=torch.float64)
    eye = torch.eye(3, dtype=torch.float64)[None]
    out = P.project_fourier(V, eye, pad=pad, kernel="trilinear", sinc2=False)
    torch.testing.assert_close(out[0], V.sum(0), rtol=1e-11, atol=1e-11)
    # Two levels (integer pads) sample nodes of both grids: exact as well.
    out = P.project_fourier(V, eye, pad=4, kernel="trilinear", cutoff=0.2, sinc2=False)
    torch.testing.assert_close(out[0], V.sum(0), rtol=1e-11, atol=1e-11)


def test_identity_even_size_loses_only_nyquist() -> None:
    """For even D the Nyquist planes are left out; a volume without them projects exactly."""
    D = 8
    V = torch.randn(D, D, D, dtype=torch.float64)
    X = torch.fft.fftn(torch.fft.ifftshift(V))
    X[D // 2] = 0
    X[:, D // 2] = 0
    X[:, :, D // 2] = 0
    V = torch.fft.fftshift(torch.fft.ifftn(X).real)
    eye = torch.eye(3, dtype=torch.float64)[None]
    out = P.project_fourier(V, eye, pad=2, kernel="trilinear", sinc2=False)
    torch.testing.assert_close(out[0], V.sum(0), rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("name", ["real_space", "fourier_default", "fourier_two_level"])
def test_in_plane_rotation_is_rot90(name: str) -> None:
    """``Rz(90°) R`` gives the image of ``R`` turned by 90° — exactly, for odd D."""
    D = 15
    project = PROJECTORS[name][0]
    V = torch.randn(D, D, D, dtype=torch.float64)
    R = rotations(3, seed=5)
    a = project(V, R)
    b = project(V, rz(math.pi / 2) @ R)
    # P'(x, y) = P(Rz(-90°)(x, y)) = P(y, -x): out[y, x] = in[-x, y], i.e. rot90 by -1
    torch.testing.assert_close(b, torch.rot90(a, -1, dims=(-2, -1)), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("N", [10, 11])
def test_images_are_real(N: int) -> None:
    """The sampled spectrum is Hermitian: the full complex inverse FFT has no imaginary part.

    ``S(-k)`` is the slice of ``Rz(π) R`` at ``k``. Reading the Friedel half as a conjugate
    makes ``S(-k) = conj S(k)`` hold by construction — except on the Nyquist row and column
    of an even image, which have no partner: they must be left out (as ``project_fourier``
    does), or the image gains an imaginary part — the check can fail.
    """
    R = rotations(4, seed=N)
    V = torch.randn(N, N, N, dtype=torch.float64)
    pos = P.extract_central_slices(P.fourier_volume(V), R)  # k = (kx ≥ 0, ky)
    neg = P.extract_central_slices(P.fourier_volume(V), rz(math.pi) @ R)  # = S(-kx, -ky)
    torch.testing.assert_close(neg, pos.conj(), rtol=1e-12, atol=1e-12)
    h = N // 2
    full = torch.zeros(4, N, N, dtype=torch.complex128)  # centred [ky, kx], all kx
    full[:, :, h:] = pos[..., : N - h]
    for kx in range(1, h + 1):  # S(-kx, ky) = neg(kx, -ky)
        for iy in range(N):
            if 0 <= 2 * h - iy < N:
                full[:, 2 * h - iy, h - kx] = neg[:, iy, kx]

    def imag_ratio(spectrum: torch.Tensor) -> float:
        img = torch.fft.ifft2(torch.fft.ifftshift(spectrum, dim=(-2, -1)))
        return float(img.imag.abs().max() / img.real.abs().max())

    if N % 2 == 0:
        assert imag_ratio(full) > 1e-2  # Nyquist row and column kept: complex
        full[:, 0, :] = 0
        full[:, :, 0] = 0
    assert imag_ratio(full) < 1e-12


def test_fourier_volume_matches_fft() -> None:
    for D, pad in [(8, 1), (9, 1), (8, 2), (7, 3)]:
        V = torch.randn(D, D, D, dtype=torch.float64)
        N = D * pad
        c, h = D // 2, N // 2
        padded = torch.zeros(N, N, N, dtype=torch.float64)
        padded[h - c : h - c + D, h - c : h - c + D, h - c : h - c + D] = V
        ref = torch.fft.fftshift(torch.fft.rfftn(torch.fft.ifftshift(padded)), dim=(0, 1))
        if N % 2 == 0:
            ref[0] = 0
            ref[:, 0] = 0
            ref[:, :, -1] = 0
        torch.testing.assert_close(P.fourier_volume(V, pad), ref, rtol=1e-10, atol=1e-10)


# ----------------------------------------------------------------------------- adjoints


@pytest.mark.parametrize("N", [8, 9])
def test_adjoint_dot(N: int) -> None:
    """``Re⟨E x, y⟩ = Re⟨x, Eᴴ y⟩`` for random complex volumes and slices."""
    gen = torch.Generator().manual_seed(N)
    R = rotations(3, seed=N)
    x = torch.randn(N, N, N // 2 + 1, dtype=torch.complex128, generator=gen)
    y = torch.randn(3, N, N // 2 + 1, dtype=torch.complex128, generator=gen)
    lhs = rinner(P.extract_central_slices(x, R), y)
    rhs = rinner(x, P.insert_central_slices(y, R, N))
    assert abs(lhs - rhs) <= 1e-12 * max(abs(lhs), 1.0)


def test_gradcheck_insert() -> None:
    """Insertion is differentiable in the slices; its backward is extraction."""
    N = 6
    gen = torch.Generator().manual_seed(3)
    S = torch.randn(2, N, N // 2 + 1, dtype=torch.complex128, generator=gen, requires_grad=True)
    R = rotations(2, seed=4)
    assert torch.autograd.gradcheck(lambda S: P.insert_central_slices(S, R, N), (S,))


@settings(max_examples=15, deadline=None)
@given(
    N=st.integers(min_value=3, max_value=10),
    B=st.integers(min_value=1, max_value=3),
    seed=st.integers(min_value=0, max_value=2**31 - 1),
)
def test_adjoint_dot_property(N: int, B: int, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    R = torch.tensor(quat_to_matrix(random_quat(B, rng=seed)), dtype=torch.float64)
    x = torch.randn(N, N, N // 2 + 1, dtype=torch.complex128, generator=gen)
    y = torch.randn(B, N, N // 2 + 1, dtype=torch.complex128, generator=gen)
    lhs = rinner(P.extract_central_slices(x, R), y)
    rhs = rinner(x, P.insert_central_slices(y, R, N))
    assert abs(lhs - rhs) <= 1e-12 * max(abs(lhs), 1.0)


@pytest.mark.parametrize("method", ["matmul", "fft"])
@pytest.mark.parametrize(("D", "N", "K"), [(6, 6, 2), (7, 7, 3), (6, 15, 3), (7, 24, 5)])
def test_transform_adjoint_dot(method: str, D: int, N: int, K: int) -> None:
    """Both implementations of the pruned transform agree, and their backward is the adjoint."""
    gen = torch.Generator().manual_seed(D * N)
    v = torch.randn(D, D, D, dtype=torch.float64, generator=gen, requires_grad=True)
    grid = transform.fourier_grid(v, N, K, True, method)
    other = transform.fourier_grid(
        v.detach(), N, K, True, "fft" if method == "matmul" else "matmul"
    )
    b = _grids.BORDER

    def as_zyx(g: _grids.Grid) -> torch.Tensor:
        d = g.data
        if d.ndim == 4 and d.shape[2] == 2:  # (z, y, re/im, x)
            return torch.complex(d[:, :, 0], d[:, :, 1])[b:-b, b:-b, : K + 1]
        return torch.complex(d[0], d[1]).permute(2, 1, 0)[b:-b, b:-b, : K + 1]  # (2, x, y, z)

    torch.testing.assert_close(as_zyx(grid), as_zyx(other), rtol=1e-11, atol=1e-11)
    y = torch.randn(grid.data.shape, dtype=torch.float64, generator=gen)
    (gv,) = torch.autograd.grad(grid.data, v, y)
    lhs = float((grid.data.detach() * y).sum())
    rhs = float((v.detach() * gv).sum())
    assert abs(lhs - rhs) <= 1e-11 * max(abs(lhs), 1.0)


def test_project_fourier_backward_is_adjoint() -> None:
    """``project_fourier`` is linear in ``V``; its autograd backward is the exact adjoint."""
    D = 12
    gen = torch.Generator().manual_seed(1)
    R = rotations(3, seed=2)
    V = torch.randn(D, D, D, dtype=torch.float64, generator=gen, requires_grad=True)
    Y = torch.randn(3, D, D, dtype=torch.float64, generator=gen)
    out = P.project_fourier(V, R)
    (g,) = torch.autograd.grad(out, V, Y)
    lhs, rhs = float((out.detach() * Y).sum()), float((V.detach() * g).sum())
    assert abs(lhs - rhs) <= 1e-12 * abs(lhs)


# ----------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("N", [6, 7])
def test_gradcheck_extract(N: int) -> None:
    gen = torch.Generator().manual_seed(N)
    V = torch.randn(N, N, N // 2 + 1, dtype=torch.complex128, generator=gen, requires_grad=True)
    R = rotations(2, seed=N).requires_grad_(True)
    assert torch.autograd.gradcheck(P.extract_central_slices, (V, R))


@pytest.mark.parametrize("D", [6, 7])
def test_gradcheck_project_fourier(D: int) -> None:
    gen = torch.Generator().manual_seed(D)
    V = torch.randn(D, D, D, dtype=torch.float64, generator=gen, requires_grad=True)
    R = rotations(2, seed=D).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda V, R: P.project_fourier(V, R), (V, R), fast_mode=True)
    two = lambda V, R: P.project_fourier(V, R, 3.5, kernel="trilinear", cutoff=0.2)  # noqa: E731
    assert torch.autograd.gradcheck(two, (V, R), fast_mode=True)
    uniform = lambda V, R: P.project_fourier(V, R, 2, kernel="trilinear", image_pad=1.5)  # noqa: E731
    assert torch.autograd.gradcheck(uniform, (V, R), fast_mode=True)


def test_gradcheck_project_real_space() -> None:
    D = 5
    gen = torch.Generator().manual_seed(0)
    V = torch.randn(D, D, D, dtype=torch.float64, generator=gen, requires_grad=True)
    R = rotations(2, seed=3).requires_grad_(True)
    assert torch.autograd.gradcheck(P.project_real_space, (V, R), fast_mode=True)


def test_rotation_gradient_points_downhill() -> None:
    """A gradient step on the rotation reduces the misfit to the oracle's images."""
    D = 17
    R_true = rotations(1, seed=21)
    V, target = P.gaussian_blobs(D, R_true)
    assert target is not None
    R = (rz(0.05) @ R_true).requires_grad_(True)
    loss = ((P.project_fourier(V, R) - target) ** 2).sum()
    (g,) = torch.autograd.grad(loss, R)
    R2 = (R - 1e-6 * g / g.norm()).detach()
    assert float(((P.project_fourier(V, R2) - target) ** 2).sum()) < float(loss.detach())


# ----------------------------------------------------------------------------- dtypes, devices


@pytest.mark.parametrize("device", devices)
def test_float32_matches_float64(device: str) -> None:
    D = 16
    R = rotations(4, seed=9)
    V, _ = P.gaussian_blobs(D)
    ref = P.project_fourier(V, R)
    out = P.project_fourier(V.float().to(device), R.float().to(device))
    assert out.dtype == torch.float32 and out.device.type == device
    assert rel(out.double().cpu(), ref) < 1e-5
    out_rs = P.project_real_space(V.float().to(device), R.float().to(device))
    assert out_rs.dtype == torch.float32 and out_rs.device.type == device
    assert rel(out_rs.double().cpu(), P.project_real_space(V, R)) < 1e-5
    S = P.extract_central_slices(P.fourier_volume(V).to(torch.complex64).to(device), R.float())
    assert S.dtype == torch.complex64 and S.device.type == device


@pytest.mark.parametrize("device", devices)
def test_batch_shapes(device: str) -> None:
    D = 9
    V = torch.randn(D, D, D, dtype=torch.float64, device=device)
    R = rotations(6, seed=4).to(device).reshape(2, 3, 3, 3)
    out = P.project_fourier(V, R)
    assert out.shape == (2, 3, D, D)
    torch.testing.assert_close(out[1, 2], P.project_fourier(V, R[1, 2])[...])
    assert P.project_real_space(V, R).shape == (2, 3, D, D)
    assert P.extract_central_slices(P.fourier_volume(V), R).shape == (2, 3, D, D // 2 + 1)


@pytest.mark.cuda
@pytest.mark.skipif(not CUDA, reason="needs a CUDA device")
def test_cuda_matches_cpu() -> None:
    D = 20
    R = rotations(5, seed=13)
    V = torch.randn(D, D, D, dtype=torch.float64, requires_grad=True)
    Vc = V.detach().cuda().requires_grad_(True)
    Rc = R.cuda().requires_grad_(True)
    Rr = R.clone().requires_grad_(True)
    out, outc = P.project_fourier(V, Rr), P.project_fourier(Vc, Rc)
    torch.testing.assert_close(outc.cpu(), out, rtol=1e-9, atol=1e-9)
    Y = torch.randn_like(out)
    out.backward(Y)
    outc.backward(Y.cuda())
    assert Vc.grad is not None and V.grad is not None
    torch.testing.assert_close(Vc.grad.cpu(), V.grad, rtol=1e-9, atol=1e-9)
    assert Rc.grad is not None and Rr.grad is not None
    torch.testing.assert_close(Rc.grad.cpu(), Rr.grad, rtol=1e-8, atol=1e-8)


# ----------------------------------------------------------------------------- module, errors


def test_projector_learns() -> None:
    D = 12
    R = rotations(6, seed=17)
    V, _ = P.gaussian_blobs(D)
    target = P.project_fourier(V, R)
    model = P.Projector(D, dtype=torch.float64)
    torch.testing.assert_close(model(R), torch.zeros(6, D, D, dtype=torch.float64))
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = ((model(R) - target) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.2 * losses[0]
    real = P.Projector(V, method="real")
    torch.testing.assert_close(real(R), P.project_real_space(V, R))


def test_bad_inputs_are_refused() -> None:
    V = torch.zeros(4, 4, 5)
    R = torch.eye(3)[None]
    with pytest.raises(ValueError, match="D, D, D"):
        P.project_fourier(V, R)
    with pytest.raises(ValueError, match="3, 3"):
        P.project_real_space(torch.zeros(4, 4, 4), torch.eye(4))
    with pytest.raises(ValueError, match="N // 2 \\+ 1"):
        P.extract_central_slices(torch.zeros(4, 4, 4, dtype=torch.complex64), R)
    with pytest.raises(TypeError):
        P.project_fourier(torch.zeros(4, 4, 4, dtype=torch.int64), R)
    with pytest.raises(ValueError, match="slices_ft"):
        P.insert_central_slices(torch.zeros(2, 4, 3, dtype=torch.complex64), R, 4)
    with pytest.raises(ValueError, match="kernel"):
        P.project_fourier(torch.zeros(4, 4, 4), R, kernel="gaussian")
    with pytest.raises(ValueError, match="cutoff"):
        P.project_fourier(torch.zeros(4, 4, 4), R, kernel="es", cutoff=0.2)
    with pytest.raises(ValueError, match="width"):
        P.project_fourier(torch.zeros(4, 4, 4), R, width=9)


def test_triton_is_optional(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without Triton the kernel module still imports and says so; projection never needs it."""
    import importlib.util
    from pathlib import Path

    monkeypatch.setitem(sys.modules, "triton", None)  # `import triton` now fails
    monkeypatch.setitem(sys.modules, "triton.language", None)
    path = Path(P.__file__).with_name("triton_engine.py")
    spec = importlib.util.spec_from_file_location("_projection_triton_without", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.AVAILABLE is False
    with pytest.raises(RuntimeError, match="triton"):
        module.sample_slices(None, torch.eye(3)[None], torch.zeros(1, 2))
