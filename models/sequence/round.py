r"""The ``sequence_design`` strategy: gradient design through a structure predictor, oracle-checked.

A round designs sequences for the campaign's target and restraints (``request.problem``, a
:class:`models.problems.sequence.problem.SequenceProblem`), verifies every candidate with the
exact oracle, drops those already pending or observed (``request.taken``) and returns the best
``count``: successes first (largest target gap first), then the rest by predictor loss. It
designs again with fresh seeds (up to ``attempts`` times) until it holds ``count`` new successes.

Strategy options (``request.options``, all optional): ``predictor`` (``"boltzmann"`` or
``"neural"``, default: the problem's), ``temperature`` (Boltzmann ``T``), ``attempts``, and
the :class:`models.sequence.design.DesignConfig` fields ``starts``, ``steps``,
``learning_rate``, ``tau_start``, ``tau_end``, ``straight_through``, ``gumbel``,
``polish_sweeps``, ``init_scale``; ``decoys`` (the Boltzmann predictor sums over the target and
its ``decoys`` most similar conformations, growing by the oracle's ground states of failed
designs between attempts — :mod:`models.sequence.decoys`; default: all conformations up to
5,000, else 2,000). With the neural predictor the round trains it on oracle
data (or restores it from ``request.previous_model``) and returns it as the model version.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Mapping
from typing import Any

import torch

from models.design.rounds import ProposedDesign, RoundRequest, RoundResult, TrainedModel
from models.errors import ScienceError
from models.problems.sequence.problem import SequenceProblem, outcomes
from models.sequence.decoys import DecoySet
from models.sequence.design import DesignConfig, DesignResult, design_sequences
from models.sequence.neural_predictor import (
    load_predictor,
    save_predictor,
    train_neural_predictor,
)
from models.sequence.predictor import BoltzmannPredictor, StructurePredictor
from models.sequence.verify import Verification, verify_designs
from models.space.keys import design_key

MODEL_KIND = "neural_predictor"
_CONFIG_FIELDS = {f.name for f in dataclasses.fields(DesignConfig)} - {"seed"}


class SequenceDesignError(ScienceError):
    """The ``sequence_design`` strategy cannot run on this request."""


def propose(request: RoundRequest) -> RoundResult:
    """The ``sequence_design`` strategy's round (see the module docstring)."""
    problem = request.problem
    if not isinstance(problem, SequenceProblem):
        raise SequenceDesignError("the sequence_design strategy needs the 'sequence' problem",
                                  {"problem": type(problem).__name__})
    options = dict(request.options)
    config = _config(options)
    predictor, model = _predictor(problem, options, request)
    exact = isinstance(predictor, BoltzmannPredictor)
    temperature = predictor.temperature if isinstance(predictor, BoltzmannPredictor) else 0.0
    decoys = _decoys(problem, options) if exact else None
    taken = set(request.taken) | {design_key(dict(p)) for p in request.pending}
    chosen: dict[str, tuple[float, float, int]] = {}
    pool: dict[str, tuple[Verification, DesignResult, int]] = {}
    attempts = int(options.get("attempts", 4))
    oracle_calls = 0
    for attempt in range(attempts):
        request.progress(attempt / attempts, f"design attempt {attempt + 1} of {attempts}")
        seeded = dataclasses.replace(config, seed=request.seed * 1009 + attempt)
        if decoys is not None:
            predictor = decoys.predictor(problem.alphabet, temperature)
        result = design_sequences(predictor, problem.target.contact_map,
                                  restraints=problem.restraints, config=seeded)
        verification = verify_designs(problem.oracle, result.sequences, problem.target.index,
                                      problem.restraints)
        oracle_calls += verification.oracle_calls
        if decoys is not None:
            decoys.add(verification.folding.ground_state[~verification.success])
        _collect(problem, result, verification, taken, chosen, pool)
        if sum(1 for v in chosen.values() if v[0] < 0) >= request.count:
            break
    ranked = sorted(chosen, key=lambda s: chosen[s])[:request.count]
    names = list(dict.fromkeys([str(o["name"]) for o in request.objectives]
                               + [str(c["name"]) for c in request.constraints]))
    designs = [_design(problem, s, *pool[s], names=names) for s in ranked]
    info = {"candidates": len(chosen), "successes": sum(1 for v in chosen.values() if v[0] < 0),
            "oracle_calls": oracle_calls,
            "predictor": options.get("predictor", problem.options["predictor"])}
    return RoundResult(designs=designs, state=dict(request.state), model=model, info=info)


def _config(options: Mapping[str, Any]) -> DesignConfig:
    known = _CONFIG_FIELDS | {"predictor", "temperature", "attempts", "decoys"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise SequenceDesignError(f"unknown sequence_design options {unknown}",
                                  {"field": unknown[0], "known": sorted(known)})
    attempts = options.get("attempts", 4)
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
        raise SequenceDesignError("attempts is a positive integer", {"field": "attempts"})
    defaults = {"starts": 16, "steps": 120}
    values = {**defaults, **{k: v for k, v in options.items() if k in _CONFIG_FIELDS}}
    return DesignConfig(**values)


def _decoys(problem: SequenceProblem, options: Mapping[str, Any]) -> DecoySet | None:
    count = len(problem.conformations)
    size = options.get("decoys", count if count <= 5000 else 2000)
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise SequenceDesignError("decoys is a positive integer", {"field": "decoys"})
    return None if size >= count - 1 else DecoySet(problem.conformations,
                                                   problem.target.index, size)


def _predictor(problem: SequenceProblem, options: Mapping[str, Any],
               request: RoundRequest) -> tuple[StructurePredictor, TrainedModel | None]:
    kind = options.get("predictor", problem.options["predictor"])
    if kind == "boltzmann":
        predictor = problem.boltzmann_predictor()
        if "temperature" in options:
            predictor.temperature = float(options["temperature"])
        return predictor, None
    if kind != "neural":
        raise SequenceDesignError(f"unknown predictor {kind!r}", {"field": "predictor"})
    if request.previous_model is not None:
        saved = torch.load(io.BytesIO(request.previous_model), weights_only=True)
        network = load_predictor(saved)
        if (network.length, network.alphabet_size) == (problem.conformations.length,
                                                       problem.alphabet.size):
            return network, None
    network, report = train_neural_predictor(
        problem.conformations, problem.alphabet,
        temperature=float(options.get("temperature", problem.options["temperature"])),
        seed=request.seed)
    buffer = io.BytesIO()
    torch.save(save_predictor(network), buffer)
    return network, TrainedModel(kind=MODEL_KIND, weights=buffer.getvalue(),
                                 config=dict(network.config),
                                 metrics=dataclasses.asdict(report))


def _collect(problem: SequenceProblem, result: DesignResult, verification: Verification,
             taken: set[str], chosen: dict[str, tuple[float, float, int]],
             pool: dict[str, tuple[Verification, DesignResult, int]]) -> None:
    """Add this attempt's new distinct designs; rank key (-success, -target_gap, loss)."""
    for row, text in enumerate(problem.alphabet.decode(result.sequences)):
        if text in chosen or design_key({"sequence": text}) in taken:
            continue
        success = bool(verification.success[row])
        gap = float(verification.target_gap[row])
        chosen[text] = (-float(success), -gap if success else float(result.losses[row]), row)
        pool[text] = (verification, result, row)


def _design(problem: SequenceProblem, text: str, verification: Verification,
            result: DesignResult, row: int, *, names: list[str]) -> ProposedDesign:
    """One design with its predictions: the predictor's view (``predicted``), the oracle's
    verdict (``oracle`` and the outcome values), and, as every model-based strategy stores
    them, ``mean``: the predicted value of each of the campaign's outcomes (``names``) that
    the verdict gives. The verdict is exact under the problem's model, so there is no ``sd``;
    a lab's measurement may still differ (which is what a parity plot shows)."""
    folding = verification.folding
    ground = int(folding.ground_state[row])
    predicted = result.contact_maps[row].float()
    target = problem.target.contact_map
    upper = torch.triu(torch.ones_like(target, dtype=torch.bool), diagonal=1)
    top = torch.topk(predicted[upper], int(target[upper].sum())).indices
    pairs = torch.nonzero(upper)[top].tolist()
    predictions: dict[str, Any] = {
        "predicted": {
            "loss": float(result.losses[row]),
            "structure_loss": float(result.structure_losses[row]),
            "target_contact_probability": float((predicted * target).sum() / target.sum()),
            "top_contacts": pairs,
        },
        "oracle": {
            "ground_state": ground,
            "ground_state_path": problem.conformations.paths[ground].tolist(),
            "energy": float(folding.energy[row]),
            "degeneracy": int(folding.degeneracy[row]),
        },
        "target": problem.target.index,
    }
    verdict = outcomes(_one(verification, row))[0]
    predictions.update(verdict)
    predictions["mean"] = {name: verdict[name] for name in names if name in verdict}
    return ProposedDesign(parameters={"sequence": text}, predictions=predictions)


def _one(verification: Verification, row: int) -> Verification:
    """The verification of one row (same fields, batch of one)."""
    folding = verification.folding
    pick = slice(row, row + 1)
    single = type(folding)(**{f.name: getattr(folding, f.name)[pick]
                              for f in dataclasses.fields(folding)})
    return Verification(verification.sequences[pick], single, verification.target,
                        verification.success[pick], verification.target_gap[pick],
                        verification.contact_overlap[pick], verification.restraints_met[pick])
