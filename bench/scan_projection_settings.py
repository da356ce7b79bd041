"""The accuracy side of the frontier: ``project_fourier``'s settings against the analytic
oracles, beside torch-fourier-slice and FINUFFT, in one process (no timing; float64 volumes
and rotations, so that only the method's error shows). With the times of
``bench_projection.py`` it is what the defaults were chosen from (``bench/README.md``).

    PYTHONPATH=. .venv/bin/python bench/scan_projection_settings.py [--sizes 64 128]
        [--batch 64] [--kernels es kb] [--pads 1 1.25 1.5 2] [--widths 3 4 5 6 7 8]
        [--betas 1.0]

For every size: the four oracles of ``bench_projection.py`` (blobs σ = 2 px; atoms σ = 1, 1.5
and 1–2 px), ``B`` random rotations, the relative L2 error of every setting ``(kernel, pad,
width, β factor)`` (``β`` = factor × the paper's value, ``kernels.es_beta`` /
``kernels.kaiser_bessel_beta``), of the trilinear settings and of the peers; then the largest
ratio, over the oracles, to torch-fourier-slice pad 2's error and to FINUFFT eps 1e-3's (the
two accuracy targets of issue 17). Needs the ``bench`` extra for the peers.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import torch

from reference_impl import projection as P
from reference_impl.projection import kernels
from reference_impl.quaternion import quat_to_matrix, random_quat

try:  # the peers, as in bench_projection.py
    from bench_projection import finufft, finufft_projector, oracles, project_3d_to_2d
except ImportError:  # run as a module: python -m bench.scan_projection_settings
    from bench.bench_projection import finufft, finufft_projector, oracles, project_3d_to_2d

Projector = Callable[[torch.Tensor], torch.Tensor]


def settings(args: argparse.Namespace, R: torch.Tensor, D: int) -> list[tuple[str, Projector]]:
    out: list[tuple[str, Projector]] = [
        ("project_fourier (default)", lambda v: P.project_fourier(v, R))
    ]
    for name, kw in (
        ("trilinear pad 3.5 cutoff 0.2", {"pad": 3.5, "kernel": "trilinear", "cutoff": 0.2}),
        ("trilinear pad 1", {"pad": 1.0, "kernel": "trilinear"}),
        ("trilinear pad 2", {"pad": 2.0, "kernel": "trilinear"}),
    ):
        out.append((name, lambda v, kw=kw: P.project_fourier(v, R, **kw)))
    for k in args.kernels:
        for pad in args.pads:
            sigma = max(D, round(pad * D)) / D
            paper = kernels.es_beta if k == "es" else kernels.kaiser_bessel_beta
            for w in args.widths:
                for f in args.betas:
                    kw: dict[str, Any] = {"kernel": k, "pad": pad, "width": w}
                    label = f"{k} pad {pad} width {w}"
                    if f != 1.0:
                        kw["beta"] = f * paper(w, sigma)
                        label += f" β×{f}"
                    out.append((label, lambda v, kw=kw: P.project_fourier(v, R, **kw)))
    if project_3d_to_2d is not None:
        Rt = R.transpose(-1, -2).contiguous().float()
        out.append(("tfs pad 1", lambda v: project_3d_to_2d(v.float(), Rt, pad_factor=1.0)))
        out.append(("tfs pad 2", lambda v: project_3d_to_2d(v.float(), Rt, pad_factor=2.0)))
    if finufft is not None:
        for eps in (1e-2, 1e-3, 1e-4, 1e-6):
            out.append((f"finufft eps {eps:.0e}", finufft_projector(R, D, eps)))
        out.append(("finufft eps 1e-03 (cube)", finufft_projector(R, D, 1e-3, True)))
    return out


def scan(args: argparse.Namespace, D: int) -> None:
    R = torch.tensor(quat_to_matrix(random_quat(args.batch, rng=2024 + D)), dtype=torch.float64)
    truth = oracles(D, R)
    names = list(truth)
    rows = []
    for label, fn in settings(args, R, D):
        with torch.no_grad():
            errs = {}
            for o, (V, images) in truth.items():
                img = fn(V).double()
                errs[o] = float(torch.linalg.norm(img - images) / torch.linalg.norm(images))
        rows.append((label, errs))
        print(f"  D={D} {label}: " + ", ".join(f"{e:.2e}" for e in errs.values()), flush=True)
    ref = dict(rows)
    print(f"\n### D = {D}\n")
    print(
        "| setting | "
        + " | ".join(names)
        + " | worst ratio to tfs pad 2 | worst ratio to FINUFFT eps 1e-3 |"
    )
    print("|---|" + "---|" * len(names) + "---|---|")
    for label, errs in rows:
        cells = " | ".join(f"{errs[n]:.2e}" for n in names)
        ratios = []
        for peer in ("tfs pad 2", "finufft eps 1e-03"):
            if peer in ref:
                ratios.append(f"{max(errs[n] / ref[peer][n] for n in names):.2f}")
            else:
                ratios.append("—")
        print(f"| {label} | {cells} | {ratios[0]} | {ratios[1]} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[64, 128])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--kernels", nargs="+", default=["es", "kb"])
    ap.add_argument("--pads", type=float, nargs="+", default=[1.0, 1.25, 1.5, 2.0])
    ap.add_argument("--widths", type=int, nargs="+", default=[3, 4, 5, 6, 7, 8])
    ap.add_argument("--betas", type=float, nargs="+", default=[1.0])
    args = ap.parse_args()
    for D in args.sizes:
        scan(args, D)


if __name__ == "__main__":
    main()
