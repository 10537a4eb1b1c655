"""The entry point: constrained BO from a Sobol start reaches the known feasible optimum of
constrained Branin and beats Sobol with the same budget; results are complete, replayable and
warm-startable; bad inputs fail with science errors, never a crash."""

from __future__ import annotations

import json
import math
import time

import pytest
import torch

from models.bo.config import AcquisitionConfig, BOConfig, GPConfig, HillPriorConfig, OptimizerConfig
from models.bo.data import assemble
from models.bo.encoding import Encoder
from models.bo.errors import BadObservationError, NotEnoughDataError
from models.bo.gp import constant_outcome_model, load_state
from models.bo.prior_mean import HillMean
from models.bo.problem import Objective, Observation, OutcomeConstraint
from models.bo.suggest import suggest
from models.design.space_filling import space_filling_designs
from models.problems.branin import SPEC
from models.problems.branin.problem import BraninProblem
from models.space.space import Space

BRANIN = Space.from_dict(SPEC.default_space)
OBJECTIVE = [Objective("value", "minimize")]
CONSTRAINT = [OutcomeConstraint("constraint", "<=", 0.0)]


def _run_branin(seed: int, initial: int, rounds: int, config: BOConfig | None = None
                ) -> tuple[list[Observation], list[float]]:
    """Sobol start, then ``rounds`` BO rounds of one design; the simulator is exact, so the
    observations say so (noise sd 0). Returns the observations and each call's seconds."""
    problem = BraninProblem()

    def observe(designs: list[dict]) -> list[Observation]:
        return [Observation(d, o, {"value": 0.0, "constraint": 0.0})
                for d, o in zip(designs, problem.evaluate(designs), strict=True)]

    observations = observe(space_filling_designs(BRANIN, initial, seed=seed).designs)
    state, seconds = None, []
    for round_ in range(rounds):
        start = time.perf_counter()
        result = suggest(BRANIN, observations, [], OBJECTIVE, CONSTRAINT, q=1, config=config,
                         seed=seed + round_, previous_state=state)
        seconds.append(time.perf_counter() - start)
        state = result.model_state
        observations += observe([s.parameters for s in result.suggestions])
    return observations, seconds


def _best_feasible(observations: list[Observation]) -> float:
    return min(o.outcomes["value"] for o in observations if o.outcomes["constraint"] <= 0.0)


def _sobol_best(seed: int, budget: int) -> float:
    designs = space_filling_designs(BRANIN, budget, seed=seed).designs
    return min(o["value"] for o in BraninProblem().evaluate(designs) if o["constraint"] <= 0.0)


def test_constrained_branin_short() -> None:
    observations, _ = _run_branin(seed=0, initial=10, rounds=10)
    best = _best_feasible(observations)
    assert best < _sobol_best(seed=0, budget=20)
    assert best - BraninProblem.optimal_value < 0.1, best


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_constrained_branin_reaches_the_known_optimum(seed: int) -> None:
    observations, seconds = _run_branin(seed=seed, initial=10, rounds=20)
    best = _best_feasible(observations)
    assert best - BraninProblem.optimal_value < 0.02, best
    assert best < _sobol_best(seed=seed, budget=30)
    print(f"seed {seed}: best {best:.5f} after 10 + 20, median call {sorted(seconds)[10]:.2f} s")


def test_result_is_complete_replayable_and_warm_startable() -> None:
    problem = BraninProblem()
    designs = space_filling_designs(BRANIN, 8, seed=4).designs
    observations = [Observation(d, o) for d, o in zip(designs, problem.evaluate(designs),
                                                       strict=True)]
    config = BOConfig(optimizer=OptimizerConfig(num_restarts=2, raw_samples=32),
                      acquisition=AcquisitionConfig(mc_samples=32))
    first = suggest(BRANIN, observations, [], OBJECTIVE, CONSTRAINT, q=2, config=config, seed=7)
    again = suggest(BRANIN, observations, [], OBJECTIVE, CONSTRAINT, q=2, config=config, seed=7)
    assert [s.parameters for s in first.suggestions] == [s.parameters for s in again.suggestions]
    assert first.data_hash == again.data_hash and first.seed == 7
    for s in first.suggestions:
        assert set(s.mean) == set(s.sd) == {"value", "constraint"}
        assert all(v > 0 for v in s.sd.values())
        assert math.isclose(s.probability_feasible, s.constraint_probabilities["constraint"])
        assert math.isfinite(s.acquisition_value) and s.probability_success is None
    quality = first.metrics["quality"]
    assert set(quality) == {"value", "constraint"} and quality["value"]["n"] == 8
    assert first.metrics["warm_started"] == {"value": False, "constraint": False}
    state = load_state(first.model_state)
    assert set(state["models"]) == {"value", "constraint"}
    assert state["extra"]["features"] == ["x1", "x2"]

    warm = suggest(BRANIN, observations, [first.suggestions[0].parameters],
                   OBJECTIVE, CONSTRAINT, q=1, config=config, seed=8,
                   previous_state=first.model_state)
    assert warm.metrics["warm_started"] == {"value": True, "constraint": True}


def test_prior_mean_is_used_through_suggest() -> None:
    space = Space.from_dict({"parameters": [
        {"type": "continuous", "name": "dose", "lower": 0.1, "upper": 30.0, "log_scale": True},
        {"type": "continuous", "name": "x", "lower": 0.0, "upper": 1.0}]})
    designs = space_filling_designs(space, 10, seed=0).designs
    observations = [Observation(d, {"act": 3 * d["dose"] / (4.0 + d["dose"]) + 0.1 * d["x"]})
                    for d in designs]
    config = BOConfig(gp=GPConfig(prior_mean=HillPriorConfig("dose")),
                      optimizer=OptimizerConfig(num_restarts=2, raw_samples=32))
    result = suggest(space, observations, [], [Objective("act")], q=1, config=config, seed=0)
    state = load_state(result.model_state)
    assert "mean_module.raw_log_ec50" in state["models"]["act"]
    mean = HillMean(column=0, lower=0.1, upper=30.0, log_scale=True).double()
    mean.raw_log_ec50.data = state["models"]["act"]["mean_module.raw_log_ec50"]
    assert 2.0 < mean.ec50.item() < 8.0


def test_bad_inputs_fail_with_science_errors() -> None:
    designs = space_filling_designs(BRANIN, 4, seed=0).designs
    good = [Observation(d, {"value": 1.0 + i, "constraint": -1.0})
            for i, d in enumerate(designs)]
    nan = [*good[:3], Observation(designs[3], {"value": float("nan"), "constraint": 0.0})]
    with pytest.raises(BadObservationError):
        suggest(BRANIN, nan, [], OBJECTIVE, CONSTRAINT)
    with pytest.raises(NotEnoughDataError) as info:
        suggest(BRANIN, good[:1], [], OBJECTIVE, CONSTRAINT)
    assert info.value.details == {"outcome": "value", "observations": 1, "required": 2}
    with pytest.raises(BadObservationError, match="lacks parameters"):
        suggest(BRANIN, good, [{"x1": 0.0}], OBJECTIVE, CONSTRAINT)


def _flat_branin(objective: float | None, constraint: float | None, n: int = 6
                 ) -> list[Observation]:
    """``n`` Sobol designs; an outcome given a number has that value in every observation,
    the other its true Branin value."""
    designs = space_filling_designs(BRANIN, n, seed=0).designs
    true = BraninProblem().evaluate(designs)
    return [Observation(d, {"value": t["value"] if objective is None else objective,
                            "constraint": t["constraint"] if constraint is None else constraint})
            for d, t in zip(designs, true, strict=True)]


def test_a_constant_constraint_is_modelled_flat_with_prior_uncertainty_not_fitted() -> None:
    """The chosen behaviour for an outcome that cannot be fitted (all values identical): a
    deliberate fallback, reported, JSON-safe, and uncertain where nothing was measured."""
    config = BOConfig(optimizer=OptimizerConfig(num_restarts=2, raw_samples=32),
                      acquisition=AcquisitionConfig(mc_samples=32))
    observations = _flat_branin(objective=None, constraint=-1.0)
    result = suggest(BRANIN, observations, [], OBJECTIVE, CONSTRAINT, q=2, config=config,
                     seed=0)
    assert len(result.suggestions) == 2
    assert result.metrics["constant_outcomes"] == {"constraint": -1.0}
    (warning,) = result.metrics["warnings"]
    assert "'constraint' has the same value (-1) in all 6" in warning
    json.dumps(result.metrics, allow_nan=False)  # storable as JSONB: no NaN, no infinity
    assert "non_finite" not in result.metrics
    quality = result.metrics["quality"]["constraint"]
    assert quality["r2"] is None and "SST = 0" in quality["undefined"]["r2"]
    assert result.metrics["quality"]["value"]["undefined"] == {}
    # Not fitted, so not kept for a warm start; the fitted objective is.
    assert set(load_state(result.model_state)["models"]) == {"value"}
    assert result.metrics["warm_started"]["constraint"] is False
    for s in result.suggestions:
        assert s.mean["constraint"] == pytest.approx(-1.0, abs=1e-9)
        assert math.isfinite(s.acquisition_value) and 0.0 < s.probability_feasible < 1.0
    # The degenerate fit claimed sd ~0.02 everywhere; the fallback's prior sd is |value| = 1:
    # certain at a measured design, uncertain in a corner nobody measured.
    model_sd = _constant_sd(observations, "constraint", [observations[0].parameters,
                                                         {"x1": -5.0, "x2": 15.0}])
    assert model_sd[0] < 0.2 and 0.5 < model_sd[1] <= 1.0 + 1e-9


def _constant_sd(observations: list[Observation], name: str,
                 designs: list[dict[str, float]]) -> list[float]:
    encoder = Encoder(BRANIN)
    data = assemble(encoder, observations, ["value", "constraint"]).outcomes[name]
    model = constant_outcome_model(data.X, data.Y, data.Yvar, encoder)
    with torch.no_grad():
        return model.posterior(encoder.encode(designs)).variance.sqrt().reshape(-1).tolist()


def test_all_outcomes_constant_still_suggests_and_explores() -> None:
    config = BOConfig(optimizer=OptimizerConfig(num_restarts=2, raw_samples=32),
                      acquisition=AcquisitionConfig(mc_samples=32))
    observations = _flat_branin(objective=2.0, constraint=-1.0)
    result = suggest(BRANIN, observations, [], OBJECTIVE, CONSTRAINT, q=2, config=config,
                     seed=0)
    assert result.metrics["constant_outcomes"] == {"value": 2.0, "constraint": -1.0}
    assert len(result.metrics["warnings"]) == 2
    json.dumps(result.metrics, allow_nan=False)
    assert load_state(result.model_state)["models"] == {}
    measured = {tuple(sorted(o.parameters.items())) for o in observations}
    for s in result.suggestions:
        assert tuple(sorted(s.parameters.items())) not in measured
        assert s.mean["value"] == pytest.approx(2.0, abs=1e-9)
        assert s.sd["value"] > 0.5  # explores where the flat model is uncertain
    again = suggest(BRANIN, observations, [], OBJECTIVE, CONSTRAINT, q=2, config=config,
                    seed=0)
    assert [s.parameters for s in again.suggestions] == \
        [s.parameters for s in result.suggestions]


def test_a_warm_start_from_a_state_without_the_constant_outcome_fits_it_cold() -> None:
    config = BOConfig(optimizer=OptimizerConfig(num_restarts=2, raw_samples=32),
                      acquisition=AcquisitionConfig(mc_samples=32))
    flat = suggest(BRANIN, _flat_branin(None, -1.0), [], OBJECTIVE, CONSTRAINT, q=1,
                   config=config, seed=0)
    varied = suggest(BRANIN, _flat_branin(None, None, n=8), [], OBJECTIVE, CONSTRAINT, q=1,
                     config=config, seed=0, previous_state=flat.model_state)
    assert varied.metrics["warm_started"] == {"value": True, "constraint": False}
    assert "constant_outcomes" not in varied.metrics and "warnings" not in varied.metrics


def test_json_shapes_are_accepted() -> None:
    designs = space_filling_designs(BRANIN, 6, seed=1).designs
    problem = BraninProblem()
    observations = [{"parameters": d, "outcomes": o, "noise_sd": {}, "failed": False,
                     "id": "ignored"} for d, o in zip(designs, problem.evaluate(designs),
                                                      strict=True)]
    observations.append({"parameters": designs[0], "outcomes": {}, "failed": True})
    config = BOConfig(optimizer=OptimizerConfig(num_restarts=2, raw_samples=32), quality=False)
    result = suggest(BRANIN, observations, [], [{"name": "value", "goal": "minimize"}],
                     [{"name": "constraint", "op": "<=", "threshold": 0.0, "unit": None}],
                     q=1, config=config, seed=0)
    assert result.metrics["failed"] == 1
    assert result.suggestions[0].probability_success is not None


@pytest.mark.slow
def test_timing_of_a_batch_of_four_on_thirty_points() -> None:
    """Prints the seconds of one suggest call (q = 4, 30 observations, default config), cold
    and warm-started, on constrained Branin; a measurement, with only a sanity bound."""
    problem = BraninProblem()
    designs = space_filling_designs(BRANIN, 30, seed=0).designs
    observations = [Observation(d, o, {"value": 0.0, "constraint": 0.0})
                    for d, o in zip(designs, problem.evaluate(designs), strict=True)]
    state = None
    for label in ("cold", "warm"):
        start = time.perf_counter()
        result = suggest(BRANIN, observations, [], OBJECTIVE, CONSTRAINT, q=4, seed=0,
                         previous_state=state)
        seconds = time.perf_counter() - start
        state = result.model_state
        print(f"q=4 n=30 {label}: {seconds:.2f} s (fit {result.metrics['fit_seconds']:.2f} s, "
              f"acquisition {result.metrics['acquisition_seconds']:.2f} s)")
        assert len(result.suggestions) == 4 and seconds < 120.0
