"""The export document: a whole campaign as one JSON value, enough to import it elsewhere.

``campaign.spec`` plus ``campaign.name``, ``problem`` and ``seed`` form a valid
``CampaignCreate`` body, and each observation's measured fields form a valid
``ObservationCreate``: re-creating a campaign from its export needs nothing else.
``schema_version`` changes whenever a field changes meaning, so an importer can refuse (or
convert) documents it does not understand.

Model weights travel only when asked for (``?weights=true``): each model version then carries
``weights``, its stored bytes in standard base64 (``null`` for a version without weights), which
``POST /v1/campaigns/import`` restores byte for byte.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from typing import Any, Literal

from service.schemas.base import ReadModel
from service.schemas.campaign import CampaignSpec
from service.schemas.model_version import ModelVersionRead
from service.schemas.observation import ObservationRead
from service.schemas.suggestion import SuggestionRead

EXPORT_SCHEMA_VERSION: Literal[1] = 1


class ExportedCampaign(ReadModel):
    id: uuid.UUID
    name: str
    problem: str
    seed: int
    spec: CampaignSpec
    # Strategy bookkeeping (e.g. the position in the Sobol stream), so an import continues the
    # design sequence instead of repeating it.
    strategy_state: dict[str, Any]
    created_at: dt.datetime


class ExportedModelVersion(ModelVersionRead):
    """A model version as exported: its metrics, and its weights (base64) when requested."""

    weights: str | None = None

    @classmethod
    def from_row(cls, row: Any, *, weights: bool) -> ExportedModelVersion:
        """From a ``model_versions`` row; with ``weights``, its stored bytes in base64 (the
        deferred column is only loaded then)."""
        exported = cls(**ModelVersionRead.model_validate(row).model_dump())
        if weights and row.weights is not None:
            exported.weights = base64.b64encode(bytes(row.weights)).decode("ascii")
        return exported


class CampaignExport(ReadModel):
    schema_version: Literal[1] = EXPORT_SCHEMA_VERSION
    exported_at: dt.datetime
    campaign: ExportedCampaign
    observations: list[ObservationRead]
    suggestions: list[SuggestionRead]
    model_versions: list[ExportedModelVersion]
