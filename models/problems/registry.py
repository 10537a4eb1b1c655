"""The registry of problem plug-ins: a plain key -> spec dict built from entry points.

Broken or duplicate registrations fail loudly (a :class:`ProblemError` naming the entry point),
never silently: a campaign must not quietly lose its simulator.
"""

from __future__ import annotations

import functools
import importlib
from importlib.metadata import entry_points

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


def load_problem(key: str) -> Problem:
    """Instantiate the problem's implementation (imports its science code, e.g. torch)."""
    spec = get_spec(key)
    if spec.implementation is None:
        raise ProblemError(f"problem {key!r} has no simulator")
    module_name, _, attr = spec.implementation.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ProblemError(f"problem {key!r}: cannot import {spec.implementation}: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, Problem)):
        raise ProblemError(f"problem {key!r}: {spec.implementation} is not a Problem subclass")
    return cls()
