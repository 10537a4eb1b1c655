"""The problem plug-in contract.

A problem is described in two parts so that the API process never imports torch:

* :class:`ProblemSpec` — plain data (default space, outcomes, whether a simulator exists),
  registered under a stable key through the ``designloop.problems`` entry-point group;
* :class:`Problem` — the implementation (simulator, physics), named by ``spec.implementation``
  as ``"module:Class"`` and imported only where it runs (a worker).

The spec's ``default_space`` / ``default_objectives`` / ``default_constraints`` use the same
JSON shapes as the public API (see ``service.schemas``).
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar


class ProblemError(Exception):
    """A problem plug-in is broken, or was asked something it cannot answer."""


class DesignError(ProblemError):
    """A design handed to a problem is not a point of its space."""


def numeric_options(options: Mapping[str, Any] | None, defaults: Mapping[str, Any],
                    limits: Mapping[str, tuple[float, float]]) -> dict[str, Any]:
    """A plug-in's numeric options with defaults filled in, each checked against its
    ``(lowest, highest)``; a bad one is a :class:`ProblemError` naming it
    (``problem_options.<name>``), so the API answers with the field that is wrong."""
    given = dict(options or {})
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise ProblemError(f"problem_options.{unknown[0]}: unknown option; known: "
                           f"{sorted(defaults)}")
    out = {**defaults, **given}
    for name, (low, high) in limits.items():
        value = out[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ProblemError(f"problem_options.{name}: must be a number, got {value!r}")
        if not low <= value <= high:
            raise ProblemError(f"problem_options.{name}: must lie in [{low}, {high}], "
                               f"got {value}")
    return out


@dataclass(frozen=True)
class ProblemSpec:
    key: str
    title: str
    description: str
    default_space: Mapping[str, Any] | None = None
    default_objectives: Sequence[Mapping[str, Any]] | None = None
    default_constraints: Sequence[Mapping[str, Any]] = field(default_factory=tuple)
    has_simulator: bool = False
    #: The simulator also returns derivatives w.r.t. the design
    #: (:meth:`Problem.evaluate_with_gradients`), so a campaign may store them with its
    #: observations (``evaluator.gradients``).
    simulator_gradients: bool = False
    implementation: str | None = None
    #: ``"module:function"`` of a *torch-free* ``validate(options: dict) -> dict`` that checks a
    #: campaign's ``problem_options`` (raising :class:`ProblemError` naming the bad key) and
    #: returns them with defaults filled in. ``None``: the problem takes no options.
    options_validator: str | None = None
    #: ``"module:function"`` of a *torch-free* ``default_space(options: dict) -> dict`` for
    #: problems whose space depends on their options (e.g. a sequence's length is the target's);
    #: it takes precedence over ``default_space``.
    default_space_factory: str | None = None
    #: Likewise ``default_constraints(options: dict) -> list[dict]`` (e.g. a load floor that is
    #: itself an option); it takes precedence over ``default_constraints``.
    default_constraints_factory: str | None = None
    #: ``"module:function"`` of ``design_plot(problem: Problem, parameters: dict) -> bytes``
    #: (a PNG of the problem's own picture of one design: a profile, a folded chain); imported
    #: only in a worker. ``None``: the problem has no picture of its own.
    design_plot: str | None = None
    #: Strategy kinds that make sense for this problem (``None``: any).
    strategies: Sequence[str] | None = None


class Problem(abc.ABC):
    """A design problem that can evaluate designs itself (a simulator or an analytic truth).

    Subclasses set ``spec`` and implement :meth:`_evaluate_true`; the public
    :meth:`evaluate` checks its input first, so a plug-in never sees a malformed design.
    """

    spec: ClassVar[ProblemSpec]

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Problem:
        """The problem configured by a campaign's (validated) ``problem_options``.

        Problems that take options override this; the default takes none.
        """
        if options:
            raise ProblemError(f"problem {cls.spec.key!r} takes no options, got {sorted(options)}")
        return cls()

    def evaluate(self, designs: Sequence[Mapping[str, Any]]) -> list[dict[str, float]]:
        """Outcome values for each design, in the units of the spec's outcomes.

        Example:
            >>> problem.evaluate([{"x1": 0.5, "x2": 0.5}])  # doctest: +SKIP
            [{"value": 26.9, "constraint": 0.25}]
        """
        self.check_designs(designs)
        return self._evaluate_true(designs)

    def check_designs(self, designs: Sequence[Mapping[str, Any]]) -> None:
        """Raise :class:`DesignError` naming the first design that lacks a parameter."""
        names = self.parameter_names()
        for index, design in enumerate(designs):
            missing = [n for n in names if n not in design]
            if missing:
                raise DesignError(f"design {index} lacks parameters {missing}")

    def evaluate_with_gradients(self, designs: Sequence[Mapping[str, Any]],
                                outcomes: Sequence[str]
                                ) -> list[tuple[dict[str, float], dict[str, dict[str, float]]]]:
        """Outcome values and their derivatives w.r.t. the design, for each design.

        Problems whose spec sets ``simulator_gradients`` override this (a differentiable
        simulator: one backward pass per outcome); the rest have no derivatives to give.

        Args:
            designs: The designs.
            outcomes: The outcomes to differentiate.

        Returns:
            Per design: the values as :meth:`evaluate` gives them, and ``outcome -> parameter
            -> d outcome / d parameter`` (outcome units per parameter unit).

        Raises:
            ProblemError: The problem's simulator gives no derivatives.
        """
        raise ProblemError(f"problem {self.spec.key!r} gives no derivatives")

    def parameter_names(self) -> list[str]:
        space = self.spec.default_space or {}
        names = [p["name"] for p in space.get("parameters", [])]
        return names + [c for g in space.get("compositions", []) for c in g["components"]]

    @abc.abstractmethod
    def _evaluate_true(self, designs: Sequence[Mapping[str, Any]]) -> list[dict[str, float]]:
        """Evaluate checked designs."""
