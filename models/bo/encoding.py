r"""Designs <-> model inputs: the feature space in which the surrogates live and the
acquisition is optimised.

:class:`Encoder` gives every design of a :class:`~models.space.space.Space` one row of ``d``
*features*, chosen so that the space's structure maps onto what BoTorch's mixed optimiser
understands (bounds, discrete values, categorical values, linear constraints):

=================  =========================================  ===============================
parameter kind     feature(s)                                  seen by the optimiser as
=================  =========================================  ===============================
continuous         the value, in ``[lower, upper]``            continuous
continuous, log    ``ln(value)``, in ``[ln lower, ln upper]``  continuous
integer            the value, in ``lower..upper``              discrete (``discrete_dims``)
categorical        the choice's index ``0..k-1``               categorical (``cat_dims``)
sequence           one letter index per position               categorical, one per position
composition group  each component's amount, ``[0, total]``     continuous + one equality
=================  =========================================  ===============================

Categorical features are *indices*, not one-hot columns: the surrogate gives them a
categorical (Hamming-distance) kernel, so the order of the choices carries no meaning, and the
optimiser (``optimize_acqf_mixed_alternating``) searches them by neighbourhood moves. A
composition group adds ``sum_i x_i = total``; each linear constraint of the space adds one or
two ``sum_i a_i x_i >= b`` rows, in BoTorch's ``(indices, coefficients, rhs)`` form. Features
are in the parameters' own units, so these constraints are the space's own numbers; the
surrogates normalise the features to the unit cube themselves (``Normalize`` with
:attr:`Encoder.bounds`).

A linear constraint on a log-scale parameter is not linear in its feature and is refused
(:class:`~models.bo.errors.UnsupportedSpaceError`).

A composition group with a cardinality limit ("at most ``m`` non-zero ingredients") is not a
polytope but a union of faces: it is kept out of the continuous solvers' constraints and met by
:meth:`Encoder.snap`, which keeps a group's ``m`` largest components and zeroes the rest
(:attr:`Encoder.cardinality_groups`; the optimiser then re-optimises on that face, see
:mod:`models.bo.optimize`).

Round trips: ``encode(decode(X)) == snap(X)`` for any ``X`` within the bounds, and
``decode(encode(designs)) == designs`` for designs of the space (floats to rounding).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import Tensor

from models.bo.errors import BadObservationError, UnsupportedSpaceError
from models.space.space import (
    NONZERO_TOLERANCE,
    CategoricalParameter,
    ContinuousParameter,
    IntegerParameter,
    SequenceParameter,
    Space,
)

#: A botorch linear constraint: ``sum_i coefficients[i] * X[..., indices[i]] (>=|==) rhs``.
LinearConstraintTuple = tuple[Tensor, Tensor, float]

#: Relative slack on bounds when a posted design is encoded (float noise, not a new value).
BOUND_TOLERANCE = 1e-9
#: A composition group whose sum is this close to its total (relative) is not rescaled.
COMPOSITION_TOLERANCE = 1e-12

ColumnKind = Literal["continuous", "log", "integer", "categorical", "position", "component"]


@dataclass(frozen=True)
class Column:
    """One feature: which parameter it encodes, how, and its bounds (in feature units).

    Attributes:
        name: The design key it comes from (for a sequence, the parameter's name).
        kind: How the value is encoded (see the module's table).
        lower: Lower bound of the feature.
        upper: Upper bound of the feature.
        position: The letter's position, for a sequence parameter.
        group: Index of the composition group, for a component.
    """

    name: str
    kind: ColumnKind
    lower: float
    upper: float
    position: int | None = None
    group: int | None = None


class Encoder:
    r"""The feature encoding of one space.

    Args:
        space: The design space.

    Raises:
        UnsupportedSpaceError: A linear constraint names a log-scale parameter.

    Example:
        >>> space = Space.from_dict({"parameters": [
        ...     {"type": "continuous", "name": "dose", "lower": 0.1, "upper": 10,
        ...      "log_scale": True},
        ...     {"type": "categorical", "name": "lipid", "choices": ["A", "B", "C"]}]})
        >>> encoder = Encoder(space)
        >>> X = encoder.encode([{"dose": 1.0, "lipid": "C"}])
        >>> X.tolist(), encoder.cat_dims
        ([[0.0, 2.0]], {1: [0.0, 1.0, 2.0]})
        >>> encoder.decode(X)
        [{'dose': 1.0, 'lipid': 'C'}]
    """

    def __init__(self, space: Space) -> None:
        self.space = space
        columns: list[Column] = []
        for p in space.parameters:
            if isinstance(p, ContinuousParameter):
                if p.log_scale:
                    columns.append(Column(p.name, "log", math.log(p.lower), math.log(p.upper)))
                else:
                    columns.append(Column(p.name, "continuous", p.lower, p.upper))
            elif isinstance(p, IntegerParameter):
                columns.append(Column(p.name, "integer", float(p.lower), float(p.upper)))
            elif isinstance(p, CategoricalParameter):
                columns.append(Column(p.name, "categorical", 0.0, float(len(p.choices) - 1)))
            elif isinstance(p, SequenceParameter):
                columns.extend(Column(p.name, "position", 0.0, float(len(p.alphabet) - 1),
                                      position=i) for i in range(p.length))
            else:  # pragma: no cover - the Space type is closed
                raise TypeError(f"unknown parameter type {type(p).__name__}")
        for g, group in enumerate(space.compositions):
            columns.extend(Column(c, "component", 0.0, group.total, group=g)
                           for c in group.components)
        self.columns: tuple[Column, ...] = tuple(columns)
        self._parameters = {p.name: p for p in space.parameters}
        self._index = {c.name: i for i, c in enumerate(columns) if c.kind != "position"}
        self._positions: dict[str, list[int]] = {}
        for i, c in enumerate(columns):
            if c.kind == "position":
                self._positions.setdefault(c.name, []).append(i)
        self.inequality_constraints = self._linear_constraints()
        self.equality_constraints = self._composition_constraints()
        #: ``(feature indices, limit)`` of each composition group with a binding cardinality
        #: limit (at most ``limit`` non-zero components).
        self.cardinality_groups: list[tuple[list[int], int]] = [
            ([i for i, c in enumerate(columns) if c.group == g], group.limit)
            for g, group in enumerate(space.compositions) if group.limit is not None]

    # ----------------------------------------------------------------------------- structure

    @property
    def dimension(self) -> int:
        """Number of features ``d``."""
        return len(self.columns)

    @property
    def bounds(self) -> Tensor:
        """`2 x d` lower and upper bounds of the features (float64)."""
        return torch.tensor([[c.lower for c in self.columns], [c.upper for c in self.columns]],
                            dtype=torch.float64)

    @property
    def discrete_dims(self) -> dict[int, list[float]]:
        """Integer features -> their allowed values (ordered: neighbours are close)."""
        return {i: [float(v) for v in range(int(c.lower), int(c.upper) + 1)]
                for i, c in enumerate(self.columns) if c.kind == "integer"}

    @property
    def cat_dims(self) -> dict[int, list[float]]:
        """Categorical features (choices and sequence positions) -> their index values."""
        return {i: [float(v) for v in range(int(c.upper) + 1)]
                for i, c in enumerate(self.columns) if c.kind in ("categorical", "position")}

    @property
    def continuous_dims(self) -> list[int]:
        """Features that vary continuously (continuous, log-scale and components)."""
        return [i for i, c in enumerate(self.columns)
                if c.kind in ("continuous", "log", "component")]

    def column_index(self, name: str) -> int:
        """The feature of a (non-sequence) parameter or component."""
        try:
            return self._index[name]
        except KeyError:
            raise KeyError(f"{name!r} is not a parameter or component with one feature; "
                           f"known: {sorted(self._index)}") from None

    # -------------------------------------------------------------------------- conversions

    def encode(self, designs: Sequence[Mapping[str, Any]]) -> Tensor:
        r"""Features of designs.

        Args:
            designs: ``n`` designs, name -> value, as :meth:`Space.decode` makes them.

        Returns:
            `n x d` features (float64).

        Raises:
            BadObservationError: A design lacks a parameter, or a value is not one of the
                space (outside the bounds, not an integer, an unknown label or letter).
        """
        rows = torch.empty(len(designs), self.dimension, dtype=torch.float64)
        names = self.space.names
        for n, design in enumerate(designs):
            missing = [name for name in names if name not in design]
            if missing:
                raise BadObservationError(f"design {n} lacks parameters {missing}",
                                          {"observation": n, "missing": missing})
            for name in names:
                index, values = self._features_of(name, design[name], n)
                rows[n, index] = torch.tensor(values, dtype=torch.float64)
        return rows

    def encode_partial(self, values: Mapping[str, Any]) -> dict[int, float]:
        r"""Features of some parameters only, e.g. fixed features ``{"dose": 2.0}``.

        A sequence parameter's value (a string) fixes all its positions.

        Returns:
            Feature index -> value.

        Raises:
            BadObservationError: An unknown name, or a value that is not one of the space.
        """
        unknown = sorted(set(values) - set(self.space.names))
        if unknown:
            raise BadObservationError(f"unknown parameters {unknown}", {"unknown": unknown})
        out: dict[int, float] = {}
        for name, value in values.items():
            index, features = self._features_of(name, value, None)
            out.update(zip(index, features, strict=True))
        return out

    def snap(self, X: Tensor, fixed: Collection[int] = ()) -> Tensor:
        r"""The nearest encodable features: integers and indices rounded, all clamped to the
        bounds, a group with a cardinality limit cut to its largest components (the others
        set to exactly 0), and each composition group that misses its total by more than
        :data:`COMPOSITION_TOLERANCE` (relative) rescaled to it.

        Args:
            X: `batch_shape x d` features.
            fixed: Features that must not change (held components): a group is rescaled
                through its other components only.

        Returns:
            `batch_shape x d` features of designs of the space. A group within the tolerance
            is left as it is, so snapping twice changes nothing.
        """
        X = X.to(torch.float64).clone()
        bounds = self.bounds.to(X)
        discrete = [i for i, c in enumerate(self.columns)
                    if c.kind in ("integer", "categorical", "position")]
        if discrete:
            X[..., discrete] = X[..., discrete].round()
        X = torch.maximum(torch.minimum(X, bounds[1]), bounds[0])
        held_set = set(fixed)
        X = self._sparsify(X, held_set)
        for g, group in enumerate(self.space.compositions):
            idx = [i for i, c in enumerate(self.columns) if c.group == g]
            free = [i for i in idx if i not in held_set]
            held = [i for i in idx if i in held_set]
            miss = (X[..., idx].sum(dim=-1, keepdim=True) - group.total).abs()
            off = miss > COMPOSITION_TOLERANCE * group.total
            if not free or not bool(off.any()):
                continue
            held_sum = X[..., held].sum(dim=-1, keepdim=True) if held \
                else torch.zeros_like(miss)
            target = group.total - held_sum
            block = X[..., free]
            current = block.sum(dim=-1, keepdim=True)
            even = (target / len(free)).expand_as(block)
            block = torch.where(current > 0, block * (target / current.clamp_min(1e-300)),
                                even)
            # Put the rounding residual on the largest free component.
            residual = target - block.sum(dim=-1, keepdim=True)
            largest = block.argmax(dim=-1, keepdim=True)
            block = block.scatter_add(-1, largest, residual).clamp(0.0, group.total)
            X[..., free] = torch.where(off, block, X[..., free])
        return X

    def decode(self, X: Tensor) -> list[dict[str, Any]]:
        r"""Designs from features (snapped first, see :meth:`snap`).

        Args:
            X: `n x d` features.

        Returns:
            ``n`` designs in the types of :meth:`Space.decode`: ``float`` for continuous
            parameters and components, ``int``, ``str`` for categorical and sequences.
        """
        if X.dim() != 2 or X.shape[-1] != self.dimension:
            raise ValueError(f"expected features of shape n x {self.dimension}, "
                             f"got {tuple(X.shape)}")
        rows = self.snap(X).tolist()
        designs: list[dict[str, Any]] = []
        for row in rows:
            design: dict[str, Any] = {}
            for i, c in enumerate(self.columns):
                value = row[i]
                if c.kind == "continuous" or c.kind == "component":
                    design[c.name] = float(value)
                elif c.kind == "log":
                    p = self._parameters[c.name]
                    assert isinstance(p, ContinuousParameter)
                    design[c.name] = min(max(math.exp(value), p.lower), p.upper)
                elif c.kind == "integer":
                    design[c.name] = int(value)
                elif c.kind == "categorical":
                    p = self._parameters[c.name]
                    assert isinstance(p, CategoricalParameter)
                    design[c.name] = p.choices[int(value)]
                else:
                    p = self._parameters[c.name]
                    assert isinstance(p, SequenceParameter)
                    design[c.name] = design.get(c.name, "") + p.alphabet[int(value)]
            designs.append({name: design[name] for name in self.space.names})
        return designs

    # ----------------------------------------------------------------------------- checks

    def constraint_violation(self, X: Tensor) -> Tensor:
        r"""The largest violation of the composition sums and linear constraints, per row.

        Args:
            X: `batch_shape x d` features.

        Returns:
            `batch_shape` violations, ``>= 0`` (0 where every constraint holds), in the
            constraints' own units.
        """
        violation = torch.zeros(X.shape[:-1], dtype=X.dtype, device=X.device)
        for indices, coefficients, rhs in self.inequality_constraints:
            lhs = (X[..., indices] * coefficients.to(X)).sum(dim=-1)
            violation = torch.maximum(violation, (rhs - lhs).clamp_min(0.0))
        for indices, coefficients, rhs in self.equality_constraints:
            lhs = (X[..., indices] * coefficients.to(X)).sum(dim=-1)
            violation = torch.maximum(violation, (lhs - rhs).abs())
        return violation

    def cardinality_excess(self, X: Tensor) -> Tensor:
        r"""How many non-zero components each row has beyond its groups' limits.

        Args:
            X: `batch_shape x d` features.

        Returns:
            `batch_shape` counts, 0 where every cardinality limit holds (a component counts
            when it exceeds :data:`models.space.space.NONZERO_TOLERANCE` x its group's total).
        """
        excess = torch.zeros(X.shape[:-1], dtype=torch.long, device=X.device)
        for idx, limit in self.cardinality_groups:
            total = self.columns[idx[0]].upper
            count = (X[..., idx] > NONZERO_TOLERANCE * total).sum(dim=-1)
            excess += (count - limit).clamp_min(0)
        return excess

    # ---------------------------------------------------------------------------- private

    def _sparsify(self, X: Tensor, held: Collection[int]) -> Tensor:
        """Zero all but the ``limit`` largest components of each cardinality-limited group
        (and any trace below the tolerance), keeping held non-zero components, and rescale
        the kept free ones to the total."""
        for idx, limit in self.cardinality_groups:
            total = self.columns[idx[0]].upper
            block = X[..., idx]
            held_mask = torch.tensor([i in held for i in idx], dtype=torch.bool,
                                     device=X.device).expand_as(block)
            nonzero = block > NONZERO_TOLERANCE * total
            # Traces (not ingredients) become exact zeros; the group's rescale absorbs them.
            block = torch.where(nonzero | held_mask, block, torch.zeros_like(block))
            X = X.clone()
            X[..., idx] = block
            if not bool((nonzero.sum(dim=-1) > limit).any()):
                continue
            # Held non-zero components always stay; then the largest free ones.
            priority = torch.where(held_mask & nonzero, torch.full_like(block, torch.inf), block)
            keep = torch.zeros_like(nonzero).scatter_(
                -1, priority.topk(limit, dim=-1).indices, True)
            over = (nonzero.sum(dim=-1, keepdim=True) > limit).expand_as(block)
            block = torch.where(over & ~keep & ~held_mask, torch.zeros_like(block), block)
            free_kept = over & keep & ~held_mask
            target = total - torch.where(held_mask, block, 0.0).sum(dim=-1, keepdim=True)
            current = torch.where(free_kept, block, 0.0).sum(dim=-1, keepdim=True)
            scale = target / current.clamp_min(1e-300)
            block = torch.where(free_kept, block * scale, block)
            X[..., idx] = block
        return X


    def _features_of(self, name: str, value: Any,
                     n: int | None) -> tuple[list[int], list[float]]:
        """Feature indices and values of one parameter's value."""
        where = f"design {n}: " if n is not None else ""
        details: dict[str, Any] = {"parameter": name, "value": repr(value)}
        if n is not None:
            details["observation"] = n
        if name in self._positions:
            p = self._parameters[name]
            assert isinstance(p, SequenceParameter)
            if not isinstance(value, str) or len(value) != p.length \
                    or any(letter not in p.alphabet for letter in value):
                raise BadObservationError(f"{where}{name!r} must be a string of {p.length} "
                                          f"letters of {p.alphabet!r}, got {value!r}", details)
            return self._positions[name], [float(p.alphabet.index(x)) for x in value]
        index = self._index[name]
        column = self.columns[index]
        if column.kind == "categorical":
            p = self._parameters[name]
            assert isinstance(p, CategoricalParameter)
            if value not in p.choices:
                raise BadObservationError(f"{where}{name!r} must be one of {list(p.choices)}, "
                                          f"got {value!r}", details)
            return [index], [float(p.choices.index(value))]
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise BadObservationError(f"{where}{name!r} must be a number, got {value!r}",
                                      details) from None
        if isinstance(value, bool) or not math.isfinite(number):
            raise BadObservationError(f"{where}{name!r} must be a finite number, got {value!r}",
                                      details)
        if column.kind == "log":
            p = self._parameters[name]
            assert isinstance(p, ContinuousParameter)
            lower, upper = p.lower, p.upper
        else:
            lower, upper = column.lower, column.upper
        slack = BOUND_TOLERANCE * max(1.0, abs(lower), abs(upper))
        if not lower - slack <= number <= upper + slack:
            raise BadObservationError(f"{where}{name!r} = {number} lies outside "
                                      f"[{lower}, {upper}]", details)
        number = min(max(number, lower), upper)
        if column.kind == "integer":
            if number != round(number):
                raise BadObservationError(f"{where}{name!r} must be an integer, got {value!r}",
                                          details)
            return [index], [float(round(number))]
        if column.kind == "log":
            return [index], [math.log(number)]
        return [index], [number]

    def _linear_constraints(self) -> list[LinearConstraintTuple]:
        out: list[LinearConstraintTuple] = []
        for k, lc in enumerate(self.space.linear_constraints):
            indices, coefficients = [], []
            for name, coefficient in lc.coefficients:
                index = self._index[name]
                if self.columns[index].kind == "log":
                    raise UnsupportedSpaceError(
                        f"linear constraint {k} names the log-scale parameter {name!r}; a "
                        "linear constraint must be linear in the model's inputs",
                        {"constraint": k, "parameter": name})
                indices.append(index)
                coefficients.append(coefficient)
            idx = torch.tensor(indices, dtype=torch.long)
            coef = torch.tensor(coefficients, dtype=torch.float64)
            if lc.lower is not None:
                out.append((idx, coef, float(lc.lower)))
            if lc.upper is not None:
                out.append((idx, -coef, -float(lc.upper)))
        return out

    def _composition_constraints(self) -> list[LinearConstraintTuple]:
        out: list[LinearConstraintTuple] = []
        for g, group in enumerate(self.space.compositions):
            idx = [i for i, c in enumerate(self.columns) if c.group == g]
            out.append((torch.tensor(idx, dtype=torch.long),
                        torch.ones(len(idx), dtype=torch.float64), float(group.total)))
        return out
