"""Five-point operators: the three solvers agree, invert the operator, and differentiate."""

from __future__ import annotations

import pytest
import torch

from models.physics.lubrication.stencil import DENSE_LIMIT, Stencil


def random_stencil(nxi: int, nzi: int, batch: tuple[int, ...] = (), seed: int = 0) -> Stencil:
    """A random, strictly diagonally dominant Z-matrix stencil (like the Reynolds ones)."""
    g = torch.Generator().manual_seed(seed)

    def rand() -> torch.Tensor:
        return torch.rand(*batch, nxi, nzi, generator=g, dtype=torch.float64)

    west, east = -rand(), -rand()
    south, north = (-rand(), -rand()) if nzi > 1 else (torch.zeros_like(west),) * 2
    centre = 0.1 + west.abs() + east.abs() + south.abs() + north.abs()
    return Stencil(centre=centre, west=west, east=east, south=south, north=north)


@pytest.mark.parametrize(("nxi", "nzi"), [(7, 1), (450, 1), (6, 5), (30, 20)])
def test_solve_inverts_matvec(nxi: int, nzi: int) -> None:
    stencil = random_stencil(nxi, nzi, batch=(2,))
    u = torch.randn(2, nxi, nzi, generator=torch.Generator().manual_seed(1),
                    dtype=torch.float64)
    assert torch.allclose(stencil.solve(stencil.matvec(u)), u, rtol=1e-10, atol=1e-11)
    assert torch.allclose(stencil._solve_dense(stencil.matvec(u)), u, rtol=1e-10, atol=1e-11)


def test_dense_matrix_matches_matvec_and_column_and_row_scaling() -> None:
    stencil = random_stencil(5, 4)
    u = torch.randn(5, 4, dtype=torch.float64)
    s = torch.rand(5, 4, dtype=torch.float64)
    matrix = stencil.to_dense()
    assert torch.allclose(matrix @ u.reshape(-1), stencil.matvec(u).reshape(-1))
    assert torch.allclose(stencil.scale_columns(s).to_dense(), matrix @ torch.diag(s.reshape(-1)))
    assert torch.allclose(stencil.scale_rows(s).to_dense(), torch.diag(s.reshape(-1)) @ matrix)


@pytest.mark.parametrize("method", ["_solve_dense", "_solve_cyclic_reduction"])
def test_1d_solvers_differentiate(method: str) -> None:
    base = random_stencil(9, 1)
    rhs = torch.randn(9, 1, dtype=torch.float64, requires_grad=True)
    centre = base.centre.clone().requires_grad_(True)
    east = base.east.clone().requires_grad_(True)

    def solve(c: torch.Tensor, e: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
        stencil = Stencil(centre=c, west=base.west, east=e, south=base.south,
                          north=base.north)
        return getattr(stencil, method)(r)

    assert torch.autograd.gradcheck(solve, (centre, east, rhs))


def test_block_thomas_differentiates() -> None:
    base = random_stencil(4, 3)
    north = base.north.clone().requires_grad_(True)
    west = base.west.clone().requires_grad_(True)
    rhs = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)

    def solve(n: torch.Tensor, w: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
        stencil = Stencil(centre=base.centre, west=w, east=base.east, south=base.south,
                          north=n)
        return stencil._solve_block_thomas(r)

    assert torch.autograd.gradcheck(solve, (north, west, rhs))


def test_the_dispatch_uses_the_fast_paths_beyond_the_dense_limit() -> None:
    assert 450 > DENSE_LIMIT and 30 * 20 > DENSE_LIMIT
    stencil = random_stencil(30, 20)
    rhs = torch.randn(30, 20, dtype=torch.float64)
    assert torch.allclose(stencil.solve(rhs), stencil._solve_block_thomas(rhs))


def test_dense_solves_survive_a_changed_thread_count() -> None:
    """torch 2.13's batched LU solve breaks once a process has set more than one thread (MKL
    "Parameter 6 was incorrect on entry to DLASWP"); the dense path solves one system at a
    time and stays right. In a fresh interpreter: the setting is process-wide."""
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import torch\n"
        "torch.set_num_threads(2)\n"
        "from tests.unit.models.physics.lubrication.test_stencil import random_stencil\n"
        "s = random_stencil(21, 11, batch=(3,))\n"
        "u = torch.randn(3, 21, 11, dtype=torch.float64)\n"
        "assert torch.allclose(s._solve_dense(s.matvec(u)), u, rtol=1e-10, atol=1e-11)\n")
    root = Path(__file__).resolve().parents[5]
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, cwd=root, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
