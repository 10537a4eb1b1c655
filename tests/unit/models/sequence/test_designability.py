"""Designability on lattices whose answer is known by hand, and its invariants on 4 x 4."""

from __future__ import annotations

import math

import torch

from models.sequence.alphabets import get_alphabet
from models.sequence.conformations import ConformationSet, compact_conformations
from models.sequence.designability import (
    Designability,
    all_sequences,
    designability,
    random_sequences,
)
from models.sequence.oracle import LatticeOracle


def test_2x2_has_one_structure_that_every_sequence_designs() -> None:
    oracle = LatticeOracle(compact_conformations(2, use_cache=False), get_alphabet("hp"))
    result = designability(oracle, all_sequences(4, 2))
    assert result.counts.tolist() == [16] and result.n_sequences == 16
    assert result.best_gap.tolist() == [math.inf]  # no other conformation to compete


def test_2x3_hp_by_hand(conformations_2x3: ConformationSet) -> None:
    # Contacts per structure (see test_conformations): U {05, 14}, zigzag {03, 25},
    # hook {05, 25}, reversed hook {03, 05}. With E_HH = -1 and a = h0 h3, b = h0 h5,
    # c = h1 h4, d = h2 h5 the energies are -(b+c), -(a+d), -(b+d), -(a+b).
    # U is the unique minimum iff c = 1, a = 0, d = 0: h1 = h4 = H, (h0, h3) and (h2, h5)
    # not both H: 3 x 3 = 9 sequences. The zigzag would need a = d = 1 and b = 0, but a = d = 1
    # forces h0 = h5 = H, so b = 1: never. The hook needs b = d = 1, a = c = 0: h0 = h2 = h5 =
    # H, h3 = P, (h1, h4) not both H: 3. Its reverse likewise 3. In all 15 of 64.
    oracle = LatticeOracle(conformations_2x3, get_alphabet("hp"))
    result = designability(oracle, all_sequences(6, 2))
    assert result.counts.tolist() == [9, 0, 3, 3]
    assert (result.n_sequences, result.n_designing) == (64, 15)
    assert result.ranking().tolist() == [0, 2, 3, 1]
    assert result.designable().tolist() == [0, 2, 3]
    assert math.isnan(result.best_gap[1]) and (result.best_sequence[1] == -1).all()


def _hp_4x4(conformations: ConformationSet) -> tuple[LatticeOracle, Designability]:
    oracle = LatticeOracle(conformations, get_alphabet("hp"))
    return oracle, designability(oracle, all_sequences(16, 2, chunk_size=10_000))


def test_4x4_counts_sum_to_the_uniquely_folding_sequences(
        conformations_4x4: ConformationSet) -> None:
    oracle, result = _hp_4x4(conformations_4x4)
    everything = next(all_sequences(16, 2, chunk_size=2**16))
    folded = oracle.fold(everything, max_ground_states=0)
    assert result.n_sequences == 2**16
    assert result.n_designing == int(folded.unique.sum())
    expected = torch.bincount(folded.ground_state[folded.unique], minlength=69)
    assert torch.equal(result.counts, expected)
    ranked = result.counts[result.ranking()]
    assert (ranked[:-1] >= ranked[1:]).all()


def test_4x4_a_structure_and_its_reverse_are_equally_designable(
        conformations_4x4: ConformationSet) -> None:
    # Reversing every sequence maps the designers of a structure onto those of its reverse.
    _, result = _hp_4x4(conformations_4x4)
    for index, path in enumerate(conformations_4x4.paths):
        partner = conformations_4x4.index_of(path.flip(0))
        assert result.counts[index] == result.counts[partner]


def test_4x4_best_sequences_fold_with_their_gap(conformations_4x4: ConformationSet) -> None:
    oracle, result = _hp_4x4(conformations_4x4)
    designable = result.designable()
    check = oracle.fold(result.best_sequence[designable])
    assert check.folds_to(designable).all()
    assert torch.equal(check.gap, result.best_gap[designable])


def test_chunks_and_one_tensor_agree(conformations_4x4: ConformationSet) -> None:
    oracle = LatticeOracle(conformations_4x4, get_alphabet("mj1996"))
    chunks = list(random_sequences(3000, 16, 20, seed=7, chunk_size=700))
    assert [len(c) for c in chunks] == [700, 700, 700, 700, 200]
    split = designability(oracle, chunks)
    whole = designability(oracle, torch.cat(chunks))
    assert torch.equal(split.counts, whole.counts)
    assert torch.equal(split.best_gap.nan_to_num(-1), whole.best_gap.nan_to_num(-1))
    assert torch.equal(split.best_sequence, whole.best_sequence)


def test_sequence_generators() -> None:
    every = torch.cat(list(all_sequences(3, 3, chunk_size=10)))
    assert every.shape == (27, 3)
    assert every[:4].tolist() == [[0, 0, 0], [0, 0, 1], [0, 0, 2], [0, 1, 0]]
    assert len({tuple(row) for row in every.tolist()}) == 27
    first = torch.cat(list(random_sequences(50, 5, 4, seed=3)))
    again = torch.cat(list(random_sequences(50, 5, 4, seed=3)))
    assert torch.equal(first, again) and first.max() < 4
