r"""The design space as the science sees it: typed, immutable, and mapped onto a unit cube.

A :class:`Space` is parsed from the API's JSON shape (``service.schemas.space``) with
:meth:`Space.from_dict`. Every strategy that draws points in ``[0, 1]^d`` (Sobol, random
restarts, acquisition optimisers) turns them into designs with :meth:`Space.decode`.

The unit-cube encoding has one coordinate per continuous, integer and categorical parameter,
one per position of a sequence parameter, and one per component of a composition group, in
that order (parameters in declaration order, then the groups):

* continuous: affine in ``[lower, upper]``, or affine in the logarithm for log-scale ones;
* integer: ``lower + floor(u * (upper - lower + 1))``, so every integer gets an equal share;
* categorical and each sequence position: ``floor(u * k)`` indexes the ``k`` choices / letters;
* composition group of ``k`` components: normalised exponential spacings, ``e_i = -log u_i``
  and ``x_i = total * e_i / sum_j e_j``. Uniform ``u`` gives points uniform on the simplex
  (a flat Dirichlet), and the last component is ``total`` minus the others, so a group sums
  to ``total`` to the last bit.
* composition group with a cardinality limit ("at most ``m < k`` non-zero ingredients"):
  ``k + m`` coordinates. The first ``k`` choose the support, the ``m`` components with the
  smallest coordinates (for uniform ``u``, every ``m``-subset equally likely); the last ``m``
  spread ``total`` over the support as above (flat Dirichlet on that face); the other
  components are exactly 0. Every point is feasible, so no draw is ever rejected.

This module imports torch; :mod:`models.space` itself stays torch-free, so import this module
by its full name.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

#: Relative slack on linear constraints, the same as the API's check of a posted design.
LINEAR_CONSTRAINT_TOLERANCE = 1e-9

# Keeps -log(u) finite and positive for u at the ends of the unit interval.
_U_MIN = torch.finfo(torch.float64).tiny
_U_MAX = 1.0 - torch.finfo(torch.float64).eps / 2


def _floor_index(u: Tensor, k: int) -> Tensor:
    """Indices in ``0..k-1`` of the ``k`` equal cells that ``u`` falls in (``u = 1`` -> ``k-1``)."""
    return torch.floor(u * k).long().clamp_(0, k - 1)


@dataclass(frozen=True)
class ContinuousParameter:
    """A real parameter in ``[lower, upper]``, optionally searched on a log scale."""

    name: str
    lower: float
    upper: float
    log_scale: bool = False
    unit: str | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lower) and math.isfinite(self.upper)
                and self.lower < self.upper):
            raise ValueError(f"parameter {self.name!r}: need finite lower < upper, "
                             f"got [{self.lower}, {self.upper}]")
        if self.log_scale and self.lower <= 0:
            raise ValueError(f"parameter {self.name!r}: a log-scale parameter needs lower > 0")

    @property
    def width(self) -> int:
        return 1

    @property
    def cardinality(self) -> int | None:
        return None

    def _decode(self, u: Tensor) -> Tensor:
        if self.log_scale:
            lo, hi = math.log(self.lower), math.log(self.upper)
            value = torch.exp(lo + u[:, 0] * (hi - lo))
        else:
            value = self.lower + u[:, 0] * (self.upper - self.lower)
        return value.clamp_(self.lower, self.upper)

    def _values(self, column: Tensor) -> list[Any]:
        return column.tolist()

    def _all_values(self) -> Iterator[Any]:
        raise ValueError(f"parameter {self.name!r} is continuous: it has no finite list of values")


@dataclass(frozen=True)
class IntegerParameter:
    """An integer parameter in ``lower..upper``, both ends included."""

    name: str
    lower: int
    upper: int
    unit: str | None = None

    def __post_init__(self) -> None:
        if not self.lower < self.upper:
            raise ValueError(f"parameter {self.name!r}: need lower < upper, "
                             f"got [{self.lower}, {self.upper}]")

    @property
    def width(self) -> int:
        return 1

    @property
    def cardinality(self) -> int:
        return self.upper - self.lower + 1

    def _decode(self, u: Tensor) -> Tensor:
        return self.lower + _floor_index(u[:, 0], self.cardinality)

    def _values(self, column: Tensor) -> list[Any]:
        return column.tolist()

    def _all_values(self) -> Iterator[Any]:
        return iter(range(self.lower, self.upper + 1))


@dataclass(frozen=True)
class CategoricalParameter:
    """One of a fixed list of labels."""

    name: str
    choices: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.choices) < 2 or len(set(self.choices)) != len(self.choices):
            raise ValueError(f"parameter {self.name!r}: need at least two distinct choices")

    @property
    def width(self) -> int:
        return 1

    @property
    def cardinality(self) -> int:
        return len(self.choices)

    def _decode(self, u: Tensor) -> Tensor:
        return _floor_index(u[:, 0], len(self.choices))

    def _values(self, column: Tensor) -> list[Any]:
        return [self.choices[i] for i in column.tolist()]

    def _all_values(self) -> Iterator[Any]:
        return iter(self.choices)


@dataclass(frozen=True)
class SequenceParameter:
    """A string of ``length`` letters from ``alphabet`` (e.g. a peptide); one coordinate each."""

    name: str
    alphabet: str
    length: int

    def __post_init__(self) -> None:
        if len(self.alphabet) < 2 or len(set(self.alphabet)) != len(self.alphabet):
            raise ValueError(f"parameter {self.name!r}: need at least two distinct letters")
        if self.length < 1:
            raise ValueError(f"parameter {self.name!r}: length must be at least 1")

    @property
    def width(self) -> int:
        return self.length

    @property
    def cardinality(self) -> int:
        return len(self.alphabet) ** self.length

    def _decode(self, u: Tensor) -> Tensor:
        return _floor_index(u, len(self.alphabet))

    def _values(self, column: Tensor) -> list[Any]:
        # Code points laid out as numpy fixed-width strings: one C pass, not a join per letter.
        codes = torch.tensor([ord(letter) for letter in self.alphabet], dtype=torch.int32)
        rows = codes[column].numpy().astype("<u4", copy=False)
        if "\x00" in self.alphabet:  # numpy strips trailing NULs: spell such strings out
            return ["".join(map(chr, row)) for row in rows.tolist()]
        return rows.view(f"<U{self.length}")[:, 0].tolist()

    def _all_values(self) -> Iterator[Any]:
        return ("".join(letters) for letters in itertools.product(self.alphabet,
                                                                  repeat=self.length))


Parameter = ContinuousParameter | IntegerParameter | CategoricalParameter | SequenceParameter


#: A component at most this fraction of its group's total counts as zero (not an ingredient)
#: when a cardinality limit is checked.
NONZERO_TOLERANCE = 1e-9


@dataclass(frozen=True)
class CompositionGroup:
    """Fractions ``components`` in ``[0, total]`` that sum to ``total``, optionally with at
    most ``max_nonzero`` of them non-zero (a cardinality limit: "at most 3 ingredients")."""

    name: str
    components: tuple[str, ...]
    total: float = 1.0
    max_nonzero: int | None = None

    def __post_init__(self) -> None:
        if len(self.components) < 2 or len(set(self.components)) != len(self.components):
            raise ValueError(f"composition {self.name!r}: need at least two distinct components")
        if not (math.isfinite(self.total) and self.total > 0):
            raise ValueError(f"composition {self.name!r}: total must be positive")
        if self.max_nonzero is not None and self.max_nonzero < 1:
            raise ValueError(f"composition {self.name!r}: max_nonzero must be at least 1, "
                             f"got {self.max_nonzero}")

    @property
    def limit(self) -> int | None:
        """The cardinality limit when it binds (``max_nonzero < k``), else ``None``."""
        m = self.max_nonzero
        return m if m is not None and m < len(self.components) else None

    @property
    def width(self) -> int:
        k = len(self.components)
        return k if self.limit is None else k + self.limit

    def nonzero_count(self, values: Tensor) -> Tensor:
        """`n` counts of non-zero components (above :data:`NONZERO_TOLERANCE` x total) of
        `n x k` amounts."""
        return (values > NONZERO_TOLERANCE * self.total).sum(dim=-1)

    def _decode(self, u: Tensor) -> Tensor:
        """`n x k` amounts summing to ``total`` from `n x width` unit coordinates: uniform on
        the simplex, or on a uniformly chosen face of ``limit`` components."""
        k, m = len(self.components), self.limit
        if m is None:
            return self._spread(u)
        support = u[:, :k].argsort(dim=-1)[:, :m].sort(dim=-1).values
        values = torch.zeros(u.shape[0], k, dtype=u.dtype, device=u.device)
        return values.scatter_(-1, support, self._spread(u[:, k:]))

    def _spread(self, u: Tensor) -> Tensor:
        """`n x j` amounts summing to ``total``, a flat Dirichlet from `n x j` coordinates."""
        spacings = -torch.log(u.clamp(_U_MIN, _U_MAX))
        values = (spacings / spacings.sum(dim=-1, keepdim=True) * self.total).clamp_(0.0,
                                                                                   self.total)
        values[:, -1] = (self.total - values[:, :-1].sum(dim=-1)).clamp_(0.0, self.total)
        return values


@dataclass(frozen=True)
class LinearConstraint:
    """``lower <= sum_i coefficients[i] * x_i <= upper`` (either side may be open)."""

    coefficients: tuple[tuple[str, float], ...]
    lower: float | None = None
    upper: float | None = None

    def __post_init__(self) -> None:
        if not self.coefficients:
            raise ValueError("a linear constraint needs at least one coefficient")
        if self.lower is None and self.upper is None:
            raise ValueError("a linear constraint needs lower, upper or both")
        if self.lower is not None and self.upper is not None and self.lower > self.upper:
            raise ValueError("a linear constraint's lower must not exceed its upper")

    def holds(self, value: float) -> bool:
        """Whether ``value`` (the constraint's sum) is within the bounds, up to the tolerance."""
        slack = LINEAR_CONSTRAINT_TOLERANCE * max(1.0, abs(value))
        return not ((self.lower is not None and value < self.lower - slack)
                    or (self.upper is not None and value > self.upper + slack))


@dataclass(frozen=True)
class Space:
    """A design space: parameters, composition groups and linear constraints.

    Build one from the API's JSON with :meth:`from_dict`; all fields are tuples, so a space is
    immutable and hashable.
    """

    parameters: tuple[Parameter, ...] = ()
    compositions: tuple[CompositionGroup, ...] = ()
    linear_constraints: tuple[LinearConstraint, ...] = ()

    def __post_init__(self) -> None:
        if not self.parameters and not self.compositions:
            raise ValueError("the space is empty: give at least one parameter or composition")
        names = self.names
        if len(set(names)) != len(names):
            duplicates = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"duplicate parameter names {duplicates}")
        numeric = set(self.numeric_names)
        for i, constraint in enumerate(self.linear_constraints):
            for name, _ in constraint.coefficients:
                if name not in numeric:
                    raise ValueError(f"linear_constraints[{i}] names {name!r}, "
                                     "which is not a numeric parameter")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Space:
        """Parse the API's JSON shape of a space (see ``service.schemas.space.Space``).

        Example:
            >>> space = Space.from_dict({
            ...     "parameters": [{"type": "continuous", "name": "x", "lower": 0, "upper": 1}],
            ...     "compositions": [{"name": "mix", "components": ["a", "b"], "total": 1.0}],
            ... })
            >>> space.dimension
            3
        """
        try:
            parameters = tuple(_PARSERS[p.get("type", "continuous")](p)
                               for p in data.get("parameters", ()))
        except KeyError as exc:
            raise ValueError(f"unknown parameter type or missing field {exc}") from None
        compositions = tuple(
            CompositionGroup(name=g["name"], components=tuple(g["components"]),
                             total=float(g.get("total", 1.0)),
                             max_nonzero=_optional_int(g.get("max_nonzero")))
            for g in data.get("compositions", ()))
        constraints = tuple(
            LinearConstraint(coefficients=tuple((n, float(c))
                                                for n, c in lc["coefficients"].items()),
                             lower=_optional_float(lc.get("lower")),
                             upper=_optional_float(lc.get("upper")))
            for lc in data.get("linear_constraints", ()))
        return cls(parameters=parameters, compositions=compositions,
                   linear_constraints=constraints)

    @property
    def names(self) -> list[str]:
        """Every name a design carries: parameters in order, then composition components."""
        return [p.name for p in self.parameters] + [
            c for g in self.compositions for c in g.components]

    @property
    def numeric_names(self) -> list[str]:
        """Names that linear constraints may use: continuous, integer, composition components."""
        return [p.name for p in self.parameters
                if isinstance(p, ContinuousParameter | IntegerParameter)] + [
            c for g in self.compositions for c in g.components]

    @property
    def dimension(self) -> int:
        """Number of coordinates ``d`` of the unit-cube encoding."""
        return sum(p.width for p in self.parameters) + sum(g.width for g in self.compositions)

    @property
    def cardinality(self) -> int | None:
        """Number of distinct designs, before constraints; ``None`` when the space is infinite
        (any continuous parameter or composition group)."""
        if self.compositions:
            return None
        size = 1
        for p in self.parameters:
            k = p.cardinality
            if k is None:
                return None
            size *= k
        return size

    def iter_designs(self) -> Iterator[dict[str, Any]]:
        """Every design of a finite space, ignoring linear constraints (mind the cardinality).

        Raises:
            ValueError: The space is infinite.
        """
        if self.cardinality is None:
            raise ValueError("the space is infinite: its designs cannot be listed")
        names = [p.name for p in self.parameters]
        for values in itertools.product(*(list(p._all_values()) for p in self.parameters)):
            yield dict(zip(names, values, strict=True))

    def decode(self, u: Tensor) -> list[dict[str, Any]]:
        """Designs from points of the unit cube.

        Args:
            u: `n x d` points in ``[0, 1]`` with ``d = self.dimension``.

        Returns:
            ``n`` designs, name -> value: ``float`` for continuous parameters and composition
            components, ``int`` for integers, ``str`` for categorical and sequence parameters.

        Example:
            >>> space = Space.from_dict({"parameters": [
            ...     {"type": "integer", "name": "k", "lower": 1, "upper": 4},
            ...     {"type": "categorical", "name": "c", "choices": ["a", "b"]}]})
            >>> space.decode(torch.tensor([[0.0, 0.99], [0.6, 0.2]]))
            [{'k': 1, 'c': 'b'}, {'k': 3, 'c': 'a'}]
        """
        columns = self._columns(u)
        n = u.shape[0]
        values: dict[str, list[Any]] = {p.name: p._values(column)
                                        for p, column in zip(self.parameters, columns, strict=False)}
        for group, column in zip(self.compositions, columns[len(self.parameters):], strict=True):
            block = column.tolist()
            for j, component in enumerate(group.components):
                values[component] = [row[j] for row in block]
        names = self.names
        return [{name: values[name][i] for name in names} for i in range(n)]

    def linear_constraint_mask(self, u: Tensor) -> Tensor:
        """Which points of the unit cube decode to designs within the linear constraints.

        Computed on tensors with the same arithmetic as :meth:`satisfies_linear_constraints`,
        so the two agree on every point.

        Args:
            u: `n x d` points in ``[0, 1]``.

        Returns:
            A boolean tensor of shape `n`.
        """
        mask = torch.ones(u.shape[0], dtype=torch.bool, device=u.device)
        if not self.linear_constraints:
            return mask
        columns = self._columns(u)
        numeric: dict[str, Tensor] = {
            p.name: column.to(torch.float64)
            for p, column in zip(self.parameters, columns, strict=False)
            if isinstance(p, ContinuousParameter | IntegerParameter)}
        for group, column in zip(self.compositions, columns[len(self.parameters):], strict=True):
            for j, component in enumerate(group.components):
                numeric[component] = column[:, j]
        for lc in self.linear_constraints:
            value = sum(coef * numeric[name] for name, coef in lc.coefficients)
            assert isinstance(value, Tensor)
            slack = LINEAR_CONSTRAINT_TOLERANCE * value.abs().clamp(min=1.0)
            if lc.lower is not None:
                mask &= value >= lc.lower - slack
            if lc.upper is not None:
                mask &= value <= lc.upper + slack
        return mask

    def satisfies_linear_constraints(self, design: Mapping[str, Any]) -> bool:
        """Whether a design meets every linear constraint (relative tolerance 1e-9).

        Example:
            >>> space = Space.from_dict({
            ...     "parameters": [{"type": "continuous", "name": "x", "lower": 0, "upper": 1},
            ...                    {"type": "continuous", "name": "y", "lower": 0, "upper": 1}],
            ...     "linear_constraints": [{"coefficients": {"x": 1, "y": 1}, "upper": 1}]})
            >>> space.satisfies_linear_constraints({"x": 0.2, "y": 0.5})
            True
        """
        return all(lc.holds(sum(coef * float(design[name]) for name, coef in lc.coefficients))
                   for lc in self.linear_constraints)

    def satisfies_cardinality(self, design: Mapping[str, Any]) -> bool:
        """Whether every composition group of a design has at most ``max_nonzero`` non-zero
        components (above :data:`NONZERO_TOLERANCE` x total).

        Example:
            >>> space = Space.from_dict({"compositions": [
            ...     {"name": "mix", "components": ["a", "b", "c"], "max_nonzero": 2}]})
            >>> space.satisfies_cardinality({"a": 0.5, "b": 0.5, "c": 0.0})
            True
        """
        for group in self.compositions:
            if group.max_nonzero is None:
                continue
            count = sum(float(design[c]) > NONZERO_TOLERANCE * group.total
                        for c in group.components)
            if count > group.max_nonzero:
                return False
        return True

    def _columns(self, u: Tensor) -> list[Tensor]:
        """The decoded column(s) of each parameter, then of each group, in order: values, or
        indices into the choices / alphabet."""
        if u.dim() != 2 or u.shape[-1] != self.dimension:
            raise ValueError(f"expected points of shape n x {self.dimension}, "
                             f"got {tuple(u.shape)}")
        u = u.to(torch.float64)
        if u.numel() and not bool(((u >= 0) & (u <= 1)).all()):
            raise ValueError("points must lie in the unit cube [0, 1]^d")
        columns: list[Tensor] = []
        offset = 0
        blocks: Sequence[Parameter | CompositionGroup] = (*self.parameters, *self.compositions)
        for block in blocks:
            columns.append(block._decode(u[:, offset:offset + block.width]))
            offset += block.width
        return columns


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


_PARSERS: dict[str, Any] = {
    "continuous": lambda p: ContinuousParameter(
        name=p["name"], lower=float(p["lower"]), upper=float(p["upper"]),
        log_scale=bool(p.get("log_scale", False)), unit=p.get("unit")),
    "integer": lambda p: IntegerParameter(
        name=p["name"], lower=int(p["lower"]), upper=int(p["upper"]), unit=p.get("unit")),
    "categorical": lambda p: CategoricalParameter(name=p["name"], choices=tuple(p["choices"])),
    "sequence": lambda p: SequenceParameter(
        name=p["name"], alphabet=str(p["alphabet"]), length=int(p["length"])),
}
