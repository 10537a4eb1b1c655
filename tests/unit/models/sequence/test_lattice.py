"""The grid: its edges, neighbours and symmetry group."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from models.sequence.errors import LatticeError
from models.sequence.lattice import MAX_SITES, Lattice


@pytest.mark.parametrize(("rows", "cols"), [(2, 2), (2, 3), (3, 3), (4, 4), (3, 5), (6, 6)])
def test_edges_join_neighbouring_sites_once(rows: int, cols: int) -> None:
    lattice = Lattice(rows, cols)
    edges = lattice.edges
    assert len(edges) == 2 * rows * cols - rows - cols
    steps = np.abs(lattice.coords[edges[:, 0]] - lattice.coords[edges[:, 1]]).sum(axis=1)
    assert (steps == 1).all() and (edges[:, 0] < edges[:, 1]).all()
    assert len({tuple(edge) for edge in edges.tolist()}) == len(edges)
    degree = np.bincount(edges.ravel(), minlength=lattice.n_sites)
    assert (degree == (lattice.neighbours >= 0).sum(axis=1)).all()


@pytest.mark.parametrize(("rows", "cols", "order"), [(2, 2, 8), (4, 4, 8), (5, 5, 8),
                                                     (2, 3, 4), (3, 5, 4)])
def test_symmetries_form_a_group_of_isometries(rows: int, cols: int, order: int) -> None:
    lattice = Lattice(rows, cols)
    group = lattice.symmetries
    assert group.shape == (order, lattice.n_sites)
    assert (group[0] == np.arange(lattice.n_sites)).all()
    as_set = {tuple(g) for g in group.tolist()}
    assert len(as_set) == order
    for g, h in itertools.product(group, repeat=2):
        assert tuple(g[h]) in as_set  # closed under composition
    edges = {tuple(edge) for edge in lattice.edges.tolist()}
    for g in group:
        moved = {tuple(sorted(pair)) for pair in g[lattice.edges].tolist()}
        assert moved == edges  # neighbours stay neighbours


@pytest.mark.parametrize(("rows", "cols"), [(1, 1), (0, 4), (7, 7), (6, 7)])
def test_grids_that_cannot_be_enumerated_are_refused(rows: int, cols: int) -> None:
    with pytest.raises(LatticeError) as error:
        Lattice(rows, cols)
    assert error.value.details["max_sites"] == MAX_SITES
