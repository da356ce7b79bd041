"""Hidden checks of problem set 4 (the projection layer). Grader-side only: never released, never
in the learner's sandbox (``CourseDirectory.ignore`` lists this file). See ``autograder.checks.function``.

The learner's kernel only ever answers requests with plain data; everything is judged here, with
``reference_impl.projection`` evaluated in float64 in this process:

* accuracy: every forward function against the reference (to rounding in float64, to 2·10⁻⁴ of
  the largest value in float32), and the projections against the analytic oracle, the exact
  projections of a chiral arrangement of Gaussian blobs (``gaussian_blobs``);
* the backward pass, the way ``torch.autograd.gradcheck`` does it, from data the kernel returns:
  the **dot-product test** of the adjoint, ``Re⟨E x, y⟩ = Re⟨x, Eᴴ y⟩``, from one ``vjp``
  request (``E x`` is its output, ``Eᴴ y`` its gradient for the cotangent ``y``), and the
  gradient for the rotations against **finite differences** of the learner's own forward
  (``call`` requests at ``R ± εU``), in float64 at rotations in general position;
* the device and dtype contract: float32 in, float32 (complex64) out, on the input's device
  (``vjp`` answers carry the output's device and dtype), and gradients that reach the inputs —
  and, for ``Projector``, its learnable ``volume`` (``method`` requests with a cotangent).

Inputs are chosen so that each known mistake shows: rotations with no entry near 0 or ±1 (never
axis-aligned: R and Rᵀ, a volume and its mirror image, (x, y, z) and (z, y, x) all differ);
noisy chiral volumes; odd and even D and N, including D odd with N even and D even with N odd
(a wrong padding offset shows only there) and odd N (fftshift and ifftshift differ only there);
batches whose sample count is not a multiple of the Triton block.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from itertools import product
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from autograder.checks import (
    FLOAT32,
    Call,
    Case,
    FunctionCheck,
    MethodCall,
    Mistake,
    OfLargest,
    OneThread,
    Part,
    Probe,
    ProbeCheck,
    Vjp,
    VjpAnswer,
    answer_array,
    any_of,
    as_array,
    as_numpy,
    close,
    float32_variant,
    reference64,
    to_double,
    vjp_answer,
)
from reference_impl import projection as P
from reference_impl.quaternion import quat_to_matrix


def part(grade_id: str, title: str, checks: Sequence[Any]) -> Part:
    """A part whose checks plan and judge with torch on one thread (``OneThread``)."""
    return Part(grade_id, title, [OneThread(c) for c in checks])


# -- inputs ---------------------------------------------------------------------------------------

F64, C128 = torch.float64, torch.complex128


def rotations(rng: np.random.Generator, *shape: int) -> torch.Tensor:
    """Random rotations (*shape, 3, 3) in general position: no entry within 0.1 of 0 or 0.05 of
    ±1, so that no axis is fixed, R ≠ Rᵀ, and no mirror or axis permutation maps one onto
    another."""
    n = math.prod(shape)
    out: list[np.ndarray] = []
    while len(out) < n:
        q = rng.normal(size=4)
        R = quat_to_matrix(q / np.linalg.norm(q))
        if np.abs(R).min() > 0.1 and np.abs(R).max() < 0.95:
            out.append(R)
    return torch.tensor(np.stack(out).reshape(*shape, 3, 3), dtype=F64)


def volume(rng: np.random.Generator, D: int) -> torch.Tensor:
    """A chiral volume (D, D, D): the oracle's Gaussian blobs, scaled, plus noise."""
    blobs, _ = P.gaussian_blobs(D, sigma=1.5)
    noise = torch.tensor(rng.normal(size=(D, D, D)), dtype=F64)
    return float(rng.uniform(0.5, 1.5)) * blobs + 0.3 * noise


def half_volume(rng: np.random.Generator, D: int, pad: float = 1.0) -> torch.Tensor:
    """The centred half Fourier volume of a random real volume: Friedel-consistent (the x = 0
    plane is Hermitian), as extraction meets it."""
    return P.fourier_volume(volume(rng, D), pad)


def complex_normal(rng: np.random.Generator, *shape: int) -> torch.Tensor:
    return torch.tensor(rng.normal(size=shape) + 1j * rng.normal(size=shape), dtype=C128)


# -- comparisons ----------------------------------------------------------------------------------

#: Answers are float (complex) tensors; values to rounding in float64, to 2·10⁻⁴ of the largest
#: value in float32, in the input's dtype (float64 in, float64 out).
CLOSE = close(OfLargest(1e-9), OfLargest(2e-4), dtypes="all", kinds="fc")
#: For matching a mistake's answer: looser, dtype still checked.
DIAGNOSE = close(OfLargest(1e-7), OfLargest(1e-3), dtypes="all", kinds="fc")
#: For matching a mistake's answer whatever its dtype.
NEAR = close(OfLargest(1e-7), OfLargest(1e-3), dtypes="none", kinds="fc")
#: For a mistake with several forms: the answer is ``NEAR`` one of them.
ANY_FORM = any_of(NEAR)


def relative_l2(bound: float) -> Callable[..., Any]:
    """Images within ``bound`` (relative L2 error) of the exact projections."""

    def compare(value: Any, expected: Any, case: Case) -> str | None:
        arrays = answer_array(value, expected, case, dtypes="none", kinds="fc")
        if isinstance(arrays, str):
            return arrays
        arr, exp = arrays
        error = float(np.linalg.norm(arr - exp) / np.linalg.norm(exp))
        if error <= bound:
            return None
        return f"is {error:.3f} (relative L2 error) from the exact projections of the blobs"

    return compare


# -- mistakes, computed from the reference with one error applied ---------------------------------

MX = torch.diag(torch.tensor([-1.0, 1.0, 1.0], dtype=F64))  # x ↦ −x: a mirror
MY = torch.diag(torch.tensor([1.0, -1.0, 1.0], dtype=F64))
J = torch.flip(torch.eye(3, dtype=F64), [0])  # (x, y, z) ↔ (z, y, x)


def fourier_volume_variant(
    volume: torch.Tensor,
    pad: float = 1.0,
    sinc2: bool = False,
    *,
    shift: str = "",
    offset: Callable[[int, int], int] | None = None,
    sinc_grid: str = "N",
    nyquist: bool = False,
    conj: bool = False,
) -> torch.Tensor:
    """``fourier_volume`` (float64) with one error: ``shift`` "pre", "post" or "both" (fftshift
    and ifftshift swapped before and/or after the transform), ``offset(N, D)`` (the padding
    before), ``sinc_grid`` "D" (sinc² of the unpadded grid), ``nyquist`` (planes kept),
    ``conj`` (the exponent's sign)."""
    v = to_double(volume)
    D = v.shape[0]
    N = max(D, round(pad * D))
    if sinc2:
        r = (torch.arange(D, dtype=F64) - D // 2) / (N if sinc_grid == "N" else D)
        s = torch.sinc(r) ** 2
        v = v / (s[:, None, None] * s[None, :, None] * s[None, None, :])
    before = N // 2 - D // 2 if offset is None else offset(N, D)
    padded = F.pad(v, (before, N - D - before) * 3)
    pre = torch.fft.fftshift if shift in ("pre", "both") else torch.fft.ifftshift
    post = torch.fft.ifftshift if shift in ("post", "both") else torch.fft.fftshift
    ft = post(torch.fft.rfftn(pre(padded), dim=(0, 1, 2)), dim=(0, 1))
    if N % 2 == 0 and not nyquist:
        ft = ft.clone()
        ft[0], ft[:, 0], ft[:, :, N // 2] = 0, 0, 0
    return ft.conj().resolve_conj() if conj else ft


def project_variant(
    volume: torch.Tensor,
    rotations: torch.Tensor,
    pad: float = 2.0,
    sinc2: bool = True,
    *,
    image_shift: str = "",
    crop: Callable[[int, int], int] | None = None,
    slice_nyquist: bool = False,
    **volume_error: Any,
) -> torch.Tensor:
    """``project_fourier`` (the classic scheme, float64) with one error: in the Fourier volume
    (``volume_error``, see ``fourier_volume_variant``), ``image_shift`` "pre"/"post"/"both"
    (the shifts of the inverse transform swapped), ``crop(N, D)`` (the window's start),
    ``slice_nyquist`` (the slices' Nyquist row and column kept)."""
    v = to_double(volume)
    D = v.shape[0]
    N = max(D, round(pad * D))
    ft = fourier_volume_variant(v, pad, sinc2, **volume_error)
    slices = P.extract_central_slices(ft, to_double(rotations))
    if N % 2 == 0 and not slice_nyquist:
        slices = slices.clone()
        slices[..., 0, :], slices[..., :, N // 2] = 0, 0
    pre = torch.fft.fftshift if image_shift in ("pre", "both") else torch.fft.ifftshift
    post = torch.fft.ifftshift if image_shift in ("post", "both") else torch.fft.fftshift
    images = post(torch.fft.irfftn(pre(slices, dim=-2), s=(N, N), dim=(-2, -1)), dim=(-2, -1))
    start = N // 2 - D // 2 if crop is None else crop(N, D)
    return images[..., start : start + D, start : start + D]


def _low(N: int, D: int) -> int:
    return (N - D) // 2


def _high(N: int, D: int) -> int:
    return (N - D + 1) // 2


def sample_variant(volume_ft: torch.Tensor, R: torch.Tensor, friedel: str = "conj") -> torch.Tensor:
    """Extraction (float64, autograd-friendly) with the Friedel half read as ``friedel``:
    "conj" (right), "plain" (read at −q, not conjugated) or "zero" (not read at all)."""
    V = to_double(volume_ft)
    batch = R.shape[:-2]
    Rb = to_double(R).reshape(-1, 3, 3)
    N = V.shape[0]
    ky = torch.arange(N, dtype=F64) - N // 2
    kx = torch.arange(N // 2 + 1, dtype=F64)
    q = kx[:, None] * Rb[:, None, None, 0, :] + ky[:, None, None] * Rb[:, None, None, 1, :]
    flip = q[..., 0] < 0
    q = torch.where(flip[..., None], -q, q)
    index = q + torch.tensor([0.0, N // 2, N // 2], dtype=F64)
    low = index.floor()
    frac = index - low
    low = low.long()
    s: Any = 0
    for dz, dy, dx in product((0, 1), repeat=3):
        ix, iy, iz = low[..., 0] + dx, low[..., 1] + dy, low[..., 2] + dz
        inside = (ix >= 0) & (ix <= N // 2) & (iy >= 0) & (iy < N) & (iz >= 0) & (iz < N)
        w = (
            (frac[..., 0] if dx else 1 - frac[..., 0])
            * (frac[..., 1] if dy else 1 - frac[..., 1])
            * (frac[..., 2] if dz else 1 - frac[..., 2])
        )
        value = V[iz.clamp(0, N - 1), iy.clamp(0, N - 1), ix.clamp(0, N // 2)]
        s = s + torch.where(inside, w, 0.0) * value
    if friedel == "conj":
        s = torch.where(flip, s.conj(), s)
    elif friedel == "zero":
        s = torch.where(flip, torch.zeros_like(s), s)
    return s.reshape(*batch, N, N // 2 + 1)


def insert_variant(slices_ft: torch.Tensor, R: torch.Tensor, D: int, friedel: str) -> torch.Tensor:
    """The adjoint of ``sample_variant`` (by autograd): insertion with the same error."""
    V = torch.zeros(D, D, D // 2 + 1, dtype=C128, requires_grad=True)
    S = sample_variant(V, R, friedel)
    loss = (S.conj() * to_double(slices_ft)).real.sum()
    (g,) = torch.autograd.grad(loss, V)
    return g


def reference_vjp(
    fn: Callable[..., torch.Tensor], args: Sequence[Any], wrt: Sequence[int], cotangent: Any
) -> tuple[torch.Tensor, list[torch.Tensor | None]]:
    """The reference's output and gradients of ``Re⟨cotangent, output⟩``, in float64."""
    inputs = [to_double(a) for a in args]
    for i in wrt:
        inputs[i] = inputs[i].detach().clone().requires_grad_(True)
    out = fn(*inputs)
    if not wrt:
        return out.detach(), []
    cot = to_double(torch.as_tensor(cotangent))
    loss = (out.conj() * cot).real.sum() if out.is_complex() else (out * cot).sum()
    grads = torch.autograd.grad(loss, [inputs[i] for i in wrt], allow_unused=True)
    return out.detach(), list(grads)


def classic(volume: torch.Tensor, rotations: torch.Tensor, pad: float = 2.0, *, sinc2: bool = True):
    """What the learner's ``project_fourier`` computes: the reference's classic scheme."""
    return P.project_fourier(volume, rotations, pad, kernel="trilinear", image_pad=pad, sinc2=sinc2)


# -- shared judges --------------------------------------------------------------------------------


def contract_judge(
    fn: Callable[..., torch.Tensor],
    wrt: Sequence[int],
    tol64: float = 1e-9,
    names: Sequence[str] = ("volume", "rotations"),
) -> Callable[[list[Any], Probe], str | None]:
    """A ``vjp`` answer: on the CPU like its inputs, in their dtype, right values, and the
    gradients for the arguments ``wrt`` right (float64: ``tol64``; float32: 2·10⁻⁴ / 10⁻³)."""
    values_close = close(OfLargest(tol64), OfLargest(2e-4), dtypes="all", kinds="fc")

    def judge(values: list[Any], probe: Probe) -> str | None:
        value = vjp_answer(values[0])
        case = probe.case
        if value.device != "cpu":
            return f"returned a tensor on {value.device!r} for inputs on the CPU (a hard-coded device?)"
        out, grads = reference_vjp(fn, case.args, wrt, case.key)
        f32 = FLOAT32 in case.tags
        want = str(
            out.dtype if not f32 else (torch.complex64 if out.is_complex() else torch.float32)
        )
        if value.dtype != want:
            return f"returned {value.dtype} where {want} was expected (keep the input's dtype)"
        problem = values_close(value.out, out, case)
        if problem:
            return problem
        for i, (mine, ref) in enumerate(zip(value.grads, grads, strict=True)):
            if mine is None:
                return f"gives no gradient for `{names[wrt[i]]}` (is it differentiable?)"
            problem = gradient_close(mine, ref, case)
            if problem:
                return f"has the wrong gradient for `{names[wrt[i]]}` ({problem})"
        return None

    return judge


def vjp_probe(fn: str, case: Case, wrt: Sequence[int], cotangent: torch.Tensor) -> Probe:
    """A ``Vjp`` of ``fn`` on the case's arguments; the probe's case holds the cotangent as its
    key."""
    case = Case(case.args, case.kwargs, key=cotangent, tags=case.tags)
    return Probe(case, [Vjp(fn, case.args, wrt, cotangent, case.kwargs)])


def gradient_close(mine: Any, ref: Any, case: Case) -> str | None:
    """A gradient against the reference's (float64): to 10⁻⁸ of its largest entry, or 10⁻³ when
    it was computed in single precision (a float32 input, or a float32 parameter)."""
    single_precision = np.asarray(mine).dtype in (np.float32, np.complex64)
    tol = OfLargest(1e-3 if single_precision else 1e-8)
    return close(tol, OfLargest(1e-3), dtypes="none", kinds="fc")(mine, ref, case)


def contract_probes(
    fn_name: str,
    reference: Callable[..., torch.Tensor],
    make: Callable[[np.random.Generator], Case],
    wrt: Sequence[int],
) -> Callable[[np.random.Generator], list[Probe]]:
    """A ``vjp`` probe of ``fn_name`` on a case ``make(rng)``, and one on the float32 variant
    of another."""

    def probes(rng: np.random.Generator) -> list[Probe]:
        out = []
        for single_precision in (False, True):
            case = make(rng)
            if single_precision:
                case = float32_variant(case)
            expected = reference64(reference)(*case.args)
            if np.iscomplexobj(expected):
                cot = complex_normal(rng, *expected.shape)
            else:
                cot = torch.tensor(rng.normal(size=tuple(expected.shape)), dtype=F64)
            out.append(vjp_probe(fn_name, case, wrt, cot))
        return out

    return probes


# -- A: project_real_space ------------------------------------------------------------------------


def notebook_volume(seed: int, D: int = 9) -> torch.Tensor:
    """``torch.rand(D, D, D, dtype=torch.float64, generator=manual_seed(seed))`` as in the
    notebook's visible tests."""
    return torch.rand(D, D, D, dtype=F64, generator=torch.Generator().manual_seed(seed))


def real_cases(rng: np.random.Generator) -> list[Case]:
    cases = [
        Case(
            (notebook_volume(0), torch.eye(3, dtype=F64)),
            label="the identity projects along z: V.sum(0)",
            visible=True,
        ),
        Case((volume(rng, 9), rotations(rng, 3))),
        Case((volume(rng, 10), rotations(rng, 2))),
        Case((volume(rng, 12), rotations(rng))),  # one rotation (3, 3): one image (D, D)
        Case((volume(rng, 11), rotations(rng, 2, 2))),
        Case((volume(rng, 13), rotations(rng, 2))),
        Case((volume(rng, 8), rotations(rng, 3)), {"max_points": 600}, label="in chunks"),
    ]
    cases.append(float32_variant(Case((volume(rng, 10), rotations(rng, 2)))))
    return cases


def _mirrored_images(volume: torch.Tensor, R: torch.Tensor, **_: Any) -> list[torch.Tensor]:
    ref = reference64(P.project_real_space)
    return [
        ref(volume, MX @ to_double(R)),
        ref(volume, MY @ to_double(R)),
        np.swapaxes(ref(volume, R), -1, -2),
    ]


def oracle_cases(sizes: Sequence[tuple[int, bool, float | None]], n: int = 3):
    """Gaussian blobs (σ = 1.5 px): (D, mirror, pad) → Case((volume, R[, pad]))."""

    def cases(rng: np.random.Generator) -> list[Case]:
        out = []
        for D, mirror, pad in sizes:
            R = rotations(rng, n)
            blobs, _ = P.gaussian_blobs(D, sigma=1.5, mirror=mirror)
            args = (blobs, R) if pad is None else (blobs, R, pad)
            out.append(Case(args, key=(D, mirror)))
        return out

    return cases


def exact_images(volume: torch.Tensor, R: torch.Tensor, *rest: Any, **_: Any) -> np.ndarray:
    """The oracle's exact projections of the blobs the case was built from (the blobs are the
    same function of D whichever hand: the hand is read off the volume itself)."""
    D = volume.shape[0]
    right = P.gaussian_blobs(D, sigma=1.5)[0]
    mirror = not torch.allclose(to_double(volume), right)
    images = P.gaussian_blobs(D, to_double(R), sigma=1.5, mirror=mirror)[1]
    assert images is not None
    return as_numpy(images)


def exact_images_transposed_rotation(volume, R, *rest, **_):
    return exact_images(volume, to_double(R).mT)


R_TRANSPOSED = "R instead of Rᵀ"
MIRRORED = "mirrored hand"
AXES = "[x, y, z] vs [z, y, x] axis order"

PART_A = part(
    "test_project_real_space",
    "Part A — projection in real space",
    [
        FunctionCheck(
            "project_real_space",
            real_cases,
            reference64(P.project_real_space),
            CLOSE,
            weight=3.0,
            diagnose=DIAGNOSE,
            mistakes=[
                Mistake(
                    R_TRANSPOSED,
                    "Your images are those of the rotation Rᵀ: rotating the object by R means that "
                    "the image-frame point p shows the volume at Rᵀ p — `p @ R` for rows of points.",
                    lambda V, R, **_: reference64(P.project_real_space)(V, to_double(R).mT),
                ),
                Mistake(
                    MIRRORED,
                    "Your images are those of the mirror-image volume (a coordinate flipped, or the "
                    "image indexed [x, y] instead of [y, x]): a reconstruction from them would have "
                    "the wrong hand.",
                    _mirrored_images,
                    compare=ANY_FORM,
                ),
                Mistake(
                    AXES,
                    "Your sample coordinates are in the wrong order: the volume is indexed [z, y, x] "
                    "but grid_sample's grid holds (x, y, z).",
                    lambda V, R, **_: [
                        reference64(P.project_real_space)(to_double(V).permute(2, 1, 0), R),
                        reference64(P.project_real_space)(V, J @ to_double(R)),
                    ],
                    compare=ANY_FORM,
                ),
            ],
        ),
        FunctionCheck(
            "project_real_space",
            oracle_cases([(15, False, None), (16, False, None), (15, True, None)]),
            exact_images,
            relative_l2(0.05),
            title="the exact projections of chiral Gaussian blobs (relative error < 5 %)",
            mistakes=[
                Mistake(
                    R_TRANSPOSED,
                    "Your images are those of the rotation Rᵀ: the image-frame point p shows the "
                    "volume at Rᵀ p.",
                    exact_images_transposed_rotation,
                    compare=relative_l2(0.05),
                ),
            ],
        ),
        ProbeCheck(
            "dtype, device and gradients (float64 and float32)",
            contract_probes(
                "project_real_space",
                P.project_real_space,
                lambda rng: Case((volume(rng, 9), rotations(rng, 2))),
                wrt=(0, 1),
            ),
            contract_judge(P.project_real_space, (0, 1), tol64=1e-8),
        ),
    ],
)

# -- B: fourier_volume ----------------------------------------------------------------------------


def fourier_volume_cases(rng: np.random.Generator) -> list[Case]:
    delta = torch.zeros(5, 5, 5, dtype=F64)
    delta[2, 2, 2] = 1.0
    cases = [
        Case((delta, 2.0), label="a centred δ, pad 2 (N = 10)", visible=True),
        Case((volume(rng, 7), 1.0)),  # N = 7
        Case((volume(rng, 8), 1.0)),  # N = 8
        Case((volume(rng, 5), 2.0)),  # D odd, N = 10 even: the padding offset
        Case((volume(rng, 6), 1.5), {"sinc2": True}),  # D even, N = 9 odd: offset, shifts
        Case((volume(rng, 9), 1.0), {"sinc2": True}),  # N = 9
        Case((volume(rng, 8), 1.5), {"sinc2": True}),  # N = 12
        Case((volume(rng, 5), 2.6), {"sinc2": True}),  # N = 13
    ]
    cases.append(float32_variant(Case((volume(rng, 6), 2.0), {"sinc2": True})))  # N = 12
    return cases


Applies = Callable[[int, int, bool], bool]  # (D, N, sinc2) → can the mistake show here?


def odd_n(D: int, N: int, sinc2: bool) -> bool:
    return N % 2 == 1


def even_n(D: int, N: int, sinc2: bool) -> bool:
    return N % 2 == 0


def parities_differ(D: int, N: int, sinc2: bool) -> bool:
    return (N - D) % 2 == 1


def corrected(D: int, N: int, sinc2: bool) -> bool:
    return sinc2


def always(D: int, N: int, sinc2: bool) -> bool:
    return True


def _fv(applies: Applies, *errors: dict[str, Any]) -> Callable[..., list[np.ndarray]]:
    """The ``fourier_volume`` variants with ``errors`` — none where the mistake cannot show
    (the diagnosis then skips the case without computing anything)."""

    def answer(volume: torch.Tensor, pad: float = 1.0, *, sinc2: bool = False):
        D = volume.shape[0]
        if not applies(D, max(D, round(pad * D)), sinc2):
            return []
        return [
            as_numpy(fourier_volume_variant(volume, pad, **{"sinc2": sinc2, **e})) for e in errors
        ]

    return answer


SHIFTS = "fftshift/ifftshift swapped"
OFFSET = "wrong padding offset"
NO_SINC2 = "missing sinc² correction"
SINC2_GRID = "sinc² of the unpadded grid"
NYQUIST = "Nyquist planes kept"

FOURIER_VOLUME_MISTAKES = [
    Mistake(
        SHIFTS,
        "Your transform has its origin one voxel off for odd N: shift the volume's centre to "
        "index 0 with ifftshift before the FFT, and the zero frequency to N // 2 with fftshift "
        "after it (for odd N the two are different permutations).",
        _fv(odd_n, {"shift": "pre"}, {"shift": "post"}, {"shift": "both"}),
        compare=ANY_FORM,
    ),
    Mistake(
        OFFSET,
        "Your padding puts the volume's centre D // 2 one voxel away from N // 2: pad with "
        "N // 2 − D // 2 zeros before (not (N − D) // 2) — a shift is a phase ramp across the "
        "whole transform.",
        _fv(parities_differ, {"offset": _low}, {"offset": _high}),
        compare=ANY_FORM,
    ),
    Mistake(
        NO_SINC2,
        "With sinc2=True, divide the volume by sinc²(x/N) sinc²(y/N) sinc²(z/N) before the "
        "transform: trilinear interpolation in Fourier space multiplies the volume by it.",
        _fv(corrected, {"sinc2": False}),
        compare=ANY_FORM,
    ),
    Mistake(
        SINC2_GRID,
        "Your sinc² correction uses the unpadded size D; the tent kernel lives on the padded "
        "grid: sinc²(x/N), N = max(D, round(pad·D)).",
        _fv(corrected, {"sinc_grid": "D"}),
        compare=ANY_FORM,
    ),
    Mistake(
        NYQUIST,
        "For even N the Nyquist planes k = −N/2 (index 0 along z and y) and kx = N/2 have no "
        "Friedel partner: set them to zero.",
        _fv(even_n, {"nyquist": True}),
        compare=ANY_FORM,
    ),
    Mistake(
        MIRRORED,
        "Your transform is the complex conjugate of the right one — the transform of the "
        "mirror-image (inverted) volume: the exponent is e^(−2πi k·r/N), torch.fft.rfftn's.",
        _fv(always, {"conj": True}),
        compare=ANY_FORM,
    ),
]

PART_B = part(
    "test_fourier_volume",
    "Part B — the centred half Fourier volume",
    [
        FunctionCheck(
            "fourier_volume",
            fourier_volume_cases,
            reference64(P.fourier_volume),
            CLOSE,
            weight=3.0,
            diagnose=DIAGNOSE,
            mistakes=FOURIER_VOLUME_MISTAKES,
        ),
        ProbeCheck(
            "dtype, device and gradient (float64 and float32)",
            contract_probes(
                "fourier_volume",
                P.fourier_volume,
                lambda rng: Case((volume(rng, 6), 1.5)),
                wrt=(0,),
            ),
            contract_judge(P.fourier_volume, (0,)),
        ),
    ],
)

# -- C: extract_central_slices --------------------------------------------------------------------


def extract_cases(rng: np.random.Generator) -> list[Case]:
    ft = P.fourier_volume(notebook_volume(3))
    cases = [
        Case((ft, torch.eye(3, dtype=F64)), label="the identity: the kz = 0 plane", visible=True),
        Case((half_volume(rng, 8), rotations(rng, 3))),
        Case((half_volume(rng, 9), rotations(rng, 2))),
        Case((half_volume(rng, 8, 1.5), rotations(rng, 2))),  # N = 12
        Case((half_volume(rng, 13), rotations(rng, 2))),
        Case((half_volume(rng, 10, 1.5), rotations(rng))),  # N = 15, one rotation
        Case((half_volume(rng, 8, 2.0), rotations(rng, 2, 2))),  # N = 16, a (2, 2) batch
    ]
    cases.append(float32_variant(Case((half_volume(rng, 11), rotations(rng, 2)))))
    return cases


def _slices(friedel: str) -> Callable[..., torch.Tensor]:
    return lambda volume_ft, R, **_: sample_variant(volume_ft, R, friedel)


EXTRACT = reference64(P.extract_central_slices)
FRIEDEL = "Friedel half not conjugated"
FRIEDEL_ZERO = "Friedel half missing"

EXTRACT_MISTAKES = [
    Mistake(
        R_TRANSPOSED,
        "Your slices are spanned by the first two columns of R: the slice is V̂(kx R[0] + ky R[1]), "
        "spanned by the first two rows (Rᵀ (kx, ky, 0)).",
        lambda volume_ft, R, **_: EXTRACT(volume_ft, to_double(R).mT),
    ),
    Mistake(
        MIRRORED,
        "Your slices are those of the mirror-image volume (a frequency axis reversed, or every "
        "sample conjugated): only the half with qx < 0 is read at −q and conjugated.",
        lambda volume_ft, R, **_: [
            EXTRACT(volume_ft, MX @ to_double(R)),
            EXTRACT(volume_ft, MY @ to_double(R)),
            EXTRACT(volume_ft, R).conj(),
        ],
        compare=ANY_FORM,
    ),
    Mistake(
        AXES,
        "You read the point q = (x, y, z) as (z, y, x): the half volume is indexed "
        "F[kz + N // 2, ky + N // 2, kx].",
        lambda volume_ft, R, **_: EXTRACT(volume_ft, to_double(R) @ J),
    ),
    Mistake(
        FRIEDEL,
        "Where qx < 0 you read the value at −q but did not conjugate it: V̂(q) = conj(V̂(−q)).",
        _slices("plain"),
    ),
    Mistake(
        FRIEDEL_ZERO,
        "Your slices are zero where qx < 0: the half volume stores only qx ≥ 0, and the other half "
        "is read through Friedel symmetry, V̂(q) = conj(V̂(−q)).",
        _slices("zero"),
    ),
]

PART_C = part(
    "test_extract_central_slices",
    "Part C — central slices (forward)",
    [
        FunctionCheck(
            "extract_central_slices",
            extract_cases,
            EXTRACT,
            CLOSE,
            weight=4.0,
            diagnose=DIAGNOSE,
            mistakes=EXTRACT_MISTAKES,
        ),
    ],
)

# -- D: backward ----------------------------------------------------------------------------------


def insert_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for N, B in ((8, 3), (9, 2), (10, 2), (7, 1)):
        cases.append(Case((complex_normal(rng, B, N, N // 2 + 1), rotations(rng, B), N)))
    cases.append(Case((complex_normal(rng, 2, 2, 8, 5), rotations(rng, 2, 2), 8)))
    cases.append(float32_variant(Case((complex_normal(rng, 2, 9, 5), rotations(rng, 2), 9))))
    return cases


INSERT = reference64(P.insert_central_slices)


def dot_test_probes(rng: np.random.Generator) -> list[Probe]:
    out = []
    for D, pad, B in ((8, 1.0, 2), (9, 1.0, 3), (6, 1.5, 2), (7, 1.0, 2)):
        ft = half_volume(rng, D, pad)
        N = ft.shape[0]
        cot = complex_normal(rng, B, N, N // 2 + 1)
        out.append(vjp_probe("extract_central_slices", Case((ft, rotations(rng, B))), (0,), cot))
    return out


def _inner(a: Any, b: Any) -> float:
    """Re⟨a, b⟩ = Re Σ conj(a) b."""
    return float(np.real(np.sum(np.conj(np.asarray(a)) * np.asarray(b))))


def dot_test(values: list[Any], probe: Probe) -> str | None:
    value = vjp_answer(values[0])
    ft, R = probe.case.args
    cot = probe.case.key
    out, (grad,) = value.out, value.grads
    shape = (*R.shape[:-2], ft.shape[0], ft.shape[0] // 2 + 1)
    if np.shape(out) != shape:
        return f"returned shape {np.shape(out)} where {shape} was expected"
    if grad is None:
        return "gives no gradient for the volume (does backward return it first?)"
    if np.shape(grad) != tuple(ft.shape):
        return f"gives a volume gradient of shape {np.shape(grad)}, not {tuple(ft.shape)}"
    lhs, rhs = _inner(out, cot.numpy()), _inner(ft.numpy(), grad)
    size = float(np.linalg.norm(out) * np.linalg.norm(cot.numpy()))
    size += float(np.linalg.norm(ft.numpy()) * np.linalg.norm(grad))
    if abs(lhs - rhs) <= 1e-10 * size:
        return None
    return (
        f"fails the dot-product test: Re⟨E x, y⟩ − Re⟨x, Eᴴ y⟩ = {lhs - rhs:.3g} "
        f"({abs(lhs - rhs) / size:.2g} of their size)"
    )


def fails_dot_test(values: list[Any], _answer: Any, case: Case) -> str | None:
    if vjp_answer(values[0]).grads[0] is None:
        return "no gradient at all"
    probe = Probe(case, [])
    reason = dot_test(values, probe)
    return None if reason is not None and "dot-product" in reason else "passes"


EPS = 1e-6


def rotation_gradient_probes(rng: np.random.Generator) -> list[Probe]:
    out = []
    for D, pad, B in ((8, 1.0, 2), (9, 1.0, 2), (8, 1.5, 2), (11, 1.0, 1)):
        ft = half_volume(rng, D, pad)
        N = ft.shape[0]
        R = rotations(rng, B)
        U = torch.tensor(rng.normal(size=(B, 3, 3)), dtype=F64)
        cot = complex_normal(rng, B, N, N // 2 + 1)
        case = Case((ft, R), key=(U, cot))
        out.append(
            Probe(
                case,
                [
                    Vjp("extract_central_slices", (ft, R), (1,), cot),
                    Call("extract_central_slices", (ft, R + EPS * U)),
                    Call("extract_central_slices", (ft, R - EPS * U)),
                ],
            )
        )
    return out


def _directional(
    value: VjpAnswer, values: list[Any], case: Case
) -> tuple[float, float, float, float, float]:
    """(⟨∂L/∂R, U⟩ from the learner's backward ``value``, central, forward and backward finite
    differences of L = Re⟨c, f(R)⟩ along U from the answers ``values`` at R ± εU, and the size
    ‖∂L/∂R‖‖U‖ + ε)."""
    U, cot = case.key
    c = cot.numpy()
    grad = value.grads[0]
    f0 = np.asarray(value.out)
    plus, minus = np.asarray(values[1]), np.asarray(values[2])
    if not (f0.shape == plus.shape == minus.shape == c.shape):
        raise ValueError("shapes")
    Un = U.numpy()
    analytic = float(np.sum(np.asarray(grad) * Un)) if grad is not None else 0.0
    central = _inner(c, plus - minus) / (2 * EPS)
    forward = _inner(c, plus - f0) / EPS
    backward = _inner(c, f0 - minus) / EPS
    g = np.zeros(3) if grad is None else np.asarray(grad)
    size = float(np.linalg.norm(g) * np.linalg.norm(Un)) + abs(central) + 1e-12
    return analytic, central, forward, backward, size


def gradient_matches(analytic: float, central: float, forward: float, backward: float, size: float):
    """Central differences to 10⁻⁶ of the size, or one-sided ones to 10⁻⁴ (a sample that crosses
    a cell boundary between R − εU and R + εU spoils one side only)."""
    if abs(central - analytic) <= 1e-6 * size:
        return True
    return min(abs(forward - analytic), abs(backward - analytic)) <= 1e-4 * size


def rotation_gradient(values: list[Any], probe: Probe) -> str | None:
    value = vjp_answer(values[0])
    R = probe.case.args[1]
    grad = value.grads[0]
    if grad is None:
        return "gives no gradient for the rotations"
    if np.shape(grad) != tuple(R.shape):
        return f"gives a rotation gradient of shape {np.shape(grad)}, not {tuple(R.shape)}"
    if not np.all(np.isfinite(grad)):
        return "gives NaN or infinity in the rotation gradient"
    analytic, central, forward, backward, size = _directional(value, values, probe.case)
    if gradient_matches(analytic, central, forward, backward, size):
        return None
    return (
        f"gives a rotation gradient that disagrees with finite differences of your forward: "
        f"⟨∂L/∂R, U⟩ = {analytic:.6g}, finite differences {central:.6g}"
    )


def no_rotation_gradient(values: list[Any], _answer: Any, case: Case) -> str | None:
    grad = vjp_answer(values[0]).grads[0]
    return None if grad is None or not np.any(np.asarray(grad)) else "has one"


def transposed_rotation_gradient(values: list[Any], _answer: Any, case: Case) -> str | None:
    value = vjp_answer(values[0])
    grad = value.grads[0]
    if grad is None:
        return "none"
    flipped = dataclasses.replace(value, grads=[np.swapaxes(np.asarray(grad), -1, -2)])
    numbers = _directional(flipped, values, case)
    return None if gradient_matches(*numbers) else "no"


PART_D = part(
    "test_extract_backward",
    "Part D — the backward pass",
    [
        FunctionCheck(
            "insert_central_slices",
            insert_cases,
            INSERT,
            CLOSE,
            weight=2.0,
            title="`insert_central_slices` (trilinear insertion)",
            diagnose=DIAGNOSE,
            mistakes=[
                Mistake(
                    FRIEDEL,
                    "Where a sample was read on the Friedel half (qx < 0) its value must be "
                    "inserted conjugated, at −q: the adjoint of conj is conj.",
                    lambda S, R, D: insert_variant(S, R, D, "plain"),
                ),
                Mistake(
                    R_TRANSPOSED,
                    "Your insertion places the slices spanned by the columns of R: the slice of R "
                    "is spanned by its first two rows.",
                    lambda S, R, D: INSERT(S, to_double(R).mT, D),
                ),
            ],
        ),
        ProbeCheck(
            "the backward is the adjoint (the dot-product test)",
            dot_test_probes,
            dot_test,
            weight=2.0,
            mistakes=[
                Mistake(
                    "backward not the adjoint",
                    "Your backward is not the adjoint of your forward: Re⟨E x, y⟩ ≠ Re⟨x, Eᴴ y⟩. "
                    "Spread every slice value onto the same eight neighbours with the same weights "
                    "(conjugated on the Friedel half), and let contributions to one voxel add up "
                    "(index_put_ with accumulate=True; `+=` with repeated indices keeps one).",
                    lambda *args: None,
                    compare=fails_dot_test,
                ),
            ],
        ),
        ProbeCheck(
            "the gradient for the rotations (finite differences, float64)",
            rotation_gradient_probes,
            rotation_gradient,
            weight=2.0,
            mistakes=[
                Mistake(
                    "no gradient for the rotations",
                    "Your backward gives no (or a zero) gradient for the rotations: the pose must be "
                    "learnable too — ∂L/∂R[0] = Σ kx ∂L/∂q, ∂L/∂R[1] = Σ ky ∂L/∂q.",
                    lambda *args: None,
                    compare=no_rotation_gradient,
                ),
                Mistake(
                    "rotation gradient transposed",
                    "Your rotation gradient is the transpose of the right one: q = kx R[0] + ky R[1] "
                    "uses the rows of R, so ∂L/∂R[0, j] = Σ kx ∂L/∂q_j fills row 0.",
                    lambda *args: None,
                    compare=transposed_rotation_gradient,
                ),
            ],
        ),
    ],
)

# -- E: project_fourier ---------------------------------------------------------------------------


def project_cases(rng: np.random.Generator) -> list[Case]:
    cases = [
        Case(
            (notebook_volume(8), torch.eye(3, dtype=F64), 1.0),
            {"sinc2": False},
            label="odd D, no padding, no correction, the identity: V.sum(0)",
            visible=True,
        ),
        Case((volume(rng, 9), rotations(rng, 2), 2.0)),  # D odd, N = 18: offset, Nyquist
        Case((volume(rng, 10), rotations(rng, 2), 1.5)),  # D even, N = 15: offset, shifts
        Case((volume(rng, 9), rotations(rng, 3), 1.0)),  # N = 9: shifts
        Case((volume(rng, 7), rotations(rng, 2), 3.0)),  # N = 21
        Case((volume(rng, 8), rotations(rng, 2), 2.0)),  # N = 16: Nyquist
        Case((volume(rng, 12), rotations(rng), 1.25)),  # N = 15, one rotation
        Case((volume(rng, 10), rotations(rng, 2, 2), 2.0), {"sinc2": False}),  # N = 20
    ]
    cases.append(float32_variant(Case((volume(rng, 9), rotations(rng, 2), 2.0))))
    return cases


def _pv(applies: Applies, *errors: dict[str, Any]) -> Callable[..., list[np.ndarray]]:
    """The ``project_fourier`` variants with ``errors`` (none where the mistake cannot show)."""

    def answer(volume, rotations, pad=2.0, *, sinc2=True):
        D = volume.shape[0]
        if not applies(D, max(D, round(pad * D)), sinc2):
            return []
        return [
            as_numpy(project_variant(volume, rotations, pad, **{"sinc2": sinc2, **e}))
            for e in errors
        ]

    return answer


CLASSIC = reference64(classic)

PROJECT_MISTAKES = [
    Mistake(
        NO_SINC2,
        "Your images lack the sinc² correction: divide the volume by sinc²(x/N) sinc²(y/N) "
        "sinc²(z/N) before the transform (fourier_volume(..., sinc2=sinc2)).",
        _pv(corrected, {"sinc2": False}),
        compare=ANY_FORM,
    ),
    Mistake(
        SHIFTS,
        "Your images are shifted by a voxel for odd N: ifftshift before a transform (the centre "
        "to index 0), fftshift after it (the origin to N // 2) — for odd N they differ.",
        _pv(
            odd_n,
            *({"shift": s} for s in ("pre", "post", "both")),
            *({"image_shift": s} for s in ("pre", "post", "both")),
        ),
        compare=ANY_FORM,
    ),
    Mistake(
        OFFSET,
        "Your volume is padded, or your image cropped, one voxel off centre: the offset is "
        "N // 2 − D // 2, not (N − D) // 2 (they differ when N and D have different parities).",
        _pv(
            parities_differ,
            *({"offset": f} for f in (_low, _high)),
            *({"crop": f} for f in (_low, _high)),
            *({"offset": f, "crop": f} for f in (_low, _high)),
        ),
        compare=ANY_FORM,
    ),
    Mistake(
        NYQUIST,
        "For even N, zero the Nyquist planes of the volume and the Nyquist row (ky = −N/2) and "
        "column (kx = N/2) of every slice: they have no Friedel partner.",
        _pv(
            even_n,
            {"slice_nyquist": True},
            {"nyquist": True},
            {"slice_nyquist": True, "nyquist": True},
        ),
        compare=ANY_FORM,
    ),
    Mistake(
        R_TRANSPOSED,
        "Your images are those of the rotation Rᵀ: the slice is spanned by the rows of R.",
        lambda volume, rotations, pad=2.0, *, sinc2=True: CLASSIC(
            volume, to_double(rotations).mT, pad, sinc2=sinc2
        ),
    ),
    Mistake(
        MIRRORED,
        "Your images are those of the mirror-image volume (a conjugated transform, a reversed "
        "frequency axis or a transposed image): a reconstruction would have the wrong hand.",
        lambda volume, rotations, pad=2.0, *, sinc2=True: [
            as_numpy(project_variant(volume, rotations, pad, sinc2, conj=True)),
            CLASSIC(volume, MX @ to_double(rotations), pad, sinc2=sinc2),
            np.swapaxes(CLASSIC(volume, rotations, pad, sinc2=sinc2), -1, -2),
        ],
        compare=ANY_FORM,
    ),
    Mistake(
        SINC2_GRID,
        "Your sinc² correction uses the unpadded size D: it must be sinc²(x/N) on the padded grid.",
        _pv(corrected, {"sinc_grid": "D"}),
        compare=ANY_FORM,
    ),
]

PART_E = part(
    "test_project_fourier",
    "Part E — projection through the Fourier slice theorem",
    [
        FunctionCheck(
            "project_fourier",
            project_cases,
            CLASSIC,
            CLOSE,
            weight=3.0,
            diagnose=DIAGNOSE,
            mistakes=PROJECT_MISTAKES,
        ),
        FunctionCheck(
            "project_fourier",
            oracle_cases([(15, False, None), (16, False, None), (15, True, None), (16, True, 2.5)]),
            exact_images,
            relative_l2(0.03),
            weight=2.0,
            title="the exact projections of chiral Gaussian blobs (relative error < 3 %)",
            mistakes=[
                Mistake(
                    NO_SINC2,
                    "Your images are darker away from the centre than the exact ones: divide the "
                    "volume by sinc²(x/N) sinc²(y/N) sinc²(z/N) before the transform.",
                    lambda volume, rotations, pad=2.0: as_numpy(
                        project_variant(volume, rotations, pad, False)
                    ),
                    compare=NEAR,
                ),
                Mistake(
                    R_TRANSPOSED,
                    "Your images are those of the rotation Rᵀ: the slice is spanned by the rows of R.",
                    exact_images_transposed_rotation,
                    compare=relative_l2(0.03),
                ),
            ],
        ),
        ProbeCheck(
            "dtype and device (float64 and float32)",
            contract_probes(
                "project_fourier",
                classic,
                lambda rng: Case((volume(rng, 9), rotations(rng, 2), 2.0)),
                wrt=(),
            ),
            contract_judge(classic, ()),
        ),
    ],
)

# -- F: Projector ---------------------------------------------------------------------------------


def projector_probes(rng: np.random.Generator) -> list[Probe]:
    """``Projector(*init, **settings)(rotations)`` with a cotangent: the output and the gradient
    for the module's parameters."""
    specs: list[tuple[Any, dict[str, Any], int, bool]] = [
        (volume(rng, 10), {}, 2, False),
        (volume(rng, 10), {"pad": 1.5}, 2, False),  # N = 15
        (volume(rng, 8), {"sinc2": False, "pad": 1.0}, 3, False),
        (9, {}, 2, False),  # Projector(D): a zero volume
        (volume(rng, 10), {}, 2, True),
    ]
    out = []
    for init, settings, B, single_precision in specs:
        R = rotations(rng, B)
        D = init if isinstance(init, int) else init.shape[0]
        cot = torch.tensor(rng.normal(size=(B, D, D)), dtype=F64)
        case = Case((init, R), dict(settings), key=cot)
        if single_precision:
            case = float32_variant(case)
        init, R = case.args
        call = MethodCall("Projector", "__call__", (init,), case.kwargs, (R,), cotangent=cot)
        out.append(Probe(case, [call]))
    return out


def projector_reference(init: Any, R: torch.Tensor, **settings: Any):
    """The reference's output and volume gradient for a probe (float64)."""
    D = init if isinstance(init, int) else init.shape[0]
    V = torch.zeros(D, D, D, dtype=F64) if isinstance(init, int) else to_double(init)

    def render(v: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
        return classic(v, r, settings.get("pad", 2.0), sinc2=settings.get("sinc2", True))

    return render, V


def projector_judge(values: list[Any], probe: Probe) -> str | None:
    value = vjp_answer(values[0])
    case = probe.case
    init, R = case.args
    f32 = FLOAT32 in case.tags
    if value.device != "cpu":
        return f"renders on {value.device!r} for inputs on the CPU (a hard-coded device?)"
    render, V = projector_reference(init, R, **case.kwargs)
    out, (grad,) = reference_vjp(render, (V, R), (0,), case.key)
    want = "torch.float32" if f32 else "torch.float64"
    if value.dtype != want:
        return f"renders {value.dtype} where {want} was expected (keep the volume's dtype)"
    problem = CLOSE(value.out, out, case)
    if problem:
        return f"renders the wrong images for its settings ({problem})"
    grads = value.grads
    if "volume" not in grads or grads["volume"] is None:
        names = ", ".join(sorted(grads)) or "none"
        return (
            f"has no learnable parameter `volume` that the images depend on (parameters: {names})"
        )
    problem = gradient_close(grads["volume"], grad, case)
    if problem:
        return f"gives the wrong gradient for `volume` ({problem})"
    return None


def volume_not_learnable(values: list[Any], _answer: Any, case: Case) -> str | None:
    grads = vjp_answer(values[0]).grads
    return None if grads.get("volume") is None else "learnable"


def settings_ignored(values: list[Any], _answer: Any, case: Case) -> str | None:
    if not case.kwargs:
        return "no settings here"
    init, R = case.args
    V = torch.zeros(init, init, init, dtype=F64) if isinstance(init, int) else to_double(init)
    default = classic(V, to_double(R))
    return NEAR(vjp_answer(values[0]).out, default, case)


PART_F = part(
    "test_projector",
    "Part F — the Projector module",
    [
        ProbeCheck(
            "`Projector`: images, the learnable volume's gradient, dtype",
            projector_probes,
            projector_judge,
            mistakes=[
                Mistake(
                    "volume not a learnable parameter",
                    "Your module's volume is not a torch.nn.Parameter named `volume` that the "
                    "images depend on (a plain tensor attribute, a buffer, or detached in "
                    "forward): optimisers and .to() would not see it.",
                    lambda *args, **kwargs: None,
                    compare=volume_not_learnable,
                ),
                Mistake(
                    "settings not passed on",
                    "Your module ignores its keyword settings: pass them on to project_fourier "
                    "(project_fourier(self.volume, rotations, **self.settings)).",
                    lambda *args, **kwargs: None,
                    compare=settings_ignored,
                ),
            ],
        ),
    ],
)

# -- G: Triton ------------------------------------------------------------------------------------


def triton_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for D, pad, B, block in ((8, 1.0, 2, 16), (9, 1.0, 3, 32), (11, 1.0, 2, 64), (8, 1.5, 2, 128)):
        cases.append(Case((half_volume(rng, D, pad), rotations(rng, B)), {"BLOCK": block}))
    cases.append(Case((half_volume(rng, 13), rotations(rng)), {"BLOCK": 32}))  # one rotation
    cases.append(float32_variant(Case((half_volume(rng, 9), rotations(rng, 2)), {"BLOCK": 16})))
    return cases


def tail_not_computed(value: Any, expected: Any, case: Case) -> str | None:
    """A launch grid of n // BLOCK programs: each slice right except its last n mod BLOCK
    samples."""
    arr, problem = as_array(value, kinds="fc")
    exp = as_numpy(expected)
    if problem or arr is None or arr.shape != exp.shape:
        return "no"
    n = exp.shape[-2] * exp.shape[-1]
    rest = n % case.kwargs["BLOCK"]
    if rest == 0:
        return "no"
    a = arr.reshape(-1, n)
    e = exp.reshape(-1, n)
    scale = max(1.0, float(np.abs(e).max()))
    head_ok = np.abs(a[:, : n - rest] - e[:, : n - rest]).max() <= 1e-3 * scale
    tail_bad = not np.allclose(a[:, n - rest :], e[:, n - rest :], rtol=0, atol=1e-3 * scale)
    return None if head_ok and tail_bad else "no"


PART_G = part(
    "test_triton_kernel",
    "Part G — the gather as a Triton kernel",
    [
        FunctionCheck(
            "extract_central_slices_triton",
            triton_cases,
            lambda volume_ft, R, BLOCK=64: EXTRACT(volume_ft, R),
            CLOSE,
            diagnose=DIAGNOSE,
            mistakes=[
                *(m for m in EXTRACT_MISTAKES if m.name in (R_TRANSPOSED, AXES, FRIEDEL)),
                Mistake(
                    "last block not computed",
                    "The last samples of each slice are wrong: launch triton.cdiv(n, BLOCK) "
                    "programs per rotation (not n // BLOCK), and mask the partial last block.",
                    lambda volume_ft, R, BLOCK=64: EXTRACT(volume_ft, R),
                    compare=tail_not_computed,
                ),
            ],
        ),
    ],
)

PARTS = [PART_A, PART_B, PART_C, PART_D, PART_E, PART_F, PART_G]
