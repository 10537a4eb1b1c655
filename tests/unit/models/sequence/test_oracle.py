"""The vectorised oracle against a plain loop over conformations and contacts."""

from __future__ import annotations

import math

import pytest
import torch

from models.sequence.alphabets import Alphabet, get_alphabet
from models.sequence.conformations import ConformationSet
from models.sequence.designability import all_sequences
from models.sequence.errors import InvalidConformationError, InvalidSequenceError
from models.sequence.oracle import LatticeOracle
from tests.unit.models.sequence import brute_force


def _random_alphabet(size: int, seed: int) -> Alphabet:
    """Energies off any grid: exercises the float64 path with its tolerance."""
    raw = torch.randn(size, size, dtype=torch.float64,
                      generator=torch.Generator().manual_seed(seed))
    return Alphabet("random", "ABCDEFGH"[:size], (raw + raw.T) / 2, units="-", reference="-")


def _check_against_brute_force(oracle: LatticeOracle, sequences: torch.Tensor) -> None:
    conformations = oracle.conformations
    paths, cols = conformations.paths.tolist(), conformations.lattice.cols
    table = oracle.alphabet.energies.tolist()
    result = oracle.fold(sequences, max_ground_states=4)
    energies = oracle.energies(sequences)
    for k, sequence in enumerate(sequences.tolist()):
        expected = brute_force.fold(sequence, paths, cols, table)
        assert energies[k].tolist() == pytest.approx(expected["energies"], abs=1e-9)
        assert result.energy[k].item() == pytest.approx(expected["energy"], abs=1e-9)
        assert result.ground_state[k].item() == expected["ground_state"]
        assert result.degeneracy[k].item() == expected["degeneracy"]
        assert result.unique[k].item() == (expected["degeneracy"] == 1)
        assert result.gap[k].item() == pytest.approx(expected["gap"], abs=1e-9)
        listed = [i for i in result.ground_states[k].tolist() if i >= 0]
        assert listed == [i for i, e in enumerate(expected["energies"])
                          if e <= expected["energy"] + 1e-9][:4]


@pytest.mark.parametrize("alphabet", ["hp", "hp_li1996", "mj1996"])
def test_4x4_random_sequences_match_brute_force(conformations_4x4: ConformationSet,
                                                alphabet: str) -> None:
    oracle = LatticeOracle(conformations_4x4, get_alphabet(alphabet))
    assert oracle.exact
    size = oracle.alphabet.size
    sequences = torch.randint(0, size, (40, 16), generator=torch.Generator().manual_seed(1))
    _check_against_brute_force(oracle, sequences)


def test_float64_path_matches_brute_force(conformations_4x4: ConformationSet) -> None:
    oracle = LatticeOracle(conformations_4x4, _random_alphabet(3, seed=2))
    assert not oracle.exact
    sequences = torch.randint(0, 3, (40, 16), generator=torch.Generator().manual_seed(3))
    _check_against_brute_force(oracle, sequences)


def test_every_2x3_hp_sequence_matches_brute_force(conformations_2x3: ConformationSet) -> None:
    oracle = LatticeOracle(conformations_2x3, get_alphabet("hp"))
    _check_against_brute_force(oracle, next(all_sequences(6, 2)))


def test_degenerate_and_flat_landscapes(conformations_4x4: ConformationSet) -> None:
    oracle = LatticeOracle(conformations_4x4, get_alphabet("hp"))
    result = oracle.fold(["P" * 16, "H" * 16], max_ground_states=3)
    # All-P: every conformation at energy 0, no higher level. All-H: every one at -9 too.
    assert result.degeneracy.tolist() == [69, 69]
    assert result.gap.tolist() == [math.inf, math.inf]
    assert result.energy.tolist() == [0.0, -9.0]
    assert result.ground_states.tolist() == [[0, 1, 2], [0, 1, 2]]
    assert not result.unique.any()


def test_energy_in_agrees_with_the_full_scan(conformations_5x5: ConformationSet) -> None:
    oracle = LatticeOracle(conformations_5x5, get_alphabet("mj1996"))
    sequences = torch.randint(0, 20, (30, 25), generator=torch.Generator().manual_seed(4))
    energies = oracle.energies(sequences)
    result = oracle.fold(sequences)
    assert torch.equal(oracle.energy_in(sequences, result.ground_state), result.energy)
    some = torch.randint(0, len(conformations_5x5), (30,))
    assert torch.equal(oracle.energy_in(sequences, some), energies[torch.arange(30), some])
    assert torch.equal(energies.min(dim=1).values, result.energy)
    with pytest.raises(InvalidConformationError):
        oracle.energy_in(sequences, len(conformations_5x5))


def test_chunking_changes_nothing(conformations_5x5: ConformationSet) -> None:
    sequences = torch.randint(0, 2, (300, 25), generator=torch.Generator().manual_seed(5))
    whole = LatticeOracle(conformations_5x5, get_alphabet("hp_li1996")).fold(sequences)
    tiny = LatticeOracle(conformations_5x5, get_alphabet("hp_li1996"), chunk_bytes=1)
    assert tiny._chunk == 1
    chunked = tiny.fold(sequences)
    for field in ("energy", "ground_state", "degeneracy", "unique", "gap", "ground_states"):
        assert torch.equal(getattr(whole, field), getattr(chunked, field)), field


def test_folds_to_and_inputs(conformations_4x4: ConformationSet) -> None:
    oracle = LatticeOracle(conformations_4x4, get_alphabet("hp"))
    sequences = next(all_sequences(16, 2, chunk_size=4096))
    result = oracle.fold(sequences)
    designed = result.unique.nonzero().squeeze(1)[:5]
    targets = result.ground_state[designed]
    assert result.folds_to(result.ground_state)[designed].all()
    assert not oracle.fold(sequences[designed]).folds_to((targets + 1) % 69).any()
    one = oracle.fold(sequences[designed[0]])  # a single `L` sequence
    assert one.ground_state.tolist() == [targets[0].item()]
    as_text = oracle.fold(oracle.alphabet.decode(sequences[designed]))
    assert torch.equal(as_text.ground_state, targets)


@pytest.mark.parametrize(("sequences", "key"), [
    (torch.zeros(2, 15, dtype=torch.long), "expected_length"),
    (torch.full((2, 16), 2), "alphabet_size"),
    (torch.full((2, 16), -1), "alphabet_size"),
    (torch.zeros(2, 16), "dtype"),
    (["HPX" + "H" * 13], "unknown_letters"),
])
def test_bad_sequences_are_refused(conformations_4x4: ConformationSet,
                                   sequences: torch.Tensor | list[str], key: str) -> None:
    oracle = LatticeOracle(conformations_4x4, get_alphabet("hp"))
    with pytest.raises(InvalidSequenceError) as error:
        oracle.fold(sequences)
    assert key in error.value.details
