"""Structure predictors: a contract every predictor passes, and the exact Boltzmann model.

:class:`PredictorContract` is written for any :class:`StructurePredictor` (the learned
predictor of a later step inherits it); :class:`TestBoltzmannPredictor` adds what is true of
the exact model only: its limits in temperature and its agreement with the oracle.
"""

from __future__ import annotations

import abc

import pytest
import torch
from torch.autograd import gradcheck

from models.sequence.alphabets import get_alphabet
from models.sequence.conformations import ConformationSet, compact_conformations
from models.sequence.errors import InvalidSequenceError
from models.sequence.oracle import LatticeOracle
from models.sequence.predictor import BoltzmannPredictor, StructurePredictor


def _soft(batch: int, length: int, size: int, seed: int = 0,
          dtype: torch.dtype = torch.float64) -> torch.Tensor:
    logits = torch.randn(batch, length, size, dtype=dtype,
                         generator=torch.Generator().manual_seed(seed))
    return torch.softmax(logits, dim=-1)


class PredictorContract(abc.ABC):
    """Checks every structure predictor must pass."""

    @abc.abstractmethod
    def make_predictor(self) -> StructurePredictor:
        """A small predictor (short chain) in float64-capable form."""

    def test_shapes_and_batch_dimensions(self) -> None:
        predictor = self.make_predictor()
        length, size = predictor.length, predictor.alphabet_size
        soft = _soft(6, length, size).reshape(2, 3, length, size)
        maps = predictor(soft)
        assert maps.shape == (2, 3, length, length) and maps.dtype == soft.dtype
        assert torch.allclose(maps.reshape(6, length, length), predictor(soft.reshape(6, length,
                                                                                      size)))

    def test_maps_are_symmetric_probabilities_with_zero_diagonal(self) -> None:
        predictor = self.make_predictor()
        maps = predictor(_soft(5, predictor.length, predictor.alphabet_size))
        assert torch.allclose(maps, maps.transpose(-1, -2))
        assert (maps.diagonal(dim1=-2, dim2=-1) == 0).all()
        assert (maps >= 0).all() and (maps <= 1 + 1e-12).all()

    def test_gradients_reach_every_position(self) -> None:
        predictor = self.make_predictor()
        soft = _soft(2, predictor.length, predictor.alphabet_size).requires_grad_()
        target = torch.rand(predictor.length, predictor.length, dtype=soft.dtype,
                            generator=torch.Generator().manual_seed(1))
        (predictor(soft) * target).sum().backward()
        assert soft.grad is not None and torch.isfinite(soft.grad).all()
        assert (soft.grad.abs().sum(dim=-1) > 0).all()

    @pytest.mark.parametrize("shape", [(4, 3), (2, 5, 7), (7,)])
    def test_wrong_shapes_are_refused(self, shape: tuple[int, ...]) -> None:
        with pytest.raises(InvalidSequenceError):
            self.make_predictor()(torch.rand(*shape))


class TestBoltzmannPredictor(PredictorContract):
    def make_predictor(self) -> StructurePredictor:
        return BoltzmannPredictor(compact_conformations(3, use_cache=False),
                                  get_alphabet("mj1996"), temperature=1.5)

    @pytest.mark.parametrize(("rows", "cols", "alphabet", "temperature"), [
        (3, 3, "mj1996", 1.5), (4, 4, "hp_li1996", 0.7), (2, 3, "hp", 0.3)])
    def test_gradcheck_against_central_differences(self, rows: int, cols: int, alphabet: str,
                                                   temperature: float) -> None:
        predictor = BoltzmannPredictor(compact_conformations(rows, cols, use_cache=False),
                                       get_alphabet(alphabet), temperature)
        soft = _soft(2, predictor.length, predictor.alphabet_size, seed=rows * cols)
        assert gradcheck(predictor, (soft.requires_grad_(),), eps=1e-6, atol=1e-7)

    def test_expected_contacts_sum_to_the_contact_number(
            self, conformations_4x4: ConformationSet) -> None:
        # Every compact conformation has K contacts, so any average map holds K of them.
        predictor = BoltzmannPredictor(conformations_4x4, get_alphabet("hp"), 0.8)
        maps = predictor(_soft(4, 16, 2))
        assert torch.allclose(maps.sum(dim=(-1, -2)), torch.full((4,), 2.0 * 9,
                                                                 dtype=torch.float64))
        chain = torch.arange(15)
        assert (maps[:, chain, chain + 1] == 0).all()

    def test_one_hot_energies_equal_the_oracle(self, conformations_5x5: ConformationSet) -> None:
        alphabet = get_alphabet("mj1996")
        predictor = BoltzmannPredictor(conformations_5x5, alphabet)
        sequences = torch.randint(0, 20, (6, 25), generator=torch.Generator().manual_seed(2))
        one_hot = torch.nn.functional.one_hot(sequences, 20).double()
        oracle = LatticeOracle(conformations_5x5, alphabet)
        assert torch.allclose(predictor.energies(one_hot), oracle.energies(sequences), atol=1e-9)
        log_p = predictor.log_probabilities(one_hot)
        assert torch.allclose(log_p.logsumexp(dim=-1), torch.zeros(6, dtype=torch.float64))

    def test_cold_limit_is_the_unique_ground_state(self,
                                                   conformations_4x4: ConformationSet) -> None:
        alphabet = get_alphabet("hp")
        oracle = LatticeOracle(conformations_4x4, alphabet)
        candidates = torch.randint(0, 2, (400, 16), generator=torch.Generator().manual_seed(3))
        folded = oracle.fold(candidates)
        designed = candidates[folded.unique][:10]
        ground = folded.ground_state[folded.unique][:10]
        one_hot = torch.nn.functional.one_hot(designed, 2).double()
        target = conformations_4x4.contact_maps(ground, torch.float64)
        errors = [(BoltzmannPredictor(conformations_4x4, alphabet, t)(one_hot) - target).abs()
                  .max().item() for t in (1.0, 0.3, 0.1, 0.02)]
        assert errors[-1] < 1e-12  # the gap is 1 and 69 e^{-50} is nothing
        assert errors == sorted(errors, reverse=True)  # and it converges monotonically here

    def test_hot_limit_is_the_mean_map(self, conformations_4x4: ConformationSet) -> None:
        predictor = BoltzmannPredictor(conformations_4x4, get_alphabet("mj1996"), 1e9)
        mean = conformations_4x4.contact_maps(dtype=torch.float64).mean(dim=0)
        maps = predictor(_soft(3, 16, 20))
        assert torch.allclose(maps, mean.expand(3, 16, 16), atol=1e-7)

    def test_float32_works_on_the_5x5_set(self, conformations_5x5: ConformationSet) -> None:
        predictor = BoltzmannPredictor(conformations_5x5, get_alphabet("hp_li1996"), 0.5)
        soft = _soft(8, 25, 2, dtype=torch.float32).requires_grad_()
        maps = predictor(soft)
        assert maps.dtype == torch.float32
        maps.sum().backward()
        assert torch.isfinite(soft.grad).all()

    def test_temperature_must_be_positive(self, conformations_4x4: ConformationSet) -> None:
        predictor = BoltzmannPredictor(conformations_4x4, get_alphabet("hp"))
        predictor.temperature = 0.25
        assert predictor.temperature == 0.25
        for bad in (0.0, -1.0, float("nan")):
            with pytest.raises(ValueError):
                predictor.temperature = bad
