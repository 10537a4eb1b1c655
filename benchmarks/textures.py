r"""Issue 3 benchmark: simulator calls to design a low-friction texture at a load floor.

Two problems (:mod:`models.problems.texture`), both *minimise friction subject to
load >= floor* on the real lubrication simulator (JFO cavitation):

* ``dimples_2d``: the 2D inclined pad with parametric dimples (depth, radius, area density,
  textured fraction), load floor 0.06;
* ``free_form_1d``: the 1D free-form profile of 32 film values in [1, 3] h_min, floor 0.15.

Four methods, each a trace of (simulator calls, best *simulated* feasible friction so far,
wall time):

1. ``active_learning``: the ``inverse_design`` strategy (:mod:`models.design.active_learning`)
   in a loop with the simulator: Sobol start, deep ensemble, inverse design, simulate, repeat
   until :func:`~models.design.stopping.stopped_improving` or the budget. Every simulator
   call also returns the gradients of load and friction w.r.t. the design (one forward and
   one backward per outcome: counted as one call, as in (3); the wall time includes the
   backward), and the ensemble fits them too (gradient-enhanced, Sobolev training); with
   ``consistency_order`` 1 the model is also made first-order consistent at the incumbent.
   Its settings are the ``gal_*`` fields of :class:`Setup`;
1b. ``active_learning_values``: the same strategy on values only, with its earlier settings
   (the ``al_*`` fields; for comparison, not the goal's method);
2. ``bayesian``: designloop's constrained BO (:func:`models.bo.suggest.suggest`, qLogNEI with
   the load constraint) on the same budget as (1) and the same Sobol start;
3. ``gradient``: gradient inverse design directly through the differentiable simulator
   (every row of every model call counts as one simulator call; each also costs a backward);
4. ``differential_evolution``: scipy's DE on the simulator (penalised objective, batched
   evaluation) — the reference: its best feasible design.

Reported per method: calls and wall time until the best feasible friction is within 1% of the
reference (``-`` when never). Summary: ``sim_calls_vs_de`` = min over the problems of DE's
calls to 1% over those of (gradient-enhanced) active learning, method 1, taken as the median
over :data:`AL_SEED_OFFSETS` (every seed of the start and of the rounds shifted; a seed that
never gets within 1% counts as infinitely many calls, and a problem whose median is never
scores 0); the goal is >= 20. ``--quick`` runs the first offset only. Both per-problem ratios are printed and
stored. Active learning and BO start from the strategy's own space-filling design (BO: that of
method 1; for the free-form profile: Sobol points of a 6-knot piecewise-linear family, option
``initial_basis``). In ``--quick`` the DE reference run is short (see :func:`setups`), so its
best is looser than the full run's.

Run ``python benchmarks/textures.py [--quick]``; writes ``benchmarks/results/textures.json``
and ``benchmarks/results/textures.png``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy.optimize import differential_evolution

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models.bo.config import BOConfig, OptimizerConfig
from models.bo.suggest import suggest
from models.design.active_learning import (
    ActiveLearningOptions,
    best_feasible,
    propose,
)
from models.design.inverse import (
    InverseDesignConfig,
    Objective,
    OutcomeConstraint,
    inverse_design,
)
from models.design.rounds import RoundRequest
from models.design.stopping import stopped_improving
from models.problems.texture import default_space
from models.problems.texture.problem import TextureProblem
from models.space.keys import design_key
from models.space.space import Space

RESULTS = ROOT / "benchmarks" / "results"
RTOL = 0.01
#: Seed offsets of the repeated gradient-enhanced active-learning runs (``--quick``: the
#: first only). Method 1's calls to 1% is the median over them (never = infinitely many), so
#: a setting that works on one seed alone does not pass.
AL_SEED_OFFSETS = (0, 101, 202, 303, 404)
GOAL_RATIO = 20.0
#: How the summary ratio aggregates the problems (the honest default: the worst one).
AGGREGATE = ("minimum over the problems of DE's simulator calls to within 1% of the reference "
             "over the median over seeds of active learning's (0 when that median is never)")
OBJECTIVES = [{"name": "friction", "goal": "minimize"}]


@dataclass
class Trace:
    """Every simulated design of one method, in call order."""

    method: str
    start: float = field(default_factory=time.perf_counter)
    friction: list[float] = field(default_factory=list)
    load: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    designs: list[list[float]] = field(default_factory=list)

    def record(self, X: torch.Tensor, out: torch.Tensor) -> None:
        now = time.perf_counter() - self.start
        for x, row in zip(X.detach().tolist(), out.detach().tolist(), strict=True):
            self.designs.append(x)
            self.load.append(row[0])
            self.friction.append(row[1])
            self.seconds.append(now)

    def best_curve(self, floor: float) -> list[float]:
        best, curve = math.inf, []
        for f, w in zip(self.friction, self.load, strict=True):
            if w >= floor and math.isfinite(f):
                best = min(best, f)
            curve.append(best)
        return curve

    def best(self, floor: float) -> tuple[float, list[float] | None]:
        rows = [i for i, w in enumerate(self.load) if w >= floor]
        if not rows:
            return math.inf, None
        i = min(rows, key=lambda k: self.friction[k])
        return self.friction[i], self.designs[i]

    def to_within(self, reference: float, floor: float) -> tuple[int | None, float | None]:
        for i, value in enumerate(self.best_curve(floor)):
            if value <= reference * (1.0 + RTOL):
                return i + 1, self.seconds[i]
        return None, None


@dataclass(frozen=True)
class Setup:
    """One benchmark problem and the effort each method gets."""

    name: str
    options: dict[str, Any]
    floor: float
    al_rounds: int
    al_batch: int
    al_options: dict[str, Any]
    de_popsize: int
    de_maxiter: int
    gd_starts: int
    gd_inner: int = 100
    gd_outer: int = 8
    al_patience: int = 4
    gal_rounds: int = 0
    gal_batch: int = 2
    gal_options: dict[str, Any] = field(default_factory=dict)
    gal_patience: int = 4


def setups(quick: bool) -> list[Setup]:
    """The effort per method. ``--quick``: a *short* DE reference (a few thousand calls on
    the dimples, ~16k on the free form), so its best is looser than the full run's."""
    fast_al = {"members": 3, "width": 32, "epochs": 500, "patience": 100, "starts": 16,
               "inner_iterations": 40, "outer_iterations": 4}
    profile_al = {**fast_al, "initial_basis": 6, "initial_points": 24}
    # Gradient-enhanced active learning. Dimples: the default start (2d + 2 = 10 Sobol
    # points), batch 2, no uncertainty penalty (the ensemble fits 5 numbers per call) and
    # zero-order consistency (friction and load are kinked in the dimple radius, where the
    # number of dimples on the pad jumps: a local gradient there misleads a linear
    # correction). Free form: 24 smooth start profiles (6 knots), batch 8 over three nested
    # trust boxes from radius 1/8, first-order consistency.
    dimples_gal = {**fast_al, "initial_points": 10, "trust_radius": 0.5, "kappa": 0.0,
                   "constraint_kappa": 0.0, "consistency_order": 0}
    profile_gal = {**fast_al, "initial_basis": 6, "initial_points": 24, "trust_radius": 0.125,
                   "radius_levels": 3}
    if quick:
        return [
            Setup("dimples_2d", {"grid": {"nx": 25, "nz": 9}}, 0.06, al_rounds=8, al_batch=2,
                  al_options=fast_al, de_popsize=10, de_maxiter=40, gd_starts=2, gd_inner=30,
                  gd_outer=3, gal_rounds=8, gal_batch=2, gal_options=dimples_gal),
            Setup("free_form_1d", {"profile": "free_form", "nodes": 32}, 0.15, al_rounds=6,
                  al_batch=8, al_options=profile_al, de_popsize=5, de_maxiter=60,
                  gd_starts=2, gd_inner=30, gd_outer=3, gal_rounds=10, gal_batch=8,
                  gal_options=profile_gal),
        ]
    return [
        Setup("dimples_2d", {"grid": {"nx": 41, "nz": 21}}, 0.06, al_rounds=30, al_batch=2,
              al_options={"starts": 16}, de_popsize=15, de_maxiter=150, gd_starts=8,
              al_patience=8, gal_rounds=30, gal_batch=2, gal_options=dimples_gal,
              gal_patience=8),
        Setup("free_form_1d", {"profile": "free_form", "nodes": 32}, 0.15, al_rounds=40,
              al_batch=8, al_options={**profile_al, "members": 5, "width": 64},
              de_popsize=10, de_maxiter=400, gd_starts=8, al_patience=8, gal_rounds=60,
              gal_batch=8, gal_options=profile_gal, gal_patience=8),
    ]


def simulator(problem: TextureProblem, trace: Trace) -> Callable[[torch.Tensor], torch.Tensor]:
    def run(X: torch.Tensor) -> torch.Tensor:
        out = problem.evaluate_tensor(X)
        trace.record(X, out)
        return out
    return run


# ------------------------------------------------------------------ methods
def run_de(problem: TextureProblem, setup: Setup) -> Trace:
    trace = Trace("differential_evolution")
    sim = simulator(problem, trace)
    bounds = problem.bounds.T.tolist()

    def objective(x: np.ndarray) -> np.ndarray:  # x: d x S (vectorized)
        X = torch.as_tensor(np.atleast_2d(x.T), dtype=torch.float64)
        with torch.no_grad():
            out = sim(X)
        shortfall = (setup.floor - out[:, 0]).clamp(min=0.0) / setup.floor
        return (out[:, 1] + 10.0 * shortfall).numpy()

    differential_evolution(objective, bounds, popsize=setup.de_popsize,
                           maxiter=setup.de_maxiter, tol=1e-10, seed=0, polish=False,
                           vectorized=True, updating="deferred", init="sobol")
    return trace


def run_gradient(problem: TextureProblem, setup: Setup) -> Trace:
    trace = Trace("gradient")
    sim = simulator(problem, trace)

    def predict(X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = sim(X)
        return out[:, :2], torch.zeros_like(out[:, :2])

    config = InverseDesignConfig(starts=setup.gd_starts, kappa=0.0, constraint_kappa=0.0,
                                 continuation=(0.0,), inner_iterations=setup.gd_inner,
                                 outer_iterations=setup.gd_outer)
    inverse_design(predict, problem.bounds, objective=Objective(1),
                   constraints=[OutcomeConstraint(0, setup.floor)], config=config)
    return trace


def _loop(problem: TextureProblem, setup: Setup, trace: Trace, rounds: int,
          batch: int, initial: list[dict[str, Any]],
          step: Callable[[list[dict[str, Any]], dict[str, Any], int, int],
                         tuple[list[dict[str, Any]], dict[str, Any]]],
          stop: bool, state: dict[str, Any] | None = None, gradients: bool = False,
          patience: int | None = None) -> None:
    """Simulate ``initial``, then ``rounds`` rounds of ``batch`` designs proposed by ``step``
    (or until the best simulated feasible friction stops improving, when ``stop``). With
    ``gradients`` every call also returns d(load, friction)/d(design), attached to the
    observations."""
    names = problem.parameter_names()
    observations: list[dict[str, Any]] = []
    state = dict(state or {})
    history: list[float | None] = []
    constraints = [{"name": "load", "op": ">=", "threshold": setup.floor}]
    designs = initial
    for r in range(rounds + 1):
        X = torch.tensor([[d[n] for n in names] for d in designs], dtype=torch.float64)
        observations += _simulate(problem, trace, X, designs, gradients)
        history.append(best_feasible(observations, OBJECTIVES, constraints))
        if r == rounds or (stop and stopped_improving(
                history, goal="minimize", patience=patience or setup.al_patience,
                min_improvement=1e-3)):
            break
        designs, state = step(observations, state, r, batch)


def _simulate(problem: TextureProblem, trace: Trace, X: torch.Tensor,
              designs: list[dict[str, Any]], gradients: bool) -> list[dict[str, Any]]:
    """One simulator call per design (with gradients: forward + backward, still one call),
    recorded in the trace, as observations."""
    names = problem.parameter_names()
    if gradients:
        out, slopes = problem.evaluate_tensor_with_gradients(X, ("load", "friction"))
    else:
        with torch.no_grad():
            out = problem.evaluate_tensor(X)
    trace.record(X, out)
    observations = []
    for i, (d, o) in enumerate(zip(designs, out.tolist(), strict=True)):
        obs: dict[str, Any] = {"parameters": d, "outcomes": {"load": o[0], "friction": o[1]}}
        if gradients:
            obs["gradients"] = {k: dict(zip(names, slopes[i, j].tolist(), strict=True))
                                for j, k in enumerate(("load", "friction"))}
        observations.append(obs)
    return observations


def _request(space: Space, setup: Setup, obs: list[dict[str, Any]], state: dict[str, Any],
             count: int, seed: int, options: dict[str, Any] | None = None) -> RoundRequest:
    options = setup.al_options if options is None else options
    return RoundRequest(space=space, observations=obs, pending=[],
                        taken=frozenset(design_key(o["parameters"]) for o in obs),
                        objectives=OBJECTIVES,
                        constraints=[{"name": "load", "op": ">=", "threshold": setup.floor}],
                        count=count, options=options, seed=seed, state=state)


def initial_designs(space: Space, setup: Setup, options: dict[str, Any] | None = None,
                    seed: int = 0) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The strategy's own space-filling start (its ``initial_points`` designs, in one round),
    shared by active learning and BO."""
    given = setup.al_options if options is None else options
    count = ActiveLearningOptions.from_options(given).initial_points \
        or 2 * len(space.parameters) + 2
    result = propose(_request(space, setup, [], {}, count, seed=seed, options=given))
    return [d.parameters for d in result.designs], result.state


def run_active_learning(problem: TextureProblem, setup: Setup, space: Space, *,
                        gradients: bool = True, offset: int = 0) -> Trace:
    """The ``inverse_design`` loop: gradient-enhanced (the ``gal_*`` settings) or on values
    only (the ``al_*`` settings); ``offset`` shifts every seed (start and rounds)."""
    trace = Trace("active_learning" if gradients else "active_learning_values")
    options = setup.gal_options if gradients else setup.al_options
    rounds, batch = ((setup.gal_rounds, setup.gal_batch) if gradients
                     else (setup.al_rounds, setup.al_batch))

    def step(obs: list[dict[str, Any]], state: dict[str, Any], r: int,
             batch: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        result = propose(_request(space, setup, obs, state, batch, seed=offset + r + 1,
                                  options=options))
        return [d.parameters for d in result.designs], result.state

    designs, state = initial_designs(space, setup, options, seed=offset)
    _loop(problem, setup, trace, rounds, batch, designs, step, stop=True, state=state,
          gradients=gradients, patience=setup.gal_patience if gradients else setup.al_patience)
    return trace


def run_bo(problem: TextureProblem, setup: Setup, space: Space, budget: int) -> Trace:
    trace = Trace("bayesian")
    constraints = [{"name": "load", "op": ">=", "threshold": setup.floor}]
    config = BOConfig(optimizer=OptimizerConfig(num_restarts=2, raw_samples=64,
                                                max_iterations=30), quality=False)
    designs, _ = initial_designs(space, setup, setup.gal_options)
    rounds = max(0, math.ceil((budget - len(designs)) / setup.al_batch))

    def step(obs: list[dict[str, Any]], state: dict[str, Any], r: int,
             batch: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        result = suggest(space, obs, [], OBJECTIVES, constraints, q=batch, config=config,
                         seed=r, previous_state=state.get("model"))
        return [s.parameters for s in result.suggestions], {"model": result.model_state}

    _loop(problem, setup, trace, rounds, setup.al_batch, designs, step, stop=False)
    return trace


# ------------------------------------------------------------------- report
def _median_calls(calls: list[int | None]) -> float:
    """The median of calls to 1% over seeds, a seed that never got there counting as
    infinitely many (so the median is infinite when half of them never did)."""
    ordered = sorted(math.inf if c is None else float(c) for c in calls)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def repeated_active_learning(problem: TextureProblem, setup: Setup, space: Space,
                             first: Trace, reference: float, offsets: tuple[int, ...],
                             log: Callable[[str], None]) -> list[dict[str, Any]]:
    """Method 1 again at each seed offset after the first (whose trace is ``first``)."""
    runs = []
    for offset in offsets:
        trace = first if offset == offsets[0] else run_active_learning(
            problem, setup, space, offset=offset)
        calls, seconds = trace.to_within(reference, setup.floor)
        runs.append({"seed_offset": offset, "sim_calls_to_1pct": calls,
                     "wall_seconds_to_1pct": seconds, "sim_calls_total": len(trace.friction),
                     "best_feasible_friction": trace.best(setup.floor)[0]})
        log(f"[{setup.name}] active learning, seed offset {offset}: calls to 1% {calls}")
    return runs


def run_problem(setup: Setup, log: Callable[[str], None],
                offsets: tuple[int, ...] = AL_SEED_OFFSETS) -> dict[str, Any]:
    problem = TextureProblem(setup.options)
    space = Space.from_dict(default_space(problem.options))
    traces: dict[str, Trace] = {}
    log(f"[{setup.name}] differential evolution (reference)")
    traces["differential_evolution"] = run_de(problem, setup)
    log(f"[{setup.name}] active learning with simulator gradients")
    traces["active_learning"] = run_active_learning(problem, setup, space)
    log(f"[{setup.name}] active learning on values only")
    traces["active_learning_values"] = run_active_learning(problem, setup, space,
                                                           gradients=False)
    budget = len(traces["active_learning"].friction)
    log(f"[{setup.name}] constrained BO, budget {budget}")
    traces["bayesian"] = run_bo(problem, setup, space, budget)
    log(f"[{setup.name}] gradient descent through the simulator")
    traces["gradient"] = run_gradient(problem, setup)
    reference, ref_design = traces["differential_evolution"].best(setup.floor)
    methods = {}
    for name, trace in traces.items():
        best, design = trace.best(setup.floor)
        calls, seconds = trace.to_within(reference, setup.floor)
        methods[name] = {"sim_calls_total": len(trace.friction),
                         "wall_seconds_total": trace.seconds[-1] if trace.seconds else 0.0,
                         "best_feasible_friction": best, "best_design": design,
                         "sim_calls_to_1pct": calls, "wall_seconds_to_1pct": seconds,
                         "curve": trace.best_curve(setup.floor)}
    de_calls = traces["differential_evolution"].to_within(reference, setup.floor)[0]
    seeds = repeated_active_learning(problem, setup, space, traces["active_learning"],
                                     reference, offsets, log)
    al_calls = _median_calls([run["sim_calls_to_1pct"] for run in seeds])
    ratio = (de_calls / al_calls) if (de_calls and math.isfinite(al_calls)) else 0.0
    return {"problem": setup.name, "options": problem.options, "load_floor": setup.floor,
            "parameters": problem.parameter_names(), "bounds": problem.bounds.tolist(),
            "reference_friction": reference, "reference_design": ref_design,
            "sim_calls_vs_de": ratio, "active_learning_median_calls_to_1pct": al_calls,
            "active_learning_seeds": seeds, "methods": methods}


def print_table(results: list[dict[str, Any]]) -> None:
    header = (f"{'problem':<13} {'method':<23} {'calls':>7} {'wall s':>8} {'best f':>9} "
              f"{'calls@1%':>9} {'s@1%':>8}")
    print(header)
    print("-" * len(header))
    for res in results:
        for name, m in res["methods"].items():
            calls = m["sim_calls_to_1pct"]
            secs = m["wall_seconds_to_1pct"]
            print(f"{res['problem']:<13} {name:<23} {m['sim_calls_total']:>7} "
                  f"{m['wall_seconds_total']:>8.1f} {m['best_feasible_friction']:>9.5f} "
                  f"{calls if calls else '-':>9} {f'{secs:.1f}' if secs else '-':>8}")
        print(f"{res['problem']:<13} reference (DE best) friction = "
              f"{res['reference_friction']:.5f}; DE/AL calls to 1% = {res['sim_calls_vs_de']:.1f}")


def plot(results: list[dict[str, Any]], path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(12, 8))
    FigureCanvasAgg(figure)
    axes = figure.subplots(2, len(results), squeeze=False)
    for col, res in enumerate(results):
        ax = axes[0][col]
        for name, m in res["methods"].items():
            curve = [v if math.isfinite(v) else np.nan for v in m["curve"]]
            ax.plot(np.arange(1, len(curve) + 1), curve, label=name)
        ax.axhline(res["reference_friction"] * (1 + RTOL), color="k", ls=":", label="ref + 1%")
        ax.set(xscale="log", xlabel="simulator calls", ylabel="best feasible friction f",
               title=f"{res['problem']}: load >= {res['load_floor']}")
        ax.legend(fontsize=8)
        ax = axes[1][col]
        lo, hi = np.array(res["bounds"][0]), np.array(res["bounds"][1])
        designs = {n: m["best_design"] for n, m in res["methods"].items() if m["best_design"]}
        if res["problem"].startswith("free_form"):
            for name, d in designs.items():
                cells = np.array(d)
                ax.step(np.arange(len(cells) + 1) / len(cells), np.append(cells, cells[-1]),
                        where="post", label=name)
            ax.set(xlabel="x / L", ylabel="film h / h_min", title="best designs (profiles)")
        else:
            width = 0.8 / max(len(designs), 1)
            for k, (name, d) in enumerate(designs.items()):
                u = (np.array(d) - lo) / (hi - lo)
                ax.bar(np.arange(len(u)) + k * width, u, width=width, label=name)
            ax.set_xticks(np.arange(len(lo)) + 0.4, res["parameters"], fontsize=8)
            ax.set(ylabel="fraction of the range", title="best designs (parameters)")
        ax.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small version (< 3 min)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", message=".*all training points are infeasible.*")
    start = time.perf_counter()

    def log(message: str) -> None:
        print(f"{time.perf_counter() - start:7.1f}s  {message}", flush=True)

    offsets = AL_SEED_OFFSETS[:1] if args.quick else AL_SEED_OFFSETS
    results = [run_problem(setup, log, offsets) for setup in setups(args.quick)]
    ratio = min(r["sim_calls_vs_de"] for r in results)  # AGGREGATE
    goal = "met" if ratio >= GOAL_RATIO else "not-met"
    print_table(results)
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {"quick": args.quick, "rtol": RTOL, "goal_ratio": GOAL_RATIO,
               "sim_calls_vs_de": ratio, "goal": goal, "aggregate": AGGREGATE,
               "per_problem_sim_calls_vs_de": {r["problem"]: r["sim_calls_vs_de"]
                                               for r in results},
               "wall_seconds": time.perf_counter() - start, "problems": results}
    (RESULTS / "textures.json").write_text(json.dumps(_clean(payload), indent=1))
    plot(results, RESULTS / "textures.png")
    print(f"wrote {RESULTS / 'textures.json'} and textures.png "
          f"({time.perf_counter() - start:.0f} s)")
    for r in results:
        print(f"{r['problem']}: active learning calls to 1% per seed offset "
              + ", ".join(f"{run['seed_offset']}: {run['sim_calls_to_1pct'] or 'never'}"
                          for run in r["active_learning_seeds"])
              + f"; median {r['active_learning_median_calls_to_1pct']:g}")
    print("per problem DE/AL calls to 1%: " + ", ".join(
        f"{r['problem']}={r['sim_calls_vs_de']:.1f}" for r in results) + f" ({AGGREGATE})")
    print(f"textures: sim_calls_vs_de={ratio:.1f} goal={goal}")
    return 0


def _clean(value: Any) -> Any:
    """JSON-ready: non-finite floats become null (JSON has no infinity)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


if __name__ == "__main__":
    raise SystemExit(main())
