"""The speed/accuracy frontier of ``project_fourier``'s two-level scheme: for a few
``(pad, cutoff)`` settings, the relative L2 error against the analytic Gaussian-blob oracle and
the forward + backward time against torch-fourier-slice at ``pad_factor=1``, in one process
(B = 64, float32, best of 7). Needs the ``bench`` extra.

    PYTHONPATH=. .venv/bin/python bench/scan_projection_settings.py
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
from torch_fourier_slice import project_3d_to_2d

from reference_impl import projection as P
from reference_impl.quaternion import quat_to_matrix, random_quat

B = 64
SETTINGS = [(3.5, 0.2), (3.0, 0.2), (3.0, 0.15), (2.5, 0.2), (2.5, 0.15), (2.0, 0.2)]


def best_ms(f: Callable[[], None], n: int = 7) -> float:
    f()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times) * 1e3


def scan_size(D: int) -> None:
    R64 = torch.tensor(quat_to_matrix(random_quat(B, rng=2024 + D)), dtype=torch.float64)
    V64, images = P.gaussian_blobs(D, R64)
    assert images is not None
    R, V = R64.float(), V64.float()
    Rt = R.transpose(-1, -2).contiguous()  # torch-fourier-slice samples V̂(R k)
    v = V.clone().requires_grad_(True)

    def fwd_bwd(fn: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[], None]:
        def run() -> None:
            v.grad = None
            fn(v).square().sum().backward()

        return run

    base = best_ms(fwd_bwd(lambda x: project_3d_to_2d(x, Rt, pad_factor=1.0)))
    print(f"| {D} | tfs pad 1 | | {base:.1f} | 1.00 |")
    for pad, cutoff in SETTINGS:
        with torch.no_grad():
            img = P.project_fourier(V, R, pad=pad, cutoff=cutoff).double()
        err = float(torch.linalg.norm(img - images) / torch.linalg.norm(images))
        t = best_ms(fwd_bwd(lambda x, p=pad, c=cutoff: P.project_fourier(x, R, pad=p, cutoff=c)))
        print(f"| {D} | {pad}, {cutoff} | {err:.2e} | {t:.1f} | {base / t:.2f} |", flush=True)


def main() -> None:
    print("| D | pad, cutoff | error vs analytic | fwd+bwd ms | speed-up vs tfs pad 1 |")
    print("|---|---|---|---|---|")
    for D in (64, 128):
        scan_size(D)


if __name__ == "__main__":
    main()
