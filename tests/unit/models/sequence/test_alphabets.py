"""Alphabets: the published energies, letter encoding, and the registry."""

from __future__ import annotations

import pytest
import torch

from models.errors import ScienceError
from models.sequence import mj1996
from models.sequence.alphabets import ALPHABETS, Alphabet, get_alphabet
from models.sequence.errors import InvalidSequenceError

# Spot values of Miyazawa & Jernigan (1996) Table 3, e_ij in RT, read off the printed table.
MJ_SPOTS = {("L", "L"): -7.37, ("F", "L"): -7.28, ("C", "C"): -5.44, ("K", "K"): -0.12,
            ("C", "M"): -4.99, ("M", "V"): -5.32, ("A", "P"): -2.03, ("N", "Q"): -1.71,
            ("D", "D"): -1.21, ("E", "E"): -0.91, ("D", "E"): -1.02, ("D", "H"): -2.32,
            ("E", "R"): -2.27, ("K", "R"): -0.59, ("P", "P"): -1.75, ("W", "Y"): -4.66}


def test_mj1996_matrix() -> None:
    mj = get_alphabet("mj1996")
    assert mj.letters == "ACDEFGHIKLMNPQRSTVWY" and mj.units == "RT"
    assert mj.energies.shape == (20, 20) and mj.energies.dtype == torch.float64
    assert torch.equal(mj.energies, mj.energies.T)
    for (first, second), value in MJ_SPOTS.items():
        assert mj.energy(first, second) == value
        assert mj.energy(second, first) == value
    assert mj.energies.min() == mj.energy("L", "L")  # the most favourable contact
    assert mj.energies.max() == mj.energy("K", "K")  # the least favourable
    assert (mj.energies < 0).all()


def test_mj1996_table_layout() -> None:
    assert sorted(mj1996.ORDER) == sorted(set(mj1996.ORDER)) and len(mj1996.ORDER) == 20
    assert [len(row) for row in mj1996.UPPER_TRIANGLE] == list(range(20, 0, -1))
    values = [value for row in mj1996.UPPER_TRIANGLE for value in row]
    assert len(values) == 210 and all(round(v, 2) == v for v in values)


def test_hp_alphabets() -> None:
    hp, li = get_alphabet("hp"), get_alphabet("hp_li1996")
    assert hp.energies.tolist() == [[-1.0, 0.0], [0.0, 0.0]]
    assert li.energies.tolist() == [[-2.3, -1.0], [-1.0, 0.0]]
    # Li et al.'s segregation condition: unlike contacts are less favourable than like ones.
    assert 2 * li.energy("H", "P") > li.energy("H", "H") + li.energy("P", "P")
    assert hp.resolution == 1.0 and li.resolution == 0.1


def test_encode_and_decode() -> None:
    mj = get_alphabet("mj1996")
    indices = mj.encode(["ACDY", "WWKL"])
    assert indices.shape == (2, 4) and indices.dtype == torch.long
    assert mj.decode(indices) == ["ACDY", "WWKL"]
    assert mj.encode("ACD").tolist() == [[0, 1, 2]]


@pytest.mark.parametrize(("sequences", "key"), [(["HPX"], "unknown_letters"),
                                                (["HP", "HPH"], "lengths")])
def test_bad_sequences_are_named(sequences: list[str], key: str) -> None:
    with pytest.raises(InvalidSequenceError) as error:
        get_alphabet("hp").encode(sequences)
    assert key in error.value.details


def test_registry() -> None:
    assert set(ALPHABETS) == {"hp", "hp_li1996", "mj1996"}
    for name in ALPHABETS:
        assert get_alphabet(name).name == name
    with pytest.raises(ScienceError) as error:
        get_alphabet("blosum")
    assert error.value.details["known"] == sorted(ALPHABETS)


@pytest.mark.parametrize(("letters", "energies", "resolution"), [
    ("AB", [[0.0, 1.0], [2.0, 0.0]], None),   # not symmetric
    ("AA", [[0.0, 0.0], [0.0, 0.0]], None),   # repeated letter
    ("AB", [[0.0], [1.0]], None),             # wrong shape
    ("AB", [[0.15, 0.0], [0.0, 0.0]], 0.1),   # off the declared grid
])
def test_malformed_alphabets_are_refused(letters: str, energies: list[list[float]],
                                         resolution: float | None) -> None:
    with pytest.raises(ScienceError):
        Alphabet("bad", letters, torch.tensor(energies, dtype=torch.float64), units="-",
                 reference="-", resolution=resolution)
