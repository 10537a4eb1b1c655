"""Data in and out in bulk: import a campaign from its export; observations as CSV.

Both uploads are all or nothing and honour an ``Idempotency-Key`` like posted observations
(:mod:`service.api.idempotency`): a retried upload replays the first answer and stores nothing
more.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from service.api.deps import AuthDep, CampaignDep, SessionDep, SettingsDep
from service.api.idempotency import IdempotencyKeyHeader, run_idempotent
from service.api.routes.campaigns import read_with_summary
from service.api.routes.common import ERROR_RESPONSES
from service.errors import InvalidInput
from service.observations_csv import write_csv
from service.repositories import imports as import_rows
from service.repositories import observations as observation_rows
from service.repositories.campaigns import campaign_spec
from service.repositories.idempotency import request_hash
from service.schemas.imports import CampaignImport, CampaignImported
from service.schemas.observation import ObservationRead, ObservationsCreated

router = APIRouter(tags=["import and export"], responses=ERROR_RESPONSES)

_IDEMPOTENCY_409: dict[int | str, dict[str, Any]] = {409: {"description": "The Idempotency-Key's first request is still in "
                          "flight."}}
_NOT_CSV = ("application/json", "multipart/form-data", "application/x-www-form-urlencoded")


@router.post("/v1/campaigns/import", status_code=201, response_model=CampaignImported,
             responses=_IDEMPOTENCY_409)
def import_campaign(body: CampaignImport, caller: AuthDep, session: SessionDep,
                    settings: SettingsDep, request: Request,
                    idempotency_key: IdempotencyKeyHeader = None) -> Response:
    """Recreate a campaign from its export document (``GET /v1/campaigns/{id}/export``) in
    the caller's project, under new ids: definition, seed, strategy state, observations (who
    posted them and when), suggestions (with their status), model version metrics. The answer
    maps every imported id to its new one. One bad item and nothing is stored."""

    def effects() -> tuple[int, dict[str, Any]]:
        campaign, ids = import_rows.import_campaign(session, caller.project_id, body)
        result = CampaignImported(campaign=read_with_summary(session, campaign),
                                  source_campaign_id=body.campaign.id, **ids)
        return 201, result.model_dump(mode="json")

    digest = request_hash("POST", request.url.path, body.model_dump_json().encode())
    response = run_idempotent(session, settings, project_id=caller.project_id,
                              key=idempotency_key, digest=digest, effects=effects)
    if response.status_code == 201:
        response.headers["Location"] = f"/v1/campaigns/{_new_campaign_id(response)}"
    return response


def _new_campaign_id(response: Response) -> str:
    return str(json.loads(bytes(response.body))["campaign"]["id"])


@router.get("/v1/campaigns/{campaign_id}/observations.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}},
                             "description": "One row per observation, header first."}})
def export_observations_csv(campaign: CampaignDep, session: SessionDep) -> Response:
    """The campaign's observations as CSV, oldest first: parameters, outcomes, ``<outcome>_sd``,
    ``failed``, ``failure_reason``, ``suggestion_id``, ``posted_by``, ``created_at``."""
    text = write_csv(campaign_spec(campaign),
                     observation_rows.all_observations(session, campaign.id))
    return Response(text, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="observations-{campaign.id}.csv"'})


async def _raw_body(request: Request) -> bytes:
    return await request.body()


@router.post("/v1/campaigns/{campaign_id}/observations.csv", status_code=201,
             response_model=ObservationsCreated, responses=_IDEMPOTENCY_409,
             openapi_extra={"requestBody": {"required": True, "content": {
                 "text/csv": {"schema": {"type": "string"}}}}})
def import_observations_csv(
        campaign: CampaignDep, caller: AuthDep, session: SessionDep, settings: SettingsDep,
        request: Request, raw: Annotated[bytes, Depends(_raw_body)],
        suggestion_ids: Annotated[Literal["link", "ignore"], Query(
            description="`link`: a row's `suggestion_id` marks that pending suggestion "
            "observed; `ignore`: the column is not read (e.g. rows from another campaign).")]
        = "link",
        idempotency_key: IdempotencyKeyHeader = None) -> Response:
    """Store the observations of a CSV body (the columns of the export; ``posted_by`` and
    ``created_at`` are ignored). Every row is checked: when any is bad, nothing is stored and
    the 422 lists each problem with its ``row`` (the header is row 1) and ``column``."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in _NOT_CSV:
        raise InvalidInput(f"send the CSV text itself as the body (Content-Type: text/csv), "
                           f"not {content_type}", field=["header", "Content-Type"])
    try:
        text = raw.decode("utf-8-sig")  # a spreadsheet's byte-order mark is not a column name
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"the CSV is not UTF-8 text (byte {exc.start})",
                           field=["body"]) from exc

    def effects() -> tuple[int, dict[str, Any]]:
        rows = import_rows.import_observations_csv(
            session, campaign, text, posted_by=caller.label,
            link_suggestions=suggestion_ids == "link")
        created = ObservationsCreated(
            observations=[ObservationRead.model_validate(r) for r in rows])
        return 201, created.model_dump(mode="json")

    digest = request_hash("POST", f"{request.url.path}?suggestion_ids={suggestion_ids}", raw)
    return run_idempotent(session, settings, project_id=caller.project_id,
                          key=idempotency_key, digest=digest, effects=effects)
