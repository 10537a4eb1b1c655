"""The import document (an export, read back strictly) and the answer of an import.

``POST /v1/campaigns/import`` takes exactly what ``GET /v1/campaigns/{id}/export`` gives
(:class:`service.schemas.export.CampaignExport`), optionally with each model version's weights
in base64. The document is checked like any request body (unknown fields, NUL bytes and
non-finite numbers are refused, naming the field), and its ``schema_version`` first: a
document of a version this service does not read is refused as a whole, naming only
``schema_version``, before any other field is looked at.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import AwareDatetime, Base64Bytes, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from service.enums import SuggestionStatus
from service.schemas.base import ReadModel, StrictModel
from service.schemas.campaign import CampaignRead, CampaignSpec
from service.schemas.export import EXPORT_SCHEMA_VERSION
from service.schemas.observation import DesignValue, ObservationCreate
from service.schemas.space import Name

#: Versions of the export document this service can import.
IMPORTABLE_SCHEMA_VERSIONS: tuple[int, ...] = (EXPORT_SCHEMA_VERSION,)

Label = Annotated[str, StringConstraints(max_length=100)]


class ImportedCampaignBody(StrictModel):
    """The exported campaign: its definition and strategy bookkeeping."""

    id: uuid.UUID
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    problem: Name
    seed: int = Field(ge=0, le=2**31 - 1)
    spec: CampaignSpec
    strategy_state: dict[str, Any]
    created_at: AwareDatetime


class ImportedObservation(ObservationCreate):
    """An exported observation: the measured fields (checked by the rules of
    :class:`ObservationCreate`) plus who posted it and when, which an import keeps."""

    id: uuid.UUID
    campaign_id: uuid.UUID
    posted_by: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    created_at: AwareDatetime

    def measurement(self) -> ObservationCreate:
        """The fields a client posts, without the suggestion (checked against the space)."""
        return ObservationCreate.model_validate(
            self.model_dump(include={"parameters", "outcomes", "noise_sd", "gradients",
                                     "failed", "failure_reason"}))


class ImportedSuggestion(StrictModel):
    id: uuid.UUID
    campaign_id: uuid.UUID
    job_id: uuid.UUID | None
    parameters: dict[Name, DesignValue] = Field(min_length=1)
    status: SuggestionStatus
    strategy: Annotated[str, StringConstraints(min_length=1, max_length=50)]
    # Who asked for it (exports since suggestions remember their client).
    client_id: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    predictions: dict[str, Any]
    model_version_id: uuid.UUID | None
    created_at: AwareDatetime
    updated_at: AwareDatetime


class ImportedModelVersion(StrictModel):
    """A model version's metrics; ``weights`` (base64) only if the document carries them."""

    id: uuid.UUID
    campaign_id: uuid.UUID
    number: int = Field(ge=0)
    kind: Annotated[str, StringConstraints(min_length=1, max_length=50)]
    config: dict[str, Any]
    metrics: dict[str, Any]
    job_id: uuid.UUID | None
    created_at: AwareDatetime
    weights: Base64Bytes | None = None


class CampaignImport(StrictModel):
    """The body of ``POST /v1/campaigns/import``: an export document."""

    schema_version: int
    exported_at: AwareDatetime
    campaign: ImportedCampaignBody
    observations: list[ImportedObservation] = Field(max_length=100_000)
    suggestions: list[ImportedSuggestion] = Field(max_length=100_000)
    model_versions: list[ImportedModelVersion] = Field(max_length=10_000)

    @model_validator(mode="before")
    @classmethod
    def _readable_version(cls, data: Any) -> Any:
        # Before anything else: the other fields of an unknown version may mean other things.
        version = data.get("schema_version") if isinstance(data, dict) else None
        if version not in IMPORTABLE_SCHEMA_VERSIONS or isinstance(version, bool):
            raise PydanticCustomError(
                "schema_version",
                "unsupported schema_version {version}: this service imports {supported}",
                {"version": repr(version), "supported": list(IMPORTABLE_SCHEMA_VERSIONS),
                 "loc": ["schema_version"]})
        return data


class CampaignImported(ReadModel):
    """The answer of an import: the new campaign, and each imported id's new id."""

    campaign: CampaignRead
    source_campaign_id: uuid.UUID
    observations: dict[uuid.UUID, uuid.UUID]
    suggestions: dict[uuid.UUID, uuid.UUID]
    model_versions: dict[uuid.UUID, uuid.UUID]
