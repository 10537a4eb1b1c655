"""The problem registry: built-ins present, broken plug-ins loud, specs torch-free."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from collections.abc import Iterator
from importlib.metadata import EntryPoint, PackageNotFoundError, distribution
from pathlib import Path

import pytest

from models.problems import registry
from models.problems.base import ProblemError, ProblemSpec
from models.problems.branin.problem import BraninProblem
from models.problems.registry import ENTRY_POINT_GROUP, load_problem, problem_specs

ROOT = Path(__file__).resolve().parents[3]
HERE = __name__  # entry points below name specs defined in this module

BROKEN_IMPLEMENTATION = ProblemSpec(key="broken_impl", title="t", description="d",
                                    implementation="models.problems.no_such_module:Nothing")
NOT_A_PROBLEM = ProblemSpec(key="not_a_problem", title="t", description="d",
                            implementation="models.problems.base:ProblemSpec")


def _entry_point(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP)


def _declared_entry_points() -> list[EntryPoint]:
    """The plug-ins pyproject.toml declares, as installed metadata would list them."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["entry-points"][ENTRY_POINT_GROUP]
    return [_entry_point(name, value) for name, value in declared.items()]


@pytest.fixture(autouse=True)
def _fresh_registry() -> Iterator[None]:
    problem_specs.cache_clear()
    yield
    problem_specs.cache_clear()


def _use_entry_points(monkeypatch: pytest.MonkeyPatch, points: list[EntryPoint]) -> None:
    def fake(*, group: str) -> list[EntryPoint]:
        assert group == ENTRY_POINT_GROUP
        return points

    monkeypatch.setattr(registry, "entry_points", fake)


def test_declared_plugins_register_custom_and_branin(monkeypatch: pytest.MonkeyPatch) -> None:
    _use_entry_points(monkeypatch, _declared_entry_points())
    specs = problem_specs()
    assert {"custom", "branin"} <= set(specs)
    assert specs["branin"].implementation == "models.problems.branin.problem:BraninProblem"
    assert isinstance(load_problem("branin"), BraninProblem)


def test_installed_metadata_registers_branin() -> None:
    try:
        distribution("designloop")
    except PackageNotFoundError:
        pytest.skip("designloop is not installed (pip install -e .): no entry-point metadata")
    assert {"custom", "branin"} <= set(problem_specs())
    assert isinstance(load_problem("branin"), BraninProblem)


@pytest.mark.parametrize(("points", "message"), [
    ([_entry_point("branin", "models.problems.branin:SPEC")] * 2, "registered twice"),
    ([_entry_point("custom", "models.problems.registry:CUSTOM")], "registered twice"),
    ([_entry_point("gone", "models.problems.no_such_module:SPEC")], "fails to load"),
    ([_entry_point("gone", "models.problems.branin:NO_SUCH_SPEC")], "fails to load"),
    ([_entry_point("cls", "models.problems.base:Problem")], "not a ProblemSpec"),
    ([_entry_point("other", "models.problems.branin:SPEC")], "declares key 'branin'"),
])
def test_bad_registrations_fail_loudly(monkeypatch: pytest.MonkeyPatch,
                                       points: list[EntryPoint], message: str) -> None:
    _use_entry_points(monkeypatch, points)
    with pytest.raises(ProblemError, match=message):
        problem_specs()


@pytest.mark.parametrize(("key", "message"), [
    ("nope", "unknown problem"),
    ("custom", "has no simulator"),
    ("broken_impl", "cannot import"),
    ("not_a_problem", "not a Problem subclass"),
])
def test_load_problem_refuses_what_it_cannot_run(monkeypatch: pytest.MonkeyPatch, key: str,
                                                 message: str) -> None:
    _use_entry_points(monkeypatch, [
        _entry_point("broken_impl", f"{HERE}:BROKEN_IMPLEMENTATION"),
        _entry_point("not_a_problem", f"{HERE}:NOT_A_PROBLEM")])
    with pytest.raises(ProblemError, match=message):
        load_problem(key)


def test_every_declared_spec_fits_the_api_schemas(monkeypatch: pytest.MonkeyPatch) -> None:
    space_schema = pytest.importorskip("service.schemas.space")
    campaign_schema = pytest.importorskip("service.schemas.campaign")
    _use_entry_points(monkeypatch, _declared_entry_points())
    for spec in problem_specs().values():
        if spec.default_space is not None:
            space_schema.Space.model_validate(spec.default_space)
        for objective in spec.default_objectives or []:
            campaign_schema.Objective.model_validate(objective)
        for constraint in spec.default_constraints:
            campaign_schema.OutcomeConstraint.model_validate(constraint)


def test_specs_and_keys_import_without_torch() -> None:
    code = ("import sys, models.space, models.space.keys, models.errors, "
            "models.problems.registry, models.problems.branin; "
            "assert 'torch' not in sys.modules, 'torch was imported'")
    result = subprocess.run([sys.executable, "-c", code], check=False, cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
