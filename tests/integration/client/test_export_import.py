"""Export -> import -> export: the same campaign, under new ids; all or nothing; versions."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from models.space.keys import design_key
from service.cli.main import app
from service.client import Campaign, Client, ValidationError
from service.db.engine import session_scope
from service.db.tables import Campaign as CampaignRow
from service.db.tables import ModelVersion, Suggestion
from service.enums import SuggestionStatus
from service.schemas.export import CampaignExport
from service.schemas.imports import CampaignImported
from tests.integration.api.helpers import CAMPAIGN, DESIGN, add_suggestions
from tests.integration.client.conftest import FAST_RETRIES, ApiServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

ID_FIELDS = ("id", "campaign_id", "suggestion_id", "model_version_id")


def _measure(parameters: dict[str, Any]) -> dict[str, float]:
    """An in-silico lab for the custom space of :data:`CAMPAIGN`."""
    return {"yield": parameters["temperature"] / 90.0 - 0.1 * parameters["cycles"]
            + 0.3 * parameters["a"], "toxicity": 0.5 * parameters["b"]}


def _lived_in(client: Client) -> Campaign:
    """A campaign with a history of every kind: observed, failed, abandoned and pending
    suggestions, an observation answering none (with gradients), noise, and a model version
    that a suggestion names."""
    campaign = client.create_campaign(CAMPAIGN)
    first = campaign.suggest(4)
    campaign.observe([first[0].result(_measure(first[0].parameters),
                                      noise_sd={"yield": 0.01, "toxicity": 0.0}),
                      first[1].result(failed=True, failure_reason="precipitated")])
    first[2].abandon()
    campaign.observe(parameters={"temperature": 33.3, "cycles": 2, "solvent": "ethanol",
                                 "a": 0.1, "b": 0.1, "c": 0.8},
                     outcomes={"yield": 1e-7, "toxicity": 0.25},
                     gradients={"yield": {"temperature": 0.011}})
    second = campaign.suggest(2)
    with session_scope() as session:
        session.add(ModelVersion(campaign_id=campaign.id, number=1, kind="gp",
                                 config={"kernel": "matern52", "ard": True},
                                 metrics={"cv_rmse": {"yield": 0.12}, "calibration": None}))
        session.flush()
        version = session.scalar(select(ModelVersion.id))
        session.execute(update(Suggestion).where(Suggestion.id == second[0].id)
                        .values(model_version_id=version))
    return campaign


def _normalised(doc: CampaignExport, ids: CampaignImported, new: CampaignExport
                ) -> dict[str, Any]:
    """``doc`` as its import should export: every id through the import's mapping, no jobs
    (jobs are not exported), and the new campaign's own creation and export times."""
    mapping = {str(k): str(v) for table in (ids.observations, ids.suggestions,
                                            ids.model_versions) for k, v in table.items()}
    mapping[str(ids.source_campaign_id)] = str(ids.campaign.id)

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: (mapping[v] if k in ID_FIELDS and v is not None else
                        None if k == "job_id" else walk(v)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    out = walk(doc.model_dump(mode="json"))
    out["exported_at"] = new.model_dump(mode="json")["exported_at"]
    out["campaign"]["created_at"] = new.model_dump(mode="json")["campaign"]["created_at"]
    return out


def test_round_trip_into_another_project(api_server: ApiServer, client: Client,
                                         other_key: str, worker: object) -> None:
    source = _lived_in(client)
    doc = source.export()
    statuses = sorted(s.status.value for s in doc.suggestions)
    assert statuses == ["abandoned", "observed", "observed", "pending", "pending", "pending"]
    assert [o.gradients for o in doc.observations if o.gradients] == [
        {"yield": {"temperature": 0.011}}]

    with Client(api_server.url, other_key, retries=FAST_RETRIES) as other:
        imported = other.import_campaign(doc)
        copy = imported.campaign
        again = copy.export()
        assert [c.id for c in other.campaigns()] == [copy.id]
        # The copy goes on from where the original was: new designs, never the old ones.
        more = copy.suggest(3)
    assert [c.id for c in client.campaigns()] == [source.id]

    ids = imported.ids
    assert ids.source_campaign_id == source.id and copy.id != source.id
    old = {o.id for o in doc.observations} | {s.id for s in doc.suggestions} | {
        m.id for m in doc.model_versions}
    new = {*ids.observations.values(), *ids.suggestions.values(),
           *ids.model_versions.values()}
    assert set(ids.observations) | set(ids.suggestions) | set(ids.model_versions) == old
    assert len(new) == len(old) and not new & old

    assert again.model_dump(mode="json") == _normalised(doc, ids, again)

    summary = copy.summary
    assert summary is not None and summary.observations == 3
    assert summary.pending_suggestions == 3 and summary.failed_observations == 1
    taken = {design_key(s.parameters) for s in doc.suggestions if s.status != "abandoned"}
    assert not {design_key(s.parameters) for s in more} & taken


def test_unknown_schema_version_is_refused_naming_it(client: Client) -> None:
    doc = client.create_campaign(CAMPAIGN).export().model_dump(mode="json")
    for version in (2, None, "1", True):
        with pytest.raises(ValidationError) as caught:
            client.import_campaign({**doc, "schema_version": version})
        assert caught.value.field == "schema_version", caught.value.errors
        assert len(caught.value.errors) == 1
    assert _campaigns() == 1


def test_an_import_is_all_or_nothing(client: Client) -> None:
    source = client.create_campaign(CAMPAIGN)
    source.observe([{"parameters": {"temperature": t, "cycles": 1, "solvent": "water",
                                    "a": 0.5, "b": 0.5, "c": 0.0},
                     "outcomes": {"yield": 0.1, "toxicity": 0.1}} for t in (30.0, 40.0)])
    doc = source.export().model_dump(mode="json")

    bad = {**doc, "observations": [doc["observations"][0],
                                   {**doc["observations"][1], "parameters": {
                                       **doc["observations"][1]["parameters"], "cycles": 99}}]}
    with pytest.raises(ValidationError) as caught:
        client.import_campaign(bad)
    assert caught.value.field == "observations.1.parameters.cycles"

    dangling = {**doc, "observations": [{**doc["observations"][0],
                                         "suggestion_id": str(uuid.uuid4())}]}
    with pytest.raises(ValidationError) as caught:
        client.import_campaign(dangling)
    assert caught.value.field == "observations.0.suggestion_id"

    unknown = {**doc, "campaign": {**doc["campaign"], "problem": "no_such_problem"}}
    with pytest.raises(ValidationError) as caught:
        client.import_campaign(unknown)
    assert caught.value.field == "campaign.problem"
    assert _campaigns() == 1  # none of the three left anything behind


def test_an_import_is_idempotent(client: Client) -> None:
    doc = client.create_campaign(CAMPAIGN).export()
    first = client.import_campaign(doc, idempotency_key="move-42")
    again = client.import_campaign(doc, idempotency_key="move-42")
    assert again.campaign.id == first.campaign.id
    assert _campaigns() == 2


def _campaigns() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(CampaignRow)) or 0


@pytest.fixture
def other_key(db: str) -> str:
    from service.repositories.projects import create_api_key, create_project

    with session_scope() as session:
        project = create_project(session, f"elsewhere-{uuid.uuid4().hex[:8]}")
        return create_api_key(session, project.id)[1]


def test_pending_suggestions_stay_pending(client: Client) -> None:
    """A lab can answer an imported pending suggestion like any other."""
    source = client.create_campaign(CAMPAIGN)
    add_suggestions(str(source.id), [DESIGN])
    imported = client.import_campaign(source.export())
    (pending,) = imported.campaign.pending()
    assert pending.id == imported.ids.suggestions[source.pending()[0].id]
    pending.observe({"yield": 0.4, "toxicity": 0.2})
    assert imported.campaign.pending() == []
    assert [s.status for s in source.suggestions()] == [SuggestionStatus.pending]


def test_designloop_lab_export_and_import(api_server: ApiServer, client: Client,
                                          api_key: str, other_key: str,
                                          tmp_path: Path) -> None:
    """The command line's round trip: ``lab export`` to a file, ``lab import`` of it into
    another project, which then holds the same history under new ids."""
    source = client.create_campaign(CAMPAIGN)
    add_suggestions(str(source.id), [DESIGN])
    source.observe(parameters={"temperature": 33.3, "cycles": 2, "solvent": "ethanol",
                               "a": 0.1, "b": 0.1, "c": 0.8},
                   outcomes={"yield": 0.5, "toxicity": 0.25})
    document = tmp_path / "campaign.json"
    exported = CliRunner().invoke(app, ["lab", "export", str(source.id), str(document),
                                        "--url", api_server.url, "--key", api_key])
    assert exported.exit_code == 0, exported.output
    doc = CampaignExport.model_validate_json(document.read_text())
    assert doc.campaign.id == source.id and len(doc.observations) == 1

    imported = CliRunner().invoke(app, ["lab", "import", str(document),
                                        "--url", api_server.url, "--key", other_key])
    assert imported.exit_code == 0, imported.output
    assert f"imported campaign {source.id}" in imported.output
    assert "1 observations, 1 suggestions" in imported.output
    copy_id = uuid.UUID(imported.output.strip().splitlines()[-1])
    with Client(api_server.url, other_key, retries=FAST_RETRIES) as other:
        copy = other.campaign(copy_id)
        assert [c.id for c in other.campaigns()] == [copy_id] and copy_id != source.id
        again = copy.export()
    assert [o.outcomes for o in again.observations] == [o.outcomes for o in doc.observations]
    assert [s.parameters for s in again.suggestions] == [s.parameters for s in doc.suggestions]

    missing = CliRunner().invoke(app, ["lab", "import", str(tmp_path / "none.json"),
                                       "--url", api_server.url, "--key", other_key])
    assert missing.exit_code != 0
