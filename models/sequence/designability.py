r"""Designability: how many sequences fold uniquely into each structure.

The designability of a conformation is the number of sequences (of a given set) that have it
as their *unique* ground state (Li, Helling, Tang & Wingreen, *Science* 273:666, 1996). A few
structures are designed by very many sequences and most by none; the highly designable ones
are the meaningful design targets (large energy gaps, mutationally robust).

Which sequence set to use:

* all ``A^L`` sequences when that is small — HP on the 4 x 4 lattice (65,536 sequences, well
  under a second) or the 5 x 5 lattice (``2^25 = 33.6`` million, minutes on one core);
* otherwise a uniform random sample (:func:`random_sequences`): the 6 x 6 HP space has
  ``2^36`` sequences and the oracle scores about a thousand a second on one core, so a sample
  of ``10^5``–``10^6`` ranks the highly designable structures (whose counts are large) while
  rare structures are under-sampled. The counts then estimate ``A^L x`` the fraction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import torch
from torch import Tensor

from models.sequence.oracle import LatticeOracle


@dataclass(frozen=True, eq=False)
class Designability:
    r"""Designability counts over a set of sequences.

    Attributes:
        counts: `n_conf` ``long``: sequences whose unique ground state is each conformation.
        n_sequences: How many sequences were folded.
        best_gap: `n_conf` ``float64``: the largest energy gap among the sequences designing
            each conformation (``nan`` where none does), in alphabet units.
        best_sequence: `n_conf x L` ``long``: a designing sequence with that gap (the first
            met), ``-1`` rows where none.
    """

    counts: Tensor
    n_sequences: int
    best_gap: Tensor
    best_sequence: Tensor

    @property
    def n_designing(self) -> int:
        """Sequences with a unique ground state (the sum of :attr:`counts`)."""
        return int(self.counts.sum())

    def ranking(self) -> Tensor:
        """`n_conf` conformation indices by decreasing count (ties by increasing index)."""
        return torch.sort(self.counts, descending=True, stable=True).indices

    def designable(self, min_count: int = 1) -> Tensor:
        """Conformations designed by at least ``min_count`` sequences, most designable first."""
        ranking = self.ranking()
        return ranking[self.counts[ranking] >= min_count]


def designability(oracle: LatticeOracle, sequences: Tensor | Iterable[Tensor]) -> Designability:
    r"""Count, for every conformation, the sequences that fold uniquely into it.

    Args:
        oracle: The exact oracle (lattice and alphabet).
        sequences: `n x L` letter indices, or an iterable of such chunks (e.g.
            :func:`all_sequences`), so that huge sets never sit in memory at once.

    Returns:
        The :class:`Designability` of the set.

    Example:
        >>> oracle = LatticeOracle(compact_conformations(4), get_alphabet("hp"))  # doctest: +SKIP
        >>> result = designability(oracle, all_sequences(16, 2))  # doctest: +SKIP
        >>> result.ranking()[:5]  # doctest: +SKIP
    """
    chunks = [sequences] if isinstance(sequences, Tensor) else sequences
    tally = _Tally(len(oracle.conformations), oracle.length)
    for chunk in chunks:
        chunk = oracle.check(chunk)
        result = oracle.fold(chunk, max_ground_states=0)
        tally.add(chunk, result.ground_state[result.unique], result.gap[result.unique],
                  result.unique)
    return Designability(tally.counts, tally.n_sequences, tally.best_gap, tally.best_sequence)


class _Tally:
    """Running counts, best gaps and their sequences."""

    def __init__(self, n_conformations: int, length: int) -> None:
        self.counts = torch.zeros(n_conformations, dtype=torch.long)
        self.best_gap = torch.full((n_conformations,), float("nan"), dtype=torch.float64)
        self.best_sequence = torch.full((n_conformations, length), -1, dtype=torch.long)
        self.n_sequences = 0

    def add(self, chunk: Tensor, structure: Tensor, gap: Tensor, unique: Tensor) -> None:
        self.n_sequences += chunk.shape[0]
        self.counts += torch.bincount(structure, minlength=self.counts.shape[0])
        designing = chunk[unique]
        chunk_best = torch.full_like(self.best_gap, -float("inf"))
        chunk_best.scatter_reduce_(0, structure, gap, reduce="amax")
        better = chunk_best > self.best_gap.nan_to_num(nan=-float("inf"))
        winners = better[structure] & (gap == chunk_best[structure])
        first = _first_per_group(structure, winners)
        self.best_gap[structure[first]] = gap[first]
        self.best_sequence[structure[first]] = designing[first]


def _first_per_group(groups: Tensor, eligible: Tensor) -> Tensor:
    """Positions of the first eligible entry of each group value, in input order."""
    positions = torch.nonzero(eligible).squeeze(1)
    order = torch.sort(groups[positions], stable=True)
    keys = order.values
    is_first = torch.ones_like(keys, dtype=torch.bool)
    is_first[1:] = keys[1:] != keys[:-1]
    return positions[order.indices[is_first]]


def all_sequences(length: int, alphabet_size: int, *,
                  chunk_size: int = 2**16) -> Iterator[Tensor]:
    r"""Every sequence of ``length`` letters, in lexicographic order, in chunks.

    Args:
        length: Chain length ``L``.
        alphabet_size: Letters ``A``; ``A^L`` must fit in 63 bits.
        chunk_size: Sequences per chunk.

    Yields:
        `chunk x L` ``long`` letter indices (the last chunk may be shorter).
    """
    total = alphabet_size**length
    powers = alphabet_size ** torch.arange(length - 1, -1, -1, dtype=torch.long)
    for start in range(0, total, chunk_size):
        numbers = torch.arange(start, min(start + chunk_size, total), dtype=torch.long)
        yield (numbers.unsqueeze(1) // powers) % alphabet_size


def random_sequences(count: int, length: int, alphabet_size: int, *, seed: int = 0,
                     chunk_size: int = 2**14) -> Iterator[Tensor]:
    r"""``count`` uniform random sequences, in chunks, reproducible from ``seed``.

    Yields:
        `chunk x L` ``long`` letter indices.
    """
    generator = torch.Generator().manual_seed(seed)
    for start in range(0, count, chunk_size):
        size = min(chunk_size, count - start)
        yield torch.randint(0, alphabet_size, (size, length), generator=generator)
