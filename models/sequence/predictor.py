r"""Structure predictors: a soft sequence in, a differentiable contact map out.

A *soft sequence* gives, at every position, a probability for every letter (`batch x L x A`,
rows on the simplex; a one-hot row is an ordinary letter). A predictor maps it to contact
probabilities (`batch x L x L`, symmetric, zero diagonal), differentiably, so a sequence can be
designed by gradient descent through it. :class:`StructurePredictor` is the contract; a learned
network implements it the same way as the exact model below.

:class:`BoltzmannPredictor` is exact for the lattice model. The energy of conformation ``k``
for a soft sequence ``p`` is the expected contact energy under independent letters,

    E_k(p) = sum over contacts (i, j) of k of  p_i^T W p_j      (W: the alphabet's energies),

its Boltzmann probability at temperature ``T`` is ``P_k = exp(-E_k / T) / Z`` (``k_B = 1``;
``T`` in the alphabet's energy unit, e.g. ``RT`` for Miyazawa–Jernigan) and the predicted map
is the expected contact map ``sum_k P_k C_k``. As ``T -> 0`` a one-hot sequence with a unique
ground state predicts that ground state's map; as ``T -> inf`` the mean map of all
conformations. The cost is two dense products with the `n_conf x P` pair incidence
(``P`` = residue pairs ever in contact: 132 on 5 x 5, 289 on 6 x 6).
"""

from __future__ import annotations

import abc

import torch
from torch import Tensor

from models.sequence.alphabets import Alphabet
from models.sequence.conformations import ConformationSet
from models.sequence.errors import InvalidSequenceError


class StructurePredictor(torch.nn.Module, abc.ABC):
    r"""Soft sequence -> predicted contact map, differentiable.

    Subclasses set :attr:`length` and :attr:`alphabet_size` and implement :meth:`_predict`;
    :meth:`forward` checks the input shape first.

    Attributes:
        length: Chain length ``L``.
        alphabet_size: Letters ``A``.
    """

    length: int
    alphabet_size: int

    def forward(self, soft_sequence: Tensor) -> Tensor:
        r"""Contact probabilities of soft sequences.

        Args:
            soft_sequence: `batch_shape x L x A` letter probabilities per position.

        Returns:
            `batch_shape x L x L` contact probabilities: symmetric, zero diagonal, in [0, 1].
        """
        flat = self._flatten(soft_sequence)
        return self._predict(flat).reshape(*soft_sequence.shape[:-2], self.length, self.length)

    def _flatten(self, soft_sequence: Tensor) -> Tensor:
        """`batch_shape x L x A` -> `batch x L x A`, or an error naming the expected shape."""
        expected = (self.length, self.alphabet_size)
        if soft_sequence.ndim < 2 or tuple(soft_sequence.shape[-2:]) != expected:
            raise InvalidSequenceError(
                f"soft sequences are `batch x {expected[0]} x {expected[1]}` probabilities",
                {"expected": list(expected), "shape": list(soft_sequence.shape)})
        return soft_sequence.reshape(-1, *expected)

    @abc.abstractmethod
    def _predict(self, soft_sequence: Tensor) -> Tensor:
        r"""`batch x L x A` checked soft sequences -> `batch x L x L` contact probabilities."""


class BoltzmannPredictor(StructurePredictor):
    r"""The exact expected contact map over all compact conformations at temperature ``T``.

    Args:
        conformations: The compact conformations of the lattice.
        alphabet: Letters and contact energies.
        temperature: ``T > 0`` in the alphabet's energy unit (may be changed later, e.g. to
            anneal).

    Example:
        >>> predictor = BoltzmannPredictor(compact_conformations(4), get_alphabet("hp"), 0.5)
        ... # doctest: +SKIP
        >>> soft = torch.softmax(torch.randn(8, 16, 2, requires_grad=True), -1)  # doctest: +SKIP
        >>> predictor(soft).shape  # doctest: +SKIP
        torch.Size([8, 16, 16])
    """

    energy_table: Tensor
    incidence: Tensor
    pair_first: Tensor
    pair_second: Tensor

    def __init__(self, conformations: ConformationSet, alphabet: Alphabet,
                 temperature: float = 1.0) -> None:
        super().__init__()
        self.conformations = conformations
        self.length = conformations.length
        self.alphabet_size = alphabet.size
        self.temperature = temperature
        self.register_buffer("energy_table", alphabet.energies.clone())
        self.register_buffer("incidence", conformations.incidence(torch.float32))
        self.register_buffer("pair_first", conformations.pairs[:, 0].clone())
        self.register_buffer("pair_second", conformations.pairs[:, 1].clone())

    @property
    def temperature(self) -> float:
        """``T`` in the alphabet's energy unit."""
        return self._temperature

    @temperature.setter
    def temperature(self, value: float) -> None:
        if not value > 0:
            raise ValueError(f"the temperature must be positive, got {value}")
        self._temperature = float(value)

    def energies(self, soft_sequence: Tensor) -> Tensor:
        r"""Expected energy of every conformation.

        Args:
            soft_sequence: `batch_shape x L x A` letter probabilities.

        Returns:
            `batch_shape x n_conf` energies ``E_k(p)`` in the alphabet's unit.
        """
        flat = self._flatten(soft_sequence)
        table = self.energy_table.to(flat.dtype)
        first = flat[:, self.pair_first] @ table  # batch x P x A
        pair_energies = (first * flat[:, self.pair_second]).sum(dim=-1)
        energies = pair_energies @ self.incidence.to(flat.dtype).T
        return energies.reshape(*soft_sequence.shape[:-2], -1)

    def log_probabilities(self, soft_sequence: Tensor) -> Tensor:
        r"""Boltzmann log-probabilities of the conformations (a stable log-softmax).

        Args:
            soft_sequence: `batch_shape x L x A` letter probabilities.

        Returns:
            `batch_shape x n_conf` ``log P_k``.
        """
        return torch.log_softmax(-self.energies(soft_sequence) / self.temperature, dim=-1)

    def _predict(self, soft_sequence: Tensor) -> Tensor:
        probabilities = self.log_probabilities(soft_sequence).exp()
        pair_probabilities = probabilities @ self.incidence.to(soft_sequence.dtype)
        return self.conformations.pairs_to_map(pair_probabilities)
