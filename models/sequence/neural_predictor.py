r"""A learned structure predictor: a small attention network trained on oracle data.

It stands in for a learned structure-prediction network: it knows nothing of the lattice's
energies, only examples. The architecture is the usual shape of contact predictors, scaled
down:

* residue embedding: ``h_i = W_in p_i + e_i`` (soft letters ``p_i``, learned position ``e_i``);
* ``layers`` pre-norm self-attention blocks (every residue sees the whole chain);
* pair head: ``logit_ij = MLP([h_i * h_j, |h_i - h_j|, d_|i-j|])`` with a learned embedding
  ``d`` of the chain separation, symmetric in ``i, j`` by construction;
* ``sigmoid``, then zero where a contact is impossible (``allowed``: the pairs in contact in
  some compact conformation; on the square lattice ``j - i`` is odd and at least 3).

Training data (:func:`train_neural_predictor`): random sequences labelled with the exact
thermodynamic contact map of the oracle at temperature ``T`` (the Boltzmann average over all
compact conformations: the ground state's map at low ``T``, a blend where states are close),
plus partly soft sequences (random mixtures of one-hot and uniform rows) labelled the same way,
so that the network is trained on the kind of input gradient design feeds it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from models.sequence.alphabets import Alphabet
from models.sequence.conformations import ConformationSet
from models.sequence.predictor import BoltzmannPredictor, StructurePredictor


class _Block(nn.Module):
    """Pre-norm self-attention then a feed-forward layer, both residual."""

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)
        self.norm2 = nn.LayerNorm(width)
        self.ff = nn.Sequential(nn.Linear(width, 2 * width), nn.GELU(), nn.Linear(2 * width,
                                                                                  width))

    def forward(self, h: Tensor) -> Tensor:
        batch, length, width = h.shape
        q, k, v = self.qkv(self.norm1(h)).reshape(batch, length, 3, self.heads, -1).unbind(2)
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))  # batch x heads x L x d
        weights = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]), dim=-1)
        h = h + self.out((weights @ v).transpose(1, 2).reshape(batch, length, width))
        return h + self.ff(self.norm2(h))


class NeuralPredictor(StructurePredictor):
    r"""Soft sequence -> contact probabilities, a learned network (see the module docstring).

    Args:
        length: Chain length ``L``.
        alphabet_size: Letters ``A``.
        allowed: `L x L` ``bool`` pairs that may be in contact (default: all with ``|i-j| >= 2``).
        width: Hidden width.
        layers: Attention blocks.
        heads: Attention heads (must divide ``width``).
    """

    allowed: Tensor

    def __init__(self, length: int, alphabet_size: int, *, allowed: Tensor | None = None,
                 width: int = 64, layers: int = 2, heads: int = 4) -> None:
        super().__init__()
        self.length = length
        self.alphabet_size = alphabet_size
        self.config = {"length": length, "alphabet_size": alphabet_size, "width": width,
                       "layers": layers, "heads": heads}
        if allowed is None:
            index = torch.arange(length)
            allowed = (index[None, :] - index[:, None]).abs() >= 2
        self.register_buffer("allowed", allowed.clone().bool())
        self.embed = nn.Linear(alphabet_size, width)
        self.position = nn.Parameter(torch.randn(length, width) * 0.1)
        self.blocks = nn.ModuleList([_Block(width, heads) for _ in range(layers)])
        self.norm = nn.LayerNorm(width)
        self.separation = nn.Embedding(length, width)
        self.head = nn.Sequential(nn.Linear(3 * width, width), nn.GELU(), nn.Linear(width, 1))
        index = torch.arange(length)
        self.register_buffer("distance", (index[None, :] - index[:, None]).abs(),
                             persistent=False)

    def logits(self, soft_sequence: Tensor) -> Tensor:
        r"""`batch x L x L` contact logits of `batch x L x A` soft sequences (unmasked)."""
        h = self.embed(soft_sequence) + self.position
        for block in self.blocks:
            h = block(h)
        h = self.norm(h)
        hi, hj = h[:, :, None, :], h[:, None, :, :]
        pair = torch.cat([(hi * hj), (hi - hj).abs(),
                          self.separation(self.distance).expand(h.shape[0], -1, -1, -1)], dim=-1)
        return self.head(pair).squeeze(-1)

    def _predict(self, soft_sequence: Tensor) -> Tensor:
        probabilities = torch.sigmoid(self.logits(soft_sequence))
        return probabilities * self.allowed.to(probabilities.dtype)


@dataclass(frozen=True)
class TrainingReport:
    r"""How a :class:`NeuralPredictor` was trained and how well it does on held-out data.

    Attributes:
        n_train: Training sequences.
        steps: Optimiser steps.
        temperature: Temperature of the oracle labels (alphabet energy unit).
        held_out_bce: Mean binary cross-entropy on held-out one-hot sequences (nats per pair).
        held_out_precision: Fraction of the top-``K`` predicted pairs that are contacts of the
            label's most probable conformation, on held-out one-hot sequences (``K`` =
            contacts per conformation).
        seconds: Wall-clock time of labelling and training.
    """

    n_train: int
    steps: int
    temperature: float
    held_out_bce: float
    held_out_precision: float
    seconds: float


def oracle_labels(teacher: BoltzmannPredictor, soft_sequences: Tensor,
                  chunk: int = 256) -> Tensor:
    r"""Exact thermodynamic contact maps of `n x L x A` sequences (no gradient), in chunks."""
    with torch.no_grad():
        return torch.cat([teacher(part) for part in soft_sequences.split(chunk)])


def _random_inputs(count: int, length: int, size: int, soft_fraction: float,
                   generator: torch.Generator) -> Tensor:
    """One-hot random sequences, a fraction of them blended towards uniform rows."""
    letters = torch.randint(0, size, (count, length), generator=generator)
    one_hot = nn.functional.one_hot(letters, size).float()
    blend = torch.rand(count, 1, 1, generator=generator) * 0.6
    soft = torch.rand(count, 1, 1, generator=generator) < soft_fraction
    mixed = one_hot * (1 - blend) + blend / size
    return torch.where(soft, mixed, one_hot)


def train_neural_predictor(conformations: ConformationSet, alphabet: Alphabet, *,
                           n_train: int = 4000, n_test: int = 500, temperature: float = 0.3,
                           steps: int = 600, batch_size: int = 128, learning_rate: float = 3e-3,
                           soft_fraction: float = 0.3, width: int = 64, layers: int = 2,
                           seed: int = 0) -> tuple[NeuralPredictor, TrainingReport]:
    r"""Train a :class:`NeuralPredictor` on oracle-labelled random sequences.

    Args:
        conformations: The lattice's compact conformations (labels and allowed pairs).
        alphabet: Letters and contact energies.
        n_train: Training sequences (labelled once).
        n_test: Held-out one-hot sequences for the report.
        temperature: Label temperature ``T`` (alphabet units).
        steps: Adam steps.
        batch_size: Sequences per step.
        learning_rate: Adam step size (cosine-decayed to 0).
        soft_fraction: Fraction of training inputs blended towards uniform letters.
        width: Hidden width.
        layers: Attention blocks.
        seed: Seeds data and initialisation.

    Returns:
        The trained predictor (in eval mode) and its :class:`TrainingReport`.
    """
    started = time.perf_counter()
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    length, size = conformations.length, alphabet.size
    teacher = BoltzmannPredictor(conformations, alphabet, temperature)
    inputs = _random_inputs(n_train, length, size, soft_fraction, generator)
    labels = oracle_labels(teacher, inputs)
    test_inputs = _random_inputs(n_test, length, size, 0.0, generator)
    test_labels = oracle_labels(teacher, test_inputs)
    allowed = conformations.pairs_to_map(torch.ones(len(conformations.pairs))) > 0
    model = NeuralPredictor(length, size, allowed=allowed, width=width, layers=layers)
    _fit(model, inputs, labels, steps, batch_size, learning_rate, generator)
    model.eval()
    bce, precision = _evaluate(model, test_inputs, test_labels, conformations.n_contacts)
    return model, TrainingReport(n_train, steps, temperature, bce, precision,
                                 time.perf_counter() - started)


def _fit(model: NeuralPredictor, inputs: Tensor, labels: Tensor, steps: int, batch_size: int,
         learning_rate: float, generator: torch.Generator) -> None:
    optimiser = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, steps)
    upper = torch.triu(model.allowed, diagonal=1)
    model.train()
    for _ in range(steps):
        batch = torch.randint(0, inputs.shape[0], (batch_size,), generator=generator)
        logits = model.logits(inputs[batch])[:, upper]
        loss = nn.functional.binary_cross_entropy_with_logits(logits, labels[batch][:, upper])
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()


@torch.no_grad()
def _evaluate(model: NeuralPredictor, inputs: Tensor, labels: Tensor,
              n_contacts: int) -> tuple[float, float]:
    upper = torch.triu(model.allowed, diagonal=1)
    predicted = model(inputs)[:, upper].clamp(1e-6, 1 - 1e-6)
    truth = labels[:, upper]
    bce = -(truth * predicted.log() + (1 - truth) * (1 - predicted).log()).mean()
    top_predicted = predicted.topk(n_contacts, dim=-1).indices
    top_true = truth.topk(n_contacts, dim=-1).indices
    hits = (top_predicted[:, :, None] == top_true[:, None, :]).any(dim=-1).float().mean()
    return float(bce), float(hits)


def save_predictor(model: NeuralPredictor) -> dict[str, object]:
    """A picklable ``{"config", "state"}`` of a trained predictor (for a model version)."""
    return {"config": dict(model.config), "state": model.state_dict()}


def load_predictor(saved: dict[str, object]) -> NeuralPredictor:
    """The predictor saved by :func:`save_predictor` (in eval mode)."""
    config = dict(saved["config"])  # type: ignore[call-overload]
    model = NeuralPredictor(config.pop("length"), config.pop("alphabet_size"), **config)
    model.load_state_dict(saved["state"])  # type: ignore[arg-type]
    return model.eval()
