r"""Decoy sets: the Boltzmann predictor restricted to the conformations that compete with a target.

On the 6 x 6 lattice the exact Boltzmann predictor sums over 57,337 conformations; each design
step reads the whole `n_conf x P` incidence matrix twice forward and twice backward, so it is
bound by memory bandwidth (several ms per step on one core). A design only has to beat the
conformations that come close to the target in energy, and for a sequence designed for the
target those are the conformations that share most of its contacts. A *decoy set* keeps:

* the target;
* the ``size`` conformations sharing the most contacts with it (ties by index);
* every conformation added later (:meth:`DecoySet.add`), e.g. the oracle's ground states of
  designs that failed — the cutting-plane loop of negative design: a competitor the predictor
  missed is found by the exact oracle and the next design takes it into account.

The predictor on a decoy set is the exact Boltzmann model *of that subset*; every design is
still verified by the exact oracle on all conformations, so decoys trade predictor accuracy
for speed and never produce a false positive.
"""

from __future__ import annotations

import torch
from torch import Tensor

from models.sequence.alphabets import Alphabet
from models.sequence.conformations import ConformationSet
from models.sequence.predictor import BoltzmannPredictor


class DecoySet:
    r"""A growing subset of the conformations, always containing the target.

    Args:
        conformations: All compact conformations.
        target: The target's index in ``conformations``.
        size: Number of most-similar conformations to start with (all when ``size`` is at
            least their number).

    Attributes:
        indices: `m` conformation indices of the subset, the target first.
    """

    def __init__(self, conformations: ConformationSet, target: int, size: int) -> None:
        self.conformations = conformations
        self.target = int(target)
        overlap = _overlap_with(conformations, self.target)
        overlap[self.target] = -1  # placed first below
        order = torch.sort(overlap, descending=True, stable=True).indices
        keep = order[:max(0, min(size, len(conformations) - 1))]
        self.indices = torch.cat([torch.tensor([self.target]), keep])

    def __len__(self) -> int:
        return int(self.indices.shape[0])

    def add(self, indices: Tensor | list[int]) -> int:
        """Add conformations (duplicates ignored); returns how many were new."""
        new = torch.as_tensor(indices, dtype=torch.long).reshape(-1)
        new = new[~torch.isin(new, self.indices)].unique()
        self.indices = torch.cat([self.indices, new])
        return int(new.shape[0])

    def subset(self) -> ConformationSet:
        """The decoys as a :class:`ConformationSet` (the target is conformation 0)."""
        paths = self.conformations.paths[self.indices].numpy()
        return ConformationSet(self.conformations.lattice, paths)

    def predictor(self, alphabet: Alphabet, temperature: float) -> BoltzmannPredictor:
        """The Boltzmann predictor over the decoys."""
        return BoltzmannPredictor(self.subset(), alphabet, temperature)


def _overlap_with(conformations: ConformationSet, target: int) -> Tensor:
    """`n_conf` number of the target's contacts each conformation has."""
    has_pair = torch.zeros(len(conformations.pairs), dtype=torch.long)
    has_pair[conformations.pair_index[target]] = 1
    return has_pair[conformations.pair_index].sum(dim=1)
