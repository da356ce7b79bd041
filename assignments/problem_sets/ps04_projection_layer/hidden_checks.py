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

import contextlib
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import product
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from autograder.checks import (
    Case,
    CheckResult,
    FunctionCheck,
    Mistake,
    Part,
    decode_answers,
    hidden_failures,
)
from autograder.harness import encode_value
from reference_impl import projection as P
from reference_impl.quaternion import quat_to_matrix

# -- a check whose cases need several requests -------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """One case of a ``ProbeCheck``: its requests, and the ``case`` the mistakes are computed
    from (and which the judge reads: arguments, cotangent, tags)."""

    case: Case
    requests: list[dict[str, Any]]


@dataclass(frozen=True)
class ProbeCheck:
    """Each probe sends one or more requests (``vjp`` and ``call`` for a finite difference, a
    ``method`` call on a module…); ``judge(values, probe)`` decides from the decoded answers,
    here: None when right, else a reason without expected values. A mistake matches a wrong
    probe when ``mistake.compare(values, mistake.answer(*case.args, **case.kwargs), case)`` is
    None."""

    title: str
    probes: Callable[[np.random.Generator], Sequence[Probe]]
    judge: Callable[[list[Any], Probe], str | None]
    mistakes: Sequence[Mistake] = ()
    weight: float = 1.0

    def plan(self, rng: np.random.Generator) -> _ProbePlan:
        probes = list(self.probes(rng))
        return _ProbePlan(self, probes, [r for p in probes for r in p.requests])


@dataclass
class _ProbePlan:
    check: ProbeCheck
    probes: list[Probe]
    requests: list[dict[str, Any]]

    def evaluate(self, answers: Sequence[dict[str, Any] | None]) -> CheckResult:
        chk = self.check
        res = CheckResult(chk.title, 0, len(self.probes), chk.weight)
        failed: list[str] = []
        wrong: list[tuple[Probe, list[Any]]] = []
        offset = 0
        for probe in self.probes:
            values, reason = decode_answers(answers[offset : offset + len(probe.requests)])
            offset += len(probe.requests)
            if reason is None:
                try:
                    reason = chk.judge(values, probe)
                except Exception as exc:  # an answer of the wrong shape or type
                    reason = f"returned something that could not be checked ({type(exc).__name__})"
                if reason is not None:
                    wrong.append((probe, values))
            if reason is None:
                res.passed += 1
            else:
                failed.append(reason)
        res.lines += hidden_failures(failed)
        res.diagnosis = _diagnose(chk.mistakes, wrong)
        return res


def _diagnose(mistakes: Sequence[Mistake], wrong: list[tuple[Probe, list[Any]]]) -> Mistake | None:
    """The mistake that explains most wrong probes (at least half of them)."""
    best, best_n = None, 0
    for mistake in mistakes:
        assert mistake.compare is not None
        n = 0
        for probe, values in wrong:
            try:
                answer = mistake.answer(*probe.case.args, **probe.case.kwargs)
                if mistake.compare(values, answer, probe.case) is None:
                    n += 1
            except Exception:
                continue
        if n > best_n:
            best, best_n = mistake, n
    return best if wrong and best_n * 2 >= len(wrong) else None


def request(fn: str, *args: Any, mode: str = "call", **fields: Any) -> dict[str, Any]:
    """A wire request: ``fn`` called on ``args`` (``kwargs`` in ``fields`` are encoded)."""
    kwargs = fields.pop("kwargs", {})
    req = {
        "mode": mode,
        "fn": fn,
        "args": [encode_value(a) for a in args],
        "kwargs": {k: encode_value(v) for k, v in kwargs.items()},
    }
    for key, value in fields.items():
        req[key] = encode_value(value) if key == "cotangent" else value
    return req


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """torch on one thread while a check plans and judges: its reference computations are tiny,
    and on a loaded machine (parallel grading workers) a multi-threaded pool that waits for busy
    cores makes them a hundred times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@dataclass(frozen=True)
class OneThread:
    """A check (``FunctionCheck``, ``ProbeCheck``) planned and evaluated under ``one_thread``."""

    check: Any

    @property
    def weight(self) -> float:
        return float(self.check.weight)

    def plan(self, rng: np.random.Generator) -> _OneThreadPlan:
        with one_thread():
            return _OneThreadPlan(self.check.plan(rng))


class _OneThreadPlan:
    def __init__(self, plan: Any) -> None:
        self.plan = plan
        self.requests: list[dict[str, Any]] = plan.requests

    def evaluate(self, answers: Sequence[dict[str, Any] | None]) -> CheckResult:
        with one_thread():
            return self.plan.evaluate(answers)


def part(grade_id: str, title: str, checks: Sequence[Any]) -> Part:
    return Part(grade_id, title, [OneThread(c) for c in checks])


# -- inputs ---------------------------------------------------------------------------------------

F64, C128 = torch.float64, torch.complex128


def tags(case: Case) -> tuple[str, ...]:
    return tuple(t for t in case.key if isinstance(t, str)) if isinstance(case.key, tuple) else ()


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


def single(case: Case) -> Case:
    """The float32 (complex64) version of a case, tagged "float32"."""

    def down(x: Any) -> Any:
        if isinstance(x, torch.Tensor):
            return x.to(torch.complex64 if x.is_complex() else torch.float32)
        return x

    return Case(
        tuple(down(a) for a in case.args),
        {k: down(v) for k, v in case.kwargs.items()},
        label=case.label,
        key=(*tags(case), "float32"),
    )


def _up(x: Any) -> Any:
    if isinstance(x, torch.Tensor):
        return x.to(C128 if x.is_complex() else F64)
    return x


def reference64(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` on float64 (complex128) copies of the tensor arguments: the truth for float32."""

    def expected(*args: Any, **kwargs: Any) -> Any:
        with torch.no_grad():
            out = fn(*(_up(a) for a in args), **{k: _up(v) for k, v in kwargs.items()})
        return as_numpy(out) if isinstance(out, torch.Tensor) else out

    return expected


def as_numpy(x: Any) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().resolve_conj().numpy()
    return np.asarray(x)


# -- comparisons ----------------------------------------------------------------------------------


def _numbers(value: Any) -> tuple[np.ndarray | None, str | None]:
    if value is None:
        return None, "returned None (a missing `return`?)"
    try:
        arr = np.asarray(value)
    except Exception:
        return None, f"returned a {type(value).__name__}, not a tensor"
    if arr.dtype.kind not in "fc":
        return None, f"returned a {type(value).__name__} of {arr.dtype}, not a float tensor"
    return arr, None


def _dtype_problem(arr: np.ndarray, exp: np.ndarray, single_precision: bool) -> str | None:
    if exp.dtype.kind == "c" and arr.dtype.kind != "c":
        return "returned real values where complex ones were expected"
    if exp.dtype.kind == "f" and arr.dtype.kind == "c":
        return "returned complex values where real ones were expected"
    want = {("f", True): "float32", ("f", False): "float64"}
    want |= {("c", True): "complex64", ("c", False): "complex128"}
    name = want[(exp.dtype.kind, single_precision)]
    if arr.dtype != np.dtype(name):
        source = "float32" if single_precision else "float64"
        return f"returned {arr.dtype} for {source} input (keep the input's dtype)"
    return None


def close(tol64: float = 1e-9, tol32: float = 2e-4, dtypes: bool = True) -> Callable[..., Any]:
    """Same shape (and dtype, with ``dtypes``) and ``max |a − b| ≤ tol · max(1, max |b|)``."""

    def compare(value: Any, expected: Any, case: Case) -> str | None:
        arr, problem = _numbers(value)
        if problem or arr is None:
            return problem
        exp = as_numpy(expected)
        if arr.shape != exp.shape:
            return f"returned shape {arr.shape} where {exp.shape} was expected"
        f32 = "float32" in tags(case)
        if dtypes:
            problem = _dtype_problem(arr, exp, f32)
            if problem:
                return problem
        if not np.all(np.isfinite(arr)):
            return "returned NaN or infinity"
        scale = max(1.0, float(np.abs(exp).max(initial=0.0)))
        diff = float(np.abs(arr.astype(np.complex128) - exp).max(initial=0.0))
        if diff <= (tol32 if f32 else tol64) * scale:
            return None
        return (
            f"wrong values (largest difference {diff:.3g}, {diff / scale:.2g} of the largest value)"
        )

    return compare


def any_close(tol: float = 1e-7) -> Callable[..., Any]:
    """For a mistake with several forms: the answer is close to one of the candidates."""
    base = close(tol, 1e-3, dtypes=False)

    def compare(value: Any, candidates: Any, case: Case) -> str | None:
        for c in candidates:
            if base(value, c, case) is None:
                return None
        return "no"

    return compare


def relative_l2(bound: float) -> Callable[..., Any]:
    """Images within ``bound`` (relative L2 error) of the exact projections."""

    def compare(value: Any, expected: Any, case: Case) -> str | None:
        arr, problem = _numbers(value)
        if problem or arr is None:
            return problem
        exp = as_numpy(expected)
        if arr.shape != exp.shape:
            return f"returned shape {arr.shape} where {exp.shape} was expected"
        if not np.all(np.isfinite(arr)):
            return "returned NaN or infinity"
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
    v = _up(volume)
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
    v = _up(volume)
    D = v.shape[0]
    N = max(D, round(pad * D))
    ft = fourier_volume_variant(v, pad, sinc2, **volume_error)
    slices = P.extract_central_slices(ft, _up(rotations))
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
    V = _up(volume_ft)
    batch = R.shape[:-2]
    Rb = _up(R).reshape(-1, 3, 3)
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
    loss = (S.conj() * _up(slices_ft)).real.sum()
    (g,) = torch.autograd.grad(loss, V)
    return g


def reference_vjp(
    fn: Callable[..., torch.Tensor], args: Sequence[Any], wrt: Sequence[int], cotangent: Any
) -> tuple[torch.Tensor, list[torch.Tensor | None]]:
    """The reference's output and gradients of ``Re⟨cotangent, output⟩``, in float64."""
    inputs = [_up(a) for a in args]
    for i in wrt:
        inputs[i] = inputs[i].detach().clone().requires_grad_(True)
    out = fn(*inputs)
    if not wrt:
        return out.detach(), []
    cot = _up(torch.as_tensor(cotangent))
    loss = (out.conj() * cot).real.sum() if out.is_complex() else (out * cot).sum()
    grads = torch.autograd.grad(loss, [inputs[i] for i in wrt], allow_unused=True)
    return out.detach(), list(grads)


def classic(volume: torch.Tensor, rotations: torch.Tensor, pad: float = 2.0, *, sinc2: bool = True):
    """What the learner's ``project_fourier`` computes: the reference's classic scheme."""
    return P.project_fourier(volume, rotations, pad, kernel="trilinear", image_pad=pad, sinc2=sinc2)


# -- shared judges --------------------------------------------------------------------------------


def _vjp_value(values: list[Any]) -> dict[str, Any]:
    value = values[0]
    if not isinstance(value, dict) or not {"out", "grads", "device", "dtype"} <= set(value):
        raise TypeError("not a vjp answer")
    return value


def contract_judge(
    fn: Callable[..., torch.Tensor],
    wrt: Sequence[int],
    tol64: float = 1e-9,
    names: Sequence[str] = ("volume", "rotations"),
) -> Callable[[list[Any], Probe], str | None]:
    """A ``vjp`` answer: on the CPU like its inputs, in their dtype, right values, and the
    gradients for the arguments ``wrt`` right (float64: ``tol64``; float32: 2·10⁻⁴ / 10⁻³)."""
    values_close = close(tol64, 2e-4)

    def judge(values: list[Any], probe: Probe) -> str | None:
        value = _vjp_value(values)
        case = probe.case
        if value["device"] != "cpu":
            return f"returned a tensor on {value['device']!r} for inputs on the CPU (a hard-coded device?)"
        out, grads = reference_vjp(fn, case.args, wrt, case.key[-1])
        f32 = "float32" in tags(case)
        want = str(
            out.dtype if not f32 else (torch.complex64 if out.is_complex() else torch.float32)
        )
        if value["dtype"] != want:
            return f"returned {value['dtype']} where {want} was expected (keep the input's dtype)"
        problem = values_close(value["out"], out, case)
        if problem:
            return problem
        for i, (mine, ref) in enumerate(zip(value["grads"], grads, strict=True)):
            if mine is None:
                return f"gives no gradient for `{names[wrt[i]]}` (is it differentiable?)"
            problem = gradient_close(mine, ref, case)
            if problem:
                return f"has the wrong gradient for `{names[wrt[i]]}` ({problem})"
        return None

    return judge


def vjp_probe(fn: str, args: Sequence[Any], wrt: Sequence[int], cotangent: torch.Tensor, *tag: str):
    case = Case(tuple(args), key=(*tag, cotangent))
    return Probe(case, [request(fn, *args, mode="vjp", wrt=list(wrt), cotangent=cotangent)])


def gradient_close(mine: Any, ref: Any, case: Case) -> str | None:
    """A gradient against the reference's (float64): to 10⁻⁸ of its largest entry, or 10⁻³ when
    it was computed in single precision (a float32 input, or a float32 parameter)."""
    single_precision = np.asarray(mine).dtype in (np.float32, np.complex64)
    return close(1e-3 if single_precision else 1e-8, 1e-3, dtypes=False)(mine, ref, case)


def contract_probes(
    fn_name: str,
    reference: Callable[..., torch.Tensor],
    make: Callable[[np.random.Generator, bool], tuple[Any, ...]],
    wrt: Sequence[int],
) -> Callable[[np.random.Generator], list[Probe]]:
    """A float64 and a float32 ``vjp`` probe of ``fn_name`` on ``make(rng, single)``'s args."""

    def probes(rng: np.random.Generator) -> list[Probe]:
        out = []
        for single_precision in (False, True):
            args = make(rng, single_precision)
            expected = reference64(reference)(*args)
            if np.iscomplexobj(expected):
                cot = complex_normal(rng, *expected.shape)
            else:
                cot = torch.tensor(rng.normal(size=tuple(expected.shape)), dtype=F64)
            tag = ("float32",) if single_precision else ()
            out.append(vjp_probe(fn_name, args, wrt, cot, *tag))
        return out

    return probes


def _f32(args: Sequence[Any], single_precision: bool) -> tuple[Any, ...]:
    if not single_precision:
        return tuple(args)
    return tuple(
        a.float() if isinstance(a, torch.Tensor) and a.is_floating_point() else a for a in args
    )


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
    cases.append(single(Case((volume(rng, 10), rotations(rng, 2)))))
    return cases


def _mirrored_images(volume: torch.Tensor, R: torch.Tensor, **_: Any) -> list[torch.Tensor]:
    ref = reference64(P.project_real_space)
    return [ref(volume, MX @ _up(R)), ref(volume, MY @ _up(R)), np.swapaxes(ref(volume, R), -1, -2)]


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


def exact_images(volume: torch.Tensor, R: torch.Tensor, *rest: Any, **_: Any) -> torch.Tensor:
    """The oracle's exact projections of the blobs the case was built from (the blobs are the
    same function of D whichever hand: the hand is read off the volume itself)."""
    D = volume.shape[0]
    right, _ = P.gaussian_blobs(D, sigma=1.5)
    mirror = not torch.allclose(_up(volume), right)
    _, images = P.gaussian_blobs(D, _up(R), sigma=1.5, mirror=mirror)
    assert images is not None
    return as_numpy(images)


def exact_images_transposed_rotation(volume, R, *rest, **_):
    return exact_images(volume, _up(R).mT)


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
            close(),
            weight=3.0,
            diagnose=close(1e-7, 1e-3),
            mistakes=[
                Mistake(
                    R_TRANSPOSED,
                    "Your images are those of the rotation Rᵀ: rotating the object by R means that "
                    "the image-frame point p shows the volume at Rᵀ p — `p @ R` for rows of points.",
                    lambda V, R, **_: reference64(P.project_real_space)(V, _up(R).mT),
                ),
                Mistake(
                    MIRRORED,
                    "Your images are those of the mirror-image volume (a coordinate flipped, or the "
                    "image indexed [x, y] instead of [y, x]): a reconstruction from them would have "
                    "the wrong hand.",
                    _mirrored_images,
                    compare=any_close(),
                ),
                Mistake(
                    AXES,
                    "Your sample coordinates are in the wrong order: the volume is indexed [z, y, x] "
                    "but grid_sample's grid holds (x, y, z).",
                    lambda V, R, **_: [
                        reference64(P.project_real_space)(_up(V).permute(2, 1, 0), R),
                        reference64(P.project_real_space)(V, J @ _up(R)),
                    ],
                    compare=any_close(),
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
                lambda rng, s: _f32((volume(rng, 9), rotations(rng, 2)), s),
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
    cases.append(single(Case((volume(rng, 6), 2.0), {"sinc2": True})))  # N = 12
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
        compare=any_close(),
    ),
    Mistake(
        OFFSET,
        "Your padding puts the volume's centre D // 2 one voxel away from N // 2: pad with "
        "N // 2 − D // 2 zeros before (not (N − D) // 2) — a shift is a phase ramp across the "
        "whole transform.",
        _fv(parities_differ, {"offset": _low}, {"offset": _high}),
        compare=any_close(),
    ),
    Mistake(
        NO_SINC2,
        "With sinc2=True, divide the volume by sinc²(x/N) sinc²(y/N) sinc²(z/N) before the "
        "transform: trilinear interpolation in Fourier space multiplies the volume by it.",
        _fv(corrected, {"sinc2": False}),
        compare=any_close(),
    ),
    Mistake(
        SINC2_GRID,
        "Your sinc² correction uses the unpadded size D; the tent kernel lives on the padded "
        "grid: sinc²(x/N), N = max(D, round(pad·D)).",
        _fv(corrected, {"sinc_grid": "D"}),
        compare=any_close(),
    ),
    Mistake(
        NYQUIST,
        "For even N the Nyquist planes k = −N/2 (index 0 along z and y) and kx = N/2 have no "
        "Friedel partner: set them to zero.",
        _fv(even_n, {"nyquist": True}),
        compare=any_close(),
    ),
    Mistake(
        MIRRORED,
        "Your transform is the complex conjugate of the right one — the transform of the "
        "mirror-image (inverted) volume: the exponent is e^(−2πi k·r/N), torch.fft.rfftn's.",
        _fv(always, {"conj": True}),
        compare=any_close(),
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
            close(),
            weight=3.0,
            diagnose=close(1e-7, 1e-3),
            mistakes=FOURIER_VOLUME_MISTAKES,
        ),
        ProbeCheck(
            "dtype, device and gradient (float64 and float32)",
            contract_probes(
                "fourier_volume",
                P.fourier_volume,
                lambda rng, s: _f32((volume(rng, 6), 1.5), s),
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
    cases.append(single(Case((half_volume(rng, 11), rotations(rng, 2)))))
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
        lambda volume_ft, R, **_: EXTRACT(volume_ft, _up(R).mT),
    ),
    Mistake(
        MIRRORED,
        "Your slices are those of the mirror-image volume (a frequency axis reversed, or every "
        "sample conjugated): only the half with qx < 0 is read at −q and conjugated.",
        lambda volume_ft, R, **_: [
            EXTRACT(volume_ft, MX @ _up(R)),
            EXTRACT(volume_ft, MY @ _up(R)),
            EXTRACT(volume_ft, R).conj(),
        ],
        compare=any_close(),
    ),
    Mistake(
        AXES,
        "You read the point q = (x, y, z) as (z, y, x): the half volume is indexed "
        "F[kz + N // 2, ky + N // 2, kx].",
        lambda volume_ft, R, **_: EXTRACT(volume_ft, _up(R) @ J),
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
            close(),
            weight=4.0,
            diagnose=close(1e-7, 1e-3),
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
    cases.append(single(Case((complex_normal(rng, 2, 9, 5), rotations(rng, 2), 9))))
    return cases


INSERT = reference64(P.insert_central_slices)


def dot_test_probes(rng: np.random.Generator) -> list[Probe]:
    out = []
    for D, pad, B in ((8, 1.0, 2), (9, 1.0, 3), (6, 1.5, 2), (7, 1.0, 2)):
        ft = half_volume(rng, D, pad)
        N = ft.shape[0]
        cot = complex_normal(rng, B, N, N // 2 + 1)
        out.append(vjp_probe("extract_central_slices", (ft, rotations(rng, B)), (0,), cot))
    return out


def _inner(a: Any, b: Any) -> float:
    """Re⟨a, b⟩ = Re Σ conj(a) b."""
    return float(np.real(np.sum(np.conj(np.asarray(a)) * np.asarray(b))))


def dot_test(values: list[Any], probe: Probe) -> str | None:
    value = _vjp_value(values)
    ft, R = probe.case.args
    cot = probe.case.key[-1]
    out, (grad,) = value["out"], value["grads"]
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
    value = _vjp_value(values)
    if value["grads"][0] is None:
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
                    request("extract_central_slices", ft, R, mode="vjp", wrt=[1], cotangent=cot),
                    request("extract_central_slices", ft, R + EPS * U),
                    request("extract_central_slices", ft, R - EPS * U),
                ],
            )
        )
    return out


def _directional(values: list[Any], case: Case) -> tuple[float, float, float, float, float]:
    """(⟨∂L/∂R, U⟩ from the learner's backward, central, forward and backward finite
    differences of L = Re⟨c, f(R)⟩ along U, and the size ‖∂L/∂R‖‖U‖ + ε)."""
    value = _vjp_value(values)
    U, cot = case.key
    c = cot.numpy()
    grad = value["grads"][0]
    f0 = np.asarray(value["out"])
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
    value = _vjp_value(values)
    R = probe.case.args[1]
    grad = value["grads"][0]
    if grad is None:
        return "gives no gradient for the rotations"
    if np.shape(grad) != tuple(R.shape):
        return f"gives a rotation gradient of shape {np.shape(grad)}, not {tuple(R.shape)}"
    if not np.all(np.isfinite(grad)):
        return "gives NaN or infinity in the rotation gradient"
    analytic, central, forward, backward, size = _directional(values, probe.case)
    if gradient_matches(analytic, central, forward, backward, size):
        return None
    return (
        f"gives a rotation gradient that disagrees with finite differences of your forward: "
        f"⟨∂L/∂R, U⟩ = {analytic:.6g}, finite differences {central:.6g}"
    )


def no_rotation_gradient(values: list[Any], _answer: Any, case: Case) -> str | None:
    grad = _vjp_value(values)["grads"][0]
    return None if grad is None or not np.any(np.asarray(grad)) else "has one"


def transposed_rotation_gradient(values: list[Any], _answer: Any, case: Case) -> str | None:
    value = _vjp_value(values)
    grad = value["grads"][0]
    if grad is None:
        return "none"
    flipped = dict(value, grads=[np.swapaxes(np.asarray(grad), -1, -2)])
    numbers = _directional([flipped, *values[1:]], case)
    return None if gradient_matches(*numbers) else "no"


PART_D = part(
    "test_extract_backward",
    "Part D — the backward pass",
    [
        FunctionCheck(
            "insert_central_slices",
            insert_cases,
            INSERT,
            close(),
            weight=2.0,
            title="`insert_central_slices` (trilinear insertion)",
            diagnose=close(1e-7, 1e-3),
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
                    lambda S, R, D: INSERT(S, _up(R).mT, D),
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
    cases.append(single(Case((volume(rng, 9), rotations(rng, 2), 2.0))))
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
        compare=any_close(),
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
        compare=any_close(),
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
        compare=any_close(),
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
        compare=any_close(),
    ),
    Mistake(
        R_TRANSPOSED,
        "Your images are those of the rotation Rᵀ: the slice is spanned by the rows of R.",
        lambda volume, rotations, pad=2.0, *, sinc2=True: CLASSIC(
            volume, _up(rotations).mT, pad, sinc2=sinc2
        ),
    ),
    Mistake(
        MIRRORED,
        "Your images are those of the mirror-image volume (a conjugated transform, a reversed "
        "frequency axis or a transposed image): a reconstruction would have the wrong hand.",
        lambda volume, rotations, pad=2.0, *, sinc2=True: [
            as_numpy(project_variant(volume, rotations, pad, sinc2, conj=True)),
            CLASSIC(volume, MX @ _up(rotations), pad, sinc2=sinc2),
            np.swapaxes(CLASSIC(volume, rotations, pad, sinc2=sinc2), -1, -2),
        ],
        compare=any_close(),
    ),
    Mistake(
        SINC2_GRID,
        "Your sinc² correction uses the unpadded size D: it must be sinc²(x/N) on the padded grid.",
        _pv(corrected, {"sinc_grid": "D"}),
        compare=any_close(),
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
            close(),
            weight=3.0,
            diagnose=close(1e-7, 1e-3),
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
                    compare=close(1e-7, 1e-3, dtypes=False),
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
                lambda rng, s: _f32((volume(rng, 9), rotations(rng, 2), 2.0), s),
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
        if single_precision:
            init, R = init.float(), R.float()
        D = init if isinstance(init, int) else init.shape[0]
        cot = torch.tensor(rng.normal(size=(B, D, D)), dtype=F64)
        key = ("float32", cot) if single_precision else (cot,)
        case = Case((init, R), dict(settings), key=key)
        req = {
            "mode": "method",
            "cls": "Projector",
            "init": [encode_value(init)],
            "init_kwargs": {k: encode_value(v) for k, v in settings.items()},
            "method": "__call__",
            "args": [encode_value(R)],
            "kwargs": {},
            "cotangent": encode_value(cot),
        }
        out.append(Probe(case, [req]))
    return out


def projector_reference(init: Any, R: torch.Tensor, **settings: Any):
    """The reference's output and volume gradient for a probe (float64)."""
    D = init if isinstance(init, int) else init.shape[0]
    V = torch.zeros(D, D, D, dtype=F64) if isinstance(init, int) else _up(init)

    def render(v: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
        return classic(v, r, settings.get("pad", 2.0), sinc2=settings.get("sinc2", True))

    return render, V


def projector_judge(values: list[Any], probe: Probe) -> str | None:
    value = _vjp_value(values)
    case = probe.case
    init, R = case.args
    f32 = "float32" in tags(case)
    if value["device"] != "cpu":
        return f"renders on {value['device']!r} for inputs on the CPU (a hard-coded device?)"
    render, V = projector_reference(init, R, **case.kwargs)
    out, (grad,) = reference_vjp(render, (V, R), (0,), case.key[-1])
    want = "torch.float32" if f32 else "torch.float64"
    if value["dtype"] != want:
        return f"renders {value['dtype']} where {want} was expected (keep the volume's dtype)"
    problem = close(1e-9, 2e-4)(value["out"], out, case)
    if problem:
        return f"renders the wrong images for its settings ({problem})"
    grads = value["grads"]
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
    grads = _vjp_value(values)["grads"]
    return None if grads.get("volume") is None else "learnable"


def settings_ignored(values: list[Any], _answer: Any, case: Case) -> str | None:
    if not case.kwargs:
        return "no settings here"
    init, R = case.args
    V = torch.zeros(init, init, init, dtype=F64) if isinstance(init, int) else _up(init)
    default = classic(V, _up(R))
    return close(1e-7, 1e-3, dtypes=False)(_vjp_value(values)["out"], default, case)


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
    cases.append(single(Case((half_volume(rng, 9), rotations(rng, 2)), {"BLOCK": 16})))
    return cases


def tail_not_computed(value: Any, expected: Any, case: Case) -> str | None:
    """A launch grid of n // BLOCK programs: each slice right except its last n mod BLOCK
    samples."""
    arr, problem = _numbers(value)
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
            close(),
            diagnose=close(1e-7, 1e-3),
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
