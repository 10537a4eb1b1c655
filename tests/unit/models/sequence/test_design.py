"""Gradient design: the loss's gradient, a known designable target, distinctness, errors."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from models.gradcheck import check_gradient
from models.sequence.alphabets import get_alphabet
from models.sequence.conformations import ConformationSet
from models.sequence.design import (
    DesignConfig,
    DesignConfigError,
    design_loss,
    design_sequences,
    pair_mask,
    structure_loss,
)
from models.sequence.oracle import LatticeOracle
from models.sequence.predictor import BoltzmannPredictor
from models.sequence.restraints import ContactRestraint, ExposedRestraint
from models.sequence.targets import target_from_index
from models.sequence.verify import verify_designs


def test_design_loss_gradient_matches_central_differences(
        conformations_4x4: ConformationSet) -> None:
    predictor = BoltzmannPredictor(conformations_4x4, get_alphabet("hp_li1996"), 0.7)
    target = target_from_index(conformations_4x4, 7).contact_map.double()
    restraints = [ContactRestraint(0.5, 0, 3), ExposedRestraint(0.3, 4, 6)]
    logits = torch.randn(2, 16, 2, dtype=torch.float64,
                         generator=torch.Generator().manual_seed(3))

    def loss(x: torch.Tensor) -> torch.Tensor:
        return design_loss(predictor, torch.softmax(x, dim=-1), target, restraints)[0]

    result = check_gradient(loss, logits, rtol=1e-6, atol=1e-9)
    result.raise_if_failed()
    assert result.analytic.abs().max() > 1e-3


def test_structure_loss_is_zero_only_for_the_exact_map() -> None:
    target = torch.zeros(6, 6)
    target[0, 3] = target[3, 0] = 1.0
    mask = pair_mask(6)
    perfect = structure_loss(target[None], target, mask)
    off = structure_loss((0.5 * torch.ones(6, 6))[None], target, mask)
    assert perfect.item() < 1e-4 < off.item()
    assert structure_loss(target[None], None, mask).item() == 0.0


def test_a_designable_target_is_designed_with_a_fixed_seed(
        conformations_4x4: ConformationSet) -> None:
    alphabet = get_alphabet("hp")
    oracle = LatticeOracle(conformations_4x4, alphabet)
    predictor = BoltzmannPredictor(conformations_4x4, alphabet, 0.3)
    target = target_from_index(conformations_4x4, 5)
    config = DesignConfig(starts=8, steps=80, seed=0)
    first = design_sequences(predictor, target.contact_map, config=config)
    again = design_sequences(predictor, target.contact_map, config=config)
    assert torch.equal(first.sequences, again.sequences)  # reproducible
    verdict = verify_designs(oracle, first.sequences, target.index)
    assert bool(verdict.success[0])  # the best-ranked design folds uniquely into the target
    assert torch.equal(oracle.fold(first.sequences[:1]).ground_state, torch.tensor([5]))
    assert torch.unique(first.sequences, dim=0).shape[0] == first.sequences.shape[0]
    assert bool((first.losses[1:] >= first.losses[:-1]).all())  # best first
    assert float(verdict.target_gap[0]) > 0


def test_polish_never_raises_the_loss(conformations_4x4: ConformationSet) -> None:
    predictor = BoltzmannPredictor(conformations_4x4, get_alphabet("hp"), 0.3)
    target = target_from_index(conformations_4x4, 20).contact_map
    raw = design_sequences(predictor, target, config=DesignConfig(starts=6, steps=10,
                                                                  polish_sweeps=0))
    polished = design_sequences(predictor, target, config=DesignConfig(starts=6, steps=10,
                                                                       polish_sweeps=3))
    assert polished.losses.min() <= raw.losses.min() + 1e-7


def test_gumbel_mode_runs_and_returns_discrete_sequences(
        conformations_4x4: ConformationSet) -> None:
    predictor = BoltzmannPredictor(conformations_4x4, get_alphabet("hp"), 0.3)
    target = target_from_index(conformations_4x4, 5).contact_map
    result = design_sequences(predictor, target, config=DesignConfig(starts=4, steps=30,
                                                                     gumbel=True))
    assert result.sequences.dtype == torch.long and result.sequences.max() <= 1
    assert result.contact_maps.shape == (result.sequences.shape[0], 16, 16)


def test_design_needs_a_target_or_restraints(conformations_4x4: ConformationSet) -> None:
    predictor = BoltzmannPredictor(conformations_4x4, get_alphabet("hp"), 0.3)
    with pytest.raises(DesignConfigError):
        design_sequences(predictor, None)


@pytest.mark.parametrize("field", ["starts", "steps", "learning_rate", "tau_end",
                                   "straight_through", "polish_sweeps"])
def test_bad_config_names_its_field(field: str) -> None:
    bad: dict[str, Any] = {"starts": 0, "steps": 0, "learning_rate": -1.0, "tau_end": 5.0,
                           "straight_through": 1.5, "polish_sweeps": -1}
    with pytest.raises(DesignConfigError) as caught:
        DesignConfig(**{field: bad[field]})
    assert caught.value.details["field"] == field
