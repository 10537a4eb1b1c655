r"""The compact conformations of a lattice, their contacts, and their cache on disk.

A conformation is a Hamiltonian path of the ``rows x cols`` grid, one per class of the lattice
symmetries (see :mod:`models.sequence.enumeration` for the counting conventions). Conformation
``k`` is the ``k``-th canonical path in lexicographic order, so indices are stable: they depend
only on the grid, never on the enumeration algorithm or the machine.

Two residues ``i < j`` are in *contact* when their sites are lattice neighbours and they are
not chain neighbours (``j > i + 1``). A compact conformation uses ``L - 1`` of the grid's edges
as bonds, so every one has the same number of contacts ``K = n_edges - (L - 1)`` (9, 16 and 25
for the 4 x 4, 5 x 5 and 6 x 6 squares), which lets all of them sit in one dense tensor. On the
square lattice a contact always joins residues of opposite parity (``j - i`` odd, at least 3).

The enumeration runs once per grid and is cached as a small ``.npz`` file (the 6 x 6 set is
0.25 MB) under :func:`default_cache_dir`; nothing is read or computed at import time.
"""

from __future__ import annotations

import logging
import os
import tempfile
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from models.sequence.enumeration import canonical_images, canonical_paths, hamiltonian_paths
from models.sequence.errors import InvalidConformationError
from models.sequence.lattice import Lattice

logger = logging.getLogger(__name__)

#: Version of the cache file layout; a file of another version is recomputed.
CACHE_FORMAT = 1


class ConformationSet:
    r"""All compact conformations of one grid, with their contacts.

    Build it with :func:`compact_conformations`. Its tensors are shared (the set is cached per
    process), so treat them as read-only.

    Args:
        lattice: The grid.
        paths: `n_conf x L` canonical paths in lexicographic order (site of each residue).

    Attributes:
        lattice: The grid.
        paths: `n_conf x L` ``long``: ``paths[k, i]`` is the site of residue ``i``.
        contacts: `n_conf x K x 2` ``long`` residue pairs ``(i, j)``, ``i < j``, sorted.
        pairs: `P x 2` ``long``: every residue pair in contact in at least one conformation.
        pair_index: `n_conf x K` ``long``: ``contacts[k, m] == pairs[pair_index[k, m]]``.

    Example:
        >>> conformations = compact_conformations(2, 3, use_cache=False)
        >>> len(conformations), conformations.contacts[0].tolist()
        (4, [[0, 5], [1, 4]])
    """

    def __init__(self, lattice: Lattice, paths: np.ndarray) -> None:
        self.lattice = lattice
        contacts = _contacts(lattice, paths)
        keys = contacts[..., 0] * lattice.n_sites + contacts[..., 1]
        pair_keys = np.unique(keys)
        self.paths = torch.as_tensor(paths.astype(np.int64))
        self.contacts = torch.as_tensor(contacts)
        self.pairs = torch.as_tensor(np.stack(np.divmod(pair_keys, lattice.n_sites), axis=1))
        self.pair_index = torch.as_tensor(np.searchsorted(pair_keys, keys))

    def __len__(self) -> int:
        return self.paths.shape[0]

    def __repr__(self) -> str:
        return (f"ConformationSet({self.lattice.rows}x{self.lattice.cols}: {len(self)} "
                f"conformations, {self.n_contacts} contacts each, {len(self.pairs)} pairs)")

    @property
    def length(self) -> int:
        """Chain length ``L`` (the number of sites)."""
        return self.lattice.n_sites

    @property
    def n_contacts(self) -> int:
        """Number of contacts ``K`` of every conformation."""
        return self.contacts.shape[1]

    @property
    def n_directed(self) -> int:
        """Number of directed Hamiltonian paths, every symmetric copy included.

        Each class holds exactly one path per lattice symmetry (no symmetry fixes a path that
        visits every site), so this is ``len(self) * n_symmetries``.
        """
        return len(self) * self.lattice.symmetries.shape[0]

    def coords(self) -> Tensor:
        """`n_conf x L x 2` ``long`` ``(row, col)`` of every residue."""
        return torch.as_tensor(self.lattice.coords)[self.paths]

    def contact_maps(self, indices: Tensor | None = None, dtype: torch.dtype = torch.bool) -> Tensor:
        r"""Contact maps, symmetric with a zero diagonal.

        Args:
            indices: `n` conformation indices; all conformations if ``None`` (the 6 x 6 set
                takes 74 MB as ``bool``).
            dtype: Result dtype.

        Returns:
            `n x L x L` tensor, 1 where residues ``i`` and ``j`` are in contact.
        """
        contacts = self.contacts if indices is None else self.contacts[indices]
        length = self.length
        upper = contacts[..., 0] * length + contacts[..., 1]
        lower = contacts[..., 1] * length + contacts[..., 0]
        flat = torch.zeros(contacts.shape[0], length * length, dtype=dtype)
        ones = torch.ones((), dtype=dtype).expand(upper.shape)
        flat.scatter_(1, upper, ones).scatter_(1, lower, ones)
        return flat.reshape(-1, length, length)

    def incidence(self, dtype: torch.dtype = torch.float32) -> Tensor:
        """`n_conf x P` dense 0/1: entry ``(k, p)`` is 1 when conformation ``k`` has pair ``p``."""
        values = torch.zeros(len(self), len(self.pairs), dtype=dtype)
        return values.scatter_(1, self.pair_index, 1)

    def pairs_to_map(self, values: Tensor) -> Tensor:
        r"""Scatter per-pair values into symmetric `L x L` maps (zero elsewhere).

        Args:
            values: `batch_shape x P` values, one per entry of :attr:`pairs` (differentiable).

        Returns:
            `batch_shape x L x L` symmetric maps with a zero diagonal.
        """
        length = self.length
        flat = torch.zeros(*values.shape[:-1], length * length, dtype=values.dtype,
                           device=values.device)
        upper = (self.pairs[:, 0] * length + self.pairs[:, 1]).to(values.device)
        lower = (self.pairs[:, 1] * length + self.pairs[:, 0]).to(values.device)
        flat = flat.index_add(-1, upper, values).index_add(-1, lower, values)
        return flat.reshape(*values.shape[:-1], length, length)

    def index_of(self, path: Tensor | np.ndarray | list[int]) -> int:
        r"""The index of the conformation a path belongs to (any symmetric copy of it).

        Args:
            path: `L` sites, ``path[i]`` the site of residue ``i``.

        Returns:
            The conformation index.

        Raises:
            InvalidConformationError: If ``path`` is not a Hamiltonian path of the grid.
        """
        sites = np.asarray(path, dtype=np.int64).reshape(-1)
        _check_path(self.lattice, sites)
        canonical = canonical_images(sites[None, :], self.lattice)[0]
        return self._index[canonical.tobytes()]

    @cached_property
    def _index(self) -> dict[bytes, int]:
        rows = self.paths.numpy().astype(np.int8)
        return {row.tobytes(): k for k, row in enumerate(rows)}


def _contacts(lattice: Lattice, paths: np.ndarray) -> np.ndarray:
    """`n_conf x K x 2` sorted non-bonded neighbour pairs of every path."""
    residue_at = np.argsort(paths, axis=1)  # inverse permutation: residue on each site
    ends = residue_at[:, lattice.edges]  # n_conf x n_edges x 2
    low, high = ends.min(axis=2), ends.max(axis=2)
    keys = low * lattice.n_sites + high
    n_contacts = lattice.edges.shape[0] - (lattice.n_sites - 1)
    keys = np.sort(keys[high - low > 1].reshape(paths.shape[0], n_contacts), axis=1)
    return np.stack(np.divmod(keys, lattice.n_sites), axis=-1).astype(np.int64)


def _check_path(lattice: Lattice, sites: np.ndarray) -> None:
    n_sites = lattice.n_sites
    if sites.shape[0] != n_sites or sorted(sites.tolist()) != list(range(n_sites)):
        raise InvalidConformationError(
            f"a compact conformation of the {lattice.rows} x {lattice.cols} lattice visits each "
            f"of its {n_sites} sites once",
            {"length": int(sites.shape[0]), "expected_length": n_sites})
    steps = np.abs(np.diff(lattice.coords[sites], axis=0)).sum(axis=1)
    if (steps != 1).any():
        broken = int(np.flatnonzero(steps != 1)[0])
        raise InvalidConformationError(
            f"residues {broken} and {broken + 1} are not on neighbouring sites",
            {"residue": broken})


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/designloop/lattice``, or ``~/.cache/designloop/lattice``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "designloop" / "lattice"


def compact_conformations(rows: int, cols: int | None = None, *,
                          cache_dir: str | Path | None = None,
                          use_cache: bool = True) -> ConformationSet:
    r"""The compact conformations of a ``rows x cols`` grid, enumerated once and cached.

    Within a process the result is memoised; across processes it is read from
    ``cache_dir/compact_{rows}x{cols}.npz`` (written on first use, atomically). Timings on one
    CPU core: 4 x 4 and 5 x 5 in milliseconds, 6 x 6 about 5 s, then a 10 ms file read.

    Args:
        rows: Grid rows.
        cols: Grid columns (default ``rows``: a square).
        cache_dir: Directory of the cache files (default :func:`default_cache_dir`).
        use_cache: Read and write the cache file; ``False`` always enumerates.

    Returns:
        The conformation set.

    Raises:
        LatticeError: If the grid has fewer than 2 or more than 36 sites.

    Example:
        >>> len(compact_conformations(5))  # doctest: +SKIP
        1081
    """
    cols = rows if cols is None else cols
    directory = None if not use_cache else str(Path(cache_dir or default_cache_dir()))
    return _load(rows, cols, directory)


@lru_cache(maxsize=8)
def _load(rows: int, cols: int, directory: str | None) -> ConformationSet:
    lattice = Lattice(rows, cols)
    path = None if directory is None else Path(directory) / f"compact_{rows}x{cols}.npz"
    paths = _read_cache(path, lattice) if path is not None else None
    if paths is None:
        paths = canonical_paths(hamiltonian_paths(lattice), lattice)
        if path is not None:
            _write_cache(path, lattice, paths)
    return ConformationSet(lattice, paths)


def _read_cache(path: Path, lattice: Lattice) -> np.ndarray | None:
    if not path.is_file():
        return None
    try:
        with np.load(path) as data:
            paths = data["paths"]
            layout = (int(data["format"]), int(data["rows"]), int(data["cols"]))
    except (OSError, KeyError, ValueError) as error:
        logger.warning("ignoring unreadable conformation cache %s: %s", path, error)
        return None
    valid = (layout == (CACHE_FORMAT, lattice.rows, lattice.cols) and paths.ndim == 2
             and paths.shape[1] == lattice.n_sites and paths.dtype == np.int8)
    if not valid:
        logger.warning("ignoring conformation cache %s: written for another layout", path)
        return None
    return paths


def _write_cache(path: Path, lattice: Lattice, paths: np.ndarray) -> None:
    temporary: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npz", delete=False) as handle:
            temporary = handle.name
            np.savez_compressed(handle, paths=paths, format=CACHE_FORMAT, rows=lattice.rows,
                                cols=lattice.cols)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except OSError as error:
        logger.warning("could not write the conformation cache %s: %s", path, error)
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)


def clear_memory_cache() -> None:
    """Forget the conformation sets memoised in this process (the files stay)."""
    _load.cache_clear()

