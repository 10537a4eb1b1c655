r"""Gradient design of sequences through a differentiable structure predictor.

The unknowns are logits ``theta`` (`starts x L x A`, many starts optimised as one batch). A soft
sequence is ``softmax(theta / tau)``; the loss is the contact-map cross-entropy between the
predicted map and the target,

    loss = mean over residue pairs (i < j) of  -[t_ij log p_ij + (1 - t_ij) log(1 - p_ij)],

plus the restraint energies (:mod:`models.sequence.restraints`, composition terms included).
Three phases move the soft sequence to a discrete one:

1. *relaxed*: ``tau`` anneals geometrically from ``tau_start`` to ``tau_end``, so the soft
   sequences sharpen gradually (with ``gumbel=True`` Gumbel noise is added to the logits: a
   relaxed Gumbel-softmax sample, which keeps starts exploring);
2. *straight-through*: the last ``straight_through`` fraction of the steps evaluates the
   predictor on the one-hot ``argmax`` sequence and passes the gradient of the soft one
   (Bengio et al. 2013), so the loss optimised is the loss of a real sequence;
3. *polish*: greedy single-letter changes that lower the predictor loss of the discrete
   sequence (``polish_sweeps`` passes, no gradient), which fixes the last few positions where
   the straight-through estimate is poor.

The distinct discrete sequences are returned best first. Nothing here calls the oracle:
:func:`models.sequence.verify.verify_designs` confirms each design.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from models.errors import ScienceError
from models.sequence.predictor import StructurePredictor
from models.sequence.restraints import Restraint, restraint_energy

_EPS = 1e-6


class DesignConfigError(ScienceError):
    """A design configuration value out of its range (``details["field"]`` names it)."""


@dataclass(frozen=True)
class DesignConfig:
    r"""Hyperparameters of :func:`design_sequences`.

    Attributes:
        starts: Independent starts, optimised as one batch.
        steps: Adam steps (relaxed plus straight-through).
        learning_rate: Adam step size on the logits.
        tau_start: Softmax temperature at the first step (dimensionless).
        tau_end: Softmax temperature at the end of the relaxed phase.
        straight_through: Fraction of the steps run straight-through on one-hot sequences.
        gumbel: Add Gumbel noise to the logits in the relaxed phase.
        polish_sweeps: Greedy single-letter sweeps on the discrete sequences (0: none).
        init_scale: Standard deviation of the initial logits.
        seed: Seeds the initial logits and the Gumbel noise.
    """

    starts: int = 32
    steps: int = 150
    learning_rate: float = 0.1
    tau_start: float = 1.0
    tau_end: float = 0.1
    straight_through: float = 0.3
    gumbel: bool = False
    polish_sweeps: int = 2
    init_scale: float = 0.5
    seed: int = 0

    def __post_init__(self) -> None:
        checks = {"starts": self.starts >= 1, "steps": self.steps >= 1,
                  "learning_rate": self.learning_rate > 0, "tau_start": self.tau_start > 0,
                  "tau_end": 0 < self.tau_end <= self.tau_start,
                  "straight_through": 0.0 <= self.straight_through <= 1.0,
                  "polish_sweeps": self.polish_sweeps >= 0, "init_scale": self.init_scale >= 0}
        for field, ok in checks.items():
            if not ok:
                raise DesignConfigError(f"design option {field}={getattr(self, field)!r} is out "
                                        "of range", {"field": field})


@dataclass(frozen=True, eq=False)
class DesignResult:
    r"""Distinct designed sequences, lowest predictor loss first.

    Attributes:
        sequences: `n x L` ``long`` letter indices.
        losses: `n` total loss (structure plus restraints) of each discrete sequence.
        structure_losses: `n` the contact-map cross-entropy alone.
        contact_maps: `n x L x L` maps the predictor gives each discrete sequence.
        predictor_calls: Sequences evaluated by the predictor (a cost measure).
        seconds: Wall-clock time of the design.
    """

    sequences: Tensor
    losses: Tensor
    structure_losses: Tensor
    contact_maps: Tensor
    predictor_calls: int
    seconds: float


def pair_mask(length: int, min_separation: int = 2) -> Tensor:
    """`L x L` ``bool``: the pairs ``i < j`` at least ``min_separation`` apart along the chain."""
    index = torch.arange(length)
    return (index[None, :] - index[:, None]) >= min_separation


def structure_loss(predicted: Tensor, target: Tensor | None, mask: Tensor) -> Tensor:
    r"""Mean binary cross-entropy of predicted contacts against the target over ``mask``.

    Args:
        predicted: `batch x L x L` contact probabilities.
        target: `L x L` 0/1 target map, or ``None`` (then the loss is zero: restraints only).
        mask: `L x L` ``bool`` pairs that count (upper triangle).

    Returns:
        `batch` losses (nats per pair).
    """
    if target is None:
        return torch.zeros(predicted.shape[0], dtype=predicted.dtype, device=predicted.device)
    p = predicted[:, mask].clamp(_EPS, 1.0 - _EPS)
    t = target.to(predicted.dtype)[mask]
    return -(t * p.log() + (1.0 - t) * (1.0 - p).log()).mean(dim=-1)


def design_loss(predictor: StructurePredictor, soft_sequence: Tensor, target: Tensor | None,
                restraints: Sequence[Restraint] = (), mask: Tensor | None = None
                ) -> tuple[Tensor, Tensor, Tensor]:
    r"""The design objective of a batch of soft sequences.

    Args:
        predictor: The structure predictor.
        soft_sequence: `batch x L x A` letter probabilities (differentiable).
        target: `L x L` 0/1 target contact map, or ``None`` for restraints only.
        restraints: Energies added to the loss.
        mask: Pairs the structure loss counts (default: ``j - i >= 2``).

    Returns:
        ``(total, structure, contact_map)``: `batch`, `batch`, `batch x L x L`.
    """
    mask = pair_mask(predictor.length) if mask is None else mask
    contact_map = predictor(soft_sequence)
    structure = structure_loss(contact_map, target, mask.to(contact_map.device))
    return structure + restraint_energy(restraints, soft_sequence, contact_map), structure, \
        contact_map


def design_sequences(predictor: StructurePredictor, target: Tensor | None, *,
                     restraints: Sequence[Restraint] = (), config: DesignConfig | None = None,
                     mask: Tensor | None = None) -> DesignResult:
    r"""Design sequences whose predicted contact map is the target (see the module docstring).

    Args:
        predictor: Soft sequence -> contact map, differentiable.
        target: `L x L` 0/1 target contact map, or ``None`` to design for restraints alone.
        restraints: Extra energies (contacts, exposed segments, letters, composition).
        config: Hyperparameters (default :class:`DesignConfig`).
        mask: Residue pairs the structure loss counts (default ``j - i >= 2``).

    Returns:
        The :class:`DesignResult`: distinct sequences, lowest loss first.

    Raises:
        DesignConfigError: With no target and no restraints (nothing to design for).
    """
    config = config or DesignConfig()
    if target is None and not restraints:
        raise DesignConfigError("a design needs a target, restraints, or both",
                                {"field": "target"})
    started = time.perf_counter()
    dtype = _dtype(predictor)
    mask = pair_mask(predictor.length) if mask is None else mask
    target_t = None if target is None else target.to(dtype)
    generator = torch.Generator().manual_seed(config.seed)
    logits = _optimise(predictor, target_t, restraints, mask, config, generator, dtype)
    sequences = torch.unique(logits.argmax(dim=-1), dim=0)
    calls = config.starts * config.steps
    sequences, polish_calls = _polish(predictor, sequences, target_t, restraints, mask,
                                      config.polish_sweeps)
    result = _rank(predictor, torch.unique(sequences, dim=0), target_t, restraints, mask)
    return DesignResult(*result, predictor_calls=calls + polish_calls + len(result[0]),
                        seconds=time.perf_counter() - started)


def _dtype(predictor: StructurePredictor) -> torch.dtype:
    """The dtype of the predictor's learned parameters; ``float32`` for parameter-free ones."""
    for tensor in predictor.parameters():
        if tensor.is_floating_point():
            return tensor.dtype
    return torch.float32


def _optimise(predictor: StructurePredictor, target: Tensor | None,
              restraints: Sequence[Restraint], mask: Tensor, config: DesignConfig,
              generator: torch.Generator, dtype: torch.dtype) -> Tensor:
    """The relaxed then straight-through Adam phases; returns the final logits."""
    shape = (config.starts, predictor.length, predictor.alphabet_size)
    logits = (torch.randn(shape, generator=generator, dtype=dtype) * config.init_scale)
    logits.requires_grad_(True)
    optimiser = torch.optim.Adam([logits], lr=config.learning_rate)
    relaxed_steps = round(config.steps * (1.0 - config.straight_through))
    for step in range(config.steps):
        fraction = step / max(relaxed_steps - 1, 1)
        tau = config.tau_start * (config.tau_end / config.tau_start) ** min(fraction, 1.0)
        soft = _soft(logits, tau, config.gumbel and step < relaxed_steps, generator)
        if step >= relaxed_steps:
            hard = torch.nn.functional.one_hot(soft.argmax(dim=-1), shape[-1]).to(dtype)
            soft = hard + soft - soft.detach()
        total, _, _ = design_loss(predictor, soft, target, restraints, mask)
        optimiser.zero_grad()
        total.sum().backward()
        optimiser.step()
    return logits.detach()


def _soft(logits: Tensor, tau: float, gumbel: bool, generator: torch.Generator) -> Tensor:
    if gumbel:
        uniform = torch.rand(logits.shape, generator=generator, dtype=logits.dtype)
        noise = -torch.log(-torch.log(uniform.clamp(1e-10, 1.0 - 1e-10)))
        return torch.softmax((logits + noise) / tau, dim=-1)
    return torch.softmax(logits / tau, dim=-1)


@torch.no_grad()
def _losses(predictor: StructurePredictor, sequences: Tensor, target: Tensor | None,
            restraints: Sequence[Restraint], mask: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    one_hot = torch.nn.functional.one_hot(sequences, predictor.alphabet_size).to(_dtype(predictor))
    return design_loss(predictor, one_hot, target, restraints, mask)


@torch.no_grad()
def _polish(predictor: StructurePredictor, sequences: Tensor, target: Tensor | None,
            restraints: Sequence[Restraint], mask: Tensor, sweeps: int) -> tuple[Tensor, int]:
    """Greedy best single-letter change per sequence and sweep, while it lowers the loss."""
    calls = 0
    size = predictor.alphabet_size
    current, _, _ = _losses(predictor, sequences, target, restraints, mask)
    calls += sequences.shape[0]
    for _ in range(sweeps):
        mutants = _all_mutants(sequences, size)  # n x M x L
        n, m, length = mutants.shape
        losses = torch.cat([_losses(predictor, chunk, target, restraints, mask)[0]
                            for chunk in mutants.reshape(n * m, length).split(512)])
        calls += n * m
        best, which = losses.reshape(n, m).min(dim=1)
        better = best < current - 1e-7
        if not bool(better.any()):
            break
        rows = torch.arange(n)
        sequences = torch.where(better[:, None], mutants[rows, which], sequences)
        current = torch.where(better, best, current)
    return sequences, calls


def _all_mutants(sequences: Tensor, size: int) -> Tensor:
    """`n x (L (A - 1)) x L`: every single-letter change of every sequence."""
    length = sequences.shape[1]
    position = torch.arange(length).repeat_interleave(size - 1)
    shift = torch.arange(1, size).repeat(length)
    mutants = sequences[:, None, :].repeat(1, length * (size - 1), 1)
    rows = torch.arange(length * (size - 1))
    mutants[:, rows, position] = (mutants[:, rows, position] + shift) % size
    return mutants


def _rank(predictor: StructurePredictor, sequences: Tensor, target: Tensor | None,
          restraints: Sequence[Restraint], mask: Tensor
          ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    total, structure, maps = _losses(predictor, sequences, target, restraints, mask)
    order = torch.argsort(total, stable=True)
    return sequences[order], total[order], structure[order], maps[order]
