r"""Confirm designs with the exact oracle: success means the target is the unique ground state.

For each sequence the oracle gives the ground state, its degeneracy and the gap to the next
level; from those and the energy in the target conformation:

* ``success`` — the target is the unique ground state;
* ``target_gap`` — the *target's* margin, in the alphabet's energy unit: the gap to the next
  level when the design succeeds (``> 0``), else ``E_ground - E_target <= 0`` (0 when the target
  is one of several degenerate ground states). Positive iff success, so one number ranks both
  successes (bigger = more stable) and failures (closer to 0 = closer to success);
* ``contact_overlap`` — the fraction of the target's contacts present in the (first) ground
  state.

Each verified sequence costs one oracle call (one sequence scored against every conformation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from models.sequence.oracle import FoldingResult, LatticeOracle
from models.sequence.restraints import Restraint


@dataclass(frozen=True, eq=False)
class Verification:
    r"""The oracle's verdict on a batch of designs.

    Attributes:
        sequences: `n x L` ``long`` letter indices.
        folding: The oracle's :class:`FoldingResult`.
        target: The target conformation index (``-1`` when designing for restraints only).
        success: `n` ``bool``: the target is the unique ground state (always ``False`` without
            a target).
        target_gap: `n` ``float64`` (see the module docstring; ``nan`` without a target).
        contact_overlap: `n` ``float64`` in [0, 1] (``nan`` without a target).
        restraints_met: `n x R` ``bool``: each restraint on the ground state.
    """

    sequences: Tensor
    folding: FoldingResult
    target: int
    success: Tensor
    target_gap: Tensor
    contact_overlap: Tensor
    restraints_met: Tensor

    @property
    def oracle_calls(self) -> int:
        """Sequences folded."""
        return int(self.sequences.shape[0])


def verify_designs(oracle: LatticeOracle, sequences: Tensor, target: int | None,
                   restraints: Sequence[Restraint] = ()) -> Verification:
    r"""Fold every design exactly and judge it against the target and the restraints.

    Args:
        oracle: The exact oracle of the lattice and alphabet.
        sequences: `n x L` letter indices.
        target: The target conformation index, or ``None``.
        restraints: Restraints to check on each ground state.

    Returns:
        The :class:`Verification`.
    """
    sequences = oracle.check(sequences)
    folding = oracle.fold(sequences, max_ground_states=1)
    n = sequences.shape[0]
    ground_maps = oracle.conformations.contact_maps(folding.ground_state, torch.float32)
    met = torch.tensor([[r.satisfied(sequences[k], ground_maps[k]) for r in restraints]
                        for k in range(n)], dtype=torch.bool).reshape(n, len(restraints))
    if target is None:
        nan = torch.full((n,), float("nan"), dtype=torch.float64)
        return Verification(sequences, folding, -1, torch.zeros(n, dtype=torch.bool), nan,
                            nan.clone(), met)
    success = folding.folds_to(target)
    margin = folding.energy - oracle.energy_in(sequences, target)
    target_gap = torch.where(success, folding.gap, margin)
    target_map = oracle.conformations.contact_maps(torch.tensor([target]), torch.float32)[0]
    shared = (ground_maps * target_map).sum(dim=(-1, -2)).double() / float(target_map.sum())
    return Verification(sequences, folding, int(target), success, target_gap,
                        shared.to(torch.float64), met)
