"""Benchmark of the projection layer against torch-fourier-slice, in one process.

    PYTHONPATH=. .venv/bin/python bench/bench_projection.py [--sizes 64 128] [--batch 64]
        [--repeats 15] [--threads 2] [--device cpu|cuda]

For every size ``D`` and ``B`` random rotations: ``project_fourier`` (default settings),
``project_real_space`` and torch-fourier-slice's ``project_3d_to_2d`` at ``pad_factor`` 1 and 2
(fed ``Rᵀ``: it samples ``V̂(R k)``; it needs ``torch-ctf`` installed beside it), float32,
forward and forward + backward (gradient for the volume). Repeats are interleaved across the
methods, so that a busy machine slows all of them alike; the table gives the median and the
minimum. Each method's relative L2 error is measured against the analytic projections of
``gaussian_blobs`` (σ = 2 px, spread over D/5). With ``--device cuda`` the tests' figures are
taken on the GPU, and the slice sampler's effective bandwidth is compared with a device copy.
Writes nothing.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch

from reference_impl import projection as P
from reference_impl.projection import _grids, extraction, transform
from reference_impl.quaternion import quat_to_matrix, random_quat

try:
    from torch_fourier_slice import project_3d_to_2d
except Exception as exc:  # pragma: no cover - optional peer
    project_3d_to_2d = None
    TFS_ERROR = repr(exc)
else:
    TFS_ERROR = ""


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def timed(fn: Callable[[], object], device: str) -> float:
    sync(device)
    t = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - t


def methods(R: torch.Tensor) -> dict[str, Callable[[torch.Tensor], torch.Tensor]]:
    Rt = R.transpose(-1, -2).contiguous()
    out: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
        "project_fourier (default)": lambda v: P.project_fourier(v, R),
        "project_fourier pad=1, cutoff=None": lambda v: P.project_fourier(v, R, pad=1, cutoff=None),
        "project_real_space": lambda v: P.project_real_space(v, R),
    }
    if project_3d_to_2d is not None:
        out["tfs pad 1"] = lambda v: project_3d_to_2d(v, Rt, pad_factor=1.0)
        out["tfs pad 2"] = lambda v: project_3d_to_2d(v, Rt, pad_factor=2.0)
    return out


def bench_size(D: int, B: int, repeats: int, device: str, budget: float) -> list[dict[str, object]]:
    R64 = torch.tensor(quat_to_matrix(random_quat(B, rng=2024 + D)), dtype=torch.float64)
    V64, images = P.gaussian_blobs(D, R64)
    assert images is not None
    R = R64.float().to(device)
    V = V64.float().to(device)
    rows = []
    fns = methods(R)
    samples: dict[tuple[str, str], list[float]] = {}
    jobs = {}
    for name, fn in fns.items():
        v = V.clone().requires_grad_(True)

        def fwd(fn: Callable[[torch.Tensor], torch.Tensor] = fn) -> object:
            with torch.no_grad():
                return fn(V)

        def fwd_bwd(fn: Callable[[torch.Tensor], torch.Tensor] = fn, v: torch.Tensor = v) -> None:
            v.grad = None
            fn(v).square().sum().backward()

        with torch.no_grad():
            err = float(
                torch.linalg.norm(fn(V).double().cpu() - images) / torch.linalg.norm(images)
            )
        jobs[name] = (fwd, fwd_bwd, err)
        for mode, f in (("fwd", fwd), ("fwd+bwd", fwd_bwd)):
            first = timed(f, device)  # warm-up (caches, plans), also sizes the repeats
            samples[(name, mode)] = [first] if first > budget else []
    for _ in range(repeats):  # interleaved
        for name, (fwd, fwd_bwd, _) in jobs.items():
            for mode, f in (("fwd", fwd), ("fwd+bwd", fwd_bwd)):
                s = samples[(name, mode)]
                if s and sum(s) > budget:
                    continue
                s.append(timed(f, device))
    for name, (_, _, err) in jobs.items():
        row: dict[str, object] = {"D": D, "method": name, "error": err}
        for mode in ("fwd", "fwd+bwd"):
            s = samples[(name, mode)]
            row[mode] = (statistics.median(s) * 1e3, min(s) * 1e3, len(s))
        rows.append(row)
    return rows


def bandwidth_report(D: int, B: int) -> str:  # pragma: no cover - needs a GPU
    """Slice-sampler bandwidth on the GPU, as a fraction of a device copy's."""
    x = torch.empty(1 << 28, dtype=torch.uint8, device="cuda")
    y = torch.empty_like(x)
    copy = min(timed(lambda: y.copy_(x), "cuda") for _ in range(20))
    copy_bw = 2 * x.numel() / copy
    R = torch.tensor(quat_to_matrix(random_quat(B, rng=1)), dtype=torch.float32, device="cuda")
    V = torch.randn(D, D, D, device="cuda")
    grid = transform.fourier_grid(V, D, (D - 1) // 2, True)
    freqs = _grids.slice_freqs(D, torch.float32, torch.device("cuda"))
    t = min(timed(lambda: extraction.sample(grid, R, freqs), "cuda") for _ in range(20))
    n = B * freqs.shape[0]
    moved = n * (8 * 2 * 4 + 2 * 4)  # eight complex corners read, one complex sample written
    return (
        f"D={D}, B={B}: copy {copy_bw / 1e9:.0f} GB/s; slice sampler {moved / t / 1e9:.0f} GB/s "
        f"({moved / t / copy_bw:.0%} of the copy; {t * 1e3:.3f} ms for {n} samples)"
    )


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[64, 128])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--budget", type=float, default=20.0, help="seconds per cell at most")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {cpu_name()}")
    print(f"device {args.device}, B = {args.batch}, float32; repeats interleaved")
    if TFS_ERROR:
        print(f"torch-fourier-slice unavailable: {TFS_ERROR}")
    print(f"load average before: {os.getloadavg()}")
    rows = []
    for D in args.sizes:
        rows += bench_size(D, args.batch, args.repeats, args.device, args.budget)
    print(f"load average after: {os.getloadavg()}\n")
    print(
        "| D | method | forward ms (median / min) | forward+backward ms (median / min) "
        "| f+b speed-up vs tfs pad 1 (median / min) | error vs analytic |"
    )
    print("|---|---|---|---|---|---|")
    for D in args.sizes:
        sel = [r for r in rows if r["D"] == D]
        ref = next((r for r in sel if r["method"] == "tfs pad 1"), None)
        for r in sel:
            f, fb = r["fwd"], r["fwd+bwd"]
            assert isinstance(f, tuple) and isinstance(fb, tuple)
            ratio = "—"
            if ref is not None:
                rfb = ref["fwd+bwd"]
                assert isinstance(rfb, tuple)
                ratio = f"{rfb[0] / fb[0]:.2f} / {rfb[1] / fb[1]:.2f}"
            print(
                f"| {D} | {r['method']} | {f[0]:.1f} / {f[1]:.1f} | {fb[0]:.1f} / {fb[1]:.1f} "
                f"| {ratio} | {float(np.float64(r['error'])):.2e} |"
            )
    if args.device == "cuda":
        print()
        for D in args.sizes:
            print(bandwidth_report(D, args.batch))


if __name__ == "__main__":
    main()
