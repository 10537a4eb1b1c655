"""Pictures of a campaign: convergence, trade-off (pareto), parity, and the problem's own
picture of a design (see :mod:`service.plots`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from service.api.deps import CampaignDep, SessionDep
from service.api.routes.common import ERROR_RESPONSES
from service.enums import PlotKind
from service.jobs import publish_jobs
from service.plots.cache import campaign_plot
from service.schemas.job import JobRead

router = APIRouter(prefix="/v1/campaigns/{campaign_id}/plots", tags=["plots"],
                   responses=ERROR_RESPONSES)


@router.get("/{kind}", response_class=Response, responses={
    200: {"content": {"image/png": {}}, "description": "The picture."},
    202: {"model": JobRead, "description": "A worker is drawing it: poll the job at "
          "`Location`, then ask again."},
    409: {"description": "The last drawing of this design failed (`refresh=true` retries)."}})
def get_plot(kind: PlotKind, campaign: CampaignDep, session: SessionDep,
             suggestion_id: Annotated[uuid.UUID | None, Query(
                 description="design only: draw this suggestion (default: the best feasible "
                 "observation).")] = None,
             refresh: Annotated[bool, Query(
                 description="design only: draw again after a failed drawing.")] = False,
             ) -> Response:
    """A PNG of the campaign, cached per campaign state.

    ``convergence``: each experiment's first objective by round, infeasible ones marked, and the
    best feasible value so far. ``pareto``: the objectives (or the objective and the first
    outcome constraint) with the non-dominated front. ``parity``: predicted (mean +/- 1 sd) vs
    observed per outcome, for observed suggestions. ``design``: the problem plug-in's picture
    of one design, drawn by a worker: ``202`` with the job while it draws, the PNG once done;
    ``422`` for a problem without such a picture.
    """
    answer = campaign_plot(session, campaign, kind, suggestion_id=suggestion_id,
                           refresh=refresh)
    if answer.png is not None:
        return Response(answer.png, media_type="image/png", headers={
            "ETag": f'"{answer.state_key}"', "Cache-Control": "private, no-cache"})
    assert answer.job is not None
    body = JobRead.model_validate(answer.job).model_dump_json()
    session.commit()
    publish_jobs(answer.publish)
    return Response(body, status_code=202, media_type="application/json",
                    headers={"Location": f"/v1/jobs/{answer.job.id}"})
