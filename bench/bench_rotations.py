"""Benchmark of ``reference_impl``'s rotation functions against scipy's ``Rotation`` and roma.

    PYTHONPATH=. python bench/bench_rotations.py [--n 1000000] [--n-means 100000] [--repeat 7]
                                                 [--only quat_rotate,so3_log,...] [--reuse-memory]

Every batched operation runs on ``--n`` inputs (10⁶) and every mean on ``--n-means`` rotations
(10⁵), all in float64, in one process. Method:

* Each library gets the same data in its own native form, built before timing: scipy ``Rotation``
  objects (scalar-first quaternions passed with ``scalar_first=True``), roma's torch float64 CPU
  tensors (quaternions reordered to roma's ``[x, y, z, w]``). Where a library has no array-level
  function, the timed call includes what its user must do (e.g. scipy ``Rotation.from_matrix``
  for an operation on matrices).
* A timing is the best of ``--repeat`` runs. The implementations of one operation are run
  interleaved (ours, scipy, roma, …, then again), so load from other processes on a shared machine
  falls on all of them alike; ratios are what is compared.
* roma runs with torch's default thread count (reported); it is also timed with one thread for
  a single-threaded comparison (NumPy's elementwise operations use one thread). The targets are
  against the faster peer as configured by default.
* Before timing, each peer's result is checked against ours (max abs difference, up to the sign
  of quaternions), so that like is compared with like.
* Every call returns a fresh output (72 MB for 10⁶ matrices), and first-touch page faults can
  cost as much as the arithmetic and vary with the machine's memory state. ``--reuse-memory``
  re-runs the script under glibc malloc settings that keep freed memory mapped, which times the
  computation alone (for every library alike).

Targets: every operation at least as fast as the faster peer (ratio ours/peer ≤ 1);
``quat_rotate`` within 1.5× of a plain ``einsum`` of precomputed matrices; ``geodesic_mean`` of
10⁵ rotations, converged to 1e-12, within 20× of scipy's ``Rotation.mean``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy
from scipy.spatial.transform import Rotation

from reference_impl import averaging, euler, quaternion, so3

try:
    import roma
    import torch
except ImportError:  # the peers come with the optional ``bench`` extra
    roma = None
    torch = None


@dataclass
class Case:
    name: str
    n: int
    ours: Callable[[], object]
    peers: dict[str, Callable[[], object]] = field(default_factory=dict)
    target: str = "≤ faster peer"
    limit: float | None = 1.0  # ratio ours/baseline that meets the target; None: no target
    baseline: str | None = None  # what the ratio is taken against (default: the faster peer)
    note: str = ""
    check: Callable[[], str] = lambda: ""


def xyzw(q: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(q[..., [1, 2, 3, 0]])


def wxyz(q: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(q[..., [3, 0, 1, 2]])


def as_np(x: object) -> np.ndarray:
    if torch is not None and isinstance(x, torch.Tensor):
        return x.numpy()
    if isinstance(x, Rotation):
        return x.as_matrix()
    return np.asarray(x)


# glibc settings for --reuse-memory: large blocks come from the heap and stay mapped after free.
REUSE_MEMORY_ENV = {
    "MALLOC_MMAP_THRESHOLD_": str(1 << 32),
    "MALLOC_TRIM_THRESHOLD_": str(1 << 36),
    "MALLOC_TOP_PAD_": str(1 << 30),
}


def max_diff(a: object, b: object, quat: bool = False) -> float:
    a, b = as_np(a), as_np(b)
    if quat:
        return float(np.minimum(np.abs(a - b).max(-1), np.abs(a + b).max(-1)).max())
    return float(np.abs(a - b).max())


def timeit(fns: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Best wall time (ms) of each function, the functions interleaved ``repeat`` times."""
    best = dict.fromkeys(fns, np.inf)
    for f in fns.values():  # warm-up: first-call costs, page faults of fresh outputs
        f()
    for _ in range(repeat):
        for name, f in fns.items():
            t0 = time.perf_counter()
            f()
            best[name] = min(best[name], time.perf_counter() - t0)
    return {k: v * 1e3 for k, v in best.items()}


def one_thread(f: Callable[[], object]) -> Callable[[], object]:
    """Run a torch function with one intra-op thread (the switch itself costs microseconds)."""

    def g() -> object:
        n = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return f()
        finally:
            torch.set_num_threads(n)

    return g


def build_cases(n: int, n_means: int, seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    p = quaternion.random_quat(n, rng)
    q = quaternion.random_quat(n, rng)
    v = rng.standard_normal((n, 3))
    w = rng.standard_normal((n, 3))
    ang = rng.uniform(-np.pi, np.pi, (n, 3))
    R1 = quaternion.quat_to_matrix(p)
    R2 = quaternion.quat_to_matrix(q)
    rp = Rotation.from_quat(p, scalar_first=True)
    rq = Rotation.from_quat(q, scalar_first=True)
    r1m = Rotation.from_matrix(R1)
    r2m = Rotation.from_matrix(R2)
    t = 0.3

    have_roma = roma is not None
    if have_roma:
        tp, tq = torch.from_numpy(xyzw(p)), torch.from_numpy(xyzw(q))
        tv, tw, tang = torch.from_numpy(v), torch.from_numpy(w), torch.from_numpy(ang)
        tR1, tR2 = torch.from_numpy(R1), torch.from_numpy(R2)
        tt = torch.tensor(t, dtype=torch.float64)

    def peers(scipy_fn=None, roma_fn=None) -> dict[str, Callable[[], object]]:
        out = {}
        if scipy_fn is not None:
            out["scipy"] = scipy_fn
        if have_roma and roma_fn is not None:
            out["roma"] = roma_fn
            out["roma 1 thread"] = one_thread(roma_fn)
        return out

    cases = [
        Case(
            "quat_multiply",
            n,
            lambda: quaternion.quat_multiply(p, q),
            peers(lambda: rp * rq, have_roma and (lambda: roma.quat_product(tp, tq))),
            check=lambda: check_quat(
                quaternion.quat_multiply(p, q),
                (rp * rq).as_quat(scalar_first=True),
                have_roma and wxyz(roma.quat_product(tp, tq).numpy()),
            ),
        ),
        Case(
            "quat_rotate",
            n,
            lambda: quaternion.quat_rotate(p, v),
            peers(
                lambda: rp.apply(v),
                have_roma and (lambda: roma.quat_action(tp, tv, is_normalized=True)),
            ),
            check=lambda: check_plain(
                quaternion.quat_rotate(p, v),
                rp.apply(v),
                have_roma and roma.quat_action(tp, tv, is_normalized=True),
            ),
        ),
        Case(
            "quat_rotate vs einsum",
            n,
            lambda: quaternion.quat_rotate(p, v),
            {"einsum": lambda: np.einsum("...ij,...j->...i", R1, v)},
            target="≤ 1.5× einsum",
            limit=1.5,
            baseline="einsum",
            note="baseline: np.einsum('...ij,...j->...i', R, v) on precomputed matrices",
            check=lambda: "einsum {:.0e}".format(
                max_diff(quaternion.quat_rotate(p, v), np.einsum("...ij,...j->...i", R1, v))
            ),
        ),
        Case(
            "quat_to_matrix",
            n,
            lambda: quaternion.quat_to_matrix(p),
            peers(lambda: rp.as_matrix(), have_roma and (lambda: roma.unitquat_to_rotmat(tp))),
            check=lambda: check_plain(
                quaternion.quat_to_matrix(p),
                rp.as_matrix(),
                have_roma and roma.unitquat_to_rotmat(tp),
            ),
        ),
        Case(
            "matrix_to_quat",
            n,
            lambda: quaternion.matrix_to_quat(R1),
            peers(
                lambda: Rotation.from_matrix(R1),
                have_roma and (lambda: roma.rotmat_to_unitquat(tR1)),
            ),
            check=lambda: check_quat(
                quaternion.matrix_to_quat(R1),
                Rotation.from_matrix(R1).as_quat(scalar_first=True),
                have_roma and wxyz(roma.rotmat_to_unitquat(tR1).numpy()),
            ),
        ),
        Case(
            "quat_slerp",
            n,
            lambda: quaternion.quat_slerp(p, q, t),
            peers(
                lambda: rp * (rp.inv() * rq) ** t,
                have_roma and (lambda: roma.unitquat_slerp(tp, tq, tt)),
            ),
            note="t = 0.3 for every pair (roma interpolates all pairs at shared steps)",
            check=lambda: check_quat(
                quaternion.quat_slerp(p, q, t),
                (rp * (rp.inv() * rq) ** t).as_quat(scalar_first=True),
                have_roma and wxyz(roma.unitquat_slerp(tp, tq, tt).numpy()),
            ),
        ),
        Case(
            "so3_exp",
            n,
            lambda: so3.so3_exp(w),
            peers(
                lambda: Rotation.from_rotvec(w).as_matrix(),
                have_roma and (lambda: roma.rotvec_to_rotmat(tw)),
            ),
            check=lambda: check_plain(
                so3.so3_exp(w),
                Rotation.from_rotvec(w).as_matrix(),
                have_roma and roma.rotvec_to_rotmat(tw),
            ),
        ),
        Case(
            "so3_log",
            n,
            lambda: so3.so3_log(R1),
            peers(
                lambda: Rotation.from_matrix(R1).as_rotvec(),
                have_roma and (lambda: roma.rotmat_to_rotvec(tR1)),
            ),
            check=lambda: check_plain(
                so3.so3_log(R1),
                Rotation.from_matrix(R1).as_rotvec(),
                have_roma and roma.rotmat_to_rotvec(tR1),
            ),
        ),
        Case(
            "geodesic_distance",
            n,
            lambda: so3.geodesic_distance(R1, R2),
            peers(
                lambda: (r1m.inv() * r2m).magnitude(),
                have_roma and (lambda: roma.rotmat_geodesic_distance(tR1, tR2)),
            ),
            note="roma: 2·asin(‖R₁ − R₂‖/2√2), which loses half the digits near π",
            check=lambda: check_plain(
                so3.geodesic_distance(R1, R2),
                (r1m.inv() * r2m).magnitude(),
                have_roma and roma.rotmat_geodesic_distance(tR1, tR2),
            ),
        ),
        Case(
            "chordal_distance",
            n,
            lambda: so3.chordal_distance(R1, R2),
            peers(None, have_roma and (lambda: torch.linalg.matrix_norm(tR1 - tR2))),
            note="no scipy/roma function; peer: torch.linalg.matrix_norm(R₁ − R₂)",
            check=lambda: check_plain(
                so3.chordal_distance(R1, R2),
                None,
                have_roma and torch.linalg.matrix_norm(tR1 - tR2),
            ),
        ),
        Case(
            "quaternion_distance",
            n,
            lambda: so3.quaternion_distance(p, q),
            peers(
                None,
                have_roma
                and (
                    lambda: torch.minimum(
                        torch.linalg.vector_norm(tp - tq, dim=-1),
                        torch.linalg.vector_norm(tp + tq, dim=-1),
                    )
                ),
            ),
            note="no scipy/roma function; peer: torch min(‖q₁ − q₂‖, ‖q₁ + q₂‖)",
            check=lambda: check_plain(
                so3.quaternion_distance(p, q),
                None,
                have_roma
                and torch.minimum(
                    torch.linalg.vector_norm(tp - tq, dim=-1),
                    torch.linalg.vector_norm(tp + tq, dim=-1),
                ),
            ),
        ),
        Case(
            "euler_to_matrix",
            n,
            lambda: euler.euler_to_matrix(ang, "ZYZ"),
            peers(
                lambda: Rotation.from_euler("ZYZ", ang).as_matrix(),
                have_roma and (lambda: roma.euler_to_rotmat("ZYZ", tang)),
            ),
            note="intrinsic ZYZ",
            check=lambda: check_plain(
                euler.euler_to_matrix(ang, "ZYZ"),
                Rotation.from_euler("ZYZ", ang).as_matrix(),
                have_roma and roma.euler_to_rotmat("ZYZ", tang),
            ),
        ),
        Case(
            "matrix_to_euler",
            n,
            lambda: euler.matrix_to_euler(R1, "ZYZ"),
            peers(
                lambda: Rotation.from_matrix(R1).as_euler("ZYZ"),
                have_roma and (lambda: roma.rotmat_to_euler("ZYZ", tR1)),
            ),
            note="intrinsic ZYZ",
            check=lambda: check_euler(
                euler.matrix_to_euler(R1, "ZYZ"),
                Rotation.from_matrix(R1).as_euler("ZYZ"),
                have_roma and roma.rotmat_to_euler("ZYZ", tR1),
            ),
        ),
    ]
    return cases + mean_cases(n_means, rng, have_roma)


def mean_cases(n: int, rng: np.random.Generator, have_roma: bool) -> list[Case]:
    """Sets of n rotations spread around a random centre by rotation vectors ~ N(0, 0.2² I)."""
    centre = quaternion.random_quat(None, rng)
    qs = quaternion.quat_multiply(
        centre, quaternion.rotvec_to_quat(0.2 * rng.standard_normal((n, 3)))
    )
    qs *= np.where(rng.random((n, 1)) < 0.5, -1.0, 1.0)  # both signs, as data come
    Rs = quaternion.quat_to_matrix(qs)
    rs = Rotation.from_quat(qs, scalar_first=True)
    scipy_mean = {"scipy": lambda: rs.mean()}
    if have_roma:
        tRs = torch.from_numpy(Rs)

    def residual(R: np.ndarray, p: int) -> float:
        """‖Σ vᵢ/‖vᵢ‖^(2−p)‖/N with vᵢ = log(R̄ᵀRᵢ) by scipy: the gradient at the answer."""
        v = Rotation.from_matrix(R.T @ Rs).as_rotvec()
        if p == 1:
            v = v / np.linalg.norm(v, axis=-1, keepdims=True)
        return float(np.linalg.norm(v.mean(axis=0)))

    chordal_peers = dict(scipy_mean)
    if have_roma:
        chordal_peers["roma"] = lambda: roma.special_procrustes(tRs.sum(dim=0))
        chordal_peers["roma 1 thread"] = one_thread(chordal_peers["roma"])
    return [
        Case(
            "geodesic_mean",
            n,
            lambda: averaging.geodesic_mean(Rs),
            scipy_mean,
            target="≤ 20× scipy mean",
            limit=20.0,
            baseline="scipy",
            note="converged to 1e-12; peer: scipy Rotation.mean (the chordal mean)",
            check=lambda: f"‖mean log(R̄ᵀRᵢ)‖ = {residual(averaging.geodesic_mean(Rs), 2):.1e}",
        ),
        Case(
            "chordal_mean",
            n,
            lambda: averaging.chordal_mean(Rs),
            chordal_peers,
            note="roma: special_procrustes(Σ Rᵢ)",
            check=lambda: check_plain(
                averaging.chordal_mean(Rs),
                rs.mean().as_matrix(),
                have_roma and roma.special_procrustes(tRs.sum(dim=0)),
            ),
        ),
        Case(
            "quaternion_mean",
            n,
            lambda: averaging.quaternion_mean(qs),
            scipy_mean,
            note="peer: scipy Rotation.mean (eigenvector; roma has none)",
            check=lambda: (
                "vs scipy mean (a different mean): "
                + f"{max_diff(quaternion.quat_to_matrix(averaging.quaternion_mean(qs)), rs.mean()):.1e}"
            ),
        ),
        Case(
            "geodesic_median",
            n,
            lambda: averaging.geodesic_median(Rs),
            scipy_mean,
            target="(no peer)",
            limit=None,
            baseline="scipy",
            note="Weiszfeld, to 1e-12; ratio to scipy Rotation.mean for scale",
            check=lambda: f"‖mean vᵢ/‖vᵢ‖‖ = {residual(averaging.geodesic_median(Rs), 1):.1e}",
        ),
    ]


def check_plain(ours: np.ndarray, scipy_out: object, roma_out: object) -> str:
    parts = []
    if scipy_out is not None and scipy_out is not False:
        parts.append(f"scipy {max_diff(ours, scipy_out):.0e}")
    if roma_out is not None and roma_out is not False:
        parts.append(f"roma {max_diff(ours, roma_out):.0e}")
    return ", ".join(parts)


def check_quat(ours: np.ndarray, scipy_out: object, roma_out: object) -> str:
    parts = [f"scipy {max_diff(ours, scipy_out, quat=True):.0e}"]
    if roma_out is not None and roma_out is not False:
        parts.append(f"roma {max_diff(ours, roma_out, quat=True):.0e}")
    return ", ".join(parts)


def check_euler(ours: np.ndarray, scipy_out: np.ndarray, roma_out: object) -> str:
    def mat(a: object) -> np.ndarray:
        return euler.euler_to_matrix(as_np(a), "ZYZ")

    parts = [f"scipy {max_diff(mat(ours), mat(scipy_out)):.0e}"]
    if roma_out is not None and roma_out is not False:
        parts.append(f"roma {max_diff(mat(ours), mat(roma_out)):.0e}")
    return ", ".join(parts) + " (as matrices)"


def fmt(ms: float | None) -> str:
    if ms is None:
        return "—"
    return f"{ms:.1f}" if ms >= 1 else f"{ms:.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000, help="inputs per batched operation")
    ap.add_argument("--n-means", type=int, default=100_000, help="rotations per mean")
    ap.add_argument("--repeat", type=int, default=7, help="timed runs per implementation")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", default="", help="comma-separated operation names")
    ap.add_argument(
        "--reuse-memory",
        action="store_true",
        help="run under glibc malloc settings that keep freed memory mapped, so that fresh "
        "outputs do not page-fault: times the computation alone, for every library alike",
    )
    args = ap.parse_args()
    if args.reuse_memory and "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        env = dict(os.environ, **REUSE_MEMORY_ENV)
        os.execve(sys.executable, [sys.executable, *sys.argv], env)

    cases = build_cases(args.n, args.n_means, args.seed)
    if args.only:
        keep = set(args.only.split(","))
        cases = [c for c in cases if c.name in keep or c.name.split()[0] in keep]

    mode = "memory reused (no page faults)" if args.reuse_memory else "default allocation"
    print(f"# Rotation benchmark ({time.strftime('%Y-%m-%d %H:%M')}, {mode})")
    print(
        f"numpy {np.__version__}, scipy {scipy.__version__}, "
        + (
            f"torch {torch.__version__}, roma {roma.__version__}, "
            if roma
            else "roma not installed, "
        )
        + f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), "
        + (f"torch threads {torch.get_num_threads()}" if torch else "")
    )
    print(
        f"best of {args.repeat} interleaved runs; float64; times in ms; ratio = ours / baseline, "
        "the baseline being the faster of scipy and roma (default threads) unless the target "
        "names another\n"
    )
    header = (
        "| operation | n | ours | scipy | roma | roma 1 thread | baseline | target | ratio | met |"
    )
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    notes, checks = [], []
    for case in cases:
        times = timeit({"ours": case.ours, **case.peers}, args.repeat)
        if case.baseline is not None:
            base = times[case.baseline]
        else:
            peer_times = [v for k, v in times.items() if k in ("scipy", "roma")]
            base = min(peer_times) if peer_times else None
        ratio = times["ours"] / base if base else None
        met = (
            "—" if case.limit is None or ratio is None else ("yes" if ratio <= case.limit else "NO")
        )
        print(
            f"| {case.name} | {case.n:.0e} | {fmt(times['ours'])} | {fmt(times.get('scipy'))} | "
            f"{fmt(times.get('roma'))} | {fmt(times.get('roma 1 thread'))} | {fmt(base)} | "
            f"{case.target} | {'—' if ratio is None else f'{ratio:.2f}'} | {met} |",
            flush=True,
        )
        if case.note:
            notes.append(f"* {case.name}: {case.note}")
        checks.append(f"* {case.name}: {case.check()}")
    print("\nNotes:\n" + "\n".join(notes))
    print("\nAgreement with the peers (max abs difference; quaternions up to sign):")
    print("\n".join(checks))


if __name__ == "__main__":
    main()
