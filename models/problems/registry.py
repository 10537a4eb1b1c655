"""The registry of problem plug-ins: a plain key -> spec dict built from entry points.

Broken or duplicate registrations fail loudly (a :class:`ProblemError` naming the entry point),
never silently: a campaign must not quietly lose its simulator.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from typing import Any

from models.problems.base import Problem, ProblemError, ProblemSpec

ENTRY_POINT_GROUP = "designloop.problems"

CUSTOM = ProblemSpec(
    key="custom",
    title="Custom problem",
    description="A campaign defined entirely by its request: space, objectives, constraints. "
    "Observations come from the lab.",
)


@functools.cache
def problem_specs() -> dict[str, ProblemSpec]:
    """Every registered problem, by key (loads the specs only, not the implementations)."""
    specs: dict[str, ProblemSpec] = {CUSTOM.key: CUSTOM}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            spec = ep.load()
        except Exception as exc:  # a broken plug-in is an error, not a missing problem
            raise ProblemError(f"problem plug-in {ep.name!r} ({ep.value}) fails to load: {exc}") \
                from exc
        if not isinstance(spec, ProblemSpec):
            raise ProblemError(f"problem plug-in {ep.name!r} is a {type(spec).__name__}, "
                               "not a ProblemSpec")
        if spec.key != ep.name:
            raise ProblemError(f"problem plug-in {ep.name!r} declares key {spec.key!r}")
        if spec.key in specs:
            raise ProblemError(f"problem key {spec.key!r} is registered twice")
        specs[spec.key] = spec
    return specs


def get_spec(key: str) -> ProblemSpec:
    try:
        return problem_specs()[key]
    except KeyError:
        raise ProblemError(f"unknown problem {key!r}; known: {sorted(problem_specs())}") from None


def validate_options(key: str, options: Mapping[str, Any] | None) -> dict[str, Any]:
    """A campaign's ``problem_options`` checked by the plug-in's torch-free validator, with
    its defaults filled in.

    Raises:
        ProblemError: Unknown problem, options given to a problem that takes none, or options
            the plug-in refuses.
    """
    spec = get_spec(key)
    options = dict(options or {})
    if spec.options_validator is None:
        if options:
            raise ProblemError(f"problem {key!r} takes no options, got {sorted(options)}")
        return {}
    validate: Callable[[dict[str, Any]], dict[str, Any]] = _import(spec.options_validator, key)
    return validate(options)


def default_space(key: str, options: Mapping[str, Any]) -> dict[str, Any] | None:
    """The problem's default space for these (validated) options, or ``None`` if it has none."""
    spec = get_spec(key)
    if spec.default_space_factory is not None:
        factory: Callable[[dict[str, Any]], dict[str, Any]] = _import(
            spec.default_space_factory, key)
        return factory(dict(options))
    return dict(spec.default_space) if spec.default_space is not None else None


def default_constraints(key: str, options: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The problem's default outcome constraints for these (validated) options."""
    spec = get_spec(key)
    if spec.default_constraints_factory is not None:
        factory: Callable[[dict[str, Any]], list[dict[str, Any]]] = _import(
            spec.default_constraints_factory, key)
        return [dict(c) for c in factory(dict(options))]
    return [dict(c) for c in spec.default_constraints]


def load_problem(key: str, options: Mapping[str, Any] | None = None) -> Problem:
    """Instantiate the problem's implementation (imports its science code, e.g. torch),
    configured by the campaign's ``problem_options``."""
    spec = get_spec(key)
    if spec.implementation is None:
        raise ProblemError(f"problem {key!r} has no simulator")
    cls = _import(spec.implementation, key)
    if not (isinstance(cls, type) and issubclass(cls, Problem)):
        raise ProblemError(f"problem {key!r}: {spec.implementation} is not a Problem subclass")
    return cls.from_options(dict(options or {}))


def _import(target: str, key: str) -> Any:
    """The object named by ``"module:attribute"``; a broken plug-in is a :class:`ProblemError`."""
    module_name, _, attr = target.partition(":")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ProblemError(f"problem {key!r}: cannot import {target}: {exc}") from exc
