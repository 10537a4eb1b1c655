r"""Would Ax's defaults change designloop's regret? Paired ablations on the BO benchmark.

Each variant changes one thing in designloop's default configuration, mostly to what Ax's
default ``Client`` generation strategy does (ax-platform 1.3: BoTorch's ``SingleTaskGP``,
qLogNEI, outcome transforms ``Winsorize``, ``BilogY`` and ``StandardizeY``, ``optimize_acqf``
with 20 restarts from 1024 raw samples), and runs the problems of :mod:`bayesopt` (constrained
Hartmann6 and the nanoparticle lab: the same initial designs, lab noise, budget and, unless
``--q`` says otherwise, ``q = 2``) on the same seeds as the default. Each variant is then
compared with the default seed by seed (wins, losses, two-sided sign test), since the spread
of the final regret over seeds is far wider than any difference between these variants'
medians.

Variants (:data:`VARIANTS`):

* ``default`` — designloop's :class:`~models.bo.config.BOConfig`;
* ``cold_fit`` — every round's GPs fitted from their priors' starting values (Ax refits each
  round) instead of warm-started from the previous round's hyperparameters;
* ``mc_512`` — 512 quasi-Monte Carlo samples in qLogNEI (BoTorch's default) instead of 128;
* ``eta_1e-3`` — BoTorch's feasibility temperature ``eta = 1e-3`` instead of ``1e-2``;
* ``ax_optimizer`` — 20 restarts from 1024 raw samples, up to 200 L-BFGS-B iterations, every
  greedy step from scratch (Ax's optimiser settings) instead of 4 from 128, 30 and warm steps;
* ``winsorize`` — outcomes winsorised at Tukey's fences before fitting (Ax's ``Winsorize``);
* ``bilog`` — the constraint's measurements through Ax's ``BilogY``,
  :math:`y \mapsto b + \mathrm{sign}(y - b) \log(1 + |y - b|)` with :math:`b` the threshold
  (unchanged, :math:`f(b) = b`); the noise is inferred, so this is Ax's transform exactly;
* ``no_pruning`` — the whole baseline in qLogNEI instead of BoTorch's pruning of designs
  unlikely to be the best;
* ``ax_acquisition`` — ``mc_512`` and ``eta_1e-3`` together; ``ax_like`` — those and
  ``bilog``;
* ``hill_prior`` — not an Ax default but designloop's option: a saturating Hill prior mean in
  dose for T-cell activation, learned with the kernel (the nanoparticle lab only; issue 7's
  "how much the prior helps against a constant mean", on 30 seeds instead of the main
  benchmark's 10);
* ``pooled_batches`` — designloop's option ``OptimizerConfig.pooled_from``: the later designs
  of every batch from a pool instead of a solve each, the batch then refined jointly (faster
  batches; see ``--q 8``);
* ``joint_batches`` — designloop's option ``OptimizerConfig.joint_batch``: the batch optimised
  in one joint solve.

Why ``--first-seed``: several of the default's settings (``OptimizerConfig.max_iterations``,
``warm_iterations``) were chosen on seeds 0-9 of these problems, so on the first seeds any
change is compared with a configuration selected for them; seeds from 100 are a fresh draw
(on them the default no longer led every variant: ``results/bayesopt_ablation_from100.json``).

Usage::

    python benchmarks/bayesopt_ablation.py                # 30 seeds, every variant
    python benchmarks/bayesopt_ablation.py --quick        # 2 seeds, 12 evaluations
    python benchmarks/bayesopt_ablation.py --variants default,bilog --jobs 2
    python benchmarks/bayesopt_ablation.py --first-seed 100 --jobs 2          # fresh seeds
    python benchmarks/bayesopt_ablation.py --variants default,pooled_batches,joint_batches \
        --q 8 --budget 40 --seeds 20 --first-seed 100 --jobs 2             # batches of 8

Prints the table, writes ``benchmarks/results/bayesopt_ablation.json`` (a run at another ``q``
or first seed: :func:`results_name`) and ends with
``bayesopt_ablation: min_sign_test_p=<p> best_median_vs_default=<r>``: the smallest sign-test
p-value of any variant against the default on any problem, and the lowest ratio of a variant's
median final regret to the default's.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import multiprocessing
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import bayesopt as bench  # the benchmark beside this script (it puts the root on the path)

from models.bo.config import BOConfig
from models.numerics import numerics

RESULTS = HERE / "results"
DEFAULT = BOConfig()

def _changed(section: str, **changes: Any) -> BOConfig:
    """The default configuration with fields of one of its sections (``"gp"``,
    ``"acquisition"``, ``"optimizer"``) changed."""
    return dataclasses.replace(DEFAULT, **{section: dataclasses.replace(
        getattr(DEFAULT, section), **changes)})


#: Ax's acquisition settings: BoTorch's default 512 QMC samples and feasibility temperature.
AX_ACQUISITION = _changed("acquisition", mc_samples=512, eta=1e-3)

#: name -> (what it changes, its configuration, whether the constraint is bilog-transformed).
VARIANTS: dict[str, tuple[str, BOConfig, bool]] = {
    "default": ("designloop's default configuration", DEFAULT, False),
    "cold_fit": ("GPs refitted from their priors every round",
                 _changed("gp", warm_start=False), False),
    "mc_512": ("512 QMC samples instead of 128", _changed("acquisition", mc_samples=512),
               False),
    "eta_1e-3": ("feasibility temperature 1e-3 instead of 1e-2",
                 _changed("acquisition", eta=1e-3), False),
    "ax_optimizer": ("20 restarts from 1024 raw samples, 200 iterations, no warm steps",
                     _changed("optimizer", num_restarts=20, simplex_restarts=20,
                              raw_samples=1024, max_iterations=200, warm_iterations=0), False),
    "winsorize": ("outcomes winsorised at Tukey's fences", _changed("gp", winsorize=True),
                  False),
    "bilog": ("constraint measurements through Ax's BilogY", DEFAULT, True),
    "ax_acquisition": ("Ax's acquisition settings: 512 QMC samples and eta 1e-3",
                       AX_ACQUISITION, False),
    "ax_like": ("Ax's acquisition settings and BilogY on the constraint", AX_ACQUISITION, True),
    "no_pruning": ("no pruning of the qLogNEI baseline",
                   _changed("acquisition", prune_baseline=False), False),
    "pooled_batches": ("later designs of a batch from a pool, the batch refined jointly",
                       _changed("optimizer", pooled_from=2), False),
    "joint_batches": ("every batch optimised jointly, in one solve",
                      _changed("optimizer", joint_batch=True), False),
    "hill_prior": ("a saturating Hill prior mean in dose for T-cell activation", bench.HILL,
                   False),
}


def applies(variant: str, problem: bench.BenchProblem) -> bool:
    """Whether ``variant`` runs on ``problem`` (the Hill prior needs its input, dose)."""
    return variant != "hill_prior" or bench.HILL_INPUT in problem.space.names


def bilog(value: float, bound: float) -> float:
    r"""Ax's ``BilogY``: :math:`b + \mathrm{sign}(y - b) \log(1 + |y - b|)`, monotone, with
    :math:`f(b) = b`, so the constraint's threshold and feasibility are unchanged."""
    return bound + math.copysign(math.log1p(abs(value - bound)), value - bound)


def with_bilog_constraint(problem: bench.BenchProblem) -> bench.BenchProblem:
    """The problem with its lab's constraint measurements bilog-transformed around the
    threshold (a copy: the benchmark's cached problem is left alone)."""
    name, bound = problem.constraint["name"], float(problem.constraint["threshold"])
    measure = problem.measure

    def transformed(seed: int) -> Callable[[list[dict[str, Any]]], list[dict[str, float]]]:
        lab = measure(seed)

        def run(designs: list[dict[str, Any]]) -> list[dict[str, float]]:
            return [{**o, name: bilog(o[name], bound)} for o in lab(designs)]
        return run

    return dataclasses.replace(problem, measure=transformed)


def run_variant(job: tuple[str, int, str, int, int]) -> dict[str, float]:
    """One variant's run on one problem and seed: final regret (on the noise-free truth),
    infeasible suggestions and wall seconds."""
    name, seed, variant, budget, q = job
    bench.quiet_single_thread()
    _, config, transformed = VARIANTS[variant]
    problem = bench._problems()[name]
    if transformed:
        problem = with_bilog_constraint(problem)
    initial = bench.space_filling_designs(problem.space, bench.INITIAL, seed=seed).designs
    bench._seed_everything(seed)
    start = time.perf_counter()
    trace = bench.run_designloop(problem, seed, initial, budget, config=config, q=q)
    return {"regret": bench.regret_curve(problem, trace.designs)[-1],
            "infeasible": bench.infeasible_suggested(problem, trace.designs),
            "seconds": time.perf_counter() - start}


def summarize(runs: dict[str, list[dict[str, float]]]) -> dict[str, dict[str, Any]]:
    """Per variant: the spread of its final regrets and its seed-by-seed record against the
    default (``runs``: variant -> one run per seed, in seed order)."""
    base = [r["regret"] for r in runs["default"]]
    out = {}
    for variant, rows in runs.items():
        regrets = [r["regret"] for r in rows]
        out[variant] = {
            "final_regrets": regrets, "median": statistics.median(regrets),
            "q25": bench._quantile(regrets, 0.25), "q75": bench._quantile(regrets, 0.75),
            "mean": statistics.mean(regrets),
            "infeasible_suggested": int(sum(r["infeasible"] for r in rows)),
            "seconds_per_run_median": statistics.median(r["seconds"] for r in rows),
            "vs_default": bench.seed_by_seed(regrets, base)}
    return out


def print_table(results: dict[str, dict[str, dict[str, Any]]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="bayesopt_ablation: designloop variants, paired seeds")
    for column in ("problem", "variant", "median [q25, q75]", "mean", "infeasible",
                   "vs default +/=/-", "sign p", "s/run"):
        table.add_column(column)
    for name, variants in results.items():
        for variant, r in variants.items():
            v = r["vs_default"]
            table.add_row(name, variant, f"{r['median']:.4g} [{r['q25']:.3g}, {r['q75']:.3g}]",
                          f"{r['mean']:.4g}", str(r["infeasible_suggested"]),
                          f"{v['seeds_better']}/{v['seeds_equal']}/{v['seeds_worse']}",
                          f"{v['sign_test_p']:.2g}", f"{r['seconds_per_run_median']:.1f}")
    Console(width=140).print(table)


def summary(results: dict[str, dict[str, dict[str, Any]]]) -> tuple[float, float]:
    """``(smallest sign-test p, lowest median ratio)`` of the variants against the default."""
    others = [(r["vs_default"]["sign_test_p"], r["median"] / max(v["default"]["median"], 1e-12))
              for v in results.values() for k, r in v.items() if k != "default"]
    if not others:
        return math.nan, math.nan
    return min(p for p, _ in others), min(m for _, m in others)


def results_name(q: int, first_seed: int) -> str:
    """``bayesopt_ablation.json`` for the benchmark's own batch size and seeds, else the batch
    size and first seed in the name (so a run at q = 8 leaves the q = 2 file alone)."""
    parts = ([f"q{q}"] if q != bench.Q else []) + ([f"from{first_seed}"] if first_seed else [])
    return "_".join(["bayesopt_ablation", *parts]) + ".json"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds, 12 evaluations")
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--first-seed", type=int, default=0,
                        help="seeds first-seed .. first-seed + seeds - 1 (some defaults "
                             "were chosen on seeds 0-9: check a change on others too)")
    parser.add_argument("--budget", type=int, default=None, help="evaluations per run")
    parser.add_argument("--q", type=int, default=bench.Q, help="designs per round")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--jobs", type=int, default=1, help="runs in parallel processes")
    parser.add_argument("--results", type=Path, default=RESULTS,
                        help="folder for bayesopt_ablation.json")
    args = parser.parse_args(argv)
    variants = args.variants.split(",")
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown variants {unknown}; known: {sorted(VARIANTS)}")
    if "default" not in variants:
        variants.insert(0, "default")
    seeds = args.seeds or (2 if args.quick else 30)
    budget = args.budget or (12 if args.quick else 24)
    started = time.perf_counter()
    jobs = [(name, seed, variant, budget, args.q) for name, problem in bench._problems().items()
            for variant in variants if applies(variant, problem)
            for seed in range(args.first_seed, args.first_seed + seeds)]
    if args.jobs > 1:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=args.jobs, mp_context=context) as pool:
            rows = list(pool.map(run_variant, jobs))
    else:
        rows = [run_variant(job) for job in jobs]
    runs: dict[str, dict[str, list[dict[str, float]]]] = {}
    for (name, _, variant, _, _), row in zip(jobs, rows, strict=True):
        runs.setdefault(name, {}).setdefault(variant, []).append(row)
    results = {name: summarize(by_variant) for name, by_variant in runs.items()}
    print_table(results)
    min_p, best_ratio = summary(results)
    args.results.mkdir(parents=True, exist_ok=True)
    path = args.results / results_name(args.q, args.first_seed)
    path.write_text(json.dumps({
        "mode": "quick" if args.quick else "full", "seeds": seeds,
        "first_seed": args.first_seed, "budget": budget,
        "initial": bench.INITIAL, "q": args.q, "jobs": args.jobs, "numerics": numerics(),
        "variants": {v: VARIANTS[v][0] for v in variants}, "results": results,
        "min_sign_test_p": min_p, "best_median_vs_default": best_ratio,
        "wall_seconds": time.perf_counter() - started}, indent=1))
    print(f"wrote {path} ({time.perf_counter() - started:.0f} s)")
    print(f"bayesopt_ablation: min_sign_test_p={min_p:.3g} "
          f"best_median_vs_default={best_ratio:.3g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
