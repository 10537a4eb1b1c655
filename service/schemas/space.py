"""The design space as the API accepts it, and the check of one design against it.

A space is parameters (continuous with optional log scale, integer, categorical, sequence),
composition groups (fractions that sum to a total) and linear constraints over continuous
parameters. Everything a client can get wrong is refused here, naming the field.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from service.schemas.base import StrictModel

Name = Annotated[str, StringConstraints(min_length=1, max_length=100,
                                        pattern=r"^[A-Za-z_][A-Za-z0-9_.\-]*$")]
COMPOSITION_TOLERANCE = 1e-6
#: A component at most this fraction of its group's total is not an ingredient (the same
#: as ``models.space.space.NONZERO_TOLERANCE``).
NONZERO_TOLERANCE = 1e-9


class ContinuousParameter(StrictModel):
    type: Literal["continuous"] = "continuous"
    name: Name
    lower: float
    upper: float
    log_scale: bool = False
    unit: str | None = None

    @model_validator(mode="after")
    def _bounds(self) -> ContinuousParameter:
        if not self.lower < self.upper:
            raise ValueError(f"lower ({self.lower}) must be below upper ({self.upper})")
        if self.log_scale and self.lower <= 0:
            raise ValueError("a log-scale parameter needs lower > 0")
        return self


class IntegerParameter(StrictModel):
    type: Literal["integer"] = "integer"
    name: Name
    lower: int
    upper: int
    unit: str | None = None

    @model_validator(mode="after")
    def _bounds(self) -> IntegerParameter:
        if not self.lower < self.upper:
            raise ValueError(f"lower ({self.lower}) must be below upper ({self.upper})")
        return self


class CategoricalParameter(StrictModel):
    type: Literal["categorical"] = "categorical"
    name: Name
    choices: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] = Field(
        min_length=2, max_length=1000)

    @field_validator("choices")
    @classmethod
    def _distinct(cls, choices: list[str]) -> list[str]:
        if len(set(choices)) != len(choices):
            raise ValueError("choices must be distinct")
        return choices


class SequenceParameter(StrictModel):
    type: Literal["sequence"] = "sequence"
    name: Name
    alphabet: Annotated[str, StringConstraints(min_length=2, max_length=64)]
    length: int = Field(ge=1, le=10_000)

    @field_validator("alphabet")
    @classmethod
    def _distinct(cls, alphabet: str) -> str:
        if len(set(alphabet)) != len(alphabet):
            raise ValueError("alphabet letters must be distinct")
        return alphabet


Parameter = Annotated[
    ContinuousParameter | IntegerParameter | CategoricalParameter | SequenceParameter,
    Field(discriminator="type"),
]


class CompositionGroup(StrictModel):
    """Fractions that sum to ``total`` (e.g. the molar fractions of a lipid mix), optionally
    with at most ``max_nonzero`` non-zero components ("at most 3 ingredients")."""

    name: Name
    components: list[Name] = Field(min_length=2, max_length=64)
    total: float = Field(default=1.0, gt=0)
    max_nonzero: int | None = Field(default=None, ge=1)

    @field_validator("components")
    @classmethod
    def _distinct(cls, components: list[str]) -> list[str]:
        if len(set(components)) != len(components):
            raise ValueError("components must be distinct")
        return components

    @model_validator(mode="after")
    def _limit(self) -> CompositionGroup:
        if self.max_nonzero is not None and self.max_nonzero > len(self.components):
            raise ValueError(f"max_nonzero ({self.max_nonzero}) exceeds the number of "
                             f"components ({len(self.components)})")
        return self


class LinearConstraint(StrictModel):
    """``lower <= sum_i coefficients[i] * x_i <= upper`` over continuous or integer parameters."""

    coefficients: dict[Name, float] = Field(min_length=1)
    lower: float | None = None
    upper: float | None = None

    @model_validator(mode="after")
    def _one_side(self) -> LinearConstraint:
        if self.lower is None and self.upper is None:
            raise ValueError("a linear constraint needs lower, upper or both")
        if self.lower is not None and self.upper is not None and self.lower > self.upper:
            raise ValueError("lower must not exceed upper")
        return self


class Space(StrictModel):
    parameters: list[Parameter] = Field(default_factory=list, max_length=1000)
    compositions: list[CompositionGroup] = Field(default_factory=list, max_length=100)
    linear_constraints: list[LinearConstraint] = Field(default_factory=list, max_length=100)

    @field_validator("parameters")
    @classmethod
    def _distinct_parameters(cls, parameters: list[Any]) -> list[Any]:
        # Checked here as well as below so the error's loc points at `parameters`.
        names = [p.name for p in parameters]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate parameter names {duplicates}")
        return parameters

    @model_validator(mode="after")
    def _consistent(self) -> Space:
        if not self.parameters and not self.compositions:
            raise ValueError("the space is empty: give at least one parameter or composition")
        seen: set[str] = set()
        for name in self.all_names():
            if name in seen:
                raise ValueError(f"duplicate parameter name {name!r}")
            seen.add(name)
        numeric = {p.name for p in self.parameters
                   if isinstance(p, ContinuousParameter | IntegerParameter)}
        numeric |= {c for g in self.compositions for c in g.components}
        for i, constraint in enumerate(self.linear_constraints):
            for name in constraint.coefficients:
                if name not in numeric:
                    raise ValueError(
                        f"linear_constraints[{i}] names {name!r}, which is not a numeric parameter")
        return self

    def all_names(self) -> list[str]:
        return [p.name for p in self.parameters] + [
            c for g in self.compositions for c in g.components]


def design_errors(space: Space, design: dict[str, Any]) -> list[tuple[list[str], str]]:
    """Everything wrong with one design, as ``(path under the design, message)`` pairs."""
    errors: list[tuple[list[str], str]] = []
    known = set(space.all_names())
    for name in design:
        if name not in known:
            errors.append(([name], "unknown parameter"))
    for p in space.parameters:
        if p.name not in design:
            errors.append(([p.name], "missing"))
            continue
        message = _parameter_error(p, design[p.name])
        if message:
            errors.append(([p.name], message))
    for group in space.compositions:
        total = 0.0
        ok = True
        for c in group.components:
            value = design.get(c)
            if value is None:
                errors.append(([c], "missing"))
                ok = False
            elif not _is_real(value) or not 0.0 <= value <= group.total:
                errors.append(([c], f"must be a number in [0, {group.total}]"))
                ok = False
            else:
                total += float(value)
        if ok and abs(total - group.total) > COMPOSITION_TOLERANCE * max(1.0, group.total):
            errors.append(([group.components[0]],
                           f"composition {group.name!r} sums to {total:.9g}, not {group.total}"))
        if ok and group.max_nonzero is not None:
            nonzero = [c for c in group.components
                       if float(design[c]) > NONZERO_TOLERANCE * group.total]
            if len(nonzero) > group.max_nonzero:
                message = (f"composition {group.name!r} has {len(nonzero)} non-zero "
                           f"components, at most {group.max_nonzero} allowed")
                errors.append(([nonzero[-1]], message))
    if not errors:
        for i, lc in enumerate(space.linear_constraints):
            value = sum(coef * float(design[n]) for n, coef in lc.coefficients.items())
            slack = 1e-9 * max(1.0, abs(value))
            if (lc.lower is not None and value < lc.lower - slack) or (
                    lc.upper is not None and value > lc.upper + slack):
                errors.append(([next(iter(lc.coefficients))],
                               f"violates linear_constraints[{i}] (value {value:.9g})"))
    return errors


def _is_real(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _parameter_error(p: Any, value: Any) -> str | None:
    if isinstance(p, ContinuousParameter):
        if not _is_real(value):
            return "must be a finite number"
        if not p.lower <= value <= p.upper:
            return f"{value} is outside [{p.lower}, {p.upper}]"
    elif isinstance(p, IntegerParameter):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            return "must be an integer"
        if not p.lower <= value <= p.upper:
            return f"{value} is outside [{p.lower}, {p.upper}]"
    elif isinstance(p, CategoricalParameter):
        if value not in p.choices:
            return f"{value!r} is not one of {p.choices}"
    elif isinstance(p, SequenceParameter):
        if not isinstance(value, str) or len(value) != p.length:
            return f"must be a string of length {p.length}"
        bad = sorted(set(value) - set(p.alphabet))
        if bad:
            return f"letters {bad} are not in the alphabet {p.alphabet!r}"
    return None
