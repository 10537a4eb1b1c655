"""``GET /v1/campaigns/{id}/plots/{kind}``: PNGs for every built-in problem, the cache, the
``design`` picture drawn by a (here in-process) plot job, and the errors."""

from __future__ import annotations

import dataclasses
import io
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from models.design.rounds import RoundRequest
from models.design.space_filling_round import space_filling_round
from models.problems import registry
from models.problems.registry import problem_specs
from models.space.space import Space
from service.config import Settings
from service.db.engine import session_scope
from service.db.tables import Campaign, ModelVersion, PlotImage
from service.enums import JobKind
from service.plots.figure import PNG_SIGNATURE, new_figure, to_png
from service.repositories.suggestions import store_suggestions
from tests.conftest import settings_env
from tests.integration.api.helpers import assert_error
from workers.handlers import plot
from workers.runtime import Outcome, run_job

#: Built-in problems whose campaign needs nothing but its problem key.
PROBLEMS = sorted(key for key, spec in problem_specs().items()
                  if key != "custom" and (spec.default_space is not None
                                          or spec.default_space_factory is not None))
#: Built-in problems that draw designs themselves.
DESIGN_PROBLEMS = [key for key in PROBLEMS if problem_specs()[key].design_plot is not None]
LIGHT_KINDS = ("convergence", "pareto", "parity")


def _png_shape(png: bytes) -> tuple[int, ...]:
    import matplotlib.image

    assert png.startswith(PNG_SIGNATURE)
    return tuple(matplotlib.image.imread(io.BytesIO(png), format="png").shape)


def _outcomes(campaign: dict[str, Any], i: int) -> dict[str, float]:
    """Made-up measurements: objectives vary with ``i``; every third design breaks the
    first constraint."""
    spec = campaign["spec"]
    values = {o["name"]: 1.0 + ((7 * i + 3 * k) % 11) / 4.0
              for k, o in enumerate(spec["objectives"])}
    for c in spec["constraints"]:
        margin = -1.0 if i % 3 else 1.0
        values[c["name"]] = c["threshold"] + (margin if c["op"] == "<=" else -margin)
    return values


def _designs(campaign: dict[str, Any], count: int) -> list[dict[str, Any]]:
    spec = campaign["spec"]
    request = RoundRequest(space=Space.from_dict(spec["space"]), observations=[], pending=[],
                           taken=frozenset(), objectives=spec["objectives"],
                           constraints=spec["constraints"], count=count, seed=3)
    return [d.parameters for d in space_filling_round(request, count=count).designs]


def _lived_in(client: TestClient, headers: dict[str, str], problem: str) -> dict[str, Any]:
    """A campaign of ``problem`` with free observations, a failure, and two suggestions that
    carry predictions and were observed."""
    campaign = client.post("/v1/campaigns", headers=headers,
                           json={"name": f"plots-{problem}", "problem": problem}).json()
    designs = _designs(campaign, 8)
    url = f"/v1/campaigns/{campaign['id']}/observations"
    free: list[dict[str, Any]] = [{"parameters": d, "outcomes": _outcomes(campaign, i)}
            for i, d in enumerate(designs[:5])]
    free.append({"parameters": designs[5], "failed": True, "failure_reason": "spilled"})
    assert client.post(url, headers=headers, json={"observations": free}).status_code == 201
    names = [o["name"] for o in campaign["spec"]["objectives"]] + [
        c["name"] for c in campaign["spec"]["constraints"]]
    with session_scope() as session:
        row = session.get(Campaign, uuid.UUID(campaign["id"]))
        assert row is not None
        made = store_suggestions(
            session, row, designs[6:], job_id=None, strategy="bayesian",
            read_version=row.suggestions_version, strategy_state={},
            predictions=[{"mean": {n: 1.5 + i for n in names}, "sd": {n: 0.2 for n in names}}
                         for i in range(2)])
        suggestion_ids = [str(s.id) for s in made]
    answered = [{"suggestion_id": sid, "parameters": d, "outcomes": _outcomes(campaign, 9 + i)}
                for i, (sid, d) in enumerate(zip(suggestion_ids, designs[6:], strict=True))]
    assert client.post(url, headers=headers, json={"observations": answered}).status_code == 201
    return campaign


@pytest.mark.parametrize("problem", PROBLEMS)
@pytest.mark.parametrize("kind", LIGHT_KINDS)
def test_each_light_picture_is_a_png(client: TestClient, headers: dict[str, str],
                                     problem: str, kind: str) -> None:
    campaign = _lived_in(client, headers, problem)
    response = client.get(f"/v1/campaigns/{campaign['id']}/plots/{kind}", headers=headers)
    outcomes = len(campaign["spec"]["objectives"]) + len(campaign["spec"]["constraints"])
    if kind == "pareto" and outcomes < 2:  # one outcome has no trade-off to draw
        assert_error(response, 422, "kind")
        return
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    height, width, _ = _png_shape(response.content)
    assert height >= 300 and width >= 400


def test_pictures_are_cached_per_campaign_state(client: TestClient,
                                                headers: dict[str, str]) -> None:
    campaign = _lived_in(client, headers, "branin")
    url = f"/v1/campaigns/{campaign['id']}/plots/convergence"
    first = client.get(url, headers=headers)
    again = client.get(url, headers=headers)
    assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
    design = _designs(campaign, 9)[8]
    client.post(f"/v1/campaigns/{campaign['id']}/observations", headers=headers, json={
        "observations": [{"parameters": design, "outcomes": _outcomes(campaign, 1)}]})
    changed = client.get(url, headers=headers)
    assert changed.headers["etag"] != first.headers["etag"]
    assert changed.content != first.content  # one more point drawn
    with session_scope() as session:  # the older picture of the kind was replaced
        assert session.scalar(select(func.count()).select_from(PlotImage)) == 1


def test_an_empty_campaign_gets_a_picture_that_says_so(client: TestClient,
                                                       headers: dict[str, str]) -> None:
    campaign = client.post("/v1/campaigns", headers=headers,
                           json={"name": "empty", "problem": "branin"}).json()
    for kind in LIGHT_KINDS:
        response = client.get(f"/v1/campaigns/{campaign['id']}/plots/{kind}", headers=headers)
        assert response.status_code == 200 and _png_shape(response.content)


def test_errors_name_the_problem(client: TestClient, headers: dict[str, str],
                                 other_headers: dict[str, str],
                                 campaign: dict[str, Any]) -> None:
    url = f"/v1/campaigns/{campaign['id']}/plots"
    assert_error(client.get(f"{url}/histogram", headers=headers), 422, "kind")
    # the custom fixture campaign: one objective and a constraint, so pareto works; design not
    assert client.get(f"{url}/pareto", headers=headers).status_code == 200
    error = assert_error(client.get(f"{url}/design", headers=headers), 422, "kind")
    assert "no design picture" in error["message"]
    assert_error(client.get(f"{url}/convergence", headers=other_headers), 404)
    assert_error(client.get(f"{url}/convergence?suggestion_id={uuid.uuid4()}",
                            headers=headers), 422, "suggestion_id")
    single = client.post("/v1/campaigns", headers=headers, json={
        "name": "one", "space": campaign["spec"]["space"],
        "objectives": [{"name": "y", "goal": "minimize"}]}).json()
    assert_error(client.get(f"/v1/campaigns/{single['id']}/plots/pareto", headers=headers),
                 422, "kind")


def draw_design(problem: Any, parameters: dict[str, Any]) -> bytes:
    """A test plug-in's ``design_plot``: the design as a point (checks it got the problem)."""
    assert type(problem).__name__ == "BraninProblem"
    figure = new_figure(3, 3)
    figure.add_subplot().scatter([parameters["x1"]], [parameters["x2"]])
    return to_png(figure)


def broken_design(problem: Any, parameters: dict[str, Any]) -> bytes:
    raise RuntimeError("the plug-in's picture broke")


@pytest.fixture
def branin_with_picture(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``branin`` with a design picture of its own (this test module's ``draw_design``)."""
    specs = dict(problem_specs())

    def use(function: str) -> None:
        specs["branin"] = dataclasses.replace(
            problem_specs()["branin"], design_plot=f"tests.integration.api.test_plots:{function}")
        monkeypatch.setattr(registry, "problem_specs", lambda: specs)

    return use


def test_a_design_picture_is_drawn_by_a_plot_job(
        client: TestClient, headers: dict[str, str], branin_with_picture: Any,
        published: list[tuple[uuid.UUID, JobKind, str]]) -> None:
    branin_with_picture("draw_design")
    campaign = _lived_in(client, headers, "branin")
    url = f"/v1/campaigns/{campaign['id']}/plots/design"
    queued = client.get(url, headers=headers)
    assert queued.status_code == 202, queued.text
    job = queued.json()
    assert job["kind"] == "plot" and queued.headers["Location"] == f"/v1/jobs/{job['id']}"
    assert published[-1] == (uuid.UUID(job["id"]), JobKind.plot, "cpu")
    assert client.get(url, headers=headers).json()["id"] == job["id"]  # no second job

    assert run_job(job["id"], plot.handle, kind=JobKind.plot) == Outcome.succeeded
    drawn = client.get(url, headers=headers)
    assert drawn.status_code == 200 and drawn.headers["content-type"] == "image/png"
    assert _png_shape(drawn.content)[0] == 300

    suggestion = client.get(f"/v1/campaigns/{campaign['id']}/suggestions",
                            headers=headers).json()["items"][0]
    chosen = client.get(f"{url}?suggestion_id={suggestion['id']}", headers=headers)
    assert chosen.status_code == 202 and chosen.json()["id"] != job["id"]


def test_a_failed_drawing_is_reported_until_refreshed(
        client: TestClient, headers: dict[str, str], branin_with_picture: Any) -> None:
    branin_with_picture("broken_design")
    campaign = _lived_in(client, headers, "branin")
    url = f"/v1/campaigns/{campaign['id']}/plots/design"
    job = client.get(url, headers=headers).json()
    assert run_job(job["id"], plot.handle, kind=JobKind.plot) == Outcome.failed
    error = assert_error(client.get(url, headers=headers), 409)
    assert "picture broke" in error["message"] and error["details"]["job_id"] == job["id"]
    retried = client.get(f"{url}?refresh=true", headers=headers)
    assert retried.status_code == 202 and retried.json()["id"] != job["id"]


def test_a_design_needs_a_feasible_observation_or_a_suggestion(
        client: TestClient, headers: dict[str, str], branin_with_picture: Any) -> None:
    branin_with_picture("draw_design")
    campaign = client.post("/v1/campaigns", headers=headers,
                           json={"name": "new", "problem": "branin"}).json()
    url = f"/v1/campaigns/{campaign['id']}/plots/design"
    assert_error(client.get(url, headers=headers), 422, "suggestion_id")
    assert_error(client.get(f"{url}?suggestion_id={uuid.uuid4()}", headers=headers), 404)


@pytest.mark.parametrize("problem", DESIGN_PROBLEMS)
def test_each_problem_draws_its_own_design(client: TestClient, headers: dict[str, str],
                                           problem: str) -> None:
    campaign = _lived_in(client, headers, problem)
    url = f"/v1/campaigns/{campaign['id']}/plots/design"
    job = client.get(url, headers=headers).json()
    assert run_job(job["id"], plot.handle, kind=JobKind.plot) == Outcome.succeeded
    drawn = client.get(url, headers=headers)
    assert drawn.status_code == 200 and _png_shape(drawn.content)[0] > 100


NO_TORCH = """
import os, sys
from fastapi.testclient import TestClient
from service.api.app import create_app

auth = {"Authorization": "Bearer " + os.environ["API_KEY"]}
with TestClient(create_app()) as client:
    created = client.post("/v1/campaigns", json={"name": "b", "problem": "branin"}, headers=auth)
    url = "/v1/campaigns/" + created.json()["id"]
    assert client.post(url + "/observations", headers=auth, json={"observations": [
        {"parameters": {"x1": 1.0, "x2": 2.0}, "outcomes": {"value": 3.0, "constraint": -1.0}}]}
                       ).status_code == 201
    for kind in ("convergence", "pareto", "parity"):
        response = client.get(url + "/plots/" + kind, headers=auth)
        assert response.status_code == 200, response.text
    assert client.get(url + "/plots/design", headers=auth).status_code in (202, 422)
    assert client.post("/v1/reprocess", headers=auth, json={"all": True}).status_code == 202
print("TORCH LOADED" if "torch" in sys.modules else "NO TORCH")
"""


def test_the_api_draws_without_torch(settings: Settings, project_key: tuple[uuid.UUID, str],
                                     tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, **settings_env(settings), "API_KEY": project_key[1],
           "DESIGNLOOP_HOME": str(tmp_path), "DESIGNLOOP_BROKER_URL": "filesystem://"}
    result = subprocess.run([sys.executable, "-c", NO_TORCH], cwd=root, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "NO TORCH", result.stdout


def test_the_training_picture_follows_the_latest_model_with_curves(
        client: TestClient, headers: dict[str, str]) -> None:
    campaign = client.post("/v1/campaigns", headers=headers,
                           json={"name": "pinn", "problem": "branin"}).json()
    url = f"/v1/campaigns/{campaign['id']}/plots/training"
    empty = client.get(url, headers=headers)
    assert empty.status_code == 200 and empty.content.startswith(b"\x89PNG")
    with session_scope() as session:
        session.add(ModelVersion(campaign_id=uuid.UUID(campaign["id"]), number=1, kind="pinn",
                                 config={}, metrics={"loss_curves": [
                                     {"epoch": e, "pde": 1.0 / (e + 1), "bc": 0.1}
                                     for e in range(0, 100, 10)]}))
    drawn = client.get(url, headers=headers)
    assert drawn.status_code == 200 and drawn.content != empty.content
    assert drawn.headers["etag"] != empty.headers["etag"]
