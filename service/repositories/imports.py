"""Data coming in whole: a campaign from its export document, observations from a CSV.

Both are all or nothing within the caller's transaction (these functions flush, the caller
commits). Both check observations with :func:`service.repositories.observations
.add_observations` itself, so an imported row obeys exactly the rules of a posted one: where
the rows must be written differently (an import keeps who posted each observation and when),
:func:`check_observations` runs that function inside a savepoint that is always rolled back.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.orm import Session

from models.space.keys import design_key
from service.db.tables import Campaign, ModelVersion, Observation, Suggestion
from service.enums import SuggestionStatus
from service.errors import Conflict, DesignloopError, InvalidInput
from service.observations_csv import (
    MAX_ROWS,
    CsvRow,
    CsvRowsInvalid,
    RowError,
    batch_error_column,
    read_csv,
)
from service.repositories import campaigns as campaign_rows
from service.repositories.observations import add_observations
from service.schemas.campaign import CampaignCreate
from service.schemas.imports import (
    CampaignImport,
    ImportedModelVersion,
    ImportedObservation,
    ImportedSuggestion,
)
from service.schemas.observation import ObservationBatch, ObservationCreate
from service.schemas.space import design_errors

IdMap = dict[uuid.UUID, uuid.UUID]
MAX_BATCH = MAX_ROWS  # observations checked at once: the most one ObservationBatch holds


def check_observations(session: Session, campaign: Campaign,
                       observations: Sequence[ObservationCreate]) -> DesignloopError | None:
    """What :func:`add_observations` would refuse in this batch (the first problem it meets),
    or ``None``; nothing is stored either way."""
    savepoint = session.begin_nested()
    try:
        add_observations(session, campaign, ObservationBatch(observations=list(observations)),
                         posted_by="check")
    except (InvalidInput, Conflict) as exc:
        return exc
    finally:
        savepoint.rollback()
    return None


def error_loc(error: DesignloopError) -> list[Any]:
    """Where in the request an error of :func:`add_observations` points."""
    if isinstance(error, InvalidInput):
        field = error.field
        return list(field) if isinstance(field, list) else ([field] if field else [])
    details = error.details if isinstance(error.details, dict) else {}
    return list(details.get("loc") or [])


# --- campaigns ----------------------------------------------------------------------------


def import_campaign(session: Session, project_id: uuid.UUID, doc: CampaignImport
                    ) -> tuple[Campaign, dict[str, IdMap]]:
    """Recreate the document's campaign in ``project_id``, under new ids.

    Kept: the definition, seed and strategy state (so the design sequence continues where it
    was), every observation with who posted it and when, every suggestion with its status
    (pending ones stay pending), every model version's metrics (and weights, when given).
    Jobs are not part of a document: imported suggestions and model versions name none.
    New ids are issued in the order of the old ones, so lists read back in the same order.

    Returns:
        The campaign, and the new id of every imported id by kind (``"observations"``,
        ``"suggestions"``, ``"model_versions"``).

    Raises:
        InvalidInput: the document is inconsistent (an id named twice or unknown, a design
            outside the space, a pending design twice, ...), naming the field.
    """
    _check_references(doc)
    spec = doc.campaign.spec
    try:
        campaign = campaign_rows.create_campaign(session, project_id, CampaignCreate(
            name=doc.campaign.name, problem=doc.campaign.problem, space=spec.space,
            objectives=spec.objectives, constraints=spec.constraints, strategy=spec.strategy,
            evaluator=spec.evaluator, seed=doc.campaign.seed, metadata=spec.metadata))
    except InvalidInput as exc:
        raise InvalidInput(exc.message, field=["campaign", *error_loc(exc)]) from exc
    campaign.strategy_state = dict(doc.campaign.strategy_state)

    measurements = [o.measurement() for o in doc.observations]
    for start in range(0, len(measurements), MAX_BATCH):
        problem = check_observations(session, campaign, measurements[start:start + MAX_BATCH])
        if problem is not None:
            loc = error_loc(problem)
            if len(loc) > 1 and isinstance(loc[1], int):
                loc[1] += start
            raise InvalidInput(problem.message, field=loc)

    ids: dict[str, IdMap] = {
        "model_versions": _new_ids([(m.number, m.id) for m in doc.model_versions]),
        "suggestions": _new_ids([(s.created_at, s.id) for s in doc.suggestions]),
        "observations": _new_ids([(o.created_at, o.id) for o in doc.observations]),
    }
    session.add_all(ModelVersion(
        id=ids["model_versions"][m.id], campaign_id=campaign.id, number=m.number, kind=m.kind,
        config=m.config, metrics=m.metrics, weights=m.weights, job_id=None,
        created_at=m.created_at) for m in doc.model_versions)
    session.flush()
    pending: dict[str, int] = {}
    for i, s in enumerate(doc.suggestions):
        for path, message in design_errors(spec.space, s.parameters):
            raise InvalidInput(f"parameters.{'.'.join(path)}: {message}",
                               field=["suggestions", i, "parameters", *path])
        key = design_key(s.parameters)
        if s.status == SuggestionStatus.pending:
            if key in pending:
                raise InvalidInput(f"the same design is pending twice (suggestions "
                                   f"{pending[key]} and {i})", field=["suggestions", i])
            pending[key] = i
        session.add(Suggestion(
            id=ids["suggestions"][s.id], campaign_id=campaign.id, job_id=None,
            parameters=s.parameters, design_key=key, status=s.status, strategy=s.strategy,
            client_id=s.client_id, predictions=s.predictions, created_at=s.created_at, updated_at=s.updated_at,
            model_version_id=(ids["model_versions"][s.model_version_id]
                              if s.model_version_id else None)))
    session.flush()
    session.add_all(Observation(
        id=ids["observations"][o.id], campaign_id=campaign.id,
        suggestion_id=ids["suggestions"][o.suggestion_id] if o.suggestion_id else None,
        parameters=o.parameters, outcomes=o.outcomes, noise_sd=o.noise_sd,
        gradients=o.gradients, failed=o.failed,
        failure_reason=o.failure_reason, posted_by=o.posted_by, created_at=o.created_at)
        for o in doc.observations)
    session.flush()
    return campaign, ids


def _check_references(doc: CampaignImport) -> None:
    """Every id is named once, and every reference points into the document."""
    source = doc.campaign.id
    known: dict[str, set[uuid.UUID]] = {}
    groups: tuple[tuple[str, Sequence[ImportedModelVersion | ImportedSuggestion
                                      | ImportedObservation]], ...] = (
        ("model_versions", doc.model_versions), ("suggestions", doc.suggestions),
        ("observations", doc.observations))
    for kind, items in groups:
        seen: set[uuid.UUID] = set()
        for i, item in enumerate(items):
            if item.id in seen:
                raise InvalidInput(f"id {item.id} appears twice", field=[kind, i, "id"])
            if item.campaign_id != source:
                raise InvalidInput(f"campaign_id is not the document's campaign ({source})",
                                   field=[kind, i, "campaign_id"])
            seen.add(item.id)
        known[kind] = seen
    numbers = [m.number for m in doc.model_versions]
    for i, m in enumerate(doc.model_versions):
        if numbers.count(m.number) > 1:
            raise InvalidInput(f"model version number {m.number} appears twice",
                               field=["model_versions", i, "number"])
    for i, s in enumerate(doc.suggestions):
        if s.model_version_id is not None and s.model_version_id not in known["model_versions"]:
            raise InvalidInput("names a model version that is not in the document",
                               field=["suggestions", i, "model_version_id"])
    for i, o in enumerate(doc.observations):
        if o.suggestion_id is not None and o.suggestion_id not in known["suggestions"]:
            raise InvalidInput("names a suggestion that is not in the document",
                               field=["observations", i, "suggestion_id"])


def _new_ids(order: Sequence[tuple[Any, uuid.UUID]]) -> IdMap:
    """Fresh ids, sorted like the old ones by ``(position, old id)``, so keyset pages list the
    imported rows in the order of the originals, ties on the timestamp included."""
    fresh = sorted(uuid.uuid4() for _ in order)
    return {old: new for (_, old), new in zip(sorted(order), fresh, strict=True)}


# --- observations from CSV ------------------------------------------------------------------


def import_observations_csv(session: Session, campaign: Campaign, text: str, *,
                            posted_by: str, link_suggestions: bool = True) -> list[Observation]:
    """Store the observations of a CSV (see :mod:`service.observations_csv`), or none.

    Every row is checked, by the CSV reader for its cells and by :func:`add_observations`
    for the rules of the campaign, and every problem is reported at once.

    Raises:
        CsvRowsInvalid: some rows are bad (a 422 listing row, column and message of each);
            nothing was stored.
    """
    parsed = read_csv(campaign_rows.campaign_spec(campaign), text,
                      link_suggestions=link_suggestions)
    if parsed.fatal:
        raise CsvRowsInvalid(parsed.errors)
    if not parsed.errors:
        try:
            with session.begin_nested():
                return add_observations(session, campaign, ObservationBatch(
                    observations=[r.observation for r in parsed.rows]), posted_by=posted_by)
        except (InvalidInput, Conflict):
            pass  # found again below, together with every other bad row
    raise CsvRowsInvalid(parsed.errors + _rule_errors(
        parsed.rows, lambda rows: check_observations(session, campaign, rows)))


def _rule_errors(rows: list[CsvRow],
                 check: Callable[[list[ObservationCreate]], DesignloopError | None]
                 ) -> list[RowError]:
    """The row errors of the campaign's rules, every one of them.

    ``check`` stops at the first bad row of what it is given; the scan resumes after that row,
    so a file with ``k`` bad rows is checked ``k + 1`` times, not once per row.
    """
    errors: list[RowError] = []
    start = 0
    while start < len(rows):
        chunk = rows[start:]
        problem = check([r.observation for r in chunk])
        if problem is None:
            break
        loc = error_loc(problem)
        index = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else None
        if index is None or not 0 <= index < len(chunk):  # not about one row: about them all
            errors.append(RowError(chunk[0].row, None, problem.message))
            break
        errors.append(RowError(chunk[index].row, batch_error_column(loc), problem.message))
        start += index + 1
    return errors
