"""Input checks shared by the projection package (internal): shapes and dtypes of volumes,
rotations and half Fourier volumes, and the dtype every operation computes in."""

from __future__ import annotations

import functools

import torch


def real_dtype(*tensors: torch.Tensor) -> torch.dtype:
    """The promoted real dtype of ``tensors`` (float32 or float64; complex maps to its real
    part's dtype); anything else is refused."""
    for t in tensors:
        if not (t.is_floating_point() or t.is_complex()):
            raise TypeError(f"expected float32 or float64 tensors; got {t.dtype}")
    dt = functools.reduce(torch.promote_types, [t.dtype for t in tensors])
    if dt.is_complex:
        dt = torch.float64 if dt == torch.complex128 else torch.float32
    if dt not in (torch.float32, torch.float64):
        raise TypeError(f"expected float32 or float64 tensors; got {dt}")
    return dt


def complex_of(dt: torch.dtype) -> torch.dtype:
    """complex64 for float32, complex128 for float64."""
    return torch.complex128 if dt == torch.float64 else torch.complex64


def check_rotations(rotations: torch.Tensor) -> tuple[torch.Tensor, tuple[int, ...]]:
    """``(..., 3, 3)`` → ``(B, 3, 3)`` and the leading batch shape."""
    if not isinstance(rotations, torch.Tensor):
        raise TypeError("rotations must be a torch.Tensor of shape (..., 3, 3)")
    if rotations.ndim < 2 or rotations.shape[-2:] != (3, 3):
        raise ValueError(f"rotations must have shape (..., 3, 3); got {tuple(rotations.shape)}")
    batch = tuple(rotations.shape[:-2])
    return rotations.reshape(-1, 3, 3), batch


def check_volume(volume: torch.Tensor) -> int:
    """The size ``D`` of a real ``(D, D, D)`` volume."""
    if not isinstance(volume, torch.Tensor):
        raise TypeError("volume must be a torch.Tensor of shape (D, D, D)")
    if volume.ndim != 3 or len(set(volume.shape)) != 1:
        raise ValueError(f"volume must have shape (D, D, D); got {tuple(volume.shape)}")
    if volume.is_complex():
        raise TypeError("volume must be real (float32 or float64)")
    D = volume.shape[0]
    if D < 2:
        raise ValueError("volume must be at least 2 voxels wide")
    return D


def check_half(volume_ft: torch.Tensor) -> int:
    """The size ``N`` of a complex centred half Fourier volume ``(N, N, N // 2 + 1)``."""
    if volume_ft.ndim != 3 or not volume_ft.is_complex():
        raise ValueError("volume_ft must be a complex (N, N, N // 2 + 1) tensor")
    N = volume_ft.shape[0]
    if volume_ft.shape != (N, N, N // 2 + 1):
        raise ValueError(f"volume_ft must have shape (N, N, N // 2 + 1); got {volume_ft.shape}")
    return N
