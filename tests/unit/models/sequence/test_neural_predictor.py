"""The learned predictor: the predictor contract, its gradient, training on oracle data."""

from __future__ import annotations

import torch

from models.gradcheck import check_gradient
from models.sequence.alphabets import get_alphabet
from models.sequence.conformations import ConformationSet
from models.sequence.neural_predictor import (
    NeuralPredictor,
    load_predictor,
    save_predictor,
    train_neural_predictor,
)
from models.sequence.predictor import StructurePredictor
from tests.unit.models.sequence.test_predictor import PredictorContract


class TestNeuralPredictorContract(PredictorContract):
    def make_predictor(self) -> StructurePredictor:
        torch.manual_seed(0)
        return NeuralPredictor(9, 2, width=16, layers=1, heads=2).double().eval()


def test_gradient_matches_central_differences() -> None:
    torch.manual_seed(0)
    model = NeuralPredictor(9, 3, width=16, layers=2, heads=2).double().eval()
    logits = torch.randn(2, 9, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    weights = torch.randn(9, 9, dtype=torch.float64, generator=torch.Generator().manual_seed(2))

    def score(x: torch.Tensor) -> torch.Tensor:
        return (model(torch.softmax(x, dim=-1)) * weights).sum()

    result = check_gradient(score, logits, rtol=1e-6, atol=1e-9)
    result.raise_if_failed()
    assert result.analytic.abs().max() > 1e-4


def test_impossible_contacts_are_zero(conformations_3x3: ConformationSet) -> None:
    allowed = conformations_3x3.pairs_to_map(torch.ones(len(conformations_3x3.pairs))) > 0
    model = NeuralPredictor(9, 2, allowed=allowed, width=16, layers=1, heads=2)
    maps = model(torch.softmax(torch.randn(4, 9, 2), dim=-1))
    assert (maps[:, ~allowed] == 0).all() and (maps[:, allowed] > 0).all()


def test_training_on_oracle_labels_beats_the_untrained_network(
        conformations_4x4: ConformationSet) -> None:
    alphabet = get_alphabet("hp")
    trained, report = train_neural_predictor(conformations_4x4, alphabet, n_train=600,
                                             n_test=200, steps=150, width=16, layers=1,
                                             batch_size=64)
    _, untrained = train_neural_predictor(conformations_4x4, alphabet, n_train=600,
                                          n_test=200, steps=1, width=16, layers=1,
                                          batch_size=64)
    assert report.held_out_bce < 0.8 * untrained.held_out_bce
    assert report.held_out_precision > untrained.held_out_precision
    # saved and restored, it predicts the same maps
    restored = load_predictor(save_predictor(trained))
    soft = torch.softmax(torch.randn(3, 16, 2), dim=-1)
    assert torch.allclose(restored(soft), trained(soft))
