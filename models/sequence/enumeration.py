r"""Exact enumeration of the compact conformations: Hamiltonian paths of a grid graph.

The search is breadth first and vectorised over all partial paths of one length at a time: a
partial path is a bit mask of visited sites plus its head. A step extends every partial path
to every free neighbour of its head, then prunes the dead ends with bit arithmetic on the mask
of unvisited sites ``U``: in the rest of the path ``head -> u1 -> ... -> uk`` every ``ui`` but
the last has two neighbours in ``U + {head}``, so a partial path survives only if no unvisited
site has fewer than one such neighbour and at most one has fewer than two. This keeps the
6 x 6 search to about 14 million partial paths (seconds); the paths themselves are rebuilt at
the end from one parent index per step.

Counting conventions (checked in the tests against OEIS A120443, whose terms count
*undirected* paths: 20, 276, 4,324 and 229,348 for the 3 x 3 to 6 x 6 squares):

* :func:`hamiltonian_paths` returns *directed* paths, every symmetric copy included
  (40, 552, 8,648 and 458,696);
* :func:`canonical_paths` keeps one path per class of the lattice symmetries (5, 69, 1,081 and
  57,337 — the last is Li, Helling, Tang & Wingreen's 57,337 compact 36-mers, Science 1996).
  No symmetry fixes a Hamiltonian path, so every class has exactly ``n_symmetries`` members.
  Reversal of the chain is *not* a symmetry of a heteropolymer (residue 1 and residue L
  differ), so a path and its reverse stay two conformations; ``include_reversal=True`` merges
  them too (the homopolymer count).
"""

from __future__ import annotations

import numpy as np

from models.sequence.lattice import Lattice

_ONE = np.uint64(1)


def hamiltonian_paths(lattice: Lattice) -> np.ndarray:
    r"""Every directed Hamiltonian path of the grid graph.

    Args:
        lattice: The grid.

    Returns:
        `n_paths x n_sites` ``int8`` array: row ``p`` visits site ``paths[p, i]`` at step ``i``.
        Rows come in the order of the search (by start site, then by branch), not sorted.

    Example:
        >>> hamiltonian_paths(Lattice(4, 4)).shape
        (552, 16)
    """
    n_sites = lattice.n_sites
    starts = np.arange(n_sites, dtype=np.int64)
    visited = _ONE << starts.astype(np.uint64)
    head = starts
    heads: list[np.ndarray] = [head.astype(np.int8)]
    parents: list[np.ndarray] = []
    dead_end = _DeadEnds(lattice)
    for step in range(1, n_sites):
        parent, head, visited = _extend(lattice.neighbours, head, visited)
        if step < n_sites - 1:
            keep = dead_end.survives(visited, head)
            parent, head, visited = parent[keep], head[keep], visited[keep]
        parents.append(parent.astype(np.int32))
        heads.append(head.astype(np.int8))
    return _rebuild(heads, parents)


def _extend(neighbours: np.ndarray, head: np.ndarray,
            visited: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every one-step extension: (parent index, new head, new visited mask)."""
    parent = np.repeat(np.arange(head.shape[0]), neighbours.shape[1])
    step = neighbours[head].reshape(-1)
    on_grid = step >= 0
    parent, step = parent[on_grid], step[on_grid]
    bit = _ONE << step.astype(np.uint64)
    free = (visited[parent] & bit) == 0
    parent, step, bit = parent[free], step[free], bit[free]
    return parent, step, visited[parent] | bit


class _DeadEnds:
    """The two counting rules of the module docstring, as bit arithmetic on `uint64` masks."""

    def __init__(self, lattice: Lattice) -> None:
        self.full = np.uint64((1 << lattice.n_sites) - 1)
        coords = lattice.coords
        self.not_first_col = _mask(coords[:, 1] != 0)
        self.not_last_col = _mask(coords[:, 1] != lattice.cols - 1)
        self.cols = np.uint64(lattice.cols)

    def survives(self, visited: np.ndarray, head: np.ndarray) -> np.ndarray:
        unvisited = ~visited & self.full
        reachable = unvisited | (_ONE << head.astype(np.uint64))
        left = (reachable << _ONE) & self.not_first_col
        right = (reachable >> _ONE) & self.not_last_col
        up = (reachable << self.cols) & self.full
        down = reachable >> self.cols
        at_least_one = left | right | up | down
        at_least_two = ((left & (right | up | down)) | (right & (up | down)) | (up & down))
        isolated = unvisited & ~at_least_one
        ends = unvisited & ~at_least_two
        return (isolated == 0) & ((ends & (ends - _ONE)) == 0)


def _mask(flags: np.ndarray) -> np.uint64:
    return np.uint64(sum(1 << int(site) for site in np.flatnonzero(flags)))


def _rebuild(heads: list[np.ndarray], parents: list[np.ndarray]) -> np.ndarray:
    """Walk the parent indices back from the complete paths to their start sites."""
    n_paths, n_sites = heads[-1].shape[0], len(heads)
    paths = np.empty((n_paths, n_sites), dtype=np.int8)
    index = np.arange(n_paths)
    for step in range(n_sites - 1, 0, -1):
        paths[:, step] = heads[step][index]
        index = parents[step - 1][index]
    paths[:, 0] = heads[0][index]
    return paths


def canonical_paths(paths: np.ndarray, lattice: Lattice, *,
                    include_reversal: bool = False) -> np.ndarray:
    r"""One representative per symmetry class, sorted.

    The representative of a class is its lexicographically smallest member (as a sequence of
    site numbers), and the result is sorted lexicographically, so the index of a conformation
    depends only on the lattice, never on how the paths were found.

    Args:
        paths: `n_paths x n_sites` directed paths (e.g. from :func:`hamiltonian_paths`).
        lattice: The grid they live on.
        include_reversal: Also identify a path with its reverse (a homopolymer's view). Leave
            ``False`` for sequence design: reversal swaps residue ``i`` with ``L - 1 - i``.

    Returns:
        `n_classes x n_sites` ``int8`` representatives in lexicographic order.

    Example:
        >>> len(canonical_paths(hamiltonian_paths(Lattice(4, 4)), Lattice(4, 4)))
        69
    """
    canonical = canonical_images(paths, lattice, include_reversal=include_reversal)
    return unique_rows(canonical)


def canonical_images(paths: np.ndarray, lattice: Lattice, *,
                     include_reversal: bool = False) -> np.ndarray:
    r"""The lexicographically smallest symmetric image of every path.

    Args:
        paths: `n_paths x n_sites` directed paths.
        lattice: The grid they live on.
        include_reversal: Also consider the reversed images.

    Returns:
        `n_paths x n_sites` ``int8``: two paths are the same conformation iff their rows agree.
    """
    paths = np.asarray(paths)
    best = paths.astype(np.int8, copy=True)
    for image in _images(paths, lattice, include_reversal):
        _keep_smaller(best, image)
    return best


def _images(paths: np.ndarray, lattice: Lattice, include_reversal: bool):
    for permutation in lattice.symmetries:
        image = permutation[paths].astype(np.int8)
        yield image
        if include_reversal:
            yield image[:, ::-1]


def _keep_smaller(best: np.ndarray, candidate: np.ndarray) -> None:
    """In place: rows of ``best`` replaced where ``candidate`` is lexicographically smaller."""
    differs = candidate != best
    first = differs.argmax(axis=1)
    rows = np.arange(best.shape[0])
    smaller = differs.any(axis=1) & (candidate[rows, first] < best[rows, first])
    best[smaller] = candidate[smaller]


def unique_rows(rows: np.ndarray) -> np.ndarray:
    r"""The distinct rows of a non-negative ``int8`` array, in lexicographic order.

    Each row is compared as one byte string (``memcmp`` order, which is the lexicographic order
    of non-negative numbers) — an order of magnitude faster than ``np.unique(axis=0)``.

    Args:
        rows: `n x width` non-negative ``int8`` array.

    Returns:
        `n_distinct x width` ``int8`` array.
    """
    rows = np.ascontiguousarray(rows, dtype=np.int8)
    width = rows.shape[1]
    as_bytes = rows.view(np.dtype((np.void, width))).ravel()
    return np.unique(as_bytes).view(np.int8).reshape(-1, width)
