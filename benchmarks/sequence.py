r"""Issue 5 benchmark: sequence-to-structure design on the HP lattice protein, oracle-verified.

Targets (fixed by seeds, HP alphabet of Lau & Dill, ``E_HH = -1``):

* ``4x4``: **every** designable compact structure of the 4 x 4 square. Designability is exact:
  all ``2^16`` sequences are folded and a structure is designable when at least one sequence
  has it as its unique ground state (all 69 are).
* ``6x6``: ``n_6x6`` structures drawn (seed 1) from the designable 6 x 6 structures found by
  folding ``sample_6x6`` uniform random sequences (seed 0): each target is the unique ground
  state of at least one sampled sequence, so it is provably designable. (Exhaustive
  designability needs ``2^36`` folds; the sample favours the more designable structures, as
  a uniform draw over designable sequences does.)

Budget: every method gets the same **per-target wall-clock cap** (``budget_4x4`` /
``budget_6x6`` seconds) and stops at its first success, so methods are *not* compared at equal
work: the headline comparison is **oracle calls per success** (an oracle call is one sequence
folded). The cap is enforced for every method: a gradient method starts a new attempt only when
the longest attempt so far still fits in the time left, the baselines stop at the first batch
that ends past the cap, and for every method a success counts only when its wall time on the
target is within the cap (``over_cap`` marks a sequence found later; it counts as a failure).
So a *failed* run may pass the cap by the tail of its last attempt or batch (``max s`` in the
table), but no success is bought with time past the cap. The table also gives the wall seconds per success and the
predictor evaluations (sequences scored by the predictor, ``DesignResult.predictor_calls``;
0 for the oracle-only baselines), so the cost of the predictor is on the record too. Training
the neural predictor is **outside** the per-target budget; its time is reported separately.

Methods:

1. ``gradient_boltzmann``: :func:`models.sequence.design.design_sequences` through the exact
   Boltzmann predictor (6 x 6: over a decoy set of the 2,000 conformations closest to the
   target, grown by the ground states of failed designs, :mod:`models.sequence.decoys`), every
   distinct design verified by the oracle; new seeds until success or the budget is spent;
2. ``gradient_neural``: the same through the learned :class:`NeuralPredictor`, trained once per
   lattice on oracle-labelled random sequences (its training time is reported apart and not
   charged to the per-target budget; quick mode runs it on every 6th 4 x 4 target and not on
   6 x 6);
3. ``simulated_annealing`` and 4. ``random_search`` directly on the oracle
   (:mod:`models.sequence.baselines`).

Every claimed success is re-checked by a separate exact ``oracle.fold`` (false positives).
Summary: ``success_rate`` = gradient_boltzmann's success over all targets;
``oracle_calls_vs_sa`` = simulated annealing's oracle calls per success over
gradient_boltzmann's (all targets); ``goal=met`` when all 4 x 4 targets are designed, at
least 90% of the 6 x 6 targets, the ratio is at least 10 and there is no false positive.
The JSON records how the targets were chosen (``target_selection``); non-finite numbers
(e.g. calls per success with zero successes) are written as ``null``.

Run ``python benchmarks/sequence.py [--quick] [--results DIR]``; writes ``sequence.json`` and
``sequence.png`` to ``DIR`` (default ``benchmarks/results``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models.sequence import (
    BoltzmannPredictor,
    LatticeOracle,
    all_sequences,
    compact_conformations,
    designability,
    get_alphabet,
    random_sequences,
)
from models.sequence.baselines import random_search, simulated_annealing
from models.sequence.decoys import DecoySet
from models.sequence.design import DesignConfig, design_sequences
from models.sequence.neural_predictor import train_neural_predictor
from models.sequence.predictor import StructurePredictor
from models.sequence.targets import target_from_index
from models.sequence.verify import verify_designs

RESULTS = ROOT / "benchmarks" / "results"
METHODS = ("gradient_boltzmann", "gradient_neural", "simulated_annealing", "random_search")
ALPHABET = "hp"
TEMPERATURE = 0.3

SETTINGS: dict[str, dict[str, Any]] = {
    "quick": {"sample_6x6": 1000, "n_6x6": 3, "budget_4x4": 3.0, "budget_6x6": 8.0,
              "neural_every_4x4": 6, "neural_6x6": False, "neural_steps": 250,
              "neural_train": 1500},
    "full": {"sample_6x6": 4000, "n_6x6": 12, "budget_4x4": 5.0, "budget_6x6": 20.0,
             "neural_every_4x4": 1, "neural_6x6": True, "neural_steps": 600,
             "neural_train": 4000},
}
DESIGN = {"4x4": DesignConfig(starts=16, steps=100, polish_sweeps=2),
          "6x6": DesignConfig(starts=16, steps=100, polish_sweeps=2)}


@dataclasses.dataclass
class Outcome:
    """One method on one target."""

    lattice: str
    target: int
    method: str
    success: bool
    oracle_calls: int
    predictor_calls: int
    seconds: float
    sequence: str | None
    confirmed: bool | None
    over_cap: bool = False


SAMPLE_SEED_6X6 = 0
DRAW_SEED_6X6 = 1


def choose_targets(settings: dict[str, Any]) -> tuple[dict[str, list[int]], dict[str, Any]]:
    """The fixed target sets (module docstring): all designable 4x4, a seeded 6x6 draw.

    Returns:
        ``(targets, selection)``: target indices per lattice, and how they were chosen.
    """
    alphabet = get_alphabet(ALPHABET)
    small_conformations = compact_conformations(4)
    small = designability(LatticeOracle(small_conformations, alphabet), all_sequences(16, 2))
    large_conformations = compact_conformations(6)
    large = designability(LatticeOracle(large_conformations, alphabet),
                          random_sequences(settings["sample_6x6"], 36, 2,
                                           seed=SAMPLE_SEED_6X6))
    candidates = large.designable()
    draw = torch.randperm(len(candidates),
                          generator=torch.Generator().manual_seed(DRAW_SEED_6X6))
    targets = {"4x4": sorted(small.designable().tolist()),
               "6x6": candidates[draw[:settings["n_6x6"]]].tolist()}
    selection = {
        "4x4": {"method": "exhaustive: every HP sequence of length 16 folded; the targets are "
                          "all compact conformations that are the unique ground state of at "
                          "least one sequence",
                "compact_conformations": len(small_conformations),
                "sequences_folded": small.n_sequences,
                "sequences_with_unique_ground_state": small.n_designing,
                "designable": len(targets["4x4"]), "targets": len(targets["4x4"])},
        "6x6": {"method": "sampled: sample_size uniform random HP sequences of length 36 "
                          "(sample_seed) folded; the candidates are the compact conformations "
                          "that are the unique ground state of at least one of them; n_targets "
                          "drawn uniformly without replacement (draw_seed)",
                "compact_conformations": len(large_conformations),
                "sample_size": settings["sample_6x6"], "sample_seed": SAMPLE_SEED_6X6,
                "sequences_with_unique_ground_state": large.n_designing,
                "designable_candidates": len(candidates), "draw_seed": DRAW_SEED_6X6,
                "n_targets": len(targets["6x6"])}}
    return targets, selection


Run = tuple[bool, int, int, str | None]  # success, oracle calls, predictor calls, sequence


def gradient(oracle: LatticeOracle, target: int, budget: float,
             make_predictor: Callable[[int], StructurePredictor], config: DesignConfig,
             make_decoys: Callable[[], DecoySet] | None) -> Run:
    """Design with fresh seeds until a verified success or the budget is spent.

    A new attempt starts only while the longest attempt so far still fits in the time left,
    so the loop does not overrun the cap by a whole attempt (the caller still discards a
    success found after the cap). ``make_decoys`` builds the growing decoy set of the exact
    predictor on 6 x 6 (inside the budget); ``None``: ``make_predictor(attempt)`` is used.
    """
    started, calls, predictor_calls, attempt, longest = time.perf_counter(), 0, 0, 0, 0.0
    decoys = None if make_decoys is None else make_decoys()
    contact_map = target_from_index(oracle.conformations, target).contact_map
    while attempt == 0 or time.perf_counter() - started + longest <= budget:
        attempt_started = time.perf_counter()
        predictor = make_predictor(attempt) if decoys is None else decoys.predictor(
            oracle.alphabet, TEMPERATURE)
        result = design_sequences(predictor, contact_map,
                                  config=dataclasses.replace(config, seed=attempt))
        predictor_calls += result.predictor_calls
        verdict = verify_designs(oracle, result.sequences, target)
        calls += verdict.oracle_calls
        hits = torch.nonzero(verdict.success).squeeze(1)
        if hits.numel():
            return (True, calls, predictor_calls,
                    oracle.alphabet.decode(verdict.sequences[hits[0]])[0])
        if decoys is not None:
            decoys.add(verdict.folding.ground_state)
        attempt += 1
        longest = max(longest, time.perf_counter() - attempt_started)
    return False, calls, predictor_calls, None


def run_target(lattice: str, oracle: LatticeOracle, target: int, budget: float,
               neural: StructurePredictor | None) -> list[Outcome]:
    """All methods on one target."""
    outcomes = []
    exact = BoltzmannPredictor(oracle.conformations, oracle.alphabet, TEMPERATURE)
    runs: dict[str, Callable[[], Run]] = {
        "gradient_boltzmann": lambda: gradient(
            oracle, target, budget, lambda _: exact, DESIGN[lattice],
            (lambda: DecoySet(oracle.conformations, target, 2000)) if lattice == "6x6"
            else None),
        "simulated_annealing": lambda: _search(simulated_annealing, oracle, target, budget),
        "random_search": lambda: _search(random_search, oracle, target, budget),
    }
    if neural is not None:
        runs["gradient_neural"] = lambda: gradient(oracle, target, budget, lambda _: neural,
                                                   DESIGN[lattice], None)
    for method in METHODS:
        if method not in runs:
            continue
        started = time.perf_counter()
        found, calls, predictor_calls, sequence = runs[method]()
        seconds = time.perf_counter() - started
        over_cap = found and seconds > budget  # found, but after the cap: not a success
        confirmed = None if sequence is None else bool(
            oracle.fold(sequence).folds_to(target)[0])
        outcomes.append(Outcome(lattice, target, method, found and not over_cap, calls,
                                predictor_calls, seconds, sequence, confirmed, over_cap))
    return outcomes


def _search(search: Callable[..., Any], oracle: LatticeOracle, target: int,
            budget: float) -> Run:
    result = search(oracle, target, seconds=budget, seed=target)
    text = None if result.sequence is None else oracle.alphabet.decode(result.sequence)[0]
    return result.success, result.oracle_calls, 0, text


def summarise(outcomes: list[Outcome]) -> dict[str, dict[str, Any]]:
    """Per lattice (and ``all``) and method: success rate, calls and seconds per success."""
    table: dict[str, dict[str, Any]] = {}
    for lattice in ("4x4", "6x6", "all"):
        for method in METHODS:
            rows = [o for o in outcomes if o.method == method and lattice in (o.lattice, "all")]
            if not rows:
                continue
            successes = sum(o.success for o in rows)
            calls = sum(o.oracle_calls for o in rows)
            predictor_calls = sum(o.predictor_calls for o in rows)
            seconds = sum(o.seconds for o in rows)
            table[f"{lattice}/{method}"] = {
                "lattice": lattice, "method": method, "targets": len(rows),
                "successes": successes, "success_rate": successes / len(rows),
                "oracle_calls": calls,
                "oracle_calls_per_success": calls / successes if successes else math.inf,
                "predictor_calls": predictor_calls,
                "predictor_calls_per_success": (predictor_calls / successes if successes
                                                else math.inf if predictor_calls else 0.0),
                "seconds": seconds,
                "seconds_per_success": seconds / successes if successes else math.inf,
                "mean_seconds": seconds / len(rows),
                "max_seconds": max(o.seconds for o in rows),
                "over_cap": sum(o.over_cap for o in rows),
                "false_positives": sum(1 for o in rows if o.success and not o.confirmed)}
    return table


def budget_note(settings: dict[str, Any]) -> str:
    """The budget rule, as printed above the table and stored in the JSON."""
    return (f"budget: equal per-target wall-clock cap (4x4 {settings['budget_4x4']:g} s, "
            f"6x6 {settings['budget_6x6']:g} s), each method stops at its first success and a "
            "success counts only within the cap; the headline ratio is oracle calls per "
            "success; neural predictor training is outside the budget (reported apart)")


def print_table(table: dict[str, dict[str, Any]], settings: dict[str, Any]) -> None:
    print(budget_note(settings))
    header = (f"{'lattice':7} {'method':20} {'targets':>7} {'success':>8} {'calls/success':>14}"
              f" {'pred/success':>13} {'s/success':>9} {'s/target':>9} {'max s':>6}"
              f" {'false+':>6}")
    print(header)
    print("-" * len(header))
    for row in table.values():
        print(f"{row['lattice']:7} {row['method']:20} {row['targets']:7d} "
              f"{row['success_rate']:8.1%} {row['oracle_calls_per_success']:14.1f} "
              f"{row['predictor_calls_per_success']:13.0f} {row['seconds_per_success']:9.2f} "
              f"{row['mean_seconds']:9.2f} {row['max_seconds']:6.2f} "
              f"{row['false_positives']:6d}")


def plot(table: dict[str, dict[str, Any]], path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11.0, 4.2), dpi=100)
    FigureCanvasAgg(figure)
    rate_ax, calls_ax = figure.subplots(1, 2)
    for offset, lattice in enumerate(("4x4", "6x6")):
        rows = [r for r in table.values() if r["lattice"] == lattice]
        xs = [METHODS.index(r["method"]) + 0.4 * offset for r in rows]
        rate_ax.bar(xs, [r["success_rate"] for r in rows], width=0.4, label=lattice)
        calls_ax.bar(xs, [r["oracle_calls_per_success"] if r["successes"] else 0 for r in rows],
                     width=0.4, label=lattice)
    for ax, title in ((rate_ax, "success rate"), (calls_ax, "oracle calls per success")):
        ax.set_xticks([i + 0.2 for i in range(len(METHODS))],
                      [m.replace("_", "\n") for m in METHODS], fontsize=8)
        ax.set_title(title)
        ax.legend()
    calls_ax.set_yscale("log")
    figure.tight_layout()
    figure.savefig(path, format="png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small version, under 3 minutes")
    parser.add_argument("--results", type=Path, default=RESULTS,
                        help="directory of sequence.json and sequence.png")
    args = parser.parse_args()
    results: Path = args.results
    torch.set_num_threads(1)
    mode = "quick" if args.quick else "full"
    settings = SETTINGS[mode]
    started = time.perf_counter()
    targets, selection = choose_targets(settings)
    alphabet = get_alphabet(ALPHABET)
    outcomes: list[Outcome] = []
    training: dict[str, Any] = {}
    for lattice, size in (("4x4", 4), ("6x6", 6)):
        conformations = compact_conformations(size)
        oracle = LatticeOracle(conformations, alphabet)
        neural = None
        if lattice == "4x4" or settings["neural_6x6"]:
            neural, report = train_neural_predictor(
                conformations, alphabet, n_train=settings["neural_train"],
                steps=settings["neural_steps"], temperature=TEMPERATURE, width=32)
            training[lattice] = dataclasses.asdict(report)
        budget = settings[f"budget_{lattice}"]
        every = settings["neural_every_4x4"] if lattice == "4x4" else 1
        for position, target in enumerate(targets[lattice]):
            use_neural = neural if position % every == 0 else None
            outcomes.extend(run_target(lattice, oracle, target, budget, use_neural))
        print(f"{lattice}: {len(targets[lattice])} targets done at "
              f"{time.perf_counter() - started:.0f} s", flush=True)
    table = summarise(outcomes)
    print_table(table, settings)
    summary = _summary(table)
    results.mkdir(parents=True, exist_ok=True)
    document = {"mode": mode, "settings": settings, "budget": budget_note(settings),
                "alphabet": ALPHABET, "temperature": TEMPERATURE,
                "design": {k: dataclasses.asdict(v) for k, v in DESIGN.items()},
                "targets": targets, "target_selection": selection,
                "neural_training": training, "table": table,
                "outcomes": [dataclasses.asdict(o) for o in outcomes], "summary": summary,
                "seconds": time.perf_counter() - started}
    (results / "sequence.json").write_text(json.dumps(_finite(document), indent=1,
                                                      allow_nan=False))
    plot(table, results / "sequence.png")
    print("neural predictor training (outside the per-target budget): " + ", ".join(
        f"{k}: {v['seconds']:.0f} s, held-out top-K precision {v['held_out_precision']:.2f}"
        for k, v in training.items()))
    print(f"total {time.perf_counter() - started:.0f} s")
    print(f"sequence: success_rate={summary['success_rate']:.3f} "
          f"oracle_calls_vs_sa={summary['oracle_calls_vs_sa']:.1f} "
          f"goal={'met' if summary['goal_met'] else 'not-met'}")


def _summary(table: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The summary line's values and the goal (module docstring); ratio ``nan`` if undefined."""
    ours = table["all/gradient_boltzmann"]
    sa = table["all/simulated_annealing"]
    ours_cost, sa_cost = ours["oracle_calls_per_success"], sa["oracle_calls_per_success"]
    if not (math.isfinite(ours_cost) or math.isfinite(sa_cost)):
        ratio = math.nan  # neither method succeeded: nothing to compare
    elif ours_cost == 0:
        ratio = math.inf if sa_cost > 0 else math.nan
    else:
        ratio = sa_cost / ours_cost
    false_positives = sum(r["false_positives"] for k, r in table.items()
                          if k.startswith("all/"))
    goal = (table["4x4/gradient_boltzmann"]["success_rate"] == 1.0
            and table["6x6/gradient_boltzmann"]["success_rate"] >= 0.9
            and ratio >= 10.0 and false_positives == 0)
    return {"success_rate": ours["success_rate"], "oracle_calls_vs_sa": ratio,
            "false_positives": false_positives, "goal_met": bool(goal)}


def _finite(value: Any) -> Any:
    """``value`` with every non-finite float (at any depth) replaced by ``None`` (JSON null)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


if __name__ == "__main__":
    main()
