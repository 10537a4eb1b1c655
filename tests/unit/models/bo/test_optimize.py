"""Optimising over the mixed, constrained space: every suggestion meets the composition sums
and linear constraints (to 1e-6) and the fixed features exactly; fixed features are taken out
of the problem correctly; a discrete space is never asked for a design twice."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch
from botorch.test_utils.mock import mock_optimize_context_manager

from models.bo.config import BOConfig
from models.bo.encoding import Encoder
from models.bo.errors import InfeasibleRequestError
from models.bo.optimize import feasible, sample_domain, search_domain
from models.bo.problem import Objective, Observation, OutcomeConstraint
from models.bo.suggest import suggest
from models.design.space_filling import space_filling_designs
from models.space.space import Space

COMPONENTS = [f"c{i}" for i in range(7)]
FORMULATION = Space.from_dict({
    "parameters": [
        {"type": "continuous", "name": "size", "lower": 20.0, "upper": 200.0},
        {"type": "continuous", "name": "dose", "lower": 0.1, "upper": 10.0, "log_scale": True},
        {"type": "integer", "name": "n", "lower": 1, "upper": 6},
        {"type": "categorical", "name": "ligand", "choices": ["A", "B", "C"]},
    ],
    "compositions": [{"name": "lipids", "components": COMPONENTS, "total": 1.0}],
    "linear_constraints": [
        {"coefficients": {"c0": 1.0, "c1": 1.0}, "upper": 0.4},
        {"coefficients": {"c2": 1.0, "c3": -2.0}, "lower": -0.1},
        {"coefficients": {"size": 0.01, "n": 1.0}, "upper": 6.0},
    ],
})


def _outcomes(design: dict[str, Any]) -> dict[str, float]:
    shift = {"A": 0.0, "B": 0.5, "C": -0.3}[design["ligand"]]
    act = (math.log(design["dose"]) + shift + 2 * design["c0"] + design["c4"]
           - (design["size"] - 100) ** 2 / 5000 + 0.1 * design["n"])
    return {"act": act, "tox": design["c2"] + 0.05 * design["dose"]}


def _check(space: Space, designs: list[dict[str, Any]], fixed: dict[str, Any]) -> None:
    for design in designs:
        assert math.isclose(sum(design[c] for c in COMPONENTS), 1.0, abs_tol=1e-6)
        assert all(0.0 <= design[c] <= 1.0 for c in COMPONENTS)
        for lc in space.linear_constraints:
            value = sum(coef * design[name] for name, coef in lc.coefficients)
            assert lc.lower is None or value >= lc.lower - 1e-6
            assert lc.upper is None or value <= lc.upper + 1e-6
        for name, value in fixed.items():
            assert design[name] == value  # exactly
        assert isinstance(design["n"], int) and design["ligand"] in ("A", "B", "C")
        assert 20.0 <= design["size"] <= 200.0 and 0.1 <= design["dose"] <= 10.0


@pytest.mark.parametrize("fixed", [{}, {"dose": 2.0, "c6": 0.1, "ligand": "B"}])
def test_every_suggestion_meets_the_constraints(fast_config: BOConfig,
                                                fixed: dict[str, Any]) -> None:
    designs = space_filling_designs(FORMULATION, 14, seed=0).designs
    observations = [Observation(d, _outcomes(d)) for d in designs]
    config = BOConfig(**{**fast_config.__dict__, "fixed_features": fixed})
    with mock_optimize_context_manager():
        result = suggest(FORMULATION, observations, [], [Objective("act", "maximize")],
                         [OutcomeConstraint("tox", "<=", 0.3)], q=3, config=config, seed=0)
    suggested = [s.parameters for s in result.suggestions]
    _check(FORMULATION, suggested, fixed)
    keys = {tuple(sorted((k, round(v, 9) if isinstance(v, float) else v)
                         for k, v in d.items())) for d in suggested}
    assert len(keys) == 3


def test_fixed_features_reduce_the_problem() -> None:
    encoder = Encoder(FORMULATION)
    # Fix all components but c5: the composition sum fixes c5 too.
    values = {f"c{i}": v for i, v in zip([0, 1, 2, 3, 4, 6], [0.1, 0.2, 0.1, 0.05, 0.1, 0.1],
                                         strict=True)}
    domain = search_domain(encoder, encoder.encode_partial(values))
    c5 = encoder.column_index("c5")
    assert math.isclose(domain.fixed[c5], 0.35, abs_tol=1e-12)
    assert not domain.equality_constraints
    assert c5 not in domain.free and len(domain.free) == 4
    samples = sample_domain(encoder, domain, 64, seed=0)
    assert samples.shape[0] > 0 and bool(feasible(encoder, samples).all())
    assert bool((samples[:, c5] == domain.fixed[c5]).all())


def test_fixed_features_that_break_a_constraint_are_refused() -> None:
    encoder = Encoder(FORMULATION)
    with pytest.raises(InfeasibleRequestError, match="linear constraint"):
        search_domain(encoder, encoder.encode_partial({"c0": 0.3, "c1": 0.3}))
    with pytest.raises(InfeasibleRequestError, match="outside"):
        search_domain(encoder, encoder.encode_partial({c: 0.2 for c in COMPONENTS[:-1]}))


def test_polytope_samples_are_feasible() -> None:
    encoder = Encoder(FORMULATION)
    samples = sample_domain(encoder, search_domain(encoder, {}), 200, seed=1)
    assert samples.shape[0] > 100
    assert bool(feasible(encoder, samples).all())
    assert torch.allclose(samples[:, [encoder.column_index(c) for c in COMPONENTS]].sum(-1),
                          torch.ones(samples.shape[0], dtype=torch.float64), atol=1e-9)


def test_a_discrete_space_never_repeats_a_pending_design(fast_config: BOConfig) -> None:
    space = Space.from_dict({"parameters": [
        {"type": "integer", "name": "k", "lower": 0, "upper": 2},
        {"type": "categorical", "name": "c", "choices": ["x", "y"]}]})
    everything = list(space.iter_designs())
    observations = [Observation(d, {"y": d["k"] + (d["c"] == "y")}) for d in everything[:3]]
    pending = everything[3:5]
    with mock_optimize_context_manager():
        result = suggest(space, observations, pending, [Objective("y")], q=1,
                         config=fast_config, seed=0)
    assert result.suggestions[0].parameters not in pending
    with pytest.raises(InfeasibleRequestError, match="no new feasible design"), \
            mock_optimize_context_manager(force=True):
        suggest(space, observations, everything, [Objective("y")], q=1, config=fast_config,
                seed=0)


def test_sequences_are_searched_letter_by_letter(fast_config: BOConfig) -> None:
    space = Space.from_dict({"parameters": [
        {"type": "sequence", "name": "s", "alphabet": "ACDEK", "length": 4},
        {"type": "continuous", "name": "t", "lower": 0.0, "upper": 1.0}]})
    designs = space_filling_designs(space, 12, seed=0).designs
    observations = [Observation(d, {"y": d["s"].count("K") + d["t"]}) for d in designs]
    config = BOConfig(**{**fast_config.__dict__, "fixed_features": {"t": 0.5}})
    with mock_optimize_context_manager():
        result = suggest(space, observations, designs[:2], [Objective("y")], q=3,
                         config=config, seed=0)
    suggested = [s.parameters for s in result.suggestions]
    assert all(len(d["s"]) == 4 and set(d["s"]) <= set("ACDEK") and d["t"] == 0.5
               for d in suggested)
    assert len({d["s"] for d in suggested}) == 3


BOX = Space.from_dict({"parameters": [
    {"type": "continuous", "name": n, "lower": 0.0, "upper": 1.0} for n in "abc"]})


def _box_campaign(fast_config: BOConfig) -> list[Any]:
    """One suggest of q = 2 on a small unconstrained box (:data:`BOX`): its suggestions."""
    designs = space_filling_designs(BOX, 8, seed=0).designs
    observations = [Observation(d, {"y": sum((v - 0.3) ** 2 for v in d.values())})
                    for d in designs]
    return suggest(BOX, observations, [], [Objective("y", "minimize")], [], q=2,
                   config=fast_config, seed=0).suggestions


def test_a_box_is_searched_by_botorchs_batched_lbfgsb(fast_config: BOConfig,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Each restart its own L-BFGS-B solve (BoTorch's batched fast path), not one joint solve
    of every restart: an option key L-BFGS-B does not know (the hit-and-run chain's, which
    BoTorch forwards to the solver) silently turns the fast path off."""
    from botorch.generation import gen

    calls = {"batched": 0, "joint": 0}
    batched, joint = gen.fmin_l_bfgs_b_batched, gen.minimize_with_timeout

    def count(name: str, solver: Any) -> Any:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return solver(*args, **kwargs)
        return wrapped

    monkeypatch.setattr(gen, "fmin_l_bfgs_b_batched", count("batched", batched))
    monkeypatch.setattr(gen, "minimize_with_timeout", count("joint", joint))
    assert len(_box_campaign(fast_config)) == 2
    assert calls == {"batched": 2, "joint": 0}


def test_raw_samples_are_screened_in_one_evaluation(fast_config: BOConfig,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """BoTorch chunks the raw-sample screen by the restarts' batch limit unless told
    otherwise: 32 evaluations of 4 designs instead of one of 128."""
    from models.bo.fused_log_nei import FusedLogNEI

    sizes: list[int] = []
    forward = FusedLogNEI.forward

    def spy(self: Any, X: torch.Tensor) -> torch.Tensor:
        if not torch.is_grad_enabled():
            sizes.append(X.shape[0])
        return forward(self, X)

    monkeypatch.setattr(FusedLogNEI, "forward", spy)
    _box_campaign(fast_config)
    raw = fast_config.optimizer.raw_samples
    assert raw > fast_config.optimizer.num_restarts
    assert sizes.count(raw) == 2  # one screen per greedy step, whole
