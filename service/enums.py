"""Status and kind enumerations shared by tables and schemas."""

from __future__ import annotations

import enum


class JobStatus(str, enum.Enum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in (JobStatus.succeeded, JobStatus.failed, JobStatus.cancelled)


class JobKind(str, enum.Enum):
    suggest = "suggest"
    evaluate = "evaluate"
    train = "train"
    reprocess = "reprocess"


class SuggestionStatus(str, enum.Enum):
    pending = "pending"
    observed = "observed"
    abandoned = "abandoned"
    #: Pending for longer than the campaign's ``pending_ttl_s``: no longer in flight.
    stale = "stale"
