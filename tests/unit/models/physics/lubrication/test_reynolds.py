"""The discrete Reynolds operator: structure and consistency."""

from __future__ import annotations

import math

import pytest
import torch

from models.physics.lubrication import DimpleTexture, Grid, InclinedPad, analytic, sample_film
from models.physics.lubrication.reynolds import assemble, embed


@pytest.mark.parametrize("grid", [Grid.line(12), Grid.pad(9, 7, 0.7)])
def test_poiseuille_operator_is_a_symmetric_m_matrix(grid: Grid) -> None:
    texture = DimpleTexture(1.0, 0.1, 0.5, 0.7, base=InclinedPad(0.5))
    film = sample_film(texture if not grid.is_line else InclinedPad(0.7), grid)
    a = assemble(film).poiseuille.to_dense()
    assert torch.allclose(a, a.T, rtol=1e-14)
    off = a - torch.diag(torch.diagonal(a))
    assert float(off.max()) <= 0.0
    assert float(torch.diagonal(a).min()) > 0.0
    assert float(a.sum(dim=1).min()) >= -1e-9   # weakly diagonally dominant
    assert float(torch.linalg.eigvalsh(a).min()) > 0.0


def test_couette_operator_conserves_a_full_film_flux() -> None:
    op = assemble(sample_film(InclinedPad(0.0), Grid.line(21)))
    assert float(op.full_film_rhs().abs().max()) < 1e-12  # a parallel film makes no pressure
    # Column sums of C vanish except on the last column: Couette flux passes on downstream.
    c = op.couette.to_dense()
    assert torch.allclose(c.sum(dim=0)[:-1], torch.zeros(18, dtype=torch.float64), atol=1e-9)


def test_exact_plane_slider_pressure_leaves_a_second_order_residual() -> None:
    k, residuals = 1.0, []
    for n in (41, 81):
        grid = Grid.line(n)
        op = assemble(sample_film(InclinedPad(k), grid))
        exact = analytic.inclined_slider_pressure(grid.x(), k)[1:-1, None]
        fill = torch.ones_like(exact)
        residuals.append(float(op.residual(exact, fill).abs().max()))
    assert math.log2(residuals[0] / residuals[1]) == pytest.approx(2.0, abs=0.2)


def test_embed_pads_the_edges() -> None:
    field = embed(torch.ones(3, 2, dtype=torch.float64), Grid.pad(5, 4, 1.0), edge=0.5)
    assert field.shape == (5, 4)
    assert float(field[0].sum()) == 2.0 and float(field[2, 1]) == 1.0
