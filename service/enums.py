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
    #: Render a problem's own picture of one design (needs the plug-in's implementation).
    plot = "plot"


class SuggestionStatus(str, enum.Enum):
    pending = "pending"
    observed = "observed"
    abandoned = "abandoned"
    #: Pending for longer than the campaign's ``pending_ttl_s``: no longer in flight.
    stale = "stale"
    #: Proposed by a batch reprocessing run, kept beside the live loop for review: never in
    #: flight (it blocks no design and is not passed to the models as pending), never handed
    #: to a client, not counted as pending. A lab may still observe it (adopting the design).
    reprocessed = "reprocessed"


class ReprocessStatus(str, enum.Enum):
    """A reprocessing run: scheduling children, stopped by a cancel, or done with every item."""

    running = "running"
    cancelled = "cancelled"
    finished = "finished"


class ReprocessItemStatus(str, enum.Enum):
    """One campaign of a reprocessing run."""

    waiting = "waiting"  # not scheduled yet (or cancelled before it was, then resumed)
    scheduled = "scheduled"  # its suggest child is queued or running
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in (ReprocessItemStatus.succeeded, ReprocessItemStatus.failed)


class PlotKind(str, enum.Enum):
    """The pictures of a campaign (``GET /v1/campaigns/{id}/plots/{kind}``)."""

    convergence = "convergence"
    pareto = "pareto"
    parity = "parity"
    design = "design"
    #: Loss terms over training of the latest model version that stored curves.
    training = "training"
    #: The latest trained model against its truth (a field against its reference,
    #: trajectories against data), drawn by the train job.
    model = "model"
