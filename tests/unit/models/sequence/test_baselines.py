"""Oracle-search baselines: they find designable targets, and every hit is a real success."""

from __future__ import annotations

import pytest
import torch

from models.sequence.alphabets import get_alphabet
from models.sequence.baselines import random_search, simulated_annealing, target_margin
from models.sequence.conformations import ConformationSet
from models.sequence.oracle import LatticeOracle


@pytest.mark.parametrize("search", [simulated_annealing, random_search])
def test_search_finds_a_designable_target(conformations_4x4: ConformationSet, search) -> None:
    oracle = LatticeOracle(conformations_4x4, get_alphabet("hp"))
    result = search(oracle, 5, seconds=None, max_calls=20_000, seed=0)
    assert result.success and result.oracle_calls <= 20_000 + 64
    assert bool(oracle.fold(result.sequence[None]).folds_to(5)[0])


def test_margin_is_negative_exactly_for_successes(conformations_4x4: ConformationSet) -> None:
    oracle = LatticeOracle(conformations_4x4, get_alphabet("hp"))
    sequences = torch.randint(0, 2, (500, 16), generator=torch.Generator().manual_seed(0))
    margin = target_margin(oracle, sequences, 5)
    assert torch.equal(margin < 0, oracle.fold(sequences).folds_to(5))


def test_a_budget_is_required(conformations_4x4: ConformationSet) -> None:
    oracle = LatticeOracle(conformations_4x4, get_alphabet("hp"))
    with pytest.raises(ValueError):
        simulated_annealing(oracle, 5, seconds=None)
