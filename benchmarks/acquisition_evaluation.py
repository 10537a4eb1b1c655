r"""Issue 7 micro-benchmark: one qLogNEI evaluation with its gradient, three ways.

Optimising the acquisition is most of a suggestion's time, and it is a few dozen
evaluations (value and gradient, a batch of restarts) per design. This script times one
such evaluation on the two problems of ``benchmarks/bayesopt.py`` (constrained Hartmann6 and
the nanoparticle lab), 20 observations each, BoTorch's default GPs fitted as ``suggest`` fits
them, 8 restarts of one candidate (the sequential greedy batch), 128 quasi-MC samples:

* ``botorch``: BoTorch's ``qLogNoisyExpectedImprovement`` on the cached posterior
  (``AcquisitionConfig(fused_evaluation=False)``), the peer;
* ``fused_joint``: :class:`models.bo.fused_log_nei.FusedLogNEI` sampling the joint posterior
  at ``[baseline; X]`` every evaluation, with autograd (its path before the baseline block);
* ``fused_block``: the same with the baseline block and the closed-form gradient (the
  default, :mod:`models.bo.baseline_block`).

Every path's value and gradient are checked against BoTorch's first (to 1e-8 relative).
Times are the best and the median of ``--repeats`` runs of ``--calls`` calls each (one
thread), with the ratios to BoTorch's in the same run. Writes
``benchmarks/results/acquisition_evaluation.json``.

Run ``python benchmarks/acquisition_evaluation.py [--repeats 15 --calls 50]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from botorch.models import ModelListGP

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bayesopt import BenchProblem, hartmann_problem, nanoparticle_problem

from models.bo.acquisition import build_acquisition, constraint_callables
from models.bo.cached_posterior import cached_model_list
from models.bo.config import AcquisitionConfig, GPConfig
from models.bo.data import assemble
from models.bo.encoding import Encoder
from models.bo.fused_log_nei import FusedLogNEI
from models.bo.gp import fit_outcome_models
from models.bo.problem import Objective, Observation, OutcomeConstraint
from models.design.space_filling import space_filling_designs

RESULTS = ROOT / "benchmarks" / "results"
OBSERVATIONS = 20
RESTARTS = 8
PATHS = ("botorch", "fused_joint", "fused_block")


def acquisitions(problem: BenchProblem, seed: int = 0) -> tuple[dict[str, Any], int]:
    """The three acquisitions on the same fitted models and data, and the feature count."""
    designs = space_filling_designs(problem.space, OBSERVATIONS, seed=seed).designs
    lab = problem.measure(seed)
    observations = [Observation.from_dict({"parameters": d, "outcomes": o})
                    for d, o in zip(designs, lab(designs), strict=True)]
    objective = Objective.from_dict(problem.objective)
    constraint = OutcomeConstraint.from_dict(problem.constraint)
    names = [objective.name, constraint.name]
    encoder = Encoder(problem.space)
    data = assemble(encoder, observations, names)
    models, _ = fit_outcome_models(data.outcomes, encoder, GPConfig(), {}, min_observations=2)
    model = cached_model_list(ModelListGP(*(models[n] for n in names)))
    scales = {n: float(data.outcomes[n].Y.std()) for n in names}
    built: dict[str, Any] = {}
    for path in PATHS:
        torch.manual_seed(seed)  # baseline pruning draws samples
        built[path] = build_acquisition(
            model, [objective], constraint_callables([constraint], names, scales), names,
            X_baseline=data.X_observed, X_pending=None,
            config=AcquisitionConfig(fused_evaluation=path != "botorch"), seed=seed)
    assert isinstance(built["fused_joint"], FusedLogNEI)
    built["fused_joint"].stacked = None  # sample the joint posterior every evaluation
    return built, data.X_observed.shape[-1]


def _evaluation(acquisition: Any, X: torch.Tensor) -> Callable[[], torch.Tensor]:
    def evaluate() -> torch.Tensor:
        x = X.clone().requires_grad_(True)
        value = acquisition(x)
        (grad,) = torch.autograd.grad(value.sum(), x)
        return torch.cat([value.detach().reshape(-1), grad.reshape(-1)])
    return evaluate


def time_calls(fn: Callable[[], Any], repeats: int, calls: int) -> list[float]:
    """Milliseconds per call, one entry per repeat."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - start) / calls * 1e3)
    return times


def measure(problem: BenchProblem, repeats: int, calls: int) -> dict[str, Any]:
    built, features = acquisitions(problem)
    g = torch.Generator().manual_seed(1)
    X = torch.rand(RESTARTS, 1, features, generator=g, dtype=torch.float64)
    evaluations = {path: _evaluation(built[path], X) for path in PATHS}
    reference = evaluations["botorch"]()
    for path in PATHS[1:]:
        torch.testing.assert_close(evaluations[path](), reference, rtol=1e-8, atol=1e-10)
    times: dict[str, list[float]] = {path: [] for path in PATHS}
    for _ in range(repeats):  # interleaved, so drifts in the machine's speed hit every path
        for path in PATHS:
            times[path] += time_calls(evaluations[path], 1, calls)
    result: dict[str, Any] = {"problem": problem.name, "features": features,
                              "observations": OBSERVATIONS, "restarts": RESTARTS,
                              "baseline_after_pruning": int(built["botorch"].X_baseline.shape[-2])}
    for path in PATHS:
        result[path] = {"best_ms": min(times[path]),
                        "median_ms": statistics.median(times[path])}
    for path in PATHS[1:]:
        result[f"{path}_vs_botorch"] = result[path]["median_ms"] / result["botorch"]["median_ms"]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    results = [measure(p, args.repeats, args.calls)
               for p in (hartmann_problem(), nanoparticle_problem())]
    header = f"{'problem':<22} {'path':<12} {'best ms':>8} {'median ms':>10} {'vs botorch':>10}"
    print(header)
    print("-" * len(header))
    for r in results:
        for path in PATHS:
            ratio = r.get(f"{path}_vs_botorch", 1.0)
            print(f"{r['problem']:<22} {path:<12} {r[path]['best_ms']:>8.3f} "
                  f"{r[path]['median_ms']:>10.3f} {ratio:>10.2f}")
    args.results.mkdir(parents=True, exist_ok=True)
    path = args.results / "acquisition_evaluation.json"
    path.write_text(json.dumps({"repeats": args.repeats, "calls": args.calls,
                                "problems": results}, indent=1))
    print(f"wrote {path}")
    print("acquisition_evaluation: fused_block_vs_botorch=" + ",".join(
        f"{r['problem']}:{r['fused_block_vs_botorch']:.2f}" for r in results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
