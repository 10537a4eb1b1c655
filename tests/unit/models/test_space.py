"""The typed space: parsing, the unit-cube encoding, and linear constraints."""

from __future__ import annotations

import math

import pytest
import torch
from scipy import stats
from torch.quasirandom import SobolEngine

from models.space.space import (
    CategoricalParameter,
    CompositionGroup,
    ContinuousParameter,
    IntegerParameter,
    SequenceParameter,
    Space,
)

MIXED = {
    "parameters": [
        {"type": "continuous", "name": "temp", "lower": 20.0, "upper": 80.0, "unit": "C"},
        {"type": "continuous", "name": "conc", "lower": 1e-3, "upper": 10.0, "log_scale": True},
        {"type": "integer", "name": "layers", "lower": -2, "upper": 5},
        {"type": "categorical", "name": "solvent", "choices": ["water", "ethanol", "dmso"]},
        {"type": "sequence", "name": "peptide", "alphabet": "ACDE", "length": 6},
    ],
    "compositions": [
        {"name": "lipids", "components": ["ionizable", "helper", "chol", "peg"], "total": 100.0},
    ],
    "linear_constraints": [
        {"coefficients": {"temp": 1.0, "layers": 2.0}, "upper": 85.0},
        {"coefficients": {"ionizable": 1.0, "helper": -1.0}, "lower": -20.0},
    ],
}


def _points(n: int, d: int, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    u = torch.rand(n, d, dtype=torch.float64, generator=generator)
    # The cube's corners, where floor and log are most likely to go wrong.
    return torch.cat([u, torch.zeros(1, d, dtype=torch.float64),
                      torch.ones(1, d, dtype=torch.float64)])


def test_from_dict_builds_typed_frozen_space() -> None:
    space = Space.from_dict(MIXED)
    temp, conc, layers, solvent, peptide = space.parameters
    assert temp == ContinuousParameter("temp", 20.0, 80.0, unit="C")
    assert conc == ContinuousParameter("conc", 1e-3, 10.0, log_scale=True)
    assert isinstance(layers, IntegerParameter)
    assert solvent == CategoricalParameter("solvent", ("water", "ethanol", "dmso"))
    assert peptide == SequenceParameter("peptide", "ACDE", 6)
    assert space.compositions == (
        CompositionGroup("lipids", ("ionizable", "helper", "chol", "peg"), 100.0),)
    assert space.linear_constraints[0].coefficients == (("temp", 1.0), ("layers", 2.0))
    assert space.dimension == 1 + 1 + 1 + 1 + 6 + 4
    assert space.cardinality is None
    assert space.names == ["temp", "conc", "layers", "solvent", "peptide",
                           "ionizable", "helper", "chol", "peg"]
    assert hash(space) == hash(Space.from_dict(MIXED))
    with pytest.raises(AttributeError):
        space.parameters = ()  # type: ignore[misc]


@pytest.mark.parametrize(("change", "message"), [
    ({"parameters": [{"type": "integer", "name": "a", "lower": 0, "upper": 1}],
      "compositions": [{"name": "g", "components": ["a", "b"]}]}, "duplicate"),
    ({"parameters": [{"type": "continuous", "name": "x", "lower": 1.0, "upper": 1.0}]},
     "lower < upper"),
    ({"parameters": [{"type": "continuous", "name": "x", "lower": 0.0, "upper": 1.0,
                      "log_scale": True}]}, "lower > 0"),
    ({"parameters": [{"type": "vector", "name": "x"}]}, "unknown parameter type"),
    ({"parameters": [{"type": "categorical", "name": "x", "choices": ["a", "a"]}]},
     "distinct"),
    ({"parameters": [{"type": "categorical", "name": "c", "choices": ["a", "b"]}],
      "linear_constraints": [{"coefficients": {"c": 1.0}, "upper": 1.0}]},
     "not a numeric parameter"),
    ({"parameters": [{"type": "integer", "name": "k", "lower": 0, "upper": 3}],
      "linear_constraints": [{"coefficients": {"k": 1.0}}]}, "lower, upper or both"),
    ({}, "empty"),
])
def test_from_dict_refuses_malformed_spaces(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Space.from_dict(change)


def test_decode_gives_valid_designs_of_every_type() -> None:
    space = Space.from_dict(MIXED)
    designs = space.decode(_points(2000, space.dimension))
    assert len(designs) == 2002
    for design in designs:
        assert list(design) == space.names
        assert isinstance(design["temp"], float) and 20.0 <= design["temp"] <= 80.0
        assert isinstance(design["conc"], float) and 1e-3 <= design["conc"] <= 10.0
        assert type(design["layers"]) is int and -2 <= design["layers"] <= 5
        assert design["solvent"] in ("water", "ethanol", "dmso")
        assert len(design["peptide"]) == 6 and set(design["peptide"]) <= set("ACDE")
        fractions = [design[c] for c in ("ionizable", "helper", "chol", "peg")]
        assert all(isinstance(f, float) and 0.0 <= f <= 100.0 for f in fractions)
        assert abs(sum(fractions) - 100.0) <= 1e-12 * 100.0
    # every integer, choice and letter is reached
    assert {d["layers"] for d in designs} == set(range(-2, 6))
    assert {d["solvent"] for d in designs} == {"water", "ethanol", "dmso"}
    assert set("".join(d["peptide"] for d in designs)) == set("ACDE")


def test_decode_is_affine_or_log_affine_and_floors_evenly() -> None:
    space = Space.from_dict({"parameters": [
        {"type": "continuous", "name": "lin", "lower": -1.0, "upper": 3.0},
        {"type": "continuous", "name": "log", "lower": 1e-2, "upper": 1e2, "log_scale": True},
        {"type": "integer", "name": "k", "lower": 1, "upper": 4},
        {"type": "categorical", "name": "c", "choices": ["a", "b", "c", "d", "e"]}]})
    half = space.decode(torch.full((1, 4), 0.5, dtype=torch.float64))[0]
    assert half["lin"] == pytest.approx(1.0, abs=1e-15)
    assert half["log"] == pytest.approx(1.0, rel=1e-12)  # geometric mean of the bounds
    # 4000 evenly spaced points: every integer and choice gets exactly its share
    u = ((torch.arange(4000, dtype=torch.float64) + 0.5) / 4000).unsqueeze(-1).expand(-1, 4)
    designs = space.decode(u)
    assert [sum(d["k"] == k for d in designs) for k in range(1, 5)] == [1000] * 4
    assert [sum(d["c"] == c for d in designs) for c in "abcde"] == [800] * 5


def test_compositions_are_uniform_on_the_simplex() -> None:
    k, total = 4, 2.5
    space = Space(compositions=(CompositionGroup("g", tuple(f"c{i}" for i in range(k)), total),))
    u = SobolEngine(k, scramble=True, seed=7).draw(4096, dtype=torch.float64)
    designs = space.decode(u)
    x = torch.tensor([[d[f"c{i}"] for i in range(k)] for d in designs], dtype=torch.float64)
    assert (x.sum(-1) - total).abs().max() <= 1e-12
    assert bool((x >= 0).all() and (x <= total).all())
    # Flat Dirichlet: each fraction x_i / total is Beta(1, k - 1), mean 1/k and
    # E[(x_i/total)^2] = 2 / (k (k + 1)). A scheme such as normalising plain uniforms has the
    # right mean by symmetry, but fails the second moment (0.082 instead of 0.1) and the KS test.
    fractions = x / total
    assert (fractions.mean(0) - 1 / k).abs().max() < 0.005
    assert (fractions.pow(2).mean(0) - 2 / (k * (k + 1))).abs().max() < 0.003
    for i in range(k):
        assert stats.kstest(fractions[:, i].numpy(), stats.beta(1, k - 1).cdf).statistic < 0.03


def test_linear_constraint_mask_agrees_with_the_design_check() -> None:
    space = Space.from_dict(MIXED)
    u = _points(3000, space.dimension, seed=1)
    mask = space.linear_constraint_mask(u)
    verdicts = [space.satisfies_linear_constraints(d) for d in space.decode(u)]
    assert mask.tolist() == verdicts
    assert 0.2 < mask.double().mean().item() < 0.95  # both outcomes are exercised


def test_satisfies_linear_constraints_with_tolerance() -> None:
    space = Space.from_dict({
        "parameters": [{"type": "continuous", "name": "x", "lower": 0, "upper": 1},
                       {"type": "integer", "name": "n", "lower": 0, "upper": 10}],
        "linear_constraints": [{"coefficients": {"x": 0.1, "n": 0.2}, "lower": 0.3,
                                "upper": 0.3}]})
    assert space.satisfies_linear_constraints({"x": 1.0, "n": 1})  # 0.1 + 0.2 != 0.3 in float
    assert not space.satisfies_linear_constraints({"x": 1.0, "n": 2})
    assert not space.satisfies_linear_constraints({"x": 0.9, "n": 1})


def test_cardinality_and_listing_of_a_finite_space() -> None:
    space = Space.from_dict({"parameters": [
        {"type": "integer", "name": "k", "lower": 0, "upper": 2},
        {"type": "categorical", "name": "c", "choices": ["a", "b"]},
        {"type": "sequence", "name": "s", "alphabet": "xy", "length": 2}]})
    assert space.cardinality == 3 * 2 * 4
    designs = list(space.iter_designs())
    assert len(designs) == 24 and len({tuple(d.values()) for d in designs}) == 24
    assert Space.from_dict(MIXED).cardinality is None
    with pytest.raises(ValueError, match="infinite"):
        next(Space.from_dict(MIXED).iter_designs())


def test_decode_refuses_points_of_the_wrong_shape_or_outside_the_cube() -> None:
    space = Space.from_dict(MIXED)
    with pytest.raises(ValueError, match="shape"):
        space.decode(torch.rand(3, space.dimension + 1))
    with pytest.raises(ValueError, match="unit cube"):
        space.decode(torch.full((1, space.dimension), 1.5))
    assert space.decode(torch.empty(0, space.dimension)) == []


def test_decoded_designs_pass_the_api_check() -> None:
    schema = pytest.importorskip("service.schemas.space")
    api_space = schema.Space.model_validate(MIXED)
    space = Space.from_dict(MIXED)
    u = _points(500, space.dimension, seed=2)
    for design, feasible in zip(space.decode(u), space.linear_constraint_mask(u).tolist(),
                                strict=True):
        errors = schema.design_errors(api_space, design)
        assert all("linear_constraints" in message for _, message in errors)
        assert (not errors) == feasible


def test_log_scale_spreads_evenly_over_decades() -> None:
    space = Space.from_dict({"parameters": [
        {"type": "continuous", "name": "c", "lower": 1e-3, "upper": 1e3, "log_scale": True}]})
    u = ((torch.arange(600, dtype=torch.float64) + 0.5) / 600).unsqueeze(-1)
    decades = [math.floor(math.log10(d["c"])) for d in space.decode(u)]
    assert [decades.count(e) for e in range(-3, 3)] == [100] * 6


@pytest.mark.parametrize("alphabet", ["ACGT", "aé€😀", "A\x00B"])
def test_sequences_spell_the_letters_of_their_positions(alphabet: str) -> None:
    space = Space(parameters=(SequenceParameter("s", alphabet, 7),))
    u = _points(50, 7, seed=3)
    indices = torch.floor(u * len(alphabet)).long().clamp(max=len(alphabet) - 1)
    expected = ["".join(alphabet[i] for i in row) for row in indices.tolist()]
    assert [d["s"] for d in space.decode(u)] == expected
