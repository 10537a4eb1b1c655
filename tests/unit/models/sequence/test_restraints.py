"""Restraints: parsing errors, and each one steers the design in its direction (oracle-checked)."""

from __future__ import annotations

import pytest
import torch

from models.gradcheck import check_gradient
from models.sequence.alphabets import get_alphabet
from models.sequence.conformations import ConformationSet
from models.sequence.design import DesignConfig, design_sequences
from models.sequence.oracle import LatticeOracle
from models.sequence.predictor import BoltzmannPredictor
from models.sequence.restraints import (
    RestraintError,
    parse_restraints,
    restraint_energy,
)
from models.sequence.targets import target_from_index
from models.sequence.verify import verify_designs

CONFIG = DesignConfig(starts=8, steps=60, seed=0)


@pytest.fixture(scope="module")
def setup(conformations_4x4: ConformationSet) -> tuple[BoltzmannPredictor, LatticeOracle]:
    alphabet = get_alphabet("hp")
    return (BoltzmannPredictor(conformations_4x4, alphabet, 0.3),
            LatticeOracle(conformations_4x4, alphabet))


def _ground_maps(oracle: LatticeOracle, sequences: torch.Tensor) -> torch.Tensor:
    ground = oracle.fold(sequences).ground_state
    return oracle.conformations.contact_maps(ground, torch.float32)


def test_a_contact_restraint_alone_puts_the_pair_in_contact(setup) -> None:
    predictor, oracle = setup
    pair = (2, 13)
    unrestrained = torch.stack([m[pair] for m in oracle.conformations.contact_maps()]).float()
    assert unrestrained.mean() < 0.5  # most conformations lack it: not there by chance
    restraints = parse_restraints([{"type": "contact", "i": 2, "j": 13, "weight": 3.0}], 16,
                                  "HP")
    result = design_sequences(predictor, None, restraints=restraints, config=CONFIG)
    verdict = verify_designs(oracle, result.sequences[:1], None, restraints)
    assert bool(verdict.restraints_met[0, 0])
    assert _ground_maps(oracle, result.sequences[:1])[0][pair] == 1


def test_a_contact_restraint_raises_the_contact_against_a_target_without_it(setup) -> None:
    predictor, oracle = setup
    target = target_from_index(oracle.conformations, 5)
    pair = next((i, j) for i in range(16) for j in range(i + 3, 16, 2)
                if target.contact_map[i, j] == 0 and (target.contact_map.sum() > 0))
    plain = design_sequences(predictor, target.contact_map, config=CONFIG)
    restraint = parse_restraints([{"type": "contact", "i": pair[0], "j": pair[1],
                                   "weight": 5.0}], 16, "HP")
    steered = design_sequences(predictor, target.contact_map, restraints=restraint,
                               config=CONFIG)
    assert steered.contact_maps[0][pair] > plain.contact_maps[0][pair] + 0.3
    assert _ground_maps(oracle, steered.sequences[:1])[0][pair] >= \
        _ground_maps(oracle, plain.sequences[:1])[0][pair]


def test_an_exposed_restraint_lowers_the_segment_contacts(setup) -> None:
    predictor, oracle = setup
    exposed = parse_restraints([{"type": "exposed", "start": 6, "end": 9, "weight": 4.0}], 16,
                               "HP")
    contact = parse_restraints([{"type": "contact", "i": 0, "j": 15}], 16, "HP")
    base = design_sequences(predictor, None, restraints=contact, config=CONFIG)
    steered = design_sequences(predictor, None, restraints=contact + exposed, config=CONFIG)

    def segment_contacts(sequences: torch.Tensor) -> float:
        return float(_ground_maps(oracle, sequences[:1])[0][6:10].sum())

    assert float(steered.contact_maps[0][6:10].sum()) < float(base.contact_maps[0][6:10].sum())
    assert segment_contacts(steered.sequences) < segment_contacts(base.sequences)
    verdict = verify_designs(oracle, steered.sequences[:1], None, contact + exposed)
    assert bool(verdict.restraints_met[0].all())


def test_letter_and_composition_restraints_fix_the_sequence(setup) -> None:
    predictor, oracle = setup
    restraints = parse_restraints([
        {"type": "letter", "position": 0, "letter": "H", "weight": 5.0},
        {"type": "composition", "letter": "H", "fraction": 0.25, "weight": 5.0}], 16, "HP")
    target = target_from_index(oracle.conformations, 5).contact_map
    result = design_sequences(predictor, target, restraints=restraints, config=CONFIG)
    best = result.sequences[0]
    assert int(best[0]) == 0  # H
    assert abs(int((best == 0).sum()) - 4) <= 1
    verdict = verify_designs(oracle, result.sequences[:1], 5, restraints)
    assert bool(verdict.restraints_met[0, 0])


def test_restraint_energies_have_correct_gradients(setup) -> None:
    predictor, _ = setup
    restraints = parse_restraints([
        {"type": "contact", "i": 0, "j": 3}, {"type": "no_contact", "i": 1, "j": 6},
        {"type": "exposed", "start": 2, "end": 4}, {"type": "letter", "position": 7,
                                                     "letter": "P"},
        {"type": "composition", "letter": "H", "fraction": 0.5}], 16, "HP")
    x = torch.randn(2, 16, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))

    def energy(logits: torch.Tensor) -> torch.Tensor:
        soft = torch.softmax(logits, dim=-1)
        return restraint_energy(restraints, soft, predictor(soft))

    check_gradient(energy, x, rtol=1e-6, atol=1e-9).raise_if_failed()


@pytest.mark.parametrize(("item", "field"), [
    ({"type": "contact", "i": 0, "j": 2}, "j"),
    ({"type": "contact", "i": 0, "j": 16}, "j"),
    ({"type": "contact", "i": 0}, "j"),
    ({"type": "exposed", "start": 5, "end": 2}, "end"),
    ({"type": "letter", "position": 0, "letter": "X"}, "letter"),
    ({"type": "composition", "letter": "H", "fraction": 1.5}, "fraction"),
    ({"type": "contact", "i": 0, "j": 3, "weight": -1.0}, "weight"),
    ({"type": "helix"}, "type"),
])
def test_bad_restraints_name_the_field(item: dict, field: str) -> None:
    with pytest.raises(RestraintError) as caught:
        parse_restraints([{"type": "contact", "i": 0, "j": 3}, item], 16, "HP")
    assert caught.value.details["index"] == 1
    assert caught.value.details["field"] == field
