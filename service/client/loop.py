"""The closed loop of a lab, through the client: ask for a batch, measure it, post, repeat.

Example:
    >>> from service.client import Client                               # doctest: +SKIP
    >>> from service.client.insilico import BraninLab
    >>> campaign = Client(url, key).create_campaign(name="robot", problem="branin")
    >>> for report in closed_loop(campaign, BraninLab(noise_sd=0.1), rounds=5, batch=4):
    ...     print(report.number, report.best)
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from service.client.client import Campaign, Suggestion
from service.client.insilico import ExperimentFailed, InSilicoLab
from service.schemas.observation import ObservationRead


@dataclass(frozen=True)
class RoundReport:
    """One round of the loop: what was asked, what was measured, where the campaign stands."""

    number: int
    suggestions: list[Suggestion]
    observations: list[ObservationRead]
    #: The best feasible value of the first objective so far (``None``: nothing feasible yet).
    best: float | None
    seconds: float

    @property
    def failed(self) -> int:
        return sum(o.failed for o in self.observations)


def measure(lab: InSilicoLab, suggestion: Suggestion) -> dict[str, Any]:
    """The lab's result for one suggestion, as an observation answering it."""
    try:
        return suggestion.result(lab.run(suggestion.parameters))
    except ExperimentFailed as exc:
        return suggestion.result(failed=True, failure_reason=str(exc) or "failed")


def closed_loop(campaign: Campaign, lab: InSilicoLab, *, rounds: int, batch: int,
                progress: bool = False, timeout_s: float = 600.0) -> Iterator[RoundReport]:
    """Run ``rounds`` rounds of suggest -> measure -> observe, yielding a report after each.

    Each round's results are posted in one call (one Idempotency-Key), so a lost answer is
    retried without storing anything twice.
    """
    for number in range(1, rounds + 1):
        started = time.monotonic()
        suggestions = campaign.suggest(batch, progress=progress, timeout_s=timeout_s)
        observations = campaign.observe([measure(lab, s) for s in suggestions])
        summary = campaign.refresh().summary
        best = summary.best["value"] if summary and summary.best else None
        yield RoundReport(number=number, suggestions=suggestions, observations=observations,
                          best=best, seconds=time.monotonic() - started)
