"""Several objectives (qLogNEHVI) on BraninCurrin, whose Pareto front is known: the
hypervolume grows over a few rounds and beats Sobol points of the same budget; outcome
constraints work with several objectives too."""

from __future__ import annotations

import itertools

import pytest
import torch
from botorch.test_functions.multi_objective import BraninCurrin
from botorch.utils.multi_objective.hypervolume import Hypervolume
from botorch.utils.multi_objective.pareto import is_non_dominated

from models.bo.config import AcquisitionConfig, BOConfig, OptimizerConfig
from models.bo.problem import Objective, Observation, OutcomeConstraint
from models.bo.suggest import suggest
from models.design.space_filling import space_filling_designs
from models.space.space import Space

SQUARE = Space.from_dict({"parameters": [
    {"type": "continuous", "name": "x0", "lower": 0.0, "upper": 1.0},
    {"type": "continuous", "name": "x1", "lower": 0.0, "upper": 1.0}]})
OBJECTIVES = [Objective("branin", "minimize"), Objective("currin", "minimize")]
#: BoTorch's reference point for BraninCurrin; its Pareto front's hypervolume is 59.36.
REFERENCE = {"branin": 18.0, "currin": 6.0}
CONFIG = BOConfig(optimizer=OptimizerConfig(num_restarts=4, raw_samples=64, max_iterations=30),
                  acquisition=AcquisitionConfig(mc_samples=64, reference_point=REFERENCE),
                  quality=False)
_PROBLEM = BraninCurrin()


def _evaluate(designs: list[dict]) -> list[Observation]:
    X = torch.tensor([[d["x0"], d["x1"]] for d in designs], dtype=torch.float64)
    Y = _PROBLEM(X)
    return [Observation(d, {"branin": float(y[0]), "currin": float(y[1]),
                            "sum": d["x0"] + d["x1"]},
                        {"branin": 0.0, "currin": 0.0, "sum": 0.0})
            for d, y in zip(designs, Y, strict=True)]


def _hypervolume(observations: list[Observation]) -> float:
    Y = -torch.tensor([[o.outcomes["branin"], o.outcomes["currin"]] for o in observations],
                      dtype=torch.float64)
    volume = Hypervolume(ref_point=-torch.tensor(list(REFERENCE.values()), dtype=torch.float64))
    return volume.compute(Y[is_non_dominated(Y)])


def test_hypervolume_grows_and_beats_sobol() -> None:
    seed = 1
    observations = _evaluate(space_filling_designs(SQUARE, 6, seed=seed).designs)
    volumes = [_hypervolume(observations)]
    for round_ in range(4):
        result = suggest(SQUARE, observations, [], OBJECTIVES, q=2, config=CONFIG,
                         seed=seed + round_)
        assert result.metrics["acquisition"] == "qLogNEHVI"
        observations += _evaluate([s.parameters for s in result.suggestions])
        volumes.append(_hypervolume(observations))
    sobol = _hypervolume(_evaluate(space_filling_designs(SQUARE, 14, seed=seed).designs))
    assert all(b >= a for a, b in itertools.pairwise(volumes))
    assert volumes[-1] > volumes[0] + 20.0, volumes
    assert volumes[-1] > sobol, (volumes, sobol)


def test_several_objectives_with_an_outcome_constraint() -> None:
    observations = _evaluate(space_filling_designs(SQUARE, 8, seed=0).designs)
    result = suggest(SQUARE, observations, [], OBJECTIVES,
                     [OutcomeConstraint("sum", "<=", 1.0)], q=2, config=CONFIG, seed=0)
    for s in result.suggestions:
        assert set(s.mean) == {"branin", "currin", "sum"}
        assert 0.0 <= s.probability_feasible <= 1.0
    # The constraint is cheap to model (it is linear): the suggestions respect it.
    assert all(s.parameters["x0"] + s.parameters["x1"] <= 1.0 + 1e-3
               for s in result.suggestions)


def test_no_hypervolume_kernel_is_compiled(monkeypatch: pytest.MonkeyPatch) -> None:
    """qLogNEHVI runs BoTorch's torch code: building one starts no C++ build (BoTorch 0.18
    compiles its fused kernel with -march=native on first use: 24 s on this machine idle, over
    7 minutes under the test suite's load, and machine-specific bits), and the kernel is not
    loaded."""
    import botorch.acquisition.multi_objective.logei as botorch_hypervolume
    import torch.utils.cpp_extension

    builds: list[object] = []
    monkeypatch.setattr(torch.utils.cpp_extension, "load",
                        lambda *args, **kwargs: builds.append(kwargs))
    observations = _evaluate(space_filling_designs(SQUARE, 6, seed=0).designs)
    result = suggest(SQUARE, observations, [], OBJECTIVES, [], q=1, config=CONFIG, seed=0)
    assert result.metrics["acquisition"] == "qLogNEHVI"
    assert builds == []
    assert botorch_hypervolume._C is None
