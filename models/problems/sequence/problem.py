r"""The ``sequence`` problem's implementation: the exact lattice oracle as the simulator.

:meth:`SequenceProblem.from_options` builds the lattice, alphabet, target and restraints of a
campaign (options checked by :func:`models.problems.sequence.options.validate_options`); the
simulator folds each design exactly (:func:`models.sequence.verify.verify_designs`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any, ClassVar

from models.errors import ScienceError
from models.problems.base import DesignError, Problem, ProblemError, ProblemSpec
from models.problems.sequence import SPEC
from models.problems.sequence.options import default_space, validate_options
from models.sequence.alphabets import Alphabet, get_alphabet
from models.sequence.conformations import ConformationSet, compact_conformations
from models.sequence.oracle import LatticeOracle
from models.sequence.predictor import BoltzmannPredictor
from models.sequence.restraints import Restraint, parse_restraints
from models.sequence.targets import (
    Target,
    target_from_contacts,
    target_from_index,
    target_from_path,
)
from models.sequence.verify import Verification, verify_designs


class SequenceProblem(Problem):
    r"""Design a sequence whose unique ground state is the target conformation.

    Args:
        options: Validated ``problem_options`` (defaults filled in).

    Example:
        >>> problem = SequenceProblem.from_options({"rows": 4, "target": 0})  # doctest: +SKIP
        >>> problem.evaluate([{"sequence": "HPHPPHHPHPPHPHHP"}])  # doctest: +SKIP
    """

    spec: ClassVar[ProblemSpec] = SPEC
    outcome_names: ClassVar[tuple[str, ...]] = (
        "target_gap", "success", "contact_overlap", "energy_gap", "degeneracy",
        "restraints_met")

    def __init__(self, options: Mapping[str, Any]) -> None:
        self.options = dict(options)
        self.space = default_space(self.options)
        self.alphabet: Alphabet = get_alphabet(self.options["alphabet"])
        self.conformations: ConformationSet = compact_conformations(self.options["rows"],
                                                                    self.options["cols"])
        self.target: Target = _resolve_target(self.conformations, self.options["target"])
        try:
            self.restraints: list[Restraint] = parse_restraints(
                self.options["restraints"], self.conformations.length, self.alphabet.letters)
        except ScienceError as error:
            raise ProblemError(f"problem_options.restraints: {error.message}") from error

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> SequenceProblem:
        """The problem of a campaign's ``problem_options`` (validated again here)."""
        return cls(validate_options(options))

    @cached_property
    def oracle(self) -> LatticeOracle:
        """The exact folding oracle."""
        return LatticeOracle(self.conformations, self.alphabet)

    def boltzmann_predictor(self) -> BoltzmannPredictor:
        """The exact Boltzmann predictor at the campaign's temperature."""
        return BoltzmannPredictor(self.conformations, self.alphabet, self.options["temperature"])

    def verify(self, sequences: Sequence[str]) -> Verification:
        """Fold designs (strings) exactly and judge them against the target and restraints."""
        try:
            indices = self.oracle.check(list(sequences))
        except ScienceError as error:
            raise DesignError(f"parameter 'sequence': {error.message}") from error
        return verify_designs(self.oracle, indices, self.target.index, self.restraints)

    def _evaluate_true(self, designs: Sequence[Mapping[str, Any]]) -> list[dict[str, float]]:
        sequences = []
        for index, design in enumerate(designs):
            value = design["sequence"]
            if not isinstance(value, str):
                raise DesignError(f"design {index}: 'sequence' must be a string")
            sequences.append(value)
        if not sequences:
            return []
        return outcomes(self.verify(sequences))


def outcomes(verification: Verification) -> list[dict[str, float]]:
    """The outcome dict of every verified design (see the package docstring)."""
    folding = verification.folding
    rows = []
    for k in range(verification.oracle_calls):
        gap = float(folding.gap[k])
        met = verification.restraints_met[k]
        rows.append({
            "target_gap": float(verification.target_gap[k]),
            "success": float(verification.success[k]),
            "contact_overlap": float(verification.contact_overlap[k]),
            "energy_gap": gap if math.isfinite(gap) else 0.0,
            "degeneracy": float(folding.degeneracy[k]),
            "restraints_met": float(met.float().mean()) if met.numel() else 1.0,
        })
    return rows


def _resolve_target(conformations: ConformationSet, target: Mapping[str, Any]) -> Target:
    (kind, value), = target.items()
    try:
        if kind == "index":
            return target_from_index(conformations, value)
        if kind == "path":
            return target_from_path(conformations, value)
        return target_from_contacts(conformations, value)
    except ScienceError as error:
        raise ProblemError(f"problem_options.target.{kind}: {error.message}") from error
