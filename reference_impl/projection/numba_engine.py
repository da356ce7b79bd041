"""The slice sampler as fused numba loops, for CPU tensors.

The PyTorch sampler (``torch_engine.Located``, ``sample_forward``, ``sample_backward``) locates
every sample's eight corners into ``(8, B·n)`` index and weight tensors and gathers and scatters
with ``index_select`` and ``scatter_add_``, which run on one thread on a CPU. These kernels do
the same arithmetic per sample, in one pass, on every core: the forward gather, the trilinear
insertion (the exact adjoint, so that no two threads ever add to one element: a buffer per
thread for small grids, one buffer written slab by slab for large ones) and the analytic gradient for the rotations (corner values
re-read rather than stored). ``extraction`` uses them for CPU tensors of at least
``MIN_SAMPLES`` samples when numba imports (``compiled.enabled()``); they are tested against
the PyTorch path in ``tests/test_projection_numba.py``. The loops themselves are in
``numba_kernels`` (imported on first use).

Grid layout (``_grids.Grid``): a flat real array, the real part of node ``(ix, iy, iz)``
at ``ix·sx + iy·sy + iz·sz`` and its imaginary part ``im_off`` further; ``hi`` the largest
index along ``(x, y, z)``; the point ``q`` sits at ``(|qx|, ±qy + off, ±qz + off)``, the sign
``−`` (and a conjugate) on the Friedel half ``qx < 0``.
"""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import torch

from reference_impl import compiled

from ._grids import Grid, PeriodicGrid

#: The smallest ``B · n`` handed to the compiled sampler.
MIN_SAMPLES = 1 << 12
#: Grids of at least this many reals take the slab-wise adjoint (one buffer); smaller ones a
#: buffer per thread, summed (cheaper while zeroing and summing the copies costs little).
SLABS_FROM = 1 << 21


def usable(data: torch.Tensor, samples: int) -> bool:
    """Whether the compiled sampler takes a call: CPU, large enough, numba present."""
    return data.device.type == "cpu" and samples >= MIN_SAMPLES and compiled.enabled()


def _threads() -> int:
    import numba

    return int(numba.get_num_threads())


@functools.cache
def _kernels() -> Any:
    from . import numba_kernels

    return numba_kernels


def _geometry(grid: Grid) -> np.ndarray:
    sx, sy, sz = grid.strides
    hx, hy, hz = grid.hi
    return np.array([grid.off, hx, hy, hz, sx, sy, sz, grid.im_off], dtype=np.float64)


def sample_slices(grid: Grid, rotations: torch.Tensor, freqs: torch.Tensor) -> torch.Tensor:
    """Planar samples ``(2, B, n)``, as ``torch_engine.sample_forward``."""
    data = grid.data.detach().reshape(-1).numpy()
    R = rotations.detach().contiguous().numpy()
    f = freqs.detach().contiguous().numpy()
    out = np.empty((2, R.shape[0], f.shape[0]), dtype=data.dtype)
    compiled.run(_kernels().forward, data, R, f, _geometry(grid), out)
    return torch.from_numpy(out)


def sample_slices_backward(
    grad: torch.Tensor,
    grid: Grid,
    rotations: torch.Tensor,
    freqs: torch.Tensor,
    need_data: bool,
    need_rot: bool,
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """The adjoint for ``grid.data`` and the gradient for the rotations ``(B, 3, 3)``, as
    ``torch_engine.sample_backward``."""
    data = grid.data.detach().reshape(-1).numpy()
    R = rotations.detach().contiguous().numpy()
    f = freqs.detach().contiguous().numpy()
    g = grad.detach().contiguous().numpy()
    dt, B = data.dtype, R.shape[0]
    T = max(1, min(_threads(), B * f.shape[0] // 4096))
    size = data.size if need_data else 1  # (a placeholder when the adjoint is not wanted)
    args = (g, data, R, f, _geometry(grid))
    if data.size < SLABS_FROM:  # one buffer per thread, summed
        g_data = np.zeros((T, size), dtype=dt)
        g_rot = np.zeros((T, B, 3, 2), dtype=dt)
        kernel = _kernels().backward_threads
        compiled.run(kernel, *args, g_data, g_rot, need_data, need_rot)
        g_data = g_data.sum(0)
    else:  # one buffer, written by slabs of the grid
        axis = int(np.argmax(grid.strides))  # the outermost axis of the layout
        outer_hi = int(grid.hi[axis])  # lower corners lie on planes 0 … hi − 1
        g_data = np.zeros(size, dtype=dt)
        g_rot = np.zeros((max(1, min(2 * T, outer_hi // 2)), B, 3, 2), dtype=dt)
        kernel = _kernels().backward_slabs
        compiled.run(
            kernel, *args, g_data, g_rot, need_data, need_rot, int(grid.strides[axis]), outer_hi
        )
    g_rot = g_rot.sum(0)
    gd = torch.from_numpy(g_data).view_as(grid.data) if need_data else None
    gr = None
    if need_rot:  # rows kx, ky of the gradient; the third row of R does not enter
        gr = torch.zeros(B, 3, 3, dtype=grid.data.dtype)
        gr[:, :2, :] = torch.from_numpy(g_rot).transpose(1, 2)
    return gd, gr


# ----------------------------------------------------------------------------- wide kernels


class StencilOrder:
    """The samples of a wide-kernel call in bin order: ``rot``, ``col`` ``(B·n,)`` (sample
    ``col[k]`` of rotation ``rot[k]`` comes ``k``-th) and ``layers`` ``(layers + 1,)``, where
    each ``z`` layer of bins (``bz = w`` planes of first nodes) begins. Computed once per
    forward call and reused by its backward."""

    def __init__(self, grid: PeriodicGrid, R: np.ndarray, f: np.ndarray, w: int) -> None:
        Lz, Ly, Lx, _ = grid.data.shape
        bins = np.array([8, 8, max(w, 2)], dtype=np.int64)
        nbx, nby, nbz = -(-Lx // 8), -(-Ly // 8), -(-Lz // int(bins[2]))
        k = _kernels()
        S = R.shape[0] * f.shape[0]
        ids = np.empty(S, dtype=np.int64)
        geo = _periodic_geometry(grid)
        _pool_map(k.stencil_bins, [(R, f, geo, w, bins, nbx, nby, ids, a, b) for a, b in _split(S)])
        self.rot = np.empty(S, dtype=np.int64)
        self.col = np.empty(S, dtype=np.int64)
        starts = np.empty(nbx * nby * nbz + 1, dtype=np.int64)
        k.counting_sort(ids, nbx * nby * nbz, f.shape[0], self.rot, self.col, starts)
        self.layers = np.ascontiguousarray(starts[:: nbx * nby])


_POOL: list[ThreadPoolExecutor] = []


def _pool_map(fn: Any, calls: list[tuple[Any, ...]]) -> None:
    """``fn(*args)`` for every ``args`` of ``calls``, on a pool of threads (the kernels release
    the GIL); the first call runs on this thread."""
    if len(calls) > 1:
        if not _POOL:
            _POOL.append(ThreadPoolExecutor(max_workers=_threads()))
        futures = [_POOL[0].submit(fn, *args) for args in calls[1:]]
        fn(*calls[0])
        for fut in futures:
            fut.result()
    elif calls:
        fn(*calls[0])


def _split(S: int) -> list[tuple[int, int]]:
    """``S`` samples in at most one contiguous range per thread (none smaller than 4096)."""
    T = max(1, min(_threads(), S // 4096))
    return [(t * S // T, (t + 1) * S // T) for t in range(T)]


def _periodic_geometry(grid: PeriodicGrid) -> np.ndarray:
    ox, oy, oz = grid.offsets
    _, sy, sz = grid.strides
    return np.array([grid.N, ox, oy, oz, sy, sz], dtype=np.float64)


def _stencil(coef: torch.Tensor) -> tuple[Any, np.ndarray]:
    coef_t = np.ascontiguousarray(coef.detach().numpy().T)
    return _kernels().stencil_kernels(coef_t.shape[1], coef_t.shape[0]), coef_t


def stencil_order(
    grid: PeriodicGrid, rotations: torch.Tensor, freqs: torch.Tensor, width: int
) -> StencilOrder:
    """The bin order of the samples (see ``StencilOrder``)."""
    R = rotations.detach().contiguous().numpy()
    f = freqs.detach().contiguous().numpy()
    return StencilOrder(grid, R, f, width)


def stencil_sample(
    grid: PeriodicGrid,
    rotations: torch.Tensor,
    freqs: torch.Tensor,
    coef: torch.Tensor,
    order: StencilOrder | None = None,
) -> torch.Tensor:
    """Planar samples ``(2, B, n)`` of the wide-kernel sampler, as
    ``torch_engine.stencil_forward``."""
    data = grid.data.detach().reshape(-1).numpy()
    R = rotations.detach().contiguous().numpy()
    f = freqs.detach().contiguous().numpy()
    k, coef_t = _stencil(coef)
    order = order or StencilOrder(grid, R, f, coef_t.shape[1])
    out = np.empty((2, R.shape[0], f.shape[0]), dtype=coef_t.dtype)
    geo = _periodic_geometry(grid)
    args = (data, R, f, geo, coef_t, out, order.rot, order.col)
    _pool_map(k.forward, [(*args, a, b) for a, b in _split(order.rot.size)])
    return torch.from_numpy(out)


def stencil_sample_backward(
    grad: torch.Tensor,
    grid: PeriodicGrid,
    rotations: torch.Tensor,
    freqs: torch.Tensor,
    coef: torch.Tensor,
    need_data: bool,
    need_rot: bool,
    order: StencilOrder | None = None,
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """The adjoint for ``grid.data`` and the gradient for the rotations ``(B, 3, 3)``, as
    ``torch_engine.stencil_backward``: the even layers of bins shared out among the threads
    (largest first, each to the least loaded), then the odd ones."""
    data = grid.data.detach().reshape(-1).numpy()
    R = rotations.detach().contiguous().numpy()
    f = freqs.detach().contiguous().numpy()
    g = grad.detach().contiguous().numpy()
    k, coef_t = _stencil(coef)
    order = order or StencilOrder(grid, R, f, coef_t.shape[1])
    B = R.shape[0]
    T = len(_split(order.rot.size))
    g_data = np.zeros(data.size if need_data else 1, dtype=data.dtype)
    g_rot = np.zeros((T, B, 3, 2), dtype=coef_t.dtype)
    geo = _periodic_geometry(grid)
    counts = np.diff(order.layers)
    for parity in (0, 1):
        layers = np.arange(parity, counts.size, 2)
        shares: list[list[int]] = [[] for _ in range(T)]
        load = np.zeros(T)
        for layer in layers[np.argsort(-counts[layers], kind="stable")]:
            t = int(np.argmin(load))
            shares[t].append(int(layer))
            load[t] += counts[layer]
        calls = [
            (g, data, R, f, geo, coef_t, g_data, g_rot[t], need_data, need_rot, order.rot,
             order.col, order.layers, np.array(share, dtype=np.int64))
            for t, share in enumerate(shares)
            if share
        ]  # fmt: skip
        _pool_map(k.backward, calls)
    gd = torch.from_numpy(g_data).view_as(grid.data) if need_data else None
    gr = None
    if need_rot:
        gr = torch.zeros(B, 3, 3, dtype=grid.data.dtype)
        gr[:, :2, :] = torch.from_numpy(g_rot.sum(0)).transpose(1, 2)
    return gd, gr
