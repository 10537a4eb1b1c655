"""The grid's link rectangles and the link-averaged film coefficients."""

from __future__ import annotations

import pytest
import torch

from models.physics.lubrication import Grid, RayleighStep, sample_film


def test_grid_validation_and_geometry() -> None:
    for bad in ({"nx": 2}, {"nx": 5, "nz": 2}, {"nx": 5, "nz": 5}, {"nx": 5, "nz": 5,
                                                                     "width_ratio": -1.0}):
        with pytest.raises(ValueError):
            Grid(**bad)
    pad = Grid.pad(11, 5, width_ratio=2.0)
    assert pad.dx == pytest.approx(0.1) and pad.dz == pytest.approx(0.25)
    assert pad.lambda_sq == pytest.approx(0.25)
    assert float(pad.z_weights().sum()) == pytest.approx(1.0)
    assert pad.to_pad_z(pad.z()).tolist() == pytest.approx([-1.0, -0.5, 0.0, 0.5, 1.0])
    line = Grid.line(11)
    assert line.is_line and line.interior_shape == (9, 1) and line.lambda_sq == 0.0


def test_link_rectangles_tile_the_pad() -> None:
    grid = Grid.pad(7, 5, width_ratio=1.0)
    x, zeta = grid.x_link_cells(3, torch.float64)
    ones = torch.ones(torch.broadcast_shapes(x.shape, zeta.shape), dtype=torch.float64)
    # Mean of zeta over each x-link rectangle = its centre; the rectangles' z-extents
    # (half cells on the edges) sum to the pad's width.
    zeta_mean = (zeta * ones).mean(dim=(-3, -1))[0]
    assert zeta_mean.tolist() == pytest.approx([-0.4375, -0.25, 0.0, 0.25, 0.4375])
    xz, zz = grid.z_link_cells(3, torch.float64)
    assert xz.shape == (7, 3, 1, 1) and zz.shape == (1, 1, 4, 3)


def test_film_averages_are_exact_for_linear_films_and_second_order_for_cubes() -> None:
    grid = Grid.pad(9, 5, width_ratio=1.0)

    def texture(x: torch.Tensor, zeta: torch.Tensor | None) -> torch.Tensor:
        return 1.0 + 0.5 * x + 0.2 * zeta

    film = sample_film(texture, grid, subsamples=4)
    x = grid.x()
    centres = 1.0 + 0.5 * 0.5 * (x[1:] + x[:-1])
    assert torch.allclose(film.h_x[:, 2], centres, rtol=1e-14)
    # <h^3> over [a, b] of a linear film, exactly: (h_b^4 - h_a^4) / (4 (h_b - h_a)).
    ha, hb = 1.0 + 0.5 * x[:-1], 1.0 + 0.5 * x[1:]
    exact = (hb**4 - ha**4) / (4 * (hb - ha))
    assert torch.allclose(film.h3_x[:, 2], exact, rtol=1e-3)
    assert film.h3_z.shape == (9, 4)
    assert film.h_nodes.shape == (9, 5)


def test_a_step_on_a_node_is_sampled_without_smearing() -> None:
    film = sample_film(RayleighStep(2.0, 0.5), Grid.line(11))
    assert film.h_x[:, 0].tolist() == [2.0] * 5 + [1.0] * 5
    assert film.h3_x[:, 0].tolist() == [8.0] * 5 + [1.0] * 5
    inside = sample_film(RayleighStep(2.0, 0.45), Grid.line(11))
    assert float(inside.h_x[4, 0]) == pytest.approx(1.5)  # a link straddling the step
    with pytest.raises(ValueError):
        sample_film(RayleighStep(2.0, 0.5), Grid.line(11), subsamples=0)
