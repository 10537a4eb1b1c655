"""Hamiltonian paths and their symmetry classes against brute force and the literature.

Known values: OEIS A120443 counts *undirected* Hamiltonian paths of the n x n grid (1, 4, 20,
276, 4324, 229348 for n = 1..6); directed paths are twice as many, and classes under the 8
square symmetries an eighth of those: 57,337 for 6 x 6, the number of compact 36-mers of Li,
Helling, Tang & Wingreen (Science 1996).
"""

from __future__ import annotations

import numpy as np
import pytest

from models.sequence.enumeration import (
    canonical_images,
    canonical_paths,
    hamiltonian_paths,
    unique_rows,
)
from models.sequence.lattice import Lattice
from tests.unit.models.sequence import brute_force

OEIS_A120443 = {2: 4, 3: 20, 4: 276, 5: 4324, 6: 229348}


@pytest.mark.parametrize(("rows", "cols"), [(2, 2), (2, 3), (3, 3), (2, 5), (3, 4), (4, 4)])
def test_paths_equal_an_unpruned_search(rows: int, cols: int) -> None:
    found = hamiltonian_paths(Lattice(rows, cols))
    as_set = {tuple(row) for row in found.tolist()}
    assert len(as_set) == len(found)  # no duplicates
    assert as_set == brute_force.directed_hamiltonian_paths(rows, cols)


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_directed_counts_are_twice_oeis_a120443(n: int) -> None:
    assert len(hamiltonian_paths(Lattice(n, n))) == 2 * OEIS_A120443[n]


@pytest.mark.parametrize(("rows", "cols"), [(2, 3), (3, 3), (3, 4), (4, 4)])
def test_classes_equal_brute_force_orbits(rows: int, cols: int) -> None:
    lattice = Lattice(rows, cols)
    paths = hamiltonian_paths(lattice)
    orbits = {min(brute_force.symmetric_images(p, rows, cols)) for p in paths.tolist()}
    with_reversal = {min(image[::-1] if flip else image
                         for image in brute_force.symmetric_images(p, rows, cols)
                         for flip in (False, True)) for p in paths.tolist()}
    canonical = canonical_paths(paths, lattice)
    assert [tuple(row) for row in canonical.tolist()] == sorted(orbits)
    assert len(canonical_paths(paths, lattice, include_reversal=True)) == len(with_reversal)
    # No symmetry fixes a path: every class has one member per symmetry.
    assert len(paths) == len(canonical) * len(lattice.symmetries)


def test_5x5_counts() -> None:
    lattice = Lattice(5, 5)
    paths = hamiltonian_paths(lattice)
    assert len(paths) == 8648
    assert len(canonical_paths(paths, lattice)) == 1081
    assert len(canonical_paths(paths, lattice, include_reversal=True)) == 549


def test_canonical_image_is_shared_by_the_whole_class() -> None:
    lattice = Lattice(4, 4)
    path = hamiltonian_paths(lattice)[123]
    images = lattice.symmetries[:, path]
    canonical = canonical_images(images, lattice)
    assert (canonical == canonical[0]).all()
    assert tuple(canonical[0]) == min(tuple(image) for image in images.tolist())


def test_unique_rows_matches_numpy() -> None:
    rows = np.random.default_rng(0).integers(0, 4, size=(500, 6)).astype(np.int8)
    assert np.array_equal(unique_rows(rows), np.unique(rows, axis=0))


@pytest.mark.slow
def test_6x6_counts_match_li_et_al_1996() -> None:
    lattice = Lattice(6, 6)
    paths = hamiltonian_paths(lattice)
    assert len(paths) == 2 * OEIS_A120443[6] == 458_696
    assert len(canonical_paths(paths, lattice)) == 57_337
    assert len(canonical_paths(paths, lattice, include_reversal=True)) == 28_728
