r"""User restraints: energies added to the design loss to steer a design (inference-time steering).

A restraint scores a batch of soft sequences together with the contact maps predicted for
them, and returns one non-negative energy per design (dimensionless, like the structure loss it
is added to, scaled by its ``weight``). It also says whether a *discrete* design, folded by the
oracle, satisfies it, so every claim about a restraint is checked on the exact ground state.

Built-in kinds (JSON ``{"type": ..., ...}`` as in a campaign's ``problem_options``):

* ``contact`` ``{"i", "j"}`` — residues ``i`` and ``j`` in contact: ``-log p_ij``;
* ``no_contact`` ``{"i", "j"}`` — residues ``i`` and ``j`` not in contact: ``-log(1 - p_ij)``;
* ``exposed`` ``{"start", "end"}`` — residues ``start..end`` (inclusive) on the surface: the
  expected number of non-bonded contacts per residue of the segment. On the square lattice an
  interior residue has two contacts, an edge residue at most one and a corner residue none, so
  the restraint is *satisfied* when every residue of the segment has at most one contact;
* ``letter`` ``{"position", "letter"}`` — a fixed residue: ``-log p(position, letter)``;
* ``composition`` ``{"letter", "fraction"}`` — the fraction of a letter:
  ``L (mean_i p(i, letter) - fraction)^2``; satisfied within half a residue.

Every kind takes an optional ``"weight"`` (default 1, non-negative).
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor

from models.errors import ScienceError

_EPS = 1e-6


class RestraintError(ScienceError):
    r"""A restraint that does not fit the chain or the alphabet.

    Args:
        message: What is wrong, for a person.
        details: E.g. ``{"index": 2, "field": "j", "length": 16}``.
    """


@dataclass(frozen=True)
class Restraint(abc.ABC):
    """An energy term on (soft sequence, predicted contact map); see the module docstring."""

    kind: ClassVar[str]
    weight: float

    @abc.abstractmethod
    def energy(self, soft_sequence: Tensor, contact_map: Tensor) -> Tensor:
        r"""`batch` energies (before ``weight``) of `batch x L x A` soft sequences and their
        `batch x L x L` predicted contact maps."""

    @abc.abstractmethod
    def satisfied(self, sequence: Tensor, contact_map: Tensor) -> bool:
        r"""Whether the discrete ``sequence`` (`L` letter indices) in the conformation with
        `L x L` 0/1 ``contact_map`` meets the restraint."""

    def check(self, length: int, letters: str) -> None:
        """Raise :class:`RestraintError` if the restraint does not fit the chain/alphabet."""
        if not self.weight >= 0:
            raise RestraintError("a restraint's weight is non-negative",
                                 {"field": "weight", "weight": self.weight})

    def weighted(self, soft_sequence: Tensor, contact_map: Tensor) -> Tensor:
        """`batch` energies times ``weight``."""
        return self.weight * self.energy(soft_sequence, contact_map)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (the inverse of :func:`restraint_from_dict`)."""
        fields = {k: v for k, v in self.__dict__.items()}
        return {"type": self.kind, **fields}


def _check_residue(field: str, value: int, length: int) -> None:
    if not 0 <= value < length:
        raise RestraintError(f"restraint residue {field}={value} is not in [0, {length})",
                             {"field": field, "value": value, "length": length})


@dataclass(frozen=True)
class ContactRestraint(Restraint):
    """Residues ``i`` and ``j`` in contact."""

    kind: ClassVar[str] = "contact"
    i: int
    j: int

    def check(self, length: int, letters: str) -> None:
        super().check(length, letters)
        _check_residue("i", self.i, length)
        _check_residue("j", self.j, length)
        if abs(self.i - self.j) < 3 or (self.i - self.j) % 2 == 0:
            raise RestraintError(
                f"residues {self.i} and {self.j} can never be in contact on the square lattice "
                "(a contact joins residues an odd number >= 3 apart along the chain)",
                {"field": "j", "i": self.i, "j": self.j})

    def energy(self, soft_sequence: Tensor, contact_map: Tensor) -> Tensor:
        return -torch.log(contact_map[:, self.i, self.j].clamp(_EPS, 1.0))

    def satisfied(self, sequence: Tensor, contact_map: Tensor) -> bool:
        return bool(contact_map[self.i, self.j] > 0.5)


@dataclass(frozen=True)
class NoContactRestraint(ContactRestraint):
    """Residues ``i`` and ``j`` not in contact."""

    kind: ClassVar[str] = "no_contact"

    def energy(self, soft_sequence: Tensor, contact_map: Tensor) -> Tensor:
        return -torch.log((1.0 - contact_map[:, self.i, self.j]).clamp(_EPS, 1.0))

    def satisfied(self, sequence: Tensor, contact_map: Tensor) -> bool:
        return not super().satisfied(sequence, contact_map)


@dataclass(frozen=True)
class ExposedRestraint(Restraint):
    """Residues ``start..end`` (inclusive) on the surface (at most one contact each)."""

    kind: ClassVar[str] = "exposed"
    start: int
    end: int

    def check(self, length: int, letters: str) -> None:
        super().check(length, letters)
        _check_residue("start", self.start, length)
        _check_residue("end", self.end, length)
        if self.end < self.start:
            raise RestraintError("an exposed segment has start <= end",
                                 {"field": "end", "start": self.start, "end": self.end})

    def energy(self, soft_sequence: Tensor, contact_map: Tensor) -> Tensor:
        segment = contact_map[:, self.start:self.end + 1, :]
        return segment.sum(dim=(-1, -2)) / (self.end + 1 - self.start)

    def satisfied(self, sequence: Tensor, contact_map: Tensor) -> bool:
        counts = contact_map[self.start:self.end + 1].sum(dim=-1)
        return bool((counts <= 1.0 + 1e-9).all())


@dataclass(frozen=True)
class LetterRestraint(Restraint):
    """Residue ``position`` is the letter ``letter``."""

    kind: ClassVar[str] = "letter"
    position: int
    letter: str
    index: int = -1  # letter index, filled by :func:`restraint_from_dict`

    def check(self, length: int, letters: str) -> None:
        super().check(length, letters)
        _check_residue("position", self.position, length)
        if self.letter not in letters:
            raise RestraintError(f"letter {self.letter!r} is not in the alphabet {letters!r}",
                                 {"field": "letter", "letter": self.letter})

    def energy(self, soft_sequence: Tensor, contact_map: Tensor) -> Tensor:
        return -torch.log(soft_sequence[:, self.position, self.index].clamp(_EPS, 1.0))

    def satisfied(self, sequence: Tensor, contact_map: Tensor) -> bool:
        return int(sequence[self.position]) == self.index

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.kind, "weight": self.weight, "position": self.position,
                "letter": self.letter}


@dataclass(frozen=True)
class CompositionRestraint(Restraint):
    """The fraction of residues that are ``letter`` is ``fraction``."""

    kind: ClassVar[str] = "composition"
    letter: str
    fraction: float
    index: int = -1  # letter index, filled by :func:`restraint_from_dict`

    def check(self, length: int, letters: str) -> None:
        super().check(length, letters)
        if self.letter not in letters:
            raise RestraintError(f"letter {self.letter!r} is not in the alphabet {letters!r}",
                                 {"field": "letter", "letter": self.letter})
        if not 0.0 <= self.fraction <= 1.0:
            raise RestraintError("a composition fraction lies in [0, 1]",
                                 {"field": "fraction", "fraction": self.fraction})

    def energy(self, soft_sequence: Tensor, contact_map: Tensor) -> Tensor:
        length = soft_sequence.shape[-2]
        mean = soft_sequence[:, :, self.index].mean(dim=-1)
        return length * (mean - self.fraction) ** 2

    def satisfied(self, sequence: Tensor, contact_map: Tensor) -> bool:
        length = sequence.shape[-1]
        count = int((sequence == self.index).sum())
        return abs(count - self.fraction * length) <= 0.5 + 1e-9

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.kind, "weight": self.weight, "letter": self.letter,
                "fraction": self.fraction}


_KINDS: dict[str, type[Restraint]] = {cls.kind: cls for cls in (
    ContactRestraint, NoContactRestraint, ExposedRestraint, LetterRestraint,
    CompositionRestraint)}

#: Required fields of each kind (besides ``type`` and the optional ``weight``).
RESTRAINT_FIELDS: dict[str, tuple[str, ...]] = {
    "contact": ("i", "j"), "no_contact": ("i", "j"), "exposed": ("start", "end"),
    "letter": ("position", "letter"), "composition": ("letter", "fraction")}


def restraint_from_dict(data: Mapping[str, Any], length: int, letters: str) -> Restraint:
    r"""Parse and check one restraint of the JSON form in the module docstring.

    Args:
        data: E.g. ``{"type": "contact", "i": 0, "j": 5, "weight": 2.0}``.
        length: Chain length ``L``.
        letters: The alphabet's letters in index order.

    Raises:
        RestraintError: Unknown type, missing or unknown fields, values that do not fit.
    """
    kind = data.get("type")
    if kind not in _KINDS:
        raise RestraintError(f"unknown restraint type {kind!r}; known: {sorted(_KINDS)}",
                             {"field": "type", "known": sorted(_KINDS)})
    fields = RESTRAINT_FIELDS[str(kind)]
    extra = sorted(set(data) - {"type", "weight", *fields})
    missing = [f for f in fields if f not in data]
    if extra or missing:
        raise RestraintError(f"a {kind!r} restraint has fields {list(fields)} and 'weight'",
                             {"field": (missing or extra)[0], "missing": missing,
                              "unknown": extra})
    values: dict[str, Any] = {"weight": float(data.get("weight", 1.0))}
    for name in fields:
        values[name] = _typed(name, data[name])
    if "letter" in fields and values["letter"] in letters:
        values["index"] = letters.index(values["letter"])
    restraint = _KINDS[str(kind)](**values)
    restraint.check(length, letters)
    return restraint


def _typed(name: str, value: Any) -> Any:
    if name == "letter":
        if not isinstance(value, str) or len(value) != 1:
            raise RestraintError("a restraint's letter is one character", {"field": name})
        return value
    if name == "fraction":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise RestraintError("a composition fraction is a number", {"field": name})
        return float(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise RestraintError(f"restraint field {name!r} is an integer residue index",
                             {"field": name})
    return value


def parse_restraints(items: Sequence[Mapping[str, Any]], length: int,
                     letters: str) -> list[Restraint]:
    r"""Parse a list of restraints; an error names the index of the bad one in ``details``."""
    restraints = []
    for position, item in enumerate(items):
        try:
            restraints.append(restraint_from_dict(item, length, letters))
        except RestraintError as error:
            raise RestraintError(f"restraints[{position}]: {error.message}",
                                 {"index": position, **error.details}) from None
    return restraints


def restraint_energy(restraints: Sequence[Restraint], soft_sequence: Tensor,
                     contact_map: Tensor) -> Tensor:
    """`batch` total weighted restraint energy (zeros when there are none)."""
    total = torch.zeros(soft_sequence.shape[0], dtype=soft_sequence.dtype,
                        device=soft_sequence.device)
    for restraint in restraints:
        total = total + restraint.weighted(soft_sequence, contact_map)
    return total
