"""The one settings object of the service, read from ``DESIGNLOOP_*`` environment variables.

Why one object: every process (API, worker, CLI, tests) must agree on where the database and
the broker are and on the job-timing contract, so they are read in exactly one place and
overridable in tests through :func:`override_settings`.

Scientific hyperparameters are *not* settings: they are typed config objects stored with the
job or model version they produced.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Configuration of one designloop process.

    With nothing set, the service runs embedded: a SQLite file database and a filesystem
    broker under ``home``, so ``designloop demo`` needs no server.
    """

    model_config = SettingsConfigDict(env_prefix="DESIGNLOOP_", extra="ignore")

    environment: Literal["development", "production"] = "development"
    home: Path = Field(default=Path(".designloop"), description="Directory of embedded state.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default is a SQLite file under `home`."
    )
    broker_url: str | None = Field(
        default=None, description="Celery broker URL; default is a filesystem broker under `home`."
    )

    # HTTP edge
    max_body_bytes: int = Field(default=2_000_000, gt=0, description="Largest request body.")
    page_limit_max: int = 200
    idempotency_ttl_hours: float = 24.0
    idempotency_in_flight_seconds: float = Field(
        default=300.0, description="An in-flight idempotency claim older than this is abandoned."
    )
    max_suggestion_count: int = 1000
    # Campaigns of one reprocessing run processed at once (the rest wait their turn).
    reprocess_max_in_flight: int = Field(default=4, ge=1, le=64)

    # Job timing contract: hard limit < visibility timeout < reaper threshold (checked below).
    job_soft_time_limit_s: float = 540.0
    job_time_limit_s: float = 600.0
    broker_visibility_timeout_s: float = 900.0
    heartbeat_interval_s: float = 10.0
    lease_timeout_s: float = Field(
        default=1200.0, description="A running job whose heartbeat is older than this is reaped."
    )
    republish_after_s: float = Field(
        default=1200.0, description="A queued job not claimed for this long is published again."
    )
    reaper_interval_s: float = 30.0
    max_attempts: int = Field(default=3, ge=1)

    device: Literal["auto", "cpu", "cuda"] = "auto"
    worker_queues: str = "cpu,gpu"

    @model_validator(mode="after")
    def _check_contract(self) -> Settings:
        if not self.job_soft_time_limit_s < self.job_time_limit_s:
            raise ValueError("job_soft_time_limit_s must be below job_time_limit_s")
        if not self.job_time_limit_s < self.broker_visibility_timeout_s:
            raise ValueError("job_time_limit_s must be below broker_visibility_timeout_s")
        if not self.broker_visibility_timeout_s <= min(self.lease_timeout_s, self.republish_after_s):
            raise ValueError(
                "the reaper thresholds (lease_timeout_s, republish_after_s) must not be below "
                "broker_visibility_timeout_s, or the reaper races the broker's own redelivery"
            )
        if not self.heartbeat_interval_s * 3 <= self.lease_timeout_s:
            raise ValueError("lease_timeout_s must allow at least three heartbeats")
        if self.environment == "production":
            if self.database_url is None or self.database_url.startswith("sqlite"):
                raise ValueError("production needs DESIGNLOOP_DATABASE_URL set to PostgreSQL")
            if self.broker_url is None or self.broker_url.startswith("filesystem"):
                raise ValueError("production needs DESIGNLOOP_BROKER_URL set to Redis")
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'designloop.db').resolve()}"

    @property
    def resolved_broker_url(self) -> str:
        return self.broker_url or "filesystem://"

    @property
    def is_filesystem_broker(self) -> bool:
        return self.resolved_broker_url.startswith("filesystem")

    @property
    def broker_folder(self) -> Path:
        """Where the embedded filesystem broker keeps its messages."""
        return (self.home / "broker").resolve()


@functools.cache
def _cached_settings() -> Settings:
    return Settings()


_override: Settings | None = None


def get_settings() -> Settings:
    """The settings of this process (read lazily, once)."""
    return _override if _override is not None else _cached_settings()


def override_settings(settings: Settings | None) -> None:
    """Replace the process settings (tests, the demo); ``None`` restores the environment's."""
    global _override
    _override = settings
    _cached_settings.cache_clear()
