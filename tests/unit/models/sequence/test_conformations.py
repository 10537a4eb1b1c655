"""Conformation sets: contacts against coordinates, contact maps, lookup, and the disk cache."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch

from models.sequence import conformations as module
from models.sequence.conformations import (
    ConformationSet,
    clear_memory_cache,
    compact_conformations,
    default_cache_dir,
)
from models.sequence.errors import InvalidConformationError
from tests.unit.models.sequence import brute_force


def test_2x3_by_hand(conformations_2x3: ConformationSet) -> None:
    # Sites 0 1 2 / 3 4 5. Sixteen directed paths, four classes under the rectangle's four
    # symmetries; the lexicographically smallest member of each, in order: a U, a zigzag, and a
    # hook and its reverse.
    assert conformations_2x3.paths.tolist() == [
        [0, 1, 2, 5, 4, 3], [0, 3, 4, 1, 2, 5], [0, 3, 4, 5, 2, 1], [1, 0, 3, 4, 5, 2]]
    assert conformations_2x3.contacts.tolist() == [
        [[0, 5], [1, 4]], [[0, 3], [2, 5]], [[0, 5], [2, 5]], [[0, 3], [0, 5]]]
    assert conformations_2x3.pairs.tolist() == [[0, 3], [0, 5], [1, 4], [2, 5]]
    assert conformations_2x3.n_directed == 16


@pytest.mark.parametrize("fixture", ["conformations_3x3", "conformations_4x4",
                                     "conformations_5x5"])
def test_contacts_equal_a_coordinate_scan(fixture: str, request: pytest.FixtureRequest) -> None:
    conformations: ConformationSet = request.getfixturevalue(fixture)
    cols = conformations.lattice.cols
    for path, contacts in zip(conformations.paths.tolist(), conformations.contacts.tolist()):
        assert [tuple(c) for c in contacts] == brute_force.contacts(path, cols)
    separation = conformations.contacts[..., 1] - conformations.contacts[..., 0]
    assert (separation % 2 == 1).all() and (separation >= 3).all()  # opposite parity
    assert torch.equal(conformations.pairs[conformations.pair_index], conformations.contacts)


def test_counts_and_contact_numbers(conformations_4x4: ConformationSet,
                                    conformations_5x5: ConformationSet) -> None:
    assert (len(conformations_4x4), conformations_4x4.n_contacts) == (69, 9)
    assert (len(conformations_5x5), conformations_5x5.n_contacts) == (1081, 16)
    assert conformations_5x5.n_directed == 8648
    # Distinct conformations have distinct contact sets (none is designable only jointly).
    keys = conformations_5x5.pair_index.numpy()
    assert len(np.unique(keys, axis=0)) == len(conformations_5x5)


def test_contact_maps(conformations_4x4: ConformationSet) -> None:
    maps = conformations_4x4.contact_maps()
    assert maps.shape == (69, 16, 16) and maps.dtype == torch.bool
    assert torch.equal(maps, maps.transpose(1, 2))
    assert not maps.diagonal(dim1=1, dim2=2).any()
    assert (maps.sum(dim=(1, 2)) == 2 * 9).all()
    chain = torch.arange(15)
    assert not maps[:, chain, chain + 1].any()  # bonded neighbours are not contacts
    from_incidence = conformations_4x4.pairs_to_map(conformations_4x4.incidence())
    assert torch.equal(from_incidence.bool(), maps)
    some = torch.tensor([5, 0, 68])
    assert torch.equal(conformations_4x4.contact_maps(some, torch.float64), maps[some].double())


def test_coords_follow_the_path(conformations_4x4: ConformationSet) -> None:
    coords = conformations_4x4.coords()
    assert coords.shape == (69, 16, 2)
    assert ((coords[:, 1:] - coords[:, :-1]).abs().sum(dim=-1) == 1).all()


def test_index_of_any_symmetric_copy(conformations_4x4: ConformationSet) -> None:
    lattice = conformations_4x4.lattice
    for index in (0, 17, 68):
        path = conformations_4x4.paths[index].numpy()
        for image in lattice.symmetries[:, path]:
            assert conformations_4x4.index_of(image) == index
    reversed_path = conformations_4x4.paths[17].flip(0)
    assert conformations_4x4.index_of(reversed_path) != 17  # the reverse is another structure


@pytest.mark.parametrize("path", [
    list(range(15)),                                   # too short
    [0, 1, 2, 3, 7, 6, 5, 4, 8, 9, 10, 11, 15, 14, 13, 13],  # a site twice
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],  # 3 -> 4 jumps a row
])
def test_index_of_rejects_what_is_not_a_compact_path(conformations_4x4: ConformationSet,
                                                     path: list[int]) -> None:
    with pytest.raises(InvalidConformationError):
        conformations_4x4.index_of(path)


def test_cache_is_written_then_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clear_memory_cache()
    first = compact_conformations(4, cache_dir=tmp_path)
    assert (tmp_path / "compact_4x4.npz").is_file()
    clear_memory_cache()

    def no_enumeration(*args: object) -> None:
        raise AssertionError("the cache should have been read")

    monkeypatch.setattr(module, "hamiltonian_paths", no_enumeration)
    second = compact_conformations(4, cache_dir=tmp_path)
    assert torch.equal(first.paths, second.paths)
    assert compact_conformations(4, cache_dir=tmp_path) is second  # memoised in the process
    clear_memory_cache()


def test_a_broken_cache_is_recomputed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    clear_memory_cache()
    (tmp_path / "compact_3x3.npz").write_bytes(b"not a zip file")
    with caplog.at_level(logging.WARNING):
        conformations = compact_conformations(3, cache_dir=tmp_path)
    assert len(conformations) == 5 and "unreadable" in caplog.text
    clear_memory_cache()
    np.savez(tmp_path / "compact_3x3.npz", paths=np.zeros((2, 4), dtype=np.int8), format=1,
             rows=3, cols=3)
    with caplog.at_level(logging.WARNING):
        assert len(compact_conformations(3, cache_dir=tmp_path)) == 5
    assert "another layout" in caplog.text
    clear_memory_cache()


def test_default_cache_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "designloop" / "lattice"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_dir() == Path.home() / ".cache" / "designloop" / "lattice"


@pytest.mark.slow
def test_6x6_set_is_enumerated_and_cached(tmp_path: Path) -> None:
    clear_memory_cache()
    conformations = compact_conformations(6, cache_dir=tmp_path)
    assert (len(conformations), conformations.n_directed) == (57_337, 458_696)
    assert conformations.n_contacts == 25 and len(conformations.pairs) == 289
    clear_memory_cache()
    again = compact_conformations(6, cache_dir=tmp_path)
    assert torch.equal(again.paths, conformations.paths)
    clear_memory_cache()
