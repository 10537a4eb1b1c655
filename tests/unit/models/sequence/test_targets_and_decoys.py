"""Targets from index, path or contacts; decoy sets; clear errors for bad targets."""

from __future__ import annotations

import pytest
import torch

from models.sequence.alphabets import get_alphabet
from models.sequence.conformations import ConformationSet
from models.sequence.decoys import DecoySet
from models.sequence.errors import InvalidConformationError
from models.sequence.predictor import BoltzmannPredictor
from models.sequence.targets import target_from_contacts, target_from_index, target_from_path


def test_the_three_ways_name_the_same_target(conformations_4x4: ConformationSet) -> None:
    target = target_from_index(conformations_4x4, 11)
    assert target_from_path(conformations_4x4, target.path.tolist()).index == 11
    assert target_from_contacts(conformations_4x4, target.contacts.tolist()).index == 11
    assert target_from_contacts(conformations_4x4, target.contact_map.long()).index == 11
    mirrored = conformations_4x4.lattice.symmetries[4][target.path.numpy()]
    assert target_from_path(conformations_4x4, mirrored.tolist()).index == 11
    assert target.contact_map.sum() == 2 * conformations_4x4.n_contacts


@pytest.mark.parametrize(("make", "fragment"), [
    (lambda c: target_from_index(c, 69), "not a conformation"),
    (lambda c: target_from_path(c, [0, 1, 2, 3, 7, 6, 5, 4, 8, 9, 10, 11, 15, 14, 12, 13]),
     "not on neighbouring sites"),
    (lambda c: target_from_path(c, list(range(15))), "visits each"),
    (lambda c: target_from_contacts(c, [[0, 3]]), "contacts"),
    (lambda c: target_from_contacts(c, [[0, 3], [0, 3]]), "twice"),
    (lambda c: target_from_contacts(c, [[0, 16]]), "lie in"),
])
def test_bad_targets_are_clear_errors(conformations_4x4: ConformationSet, make,
                                      fragment: str) -> None:
    with pytest.raises(InvalidConformationError, match=fragment):
        make(conformations_4x4)


def test_contacts_of_no_conformation_are_refused(conformations_4x4: ConformationSet) -> None:
    first = conformations_4x4.contacts[0].clone()
    other = conformations_4x4.contacts[1]
    mixed = torch.cat([first[:5], other[~torch.isin(other[:, 0] * 16 + other[:, 1],
                                                    first[:5, 0] * 16 + first[:5, 1])][:4]])
    with pytest.raises(InvalidConformationError, match="no compact conformation"):
        target_from_contacts(conformations_4x4, mixed)


def test_decoys_start_with_the_target_and_the_most_similar(
        conformations_5x5: ConformationSet) -> None:
    decoys = DecoySet(conformations_5x5, 17, 50)
    assert len(decoys) == 51 and int(decoys.indices[0]) == 17
    shared = conformations_5x5.incidence()[decoys.indices] @ conformations_5x5.incidence()[17]
    others = conformations_5x5.incidence() @ conformations_5x5.incidence()[17]
    kept_min = shared[1:].min()
    outside = torch.ones(len(conformations_5x5), dtype=torch.bool)
    outside[decoys.indices] = False
    assert kept_min >= others[outside].max()  # nobody left out shares more contacts
    outsider = int(torch.nonzero(outside)[0])
    assert decoys.add([17, outsider, outsider, int(decoys.indices[5])]) == 1
    assert len(decoys) == 52 and int(decoys.indices[-1]) == outsider
    subset = decoys.subset()
    assert torch.equal(subset.paths[0], conformations_5x5.paths[17])


def test_decoys_of_everything_reproduce_the_exact_predictor(
        conformations_4x4: ConformationSet) -> None:
    alphabet = get_alphabet("hp")
    decoys = DecoySet(conformations_4x4, 3, 10_000)
    assert len(decoys) == len(conformations_4x4)
    soft = torch.softmax(torch.randn(3, 16, 2, generator=torch.Generator().manual_seed(0)), -1)
    exact = BoltzmannPredictor(conformations_4x4, alphabet, 0.5)(soft)
    assert torch.allclose(decoys.predictor(alphabet, 0.5)(soft), exact, atol=1e-6)
