"""Texture parameterisations: geometry as specified, bounds respected, batches."""

from __future__ import annotations

import math

import pytest
import torch

from models.physics.lubrication import (
    DimpleTexture,
    FreeFormProfile,
    Grid,
    GrooveTexture,
    InclinedPad,
    RayleighStep,
    sample_film,
)


def plane(n: int = 801, half_width: float = 0.5) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.linspace(0, 1, n, dtype=torch.float64)[:, None]
    zeta = torch.linspace(-half_width, half_width, n, dtype=torch.float64)[None, :]
    return x, zeta


def test_free_form_values_stay_inside_their_bounds_for_any_raw_values() -> None:
    raw = torch.cat([torch.linspace(-1e3, 1e3, 48, dtype=torch.float64)[None],
                     30 * torch.randn(5, 48, generator=torch.Generator().manual_seed(0),
                                      dtype=torch.float64)])
    x = torch.linspace(0, 1, 1001, dtype=torch.float64)
    for h_max in (3.0, None):
        profile = FreeFormProfile(raw, h_min=1.0, h_max=h_max)
        values, film = profile.values, profile(x)
        assert float(values.min()) >= 1.0 and float(film.min()) >= 1.0
        if h_max is not None:
            assert float(values.max()) <= 3.0 and float(film.max()) <= 3.0
        assert film.shape == (6, 1001)


def test_free_form_round_trip_and_interpolation() -> None:
    values = torch.linspace(1.2, 2.8, 40, dtype=torch.float64)
    for h_max in (3.0, None):
        profile = FreeFormProfile.from_values(values, 1.0, h_max)
        assert torch.allclose(profile.values, values, rtol=1e-12)
    constant = FreeFormProfile.from_values(values, 1.0, 3.0, "constant")
    centres = (torch.arange(40, dtype=torch.float64) + 0.5) / 40
    assert torch.allclose(constant(centres), values, rtol=1e-12)
    linear = FreeFormProfile.from_values(values, 1.0, 3.0, "linear")
    nodes = torch.linspace(0, 1, 40, dtype=torch.float64)
    assert torch.allclose(linear(nodes), values, rtol=1e-12)
    assert float(linear(torch.tensor([0.5 / 39], dtype=torch.float64))) == pytest.approx(
        float(values[:2].mean()), rel=1e-12)


def test_free_form_profile_with_aligned_grid_is_sampled_exactly() -> None:
    values = torch.linspace(2.5, 1.0001, 32, dtype=torch.float64)
    film = sample_film(FreeFormProfile.from_values(values, 1.0, 3.0), Grid.line(129))
    assert torch.allclose(film.h_x[:, 0], values.repeat_interleave(4), rtol=1e-10)
    assert float(film.h_x.min()) >= 1.0


@pytest.mark.parametrize("bad", [{"m": 16}, {"m": 65}, {"h_min": 0.0}, {"h_max": 0.5},
                                 {"interpolation": "cubic"}])
def test_free_form_rejects_bad_settings(bad: dict) -> None:
    m = bad.pop("m", 32)
    with pytest.raises(ValueError):
        FreeFormProfile(torch.zeros(m, dtype=torch.float64), **bad)


def test_dimples_have_the_specified_density_depth_and_textured_zone() -> None:
    # r = 0.025, rho = pi/16: cells of side 4r = 0.1; alpha = 0.6 covers six whole cells.
    texture = DimpleTexture(depth=2.0, radius=0.025, density=math.pi / 16, fraction=0.6,
                            base=InclinedPad(0.5))
    x, zeta = plane(1201)
    depth = texture(x, zeta) - InclinedPad(0.5)(x, zeta)
    zone = (x < 0.6) & (zeta.abs() < 0.45)
    covered = (depth > 0) & zone
    assert float(covered.sum() / zone.sum()) == pytest.approx(math.pi / 16, rel=0.02)
    assert float(depth.max()) == pytest.approx(2.0, rel=1e-3)
    assert float(depth[(x > 0.6).expand_as(depth)].abs().max()) == 0.0
    assert float(depth.min()) >= 0.0
    assert torch.equal(depth, depth.flip(-1))  # symmetric about the midline
    # A dimple is centred in its cell: the deepest point of the first cell is at (0.05, 0).
    first = depth[:121, 550:651]
    i, j = divmod(int(first.argmax()), first.shape[1])
    assert float(x[i, 0]) == pytest.approx(0.05, abs=1e-3)
    assert float(zeta[0, 550 + j]) == pytest.approx(0.0, abs=1e-3)


def test_partial_cell_dimple_depth_grows_with_the_textured_fraction() -> None:
    x, zeta = plane(401)
    depths = []
    for fraction in (0.6, 0.625, 0.65, 0.7):   # cells of 0.1: the seventh cell fills in
        texture = DimpleTexture(depth=1.0, radius=0.025, density=math.pi / 16,
                                fraction=fraction)
        seventh = (texture(x, zeta) - 1.0)[(x > 0.6).squeeze(-1)]
        depths.append(float(seventh.max()))
    assert depths == pytest.approx([0.0, 0.25, 0.5, 1.0], abs=1e-3)


def test_grooves_have_the_specified_density() -> None:
    texture = GrooveTexture(depth=1.0, radius=0.02, density=0.4, fraction=0.5)
    x = torch.linspace(0, 1, 100001, dtype=torch.float64)
    grooved = (texture(x) > 1.0) & (x < 0.5)
    assert float(grooved.sum() / (x < 0.5).sum()) == pytest.approx(0.4, rel=1e-3)
    assert float(texture(x)[x > 0.5].max()) == 1.0


def test_textures_batch_over_their_parameters() -> None:
    depth = torch.tensor([0.5, 1.0, 2.0], dtype=torch.float64)
    x, zeta = plane(51)
    film = DimpleTexture(depth=depth, radius=0.05, density=0.3, fraction=0.8)(x, zeta)
    assert film.shape == (3, 51, 51)
    assert torch.allclose(film[2] - 1, 4 * (film[0] - 1))
    assert InclinedPad(torch.tensor([0.0, 1.0]))(torch.tensor([0.0]), None).tolist() == [
        [1.0], [2.0]]


@pytest.mark.parametrize("bad", [{"depth": -0.1}, {"radius": 0.0}, {"density": 0.8},
                                 {"fraction": 1.2}])
def test_dimples_reject_nonphysical_parameters(bad: dict) -> None:
    params = {"depth": 1.0, "radius": 0.05, "density": 0.3, "fraction": 0.5} | bad
    with pytest.raises(ValueError):
        DimpleTexture(**params)


def test_dimples_need_a_2d_pad_and_steps_a_position() -> None:
    with pytest.raises(ValueError, match="2D"):
        DimpleTexture(1.0, 0.05, 0.3, 0.5)(torch.zeros(3, dtype=torch.float64), None)
    with pytest.raises(ValueError):
        RayleighStep(1.5, 1.0)
    with pytest.raises(ValueError, match="positive"):
        sample_film(InclinedPad(-1.5), Grid.line(11))
