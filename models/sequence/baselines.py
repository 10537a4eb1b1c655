r"""Design baselines that search directly on the exact oracle: simulated annealing and random search.

They are what gradient design is measured against (``benchmarks/sequence.py``): each oracle
call scores one sequence against every compact conformation, and both stop at the first
verified success or when their wall-clock budget or call budget runs out.

*Simulated annealing* runs ``chains`` Metropolis chains in one batch. Its energy is the
target's margin ``f(s) = E_target(s) - min_{k != target} E_k(s)`` (in the alphabet's unit;
``f < 0`` iff the target is the unique ground state), a move changes one random residue to
another random letter, and the temperature falls geometrically from ``t_start`` to ``t_end``
over the budget (by elapsed fraction of the time budget, or of the call budget when there is
no time budget). *Random search* folds uniform random sequences.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import Tensor

from models.sequence.oracle import LatticeOracle


@dataclass(frozen=True)
class SearchResult:
    r"""The outcome of a baseline search.

    Attributes:
        sequence: `L` letter indices of the first success, or ``None``.
        oracle_calls: Sequences scored by the oracle.
        seconds: Wall-clock time used.
    """

    sequence: Tensor | None
    oracle_calls: int
    seconds: float

    @property
    def success(self) -> bool:
        """Whether a sequence folding uniquely into the target was found."""
        return self.sequence is not None


def target_margin(oracle: LatticeOracle, sequences: Tensor, target: int) -> Tensor:
    r"""`n` ``E_target - min over other conformations`` (negative iff success), alphabet units."""
    energies = oracle.energies(sequences)
    target_energy = energies[:, target].clone()
    energies[:, target] = float("inf")
    return target_energy - energies.min(dim=1).values


def _done(started: float, calls: int, seconds: float | None, max_calls: int | None) -> bool:
    return (seconds is not None and time.perf_counter() - started >= seconds) or (
        max_calls is not None and calls >= max_calls)


def simulated_annealing(oracle: LatticeOracle, target: int, *, seconds: float | None = 10.0,
                        max_calls: int | None = None, chains: int = 16, t_start: float = 2.0,
                        t_end: float = 0.05, seed: int = 0) -> SearchResult:
    r"""Metropolis annealing on the oracle's exact margin (see the module docstring).

    Args:
        oracle: The exact oracle.
        target: Target conformation index.
        seconds: Wall-clock budget (``None``: none, then ``max_calls`` is required).
        max_calls: Oracle-call budget (``None``: none).
        chains: Chains run as one batch (``chains`` oracle calls per step).
        t_start: Initial temperature (alphabet units).
        t_end: Final temperature.
        seed: Seeds the chains.

    Returns:
        The :class:`SearchResult`.
    """
    if seconds is None and max_calls is None:
        raise ValueError("give a time budget, a call budget or both")
    started = time.perf_counter()
    generator = torch.Generator().manual_seed(seed)
    size, length = oracle.alphabet.size, oracle.length
    state = torch.randint(0, size, (chains, length), generator=generator)
    energy = target_margin(oracle, state, target)
    calls = chains
    rows = torch.arange(chains)
    while True:
        hit = torch.nonzero(energy < 0).squeeze(1)
        if hit.numel():
            return SearchResult(state[hit[0]].clone(), calls, time.perf_counter() - started)
        if _done(started, calls, seconds, max_calls):
            return SearchResult(None, calls, time.perf_counter() - started)
        fraction = (time.perf_counter() - started) / seconds if seconds is not None else \
            calls / float(max_calls or 1)
        temperature = t_start * (t_end / t_start) ** min(fraction, 1.0)
        proposal = state.clone()
        position = torch.randint(0, length, (chains,), generator=generator)
        shift = torch.randint(1, size, (chains,), generator=generator)
        proposal[rows, position] = (proposal[rows, position] + shift) % size
        new_energy = target_margin(oracle, proposal, target)
        calls += chains
        accept = torch.rand(chains, generator=generator, dtype=torch.float64) < torch.exp(
            -(new_energy - energy).clamp(min=0) / temperature)
        state = torch.where(accept[:, None], proposal, state)
        energy = torch.where(accept, new_energy, energy)


def random_search(oracle: LatticeOracle, target: int, *, seconds: float | None = 10.0,
                  max_calls: int | None = None, batch: int = 64, seed: int = 0) -> SearchResult:
    r"""Fold uniform random sequences until one folds uniquely into the target.

    Args:
        oracle: The exact oracle.
        target: Target conformation index.
        seconds: Wall-clock budget (``None``: none, then ``max_calls`` is required).
        max_calls: Oracle-call budget.
        batch: Sequences folded per oracle batch.
        seed: Seeds the draws.

    Returns:
        The :class:`SearchResult`.
    """
    if seconds is None and max_calls is None:
        raise ValueError("give a time budget, a call budget or both")
    started = time.perf_counter()
    generator = torch.Generator().manual_seed(seed)
    calls = 0
    while not _done(started, calls, seconds, max_calls):
        sequences = torch.randint(0, oracle.alphabet.size, (batch, oracle.length),
                                  generator=generator)
        result = oracle.fold(sequences, max_ground_states=0)
        calls += batch
        hit = torch.nonzero(result.folds_to(target)).squeeze(1)
        if hit.numel():
            return SearchResult(sequences[hit[0]].clone(), calls, time.perf_counter() - started)
    return SearchResult(None, calls, time.perf_counter() - started)
