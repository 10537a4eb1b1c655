"""Cardinality limits in BO ("at most m non-zero ingredients"): snapping keeps the largest
components and the exact sum, pools are drawn face by face, fixed features that break a
limit are refused, and every suggestion — continuous or mixed, with linear constraints and
pending designs — meets the composition sum, the linear constraints (to 1e-6) and the limit."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from models.bo.config import BOConfig
from models.bo.encoding import Encoder
from models.bo.errors import InfeasibleRequestError
from models.bo.optimize import feasible, sample_domain, search_domain
from models.bo.problem import Objective, Observation, OutcomeConstraint
from models.bo.suggest import suggest
from models.design.space_filling import space_filling_designs
from models.space.space import Space

COMPONENTS = [f"c{i}" for i in range(8)]
TARGET = torch.tensor([0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 0.3, 0.2], dtype=torch.float64)


def _space(mixed: bool) -> Space:
    parameters: list[dict[str, Any]] = [
        {"type": "continuous", "name": "t", "lower": 0.0, "upper": 1.0}]
    if mixed:
        parameters.append({"type": "categorical", "name": "buffer", "choices": ["a", "b"]})
    return Space.from_dict({
        "parameters": parameters,
        "compositions": [{"name": "mix", "components": COMPONENTS, "max_nonzero": 3}],
        "linear_constraints": [{"coefficients": {"c0": 1.0, "c1": 1.0}, "upper": 0.6},
                               {"coefficients": {"c5": 1.0, "t": 1.0}, "upper": 1.2}]})


def _outcomes(design: dict[str, Any]) -> dict[str, float]:
    x = torch.tensor([design[c] for c in COMPONENTS], dtype=torch.float64)
    value = -float((x - TARGET).pow(2).sum()) - (design["t"] - 0.3) ** 2
    return {"y": value, "c": float(x[0] + x[7])}


def _check(space: Space, design: dict[str, Any]) -> None:
    amounts = [design[c] for c in COMPONENTS]
    assert abs(sum(amounts) - 1.0) < 1e-6 and min(amounts) >= 0.0
    assert sum(a > 0.0 for a in amounts) <= 3            # exact zeros off the support
    for lc in space.linear_constraints:
        value = sum(coef * design[name] for name, coef in lc.coefficients)
        assert lc.upper is None or value <= lc.upper + 1e-6


def test_snap_keeps_the_largest_components_and_the_sum() -> None:
    encoder = Encoder(_space(False))
    X = torch.rand(64, encoder.dimension, dtype=torch.float64,
                   generator=torch.Generator().manual_seed(0))
    X[:, 1:] /= X[:, 1:].sum(-1, keepdim=True)
    snapped = encoder.snap(X)
    assert bool((encoder.cardinality_excess(snapped) == 0).all())
    assert float((snapped[:, 1:].sum(-1) - 1).abs().max()) < 1e-12
    top = X[:, 1:].topk(3, dim=-1).indices.sort(-1).values
    assert torch.equal((snapped[:, 1:] > 0).nonzero()[:, 1].reshape(-1, 3), top)
    assert torch.equal(encoder.snap(snapped), snapped)         # idempotent
    held = encoder.snap(X, fixed=[1])                          # c0 held: kept, unchanged
    assert torch.equal(held[:, 1], X[:, 1])
    assert bool((encoder.cardinality_excess(held) == 0).all())


def test_pool_is_drawn_face_by_face_and_feasible() -> None:
    encoder = Encoder(_space(True))
    domain = search_domain(encoder, {})
    pool = sample_domain(encoder, domain, 512, seed=3)
    assert pool.shape[0] > 400 and bool(feasible(encoder, pool).all())
    supports = {tuple((row[2:] > 0).nonzero().squeeze(-1).tolist()) for row in pool}
    assert len(supports) > 8                                   # many faces, not one


def test_fixed_features_that_break_the_limit_are_refused() -> None:
    encoder = Encoder(_space(False))
    fixed = encoder.encode_partial({"c0": 0.1, "c1": 0.1, "c2": 0.1, "c3": 0.1})
    with pytest.raises(InfeasibleRequestError, match="at most 3"):
        search_domain(encoder, fixed)


@pytest.mark.parametrize("mixed", [False, True])
def test_every_suggestion_meets_composition_linear_and_cardinality(
        mixed: bool, fast_config: BOConfig) -> None:
    space = _space(mixed)
    designs = space_filling_designs(space, 10, seed=0).designs
    observations = [Observation(d, _outcomes(d)) for d in designs]
    pending = space_filling_designs(space, 2, seed=9).designs
    result = suggest(space, observations, pending, [Objective("y", "maximize")],
                     [OutcomeConstraint("c", "<=", 0.5)], q=2, config=fast_config, seed=0)
    assert len(result.suggestions) == 2
    for suggestion in result.suggestions:
        _check(space, suggestion.parameters)
        assert suggestion.parameters not in pending
