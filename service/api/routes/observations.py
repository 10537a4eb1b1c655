"""Observations: post a batch of measurements (all or nothing, optionally idempotent), list."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from service.api.deps import AuthDep, CampaignDep, PageDep, SessionDep, SettingsDep
from service.api.idempotency import IdempotencyKeyHeader, run_idempotent
from service.api.routes.common import ERROR_RESPONSES
from service.repositories import observations as observation_rows
from service.repositories.idempotency import request_hash
from service.schemas.base import Page
from service.schemas.observation import ObservationBatch, ObservationRead, ObservationsCreated

router = APIRouter(prefix="/v1/campaigns/{campaign_id}/observations", tags=["observations"],
                   responses=ERROR_RESPONSES)


@router.post("", status_code=201, response_model=ObservationsCreated, responses={
    409: {"description": "The Idempotency-Key's first request is still in flight, or a "
          "suggestion answered here is no longer pending."}})
def post_observations(body: ObservationBatch, campaign: CampaignDep, caller: AuthDep,
                      session: SessionDep, settings: SettingsDep, request: Request,
                      idempotency_key: IdempotencyKeyHeader = None) -> Response:
    """Store one or many measurements. The batch is checked as a whole first: one bad row and
    nothing is stored. Observations answering a pending suggestion mark it observed."""

    def effects() -> tuple[int, dict[str, Any]]:
        rows = observation_rows.add_observations(session, campaign, body,
                                                 posted_by=caller.label)
        created = ObservationsCreated(
            observations=[ObservationRead.model_validate(r) for r in rows])
        return 201, created.model_dump(mode="json")

    # The parsed body, canonicalised: formatting and key order do not make two bodies differ.
    digest = request_hash("POST", request.url.path, body.model_dump_json().encode())
    return run_idempotent(session, settings, project_id=caller.project_id,
                          key=idempotency_key, digest=digest, effects=effects)


@router.get("")
def list_observations(campaign: CampaignDep, session: SessionDep,
                      page: PageDep) -> Page[ObservationRead]:
    rows, next_cursor = observation_rows.list_observations(session, campaign.id,
                                                           limit=page.limit, cursor=page.cursor)
    return Page[ObservationRead](items=[ObservationRead.model_validate(r) for r in rows],
                                 next_cursor=next_cursor)
