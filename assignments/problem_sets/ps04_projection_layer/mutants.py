"""Problem set 4's mutation bank: wrong implementations with one known mistake each.

Every mutant is the correct solution with one function (or class) redefined at the end of its
cell. Graded in one batch with the solution and the blank release, each must lose points in the
part(s) its mistake breaks and keep full marks everywhere else, and the feedback must name the
mistake. The parts build on one another as the problem set teaches — ``project_fourier`` (E) on
``fourier_volume`` (B) and ``extract_central_slices`` (C), ``Projector`` (F) on
``project_fourier`` and on the backward pass (D) for its volume's gradient — so a mistake in an
early function also costs the parts built on it, where the hidden inputs expose it. The backward
part (D) judges the backward against the learner's *own* forward (dot-product test, finite
differences), so a forward mistake made consistently in forward and backward costs C, not D.
"""

from __future__ import annotations

from collections.abc import Mapping

from autograder.authoring import Mutant

A, B, C, D = (
    "test_project_real_space",
    "test_fourier_volume",
    "test_extract_central_slices",
    "test_extract_backward",
)
E, F, G = "test_project_fourier", "test_projector", "test_triton_kernel"

_FOURIER_VOLUME = """
def fourier_volume(volume, pad=1.0, *, sinc2=False):
    D = volume.shape[0]
    N = max(D, round(pad * D))
    if sinc2 and SINC2:
        r = (torch.arange(D, dtype=volume.dtype) - D // 2) / N
        s = torch.sinc(r) ** 2
        volume = volume / (s[:, None, None] * s[None, :, None] * s[None, None, :])
    before = BEFORE
    padded = F.pad(volume, (before, N - D - before) * 3)
    ft = torch.fft.rfftn(PRE(padded), dim=(0, 1, 2))
    ft = POST(ft, dim=(0, 1))
    if N % 2 == 0:
        keep = torch.ones(N, N, N // 2 + 1, dtype=torch.bool)
        keep[0], keep[:, 0], keep[:, :, N // 2] = False, False, False
        ft = ft * keep
    return ft
"""


def fourier_volume(
    sinc2: str = "True",
    before: str = "N // 2 - D // 2",
    pre: str = "torch.fft.ifftshift",
    post: str = "torch.fft.fftshift",
) -> str:
    return (
        _FOURIER_VOLUME.replace("SINC2", sinc2)
        .replace("BEFORE", before)
        .replace("PRE", pre)
        .replace("POST", post)
    )


_PROJECT = """
def project_fourier(volume, rotations, pad=2.0, *, sinc2=True):
    D = volume.shape[0]
    N = max(D, round(pad * D))
    ft = fourier_volume(volume, pad, sinc2=SINC2)
    slices = extract_central_slices(ft, rotations)
    if N % 2 == 0 and NYQUIST:
        keep = torch.ones(N, N // 2 + 1, dtype=torch.bool)
        keep[0], keep[:, N // 2] = False, False
        slices = slices * keep
    images = torch.fft.irfftn(torch.fft.ifftshift(slices, dim=-2), s=(N, N), dim=(-2, -1))
    images = torch.fft.fftshift(images, dim=(-2, -1))
    start = START
    return images[..., start : start + D, start : start + D]
"""


def project_fourier(
    sinc2: str = "sinc2", nyquist: str = "True", start: str = "N // 2 - D // 2"
) -> str:
    return _PROJECT.replace("SINC2", sinc2).replace("NYQUIST", nyquist).replace("START", start)


_SAMPLE_WITHOUT_CONJ = """
def sample_slices(volume_ft, R):
    N = volume_ft.shape[0]
    flip, frac, corners = trilinear_corners(N, slice_frequencies(N, R))
    s = 0
    for index, inside, d in corners:
        wx, wy, wz = corner_weights(frac, d)
        s = s + torch.where(inside, wx * wy * wz, 0.0) * volume_ft[index]
    return s  # the Friedel half read at -q but not conjugated
"""

_INSERT = """
def insert_central_slices(slices_ft, rotations, D):
    R = rotations.reshape(-1, 3, 3).to(dtype=slices_ft.real.dtype)
    S = slices_ft.reshape(R.shape[0], D, D // 2 + 1)
    flip, frac, corners = trilinear_corners(D, slice_frequencies(D, R))
    G = GRAD
    volume = torch.zeros(D, D, D // 2 + 1, dtype=S.dtype)
    for index, inside, d in corners:
        wx, wy, wz = corner_weights(frac, d)
        volume.index_put_(index, torch.where(inside, wx * wy * wz, 0.0) * G, accumulate=ACCUMULATE)
    return volume
"""


def insert(grad: str = "torch.where(flip, S.conj(), S)", accumulate: str = "True") -> str:
    return _INSERT.replace("GRAD", grad).replace("ACCUMULATE", accumulate)


_STORE_IM = "tl.store(out + 1, im * sign, mask=valid)"


def _kernel_without_conj(solutions: Mapping[str, str]) -> str:
    """The solution's Triton cell with the Friedel half left unconjugated."""
    code = solutions["triton_kernel"]
    if _STORE_IM not in code:
        raise ValueError("the Triton solution no longer stores the conjugate: update this mutant")
    return code.replace(
        _STORE_IM, "tl.store(out + 1, im, mask=valid)  # not conjugated on the Friedel half"
    )


MUTANTS = [
    Mutant(
        "real_space_R_not_RT",
        "project_real_space",
        "_ok = project_real_space\n"
        "def project_real_space(volume, rotations, *, max_points=1 << 22):\n"
        "    return _ok(volume, rotations.transpose(-1, -2), max_points=max_points)",
        {A},
        {A: "R instead of Rᵀ"},
    ),
    Mutant(
        "real_space_image_transposed",
        "project_real_space",
        "_ok = project_real_space\n"
        "def project_real_space(volume, rotations, *, max_points=1 << 22):\n"
        "    return _ok(volume, rotations, max_points=max_points).transpose(-1, -2)",
        {A},
        {A: "mirrored hand"},
    ),
    Mutant(
        "real_space_zyx_coordinates",
        "project_real_space",
        "_ok = project_real_space\n"
        "def project_real_space(volume, rotations, *, max_points=1 << 22):\n"
        "    return _ok(volume.permute(2, 1, 0), rotations, max_points=max_points)",
        {A},
        {A: "[x, y, z] vs [z, y, x] axis order"},
    ),
    Mutant(
        "real_space_always_float32",
        "project_real_space",
        "_ok = project_real_space\n"
        "def project_real_space(volume, rotations, *, max_points=1 << 22):\n"
        "    return _ok(volume.float(), rotations.float(), max_points=max_points)",
        {A},
        {},
    ),
    Mutant(
        "fourier_volume_shifts_swapped",
        "fourier_volume",
        fourier_volume(pre="torch.fft.fftshift", post="torch.fft.ifftshift"),
        {B, E, F},
        {B: "fftshift/ifftshift swapped", E: "fftshift/ifftshift swapped"},
    ),
    Mutant(
        "fourier_volume_padding_offset",
        "fourier_volume",
        fourier_volume(before="(N - D) // 2"),
        {B, E, F},
        {B: "wrong padding offset", E: "wrong padding offset"},
    ),
    Mutant(
        "fourier_volume_without_sinc2",
        "fourier_volume",
        fourier_volume(sinc2="False"),
        {B, E, F},
        {B: "missing sinc² correction", E: "missing sinc² correction"},
    ),
    Mutant(
        "extract_R_not_RT",
        "extract_central_slices",
        "_ok = extract_central_slices\n"
        "def extract_central_slices(volume_ft, rotations):\n"
        "    return _ok(volume_ft, rotations.transpose(-1, -2))",
        {C, E, F},
        {C: "R instead of Rᵀ", E: "R instead of Rᵀ"},
    ),
    Mutant(
        "extract_zyx_coordinates",
        "extract_central_slices",
        "_ok_q = slice_frequencies\n"
        "def slice_frequencies(N, R):\n"
        "    return _ok_q(N, R).flip(-1)  # (z, y, x) read as (x, y, z)",
        {C, D, E, F},
        {C: "[x, y, z] vs [z, y, x] axis order"},
    ),
    Mutant(
        "extract_friedel_not_conjugated",
        "extract_central_slices",
        _SAMPLE_WITHOUT_CONJ,
        {C, D, E, F},
        {C: "Friedel half not conjugated", D: "backward not the adjoint"},
    ),
    Mutant(
        "insert_not_accumulated",
        "extract_backward",
        insert(accumulate="False"),
        {D, F},
        {D: "backward not the adjoint"},
    ),
    Mutant(
        "insert_friedel_not_conjugated",
        "extract_backward",
        insert(grad="S"),
        {D, F},
        {D: "Friedel half not conjugated"},
    ),
    Mutant(
        "no_rotation_gradient",
        "extract_backward",
        "def slice_rotation_gradient(volume_ft, R, grad):\n    return None",
        {D},
        {D: "no gradient for the rotations"},
    ),
    Mutant(
        "rotation_gradient_transposed",
        "extract_backward",
        "_ok_g = slice_rotation_gradient\n"
        "def slice_rotation_gradient(volume_ft, R, grad):\n"
        "    return _ok_g(volume_ft, R, grad).transpose(-1, -2)",
        {D},
        {D: "rotation gradient transposed"},
    ),
    Mutant(
        "project_without_sinc2",
        "project_fourier",
        project_fourier(sinc2="False"),
        {E, F},
        {E: "missing sinc² correction"},
    ),
    Mutant(
        "project_nyquist_kept",
        "project_fourier",
        project_fourier(nyquist="False"),
        {E, F},
        {E: "Nyquist planes kept"},
    ),
    Mutant(
        "project_crop_offset",
        "project_fourier",
        project_fourier(start="(N - D) // 2"),
        {E, F},
        {E: "wrong padding offset"},
    ),
    Mutant(
        "project_hard_coded_cuda",
        "project_fourier",
        "_ok = project_fourier\n"
        "def project_fourier(volume, rotations, pad=2.0, *, sinc2=True):\n"
        "    return _ok(volume.cuda(), rotations.cuda(), pad, sinc2=sinc2)",
        {E, F},
        {},
        zero={E, F},  # every call raises: those parts score nothing
    ),
    Mutant(
        "projector_volume_a_buffer",
        "projector",
        "_Projector = Projector\n"
        "class Projector(_Projector):\n"
        "    def __init__(self, volume, **kwargs):\n"
        "        super().__init__(volume, **kwargs)\n"
        "        initial = self.volume.detach()\n"
        "        del self.volume\n"
        "        self.register_buffer('volume', initial)",
        {F},
        {F: "volume not a learnable parameter"},
    ),
    Mutant(
        "projector_ignores_settings",
        "projector",
        "_Projector = Projector\n"
        "class Projector(_Projector):\n"
        "    def forward(self, rotations):\n"
        "        return project_fourier(self.volume, rotations)",
        {F},
        {F: "settings not passed on"},
    ),
    Mutant(
        "triton_R_not_RT",
        "triton_kernel",
        "_ok = extract_central_slices_triton\n"
        "def extract_central_slices_triton(volume_ft, rotations, BLOCK=64):\n"
        "    return _ok(volume_ft, rotations.transpose(-1, -2), BLOCK)",
        {G},
        {G: "R instead of Rᵀ"},
    ),
    Mutant(
        "triton_friedel_not_conjugated",
        "triton_kernel",
        _kernel_without_conj,
        {G},
        {G: "Friedel half not conjugated"},
    ),
    Mutant(
        "triton_grid_too_small",
        "triton_kernel",
        "def extract_central_slices_triton(volume_ft, rotations, BLOCK=64):\n"
        "    N = volume_ft.shape[0]\n"
        "    batch = rotations.shape[:-2]\n"
        "    data = torch.view_as_real(volume_ft.resolve_conj()).contiguous()\n"
        "    R = rotations.reshape(-1, 3, 3).to(dtype=data.dtype).contiguous()\n"
        "    B, n = R.shape[0], N * (N // 2 + 1)\n"
        "    out = torch.zeros(B, n, 2, dtype=data.dtype)\n"
        "    slice_kernel[(B, n // BLOCK)](data, R, out, N, n, BLOCK=BLOCK)\n"
        "    return torch.view_as_complex(out).reshape(*batch, N, N // 2 + 1)",
        {G},
        {G: "last block not computed"},
    ),
]

#: Mistakes the issue that specified this problem set asked the feedback to name; some mutant of
#: the bank must be diagnosed with each.
KNOWN_MISTAKES = {
    "R instead of Rᵀ",
    "mirrored hand",
    "fftshift/ifftshift swapped",
    "wrong padding offset",
    "missing sinc² correction",
    "backward not the adjoint",
    "[x, y, z] vs [z, y, x] axis order",
}
