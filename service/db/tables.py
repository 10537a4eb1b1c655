"""ORM tables: the stored state of projects, campaigns, observations, suggestions, model
versions, jobs and idempotency keys.

Invariants the schema itself enforces:

* every row belongs to one project (directly or through its campaign) and is only ever read
  through that project;
* an observation is immutable (see :func:`_refuse_observation_update`);
* a design can be pending at most once per campaign (partial unique index on
  ``suggestions(campaign_id, design_key) WHERE status = 'pending'``);
* a job's result writes are fenced by its lease (``jobs.lease_token``), see
  :mod:`service.repositories.jobs`.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, utcnow
from service.enums import (
    JobKind,
    JobStatus,
    PlotKind,
    ReprocessItemStatus,
    ReprocessStatus,
    SuggestionStatus,
)


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as plain strings with a CHECK: portable across PostgreSQL and SQLite, and adding a
    # member is a CHECK change rather than an ALTER TYPE.
    return Enum(cls, name=name, native_enum=False, create_constraint=True, length=16,
                values_callable=lambda members: [m.value for m in members])


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    """An API key, stored as the SHA-256 of its secret (keys are 256-bit random tokens, so a
    fast hash is enough; the clear key is shown once at creation and never stored)."""

    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"),
                                                  index=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class Campaign(Base):
    __tablename__ = "campaigns"
    __table_args__ = (Index(None, "project_id", "created_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    problem: Mapped[str] = mapped_column(String(100))
    # The validated campaign definition: space, objectives, constraints, strategy, evaluator.
    spec: Mapped[dict[str, Any]]
    seed: Mapped[int] = mapped_column(Integer)
    # Strategy bookkeeping (e.g. the position in the Sobol stream); written only together with
    # the suggestions it produced, under the optimistic lock below.
    strategy_state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Optimistic lock over the set of pending suggestions: bumped by every write that creates
    # suggestions, so two concurrent suggestion jobs can never both commit from the same state.
    suggestions_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Observation(Base):
    """One measured design. Immutable once stored."""

    __tablename__ = "observations"
    __table_args__ = (Index(None, "campaign_id", "created_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    suggestion_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("suggestions.id", ondelete="SET NULL"), default=None, index=True)
    parameters: Mapped[dict[str, Any]]
    # outcome name -> value; absent for a failed experiment.
    outcomes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # outcome name -> measurement noise standard deviation (same units as the outcome).
    noise_sd: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # outcome name -> parameter name -> derivative (outcome units per parameter unit).
    gradients: Mapped[dict[str, Any]] = mapped_column(default=dict)
    failed: Mapped[bool] = mapped_column(Boolean, default=False)
    failure_reason: Mapped[str | None] = mapped_column(Text, default=None)
    posted_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


@event.listens_for(Observation, "before_update")
def _refuse_observation_update(mapper: Any, connection: Any, target: Observation) -> None:
    raise RuntimeError("observations are immutable once stored")


class Suggestion(Base):
    __tablename__ = "suggestions"
    __table_args__ = (
        Index(None, "campaign_id", "created_at", "id"),
        Index(None, "campaign_id", "client_id", "status"),
        Index(
            "uq_suggestions_pending_design",
            "campaign_id",
            "design_key",
            unique=True,
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"),
                                                     default=None, index=True)
    parameters: Mapped[dict[str, Any]]
    # Canonical hash of the parameters: equal designs have equal keys.
    design_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[SuggestionStatus] = mapped_column(_enum(SuggestionStatus, "suggestion_status"),
                                                     default=SuggestionStatus.pending)
    strategy: Mapped[str] = mapped_column(String(50))
    client_id: Mapped[str | None] = mapped_column(String(200), default=None)
    # Predicted outcomes, uncertainty, probability of feasibility, acquisition value.
    predictions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    model_version_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="SET NULL"), default=None)
    # Optimistic lock: observe and abandon race on the same pending row.
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012  (SQLAlchemy hook)


class ModelVersion(Base):
    """A trained model of a campaign. Never overwritten: a refit is a new number."""

    __tablename__ = "model_versions"
    __table_args__ = (Index(None, "campaign_id", "number", unique=True),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(50))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    weights: Mapped[bytes | None] = mapped_column(LargeBinary, default=None, deferred=True)
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"),
                                                     default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Job(Base):
    """One unit of queued work. This row, not the broker, is the truth about the job."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index(None, "project_id", "created_at", "id"),
        Index(None, "status", "updated_at"),
        CheckConstraint("progress >= 0 AND progress <= 1", name="progress_unit"),
        CheckConstraint("attempts >= 0", name="attempts_nonneg"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), default=None, index=True)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"),
                                                        default=None, index=True)
    kind: Mapped[JobKind] = mapped_column(_enum(JobKind, "job_kind"))
    queue: Mapped[str] = mapped_column(String(20))
    status: Mapped[JobStatus] = mapped_column(_enum(JobStatus, "job_status"),
                                              default=JobStatus.queued)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    error: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    # The attempt holding the job: a random token written when an attempt claims the job.
    lease_token: Mapped[str | None] = mapped_column(String(64), default=None)
    lease_owner: Mapped[str | None] = mapped_column(String(200), default=None)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    published_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    publish_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    finished_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class IdempotencyKey(Base):
    """A remembered request: the same key and body replays the first response."""

    __tablename__ = "idempotency_keys"

    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"),
                                                  primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    # NULL while the first request is in flight.
    response_status: Mapped[int | None] = mapped_column(Integer, default=None)
    response_body: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ReprocessRun(Base):
    """A batch re-fit and re-suggest over many campaigns (``POST /v1/reprocess``).

    ``job_id`` is the run's current parent job (a ``reprocess`` job that schedules one
    ``suggest`` child per campaign); a resumed run gets a new one. The items are the truth
    about which campaign is where.
    """

    __tablename__ = "reprocess_runs"
    __table_args__ = (Index(None, "project_id", "created_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"),
                                                     default=None)
    status: Mapped[ReprocessStatus] = mapped_column(_enum(ReprocessStatus, "reprocess_status"),
                                                    default=ReprocessStatus.running)
    # How the campaigns were chosen (ids, problem, created range, all), as requested.
    selection: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The strategy override ``{"kind", "options"}``; NULL: each campaign's own strategy.
    strategy: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    count: Mapped[int] = mapped_column(Integer)
    max_in_flight: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class ReprocessItem(Base):
    """One campaign of a reprocessing run: its child job, and the comparison report."""

    __tablename__ = "reprocess_items"
    __table_args__ = (
        Index(None, "run_id", "campaign_id", unique=True),
        Index(None, "run_id", "status", "position"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reprocess_runs.id",
                                                         ondelete="CASCADE"))
    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campaigns.id",
                                                              ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[ReprocessItemStatus] = mapped_column(
        _enum(ReprocessItemStatus, "reprocess_item_status"), default=ReprocessItemStatus.waiting)
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"),
                                                     default=None, index=True)
    report: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    error: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PlotImage(Base):
    """A rendered campaign picture, cached per campaign state (``state_key``).

    The key hashes what the picture depends on (observations, model versions, suggestions; the
    design for a ``design`` picture), so a new observation simply misses the cache. A row
    without ``png`` is a picture a worker is rendering (``job_id``).
    """

    __tablename__ = "plot_images"
    __table_args__ = (Index(None, "campaign_id", "kind", "state_key", unique=True),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    kind: Mapped[PlotKind] = mapped_column(_enum(PlotKind, "plot_kind"))
    state_key: Mapped[str] = mapped_column(String(64))
    parameters: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    png: Mapped[bytes | None] = mapped_column(LargeBinary, default=None, deferred=True)
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"),
                                                     default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
