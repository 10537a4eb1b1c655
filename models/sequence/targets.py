r"""Design targets: a structure named by index, by its path on the lattice, or by a contact map.

Whatever way a target is given, it resolves to one compact conformation and its contact map.
A contact map is accepted only when exactly one conformation has it: two conformations with
the same contacts have the same energy for every sequence, so neither could ever be the
*unique* ground state of a design.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from models.sequence.conformations import ConformationSet
from models.sequence.errors import InvalidConformationError


@dataclass(frozen=True, eq=False)
class Target:
    r"""A resolved design target.

    Attributes:
        index: The conformation index in its :class:`ConformationSet`.
        contact_map: `L x L` ``float32`` 0/1 contact map (symmetric, zero diagonal).
        contacts: `K x 2` ``long`` residue pairs ``(i, j)``, ``i < j``.
        path: `L` ``long`` site of every residue (the canonical representative).
    """

    index: int
    contact_map: Tensor
    contacts: Tensor
    path: Tensor


def target_from_index(conformations: ConformationSet, index: int) -> Target:
    r"""The target that is conformation ``index``.

    Raises:
        InvalidConformationError: If ``index`` is not in ``[0, n_conf)``.
    """
    if not 0 <= int(index) < len(conformations):
        raise InvalidConformationError(
            f"target index {index} is not a conformation of the "
            f"{conformations.lattice.rows} x {conformations.lattice.cols} lattice "
            f"(it has {len(conformations)})",
            {"index": int(index), "n_conformations": len(conformations)})
    index = int(index)
    contact_map = conformations.contact_maps(torch.tensor([index]), torch.float32)[0]
    return Target(index, contact_map, conformations.contacts[index].clone(),
                  conformations.paths[index].clone())


def target_from_path(conformations: ConformationSet, path: Sequence[int] | Tensor) -> Target:
    r"""The target whose chain visits the sites ``path`` (any symmetric copy of it).

    Raises:
        InvalidConformationError: If ``path`` is not a Hamiltonian path of the grid.
    """
    return target_from_index(conformations, conformations.index_of(np.asarray(path)))


def target_from_contacts(conformations: ConformationSet,
                         contacts: Sequence[Sequence[int]] | Tensor) -> Target:
    r"""The target with exactly the contacts ``contacts`` (pairs ``(i, j)``, either order).

    Also accepts an `L x L` 0/1 contact map.

    Raises:
        InvalidConformationError: If no conformation, or more than one, has these contacts.
    """
    pairs = _as_pairs(conformations.length, contacts)
    wanted = torch.sort(pairs[:, 0] * conformations.length + pairs[:, 1]).values
    keys = conformations.contacts[..., 0] * conformations.length + conformations.contacts[..., 1]
    if wanted.shape[0] != keys.shape[1]:
        raise InvalidConformationError(
            f"every compact conformation has {keys.shape[1]} contacts, the target has "
            f"{wanted.shape[0]}", {"n_contacts": int(wanted.shape[0]),
                                   "expected_contacts": int(keys.shape[1])})
    matches = torch.nonzero((keys == wanted).all(dim=1)).squeeze(1).tolist()
    if len(matches) != 1:
        reason = "no compact conformation has" if not matches else \
            f"{len(matches)} conformations share (so none can be designed uniquely)"
        raise InvalidConformationError(f"{reason} these contacts",
                                       {"matching_conformations": matches})
    return target_from_index(conformations, matches[0])


def _as_pairs(length: int, contacts: Sequence[Sequence[int]] | Tensor) -> Tensor:
    """`n x 2` sorted ``(i, j)`` pairs from pairs or an `L x L` map, checked."""
    data = torch.as_tensor(contacts)
    if data.ndim == 2 and data.shape == (length, length) and length != 2:
        if not torch.equal(data, data.T) or bool(data.diagonal().ne(0).any()):
            raise InvalidConformationError(
                "a contact map is symmetric with a zero diagonal", {"length": length})
        if not bool(((data == 0) | (data == 1)).all()):
            raise InvalidConformationError("a contact map holds 0 or 1", {"length": length})
        return torch.nonzero(torch.triu(data.long(), diagonal=1))
    if data.ndim != 2 or data.shape[1] != 2 or data.is_floating_point():
        raise InvalidConformationError(
            f"contacts are integer pairs (i, j) or a {length} x {length} map",
            {"shape": list(data.shape)})
    pairs = torch.sort(data.long(), dim=1).values
    if pairs.numel() and (pairs.min() < 0 or pairs.max() >= length):
        raise InvalidConformationError(f"contact residues lie in [0, {length})",
                                       {"length": length})
    if torch.unique(pairs, dim=0).shape[0] != pairs.shape[0]:
        raise InvalidConformationError("a contact is listed twice", {})
    return pairs
