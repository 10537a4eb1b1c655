"""Composition groups with a cardinality limit ("at most m non-zero ingredients"): every
decoded point is feasible by construction (so a Sobol start needs no rejection), supports are
chosen uniformly, and the API schema refuses what the science cannot serve."""

from __future__ import annotations

import pytest
import torch
from pydantic import ValidationError

from models.design.space_filling import space_filling_designs
from models.space.space import CompositionGroup, Space
from service.schemas.space import Space as SpaceSchema
from service.schemas.space import design_errors

torch.set_num_threads(1)


def _space(k: int, m: int | None, **extra: object) -> Space:
    return Space.from_dict({"compositions": [
        {"name": "mix", "components": [f"c{i}" for i in range(k)], "max_nonzero": m}],
        **extra})


@pytest.mark.parametrize("k, m", [(7, 3), (10, 1), (20, 4), (7, 6)])
def test_every_decoded_point_meets_the_limit_and_sums_to_the_total(k: int, m: int) -> None:
    space = _space(k, m)
    assert space.dimension == k + m
    u = torch.rand(4096, space.dimension, dtype=torch.float64,
                   generator=torch.Generator().manual_seed(k))
    designs = space.decode(u)
    values = torch.tensor([[d[f"c{i}"] for i in range(k)] for d in designs],
                          dtype=torch.float64)
    assert bool((values >= 0).all())
    assert float((values.sum(-1) - 1.0).abs().max()) < 1e-12
    counts = (values > 0).sum(-1)
    assert int(counts.max()) == m and int(counts.min()) == m   # a maximal face, every time
    assert all(space.satisfies_cardinality(d) for d in designs)


def test_supports_are_chosen_uniformly() -> None:
    k, m, n = 8, 3, 2**14
    space = _space(k, m)
    designs = space_filling_designs(space, n, seed=1).designs
    share = torch.tensor([[d[f"c{i}"] > 0 for i in range(k)] for d in designs],
                         dtype=torch.float64).mean(0)
    # each component is in the support with probability m / k
    assert float((share - m / k).abs().max()) < 0.01


def test_a_limit_at_or_above_the_size_changes_nothing() -> None:
    assert _space(5, 5).dimension == 5 and _space(5, None).dimension == 5
    assert CompositionGroup("g", ("a", "b"), max_nonzero=7).limit is None
    with pytest.raises(ValueError, match="max_nonzero"):
        CompositionGroup("g", ("a", "b"), max_nonzero=0)


def test_space_filling_start_needs_no_rejection() -> None:
    space = Space.from_dict({
        "parameters": [{"type": "continuous", "name": "dose", "lower": 0.1, "upper": 10,
                        "log_scale": True}],
        "compositions": [{"name": "lipids", "components": [f"l{i}" for i in range(12)],
                          "max_nonzero": 3}]})
    result = space_filling_designs(space, 64, seed=0)
    assert result.acceptance_rate == 1.0 and result.next_skip == 64
    assert all(space.satisfies_cardinality(d) for d in result.designs)


def test_satisfies_cardinality_counts_above_the_tolerance() -> None:
    space = _space(4, 2)
    assert space.satisfies_cardinality({"c0": 0.5, "c1": 0.5, "c2": 1e-12, "c3": 0.0})
    assert not space.satisfies_cardinality({"c0": 0.5, "c1": 0.4, "c2": 0.1, "c3": 0.0})


def test_the_api_schema_takes_and_checks_the_limit() -> None:
    body = {"compositions": [{"name": "mix", "components": ["a", "b", "c"], "max_nonzero": 2}]}
    schema = SpaceSchema.model_validate(body)
    assert schema.compositions[0].max_nonzero == 2
    assert Space.from_dict(schema.model_dump()).compositions[0].limit == 2
    assert design_errors(schema, {"a": 0.5, "b": 0.5, "c": 0.0}) == []
    errors = design_errors(schema, {"a": 0.5, "b": 0.3, "c": 0.2})
    assert len(errors) == 1 and "at most 2" in errors[0][1]
    for bad in (0, 4):
        with pytest.raises(ValidationError):
            SpaceSchema.model_validate({"compositions": [
                {"name": "mix", "components": ["a", "b", "c"], "max_nonzero": bad}]})
