r"""The rectangular patch of the 2D square lattice that a compact chain fills.

A ``rows x cols`` grid has ``n_sites = rows * cols`` sites, numbered row-major
(``site = row * cols + col``). A compact conformation of a chain of ``n_sites`` residues is a
Hamiltonian path of the grid graph: residue ``i`` sits on site ``path[i]``, consecutive residues
on neighbouring sites, every site used once.

The lattice symmetries are the isometries of the rectangle: the dihedral group of the square
(4 rotations x optional reflection, 8 elements) when ``rows == cols``, else the 4 elements
{identity, row flip, column flip, half turn}. They act on conformations by relabelling sites,
and two conformations related by one have the same contacts, so they are one structure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from models.sequence.errors import LatticeError

#: Largest grid enumerated: 6 x 6 (36 sites, 458,696 directed paths). A 7 x 7 grid has
#: 27 million directed paths, beyond what the breadth-first enumeration holds in memory.
MAX_SITES = 36

_Transform = Callable[[int, int, int, int], tuple[int, int]]

_SQUARE_TRANSFORMS: tuple[_Transform, ...] = (
    lambda r, c, n, m: (r, c),                  # identity
    lambda r, c, n, m: (c, n - 1 - r),          # quarter turn
    lambda r, c, n, m: (n - 1 - r, m - 1 - c),  # half turn
    lambda r, c, n, m: (m - 1 - c, r),          # three-quarter turn
    lambda r, c, n, m: (n - 1 - r, c),          # row flip
    lambda r, c, n, m: (r, m - 1 - c),          # column flip
    lambda r, c, n, m: (c, r),                  # transpose
    lambda r, c, n, m: (m - 1 - c, n - 1 - r),  # anti-transpose
)
_RECTANGLE_TRANSFORMS = tuple(_SQUARE_TRANSFORMS[i] for i in (0, 2, 4, 5))


@dataclass(frozen=True)
class Lattice:
    r"""A ``rows x cols`` patch of the square lattice.

    Args:
        rows: Number of rows (at least 1).
        cols: Number of columns (at least 1); ``rows * cols`` between 2 and :data:`MAX_SITES`.

    Example:
        >>> Lattice(2, 3).edges.tolist()
        [[0, 1], [1, 2], [3, 4], [4, 5], [0, 3], [1, 4], [2, 5]]
    """

    rows: int
    cols: int

    def __post_init__(self) -> None:
        n_sites = self.rows * self.cols
        if self.rows < 1 or self.cols < 1 or not 2 <= n_sites <= MAX_SITES:
            raise LatticeError(
                f"a {self.rows} x {self.cols} lattice cannot be enumerated: it needs between 2 "
                f"and {MAX_SITES} sites",
                {"rows": self.rows, "cols": self.cols, "max_sites": MAX_SITES})

    @property
    def n_sites(self) -> int:
        """Number of sites, which is the chain length of a compact conformation."""
        return self.rows * self.cols

    @cached_property
    def coords(self) -> np.ndarray:
        """`n_sites x 2` integer ``(row, col)`` of every site."""
        sites = np.arange(self.n_sites)
        return np.stack([sites // self.cols, sites % self.cols], axis=1)

    @cached_property
    def edges(self) -> np.ndarray:
        """`n_edges x 2` site pairs ``(s, t)``, ``s < t``, of neighbouring sites.

        Horizontal edges first (row by row), then vertical ones; ``n_edges = 2 rows cols -
        rows - cols``.
        """
        grid = np.arange(self.n_sites).reshape(self.rows, self.cols)
        horizontal = np.stack([grid[:, :-1].ravel(), grid[:, 1:].ravel()], axis=1)
        vertical = np.stack([grid[:-1, :].ravel(), grid[1:, :].ravel()], axis=1)
        return np.concatenate([horizontal, vertical])

    @cached_property
    def neighbours(self) -> np.ndarray:
        """`n_sites x 4` neighbour of each site (left, right, up, down), ``-1`` off the grid."""
        table = np.full((self.n_sites, 4), -1, dtype=np.int64)
        for site, (r, c) in enumerate(self.coords.tolist()):
            for k, (dr, dc) in enumerate(((0, -1), (0, 1), (-1, 0), (1, 0))):
                if 0 <= r + dr < self.rows and 0 <= c + dc < self.cols:
                    table[site, k] = (r + dr) * self.cols + c + dc
        return table

    @cached_property
    def symmetries(self) -> np.ndarray:
        """`n_symmetries x n_sites` site permutations, the identity first.

        8 for a square grid, 4 for a rectangle. Row ``g`` maps site ``s`` to ``symmetries[g, s]``.
        """
        transforms = _SQUARE_TRANSFORMS if self.rows == self.cols else _RECTANGLE_TRANSFORMS
        perms = []
        for transform in transforms:
            moved = [transform(r, c, self.rows, self.cols) for r, c in self.coords.tolist()]
            perms.append([r * self.cols + c for r, c in moved])
        return np.asarray(perms, dtype=np.int64)
