"""The Python client of the designloop HTTP API: typed results, safe retries, job waiting.

:class:`Client` holds the connection and the key; :class:`Campaign` and :class:`Suggestion`
are handles on one resource each, so a lab's loop reads like the lab's work:

Example:
    >>> from service.client import Client                                # doctest: +SKIP
    >>> with Client("http://127.0.0.1:8000", "dl_...") as client:
    ...     campaign = client.create_campaign(name="screen", problem="branin")
    ...     for _ in range(5):
    ...         batch = campaign.suggest(4, progress=True)  # waits for the job
    ...         campaign.observe([s.result(run_experiment(s.parameters)) for s in batch])
    ...     print(campaign.refresh().summary)

Every method returns pydantic models of :mod:`service.schemas` (or handles around them) and
raises the typed errors of :mod:`service.client.errors`. Requests are retried as described in
:mod:`service.client.retry`; posted observations carry an automatic ``Idempotency-Key`` (one
per call, the same on each of its retries), so a retry after a lost answer never stores them
twice. Imports only httpx, pydantic and rich: no torch, no database driver.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import os
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, NamedTuple, Self, TypeVar, overload

import httpx
from pydantic import BaseModel

from service.client.errors import (
    JobFailedError,
    JobTimeoutError,
    TransportError,
    error_from_response,
)
from service.client.retry import (
    RetryPolicy,
    parse_retry_after,
    retryable_error,
    retryable_status,
)
from service.enums import JobStatus, SuggestionStatus
from service.schemas.campaign import CampaignCreate, CampaignRead, CampaignSummary
from service.schemas.export import CampaignExport
from service.schemas.imports import CampaignImported
from service.schemas.job import JobRead
from service.schemas.model_version import ModelVersionRead
from service.schemas.observation import ObservationCreate, ObservationRead, ObservationsCreated
from service.schemas.reprocess import ReprocessCreate, ReprocessRead
from service.schemas.suggestion import SuggestionRead

log = logging.getLogger(__name__)

ModelT = TypeVar("ModelT", bound=BaseModel)
ObservationInput = ObservationCreate | Mapping[str, Any]

_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_IDEMPOTENCY_HEADER = "Idempotency-Key"


def _version() -> str:
    try:
        return importlib.metadata.version("designloop")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


def _jsonable(value: Any) -> Any:
    """JSON fallback for values a lab script naturally holds: numpy scalars, UUIDs, models."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    if hasattr(value, "tolist"):  # numpy array
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class Client:
    """A connection to one designloop service, acting as one project (its API key).

    Args:
        base_url: The service, e.g. ``http://127.0.0.1:8000``.
        api_key: The project's key; default ``$DESIGNLOOP_API_KEY``.
        timeout: Seconds to wait for a connection, and for each read or write.
        retries: Retries of a failed request (see :mod:`service.client.retry`), or a whole
            :class:`RetryPolicy`.
        page_size: Items fetched per page when iterating over a list.
        poll_interval_s: Longest pause between two polls of a job.
        transport: An httpx transport to use instead of the network (tests).
    """

    def __init__(self, base_url: str, api_key: str | None = None, *, timeout: float = 30.0,
                 retries: int | RetryPolicy = 3, page_size: int = 200,
                 poll_interval_s: float = 1.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        api_key = api_key or os.environ.get("DESIGNLOOP_API_KEY")
        if not api_key:
            raise ValueError("give an API key, or set DESIGNLOOP_API_KEY")
        self.base_url = base_url.rstrip("/")
        self.retry = retries if isinstance(retries, RetryPolicy) else RetryPolicy(retries)
        self.page_size = page_size
        self.poll_interval_s = poll_interval_s
        self._http = httpx.Client(
            base_url=self.base_url, timeout=httpx.Timeout(timeout), transport=transport,
            headers={"Authorization": f"Bearer {api_key}",
                     "User-Agent": f"designloop-client/{_version()}"})

    # --- life cycle ---------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client({self.base_url!r})"

    # --- campaigns ----------------------------------------------------------------------

    def create_campaign(self, body: CampaignCreate | Mapping[str, Any] | None = None,
                        **fields: Any) -> Campaign:
        """Create a campaign from a ``POST /v1/campaigns`` body, or its fields as keywords
        (``name=..., problem="branin"``)."""
        data = _as_json(body) if body is not None else {}
        data.update(_as_json(fields))
        read = CampaignRead.model_validate(self.request("POST", "/v1/campaigns", json=data).json())
        return Campaign(self, read)

    def campaign(self, campaign_id: uuid.UUID | str) -> Campaign:
        """The campaign with its summary (``NotFoundError`` if it is not this project's)."""
        return Campaign(self, self._get(f"/v1/campaigns/{campaign_id}", CampaignRead))

    def campaigns(self, *, problem: str | None = None) -> Iterator[Campaign]:
        """Every campaign of the project, oldest first (all pages). Lists carry no summary:
        :meth:`Campaign.refresh` reads one."""
        params = {"problem": problem} if problem else {}
        for read in self._pages("/v1/campaigns", CampaignRead, params):
            yield Campaign(self, read)

    def import_campaign(self, document: CampaignExport | Mapping[str, Any] | str | Path, *,
                        idempotency_key: str | None = None) -> ImportedCampaign:
        """Recreate a campaign from its export document (a model, a dict, JSON text or a
        file) in this project. The import is all or nothing, and safe to retry."""
        if isinstance(document, Path):
            document = document.read_text()
        if isinstance(document, BaseModel):  # every field, defaults included
            document = document.model_dump(mode="json")
        content = document if isinstance(document, str) else json.dumps(
            _as_json(document), default=_jsonable)
        response = self.request(
            "POST", "/v1/campaigns/import", content=content.encode(),
            headers={"Content-Type": "application/json",
                     _IDEMPOTENCY_HEADER: idempotency_key or _new_key()})
        result = CampaignImported.model_validate(response.json())
        return ImportedCampaign(Campaign(self, result.campaign), result)

    # --- jobs ---------------------------------------------------------------------------

    def job(self, job_id: uuid.UUID | str) -> JobRead:
        return self._get(f"/v1/jobs/{job_id}", JobRead)

    def reprocess(self, body: ReprocessCreate | Mapping[str, Any]) -> ReprocessRead:
        """Start a reprocessing run: re-fit and re-suggest the selected campaigns (e.g.
        ``{"problem": "branin", "strategy": {"kind": "bayesian"}}``); follow it with
        :meth:`reprocess_run`."""
        data = body.model_dump(mode="json", exclude_none=True) \
            if isinstance(body, ReprocessCreate) else _as_json(dict(body))
        return ReprocessRead.model_validate(
            self.request("POST", "/v1/reprocess", json=data).json())

    def reprocess_run(self, run_id: uuid.UUID | str, *, items: bool = True) -> ReprocessRead:
        """A run with its progress and, with ``items``, each campaign's comparison report."""
        return self._get(f"/v1/reprocess/{run_id}", ReprocessRead,
                         {"items": str(items).lower()})

    def cancel_reprocess(self, run_id: uuid.UUID | str) -> ReprocessRead:
        return ReprocessRead.model_validate(self.request(
            "POST", f"/v1/reprocess/{run_id}/cancel", idempotent=True).json())

    def resume_reprocess(self, run_id: uuid.UUID | str) -> ReprocessRead:
        return ReprocessRead.model_validate(self.request(
            "POST", f"/v1/reprocess/{run_id}/resume").json())

    def cancel_job(self, job_id: uuid.UUID | str) -> JobRead:
        return JobRead.model_validate(
            self.request("POST", f"/v1/jobs/{job_id}/cancel", idempotent=True).json())

    def wait_for_job(self, job: JobRead | uuid.UUID | str, *, timeout_s: float = 600.0,
                     progress: bool = False) -> JobRead:
        """Poll the job until it is final, with a growing pause (up to ``poll_interval_s``).

        Args:
            job: The job or its id.
            timeout_s: How long to wait; the job keeps running in the service afterwards.
            progress: Show a progress bar (rich, on stderr) with the job's progress and message.

        Raises:
            JobTimeoutError: the job is not final after ``timeout_s``.
        """
        job_id = job.id if isinstance(job, JobRead) else job
        deadline = time.monotonic() + timeout_s
        pause = min(0.05, self.poll_interval_s)
        with _JobProgress(enabled=progress) as bar:
            while True:
                current = self.job(job_id)
                bar.update(current)
                if current.status.is_final:
                    return current
                if time.monotonic() + pause > deadline:
                    raise JobTimeoutError(current, timeout_s)
                time.sleep(pause)
                pause = min(pause * 1.5, self.poll_interval_s)

    # --- HTTP ---------------------------------------------------------------------------

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                json: Any = None, content: bytes | None = None,
                headers: Mapping[str, str] | None = None,
                idempotent: bool | None = None) -> httpx.Response:
        """Send one API request, retrying as :mod:`service.client.retry` allows; the answer if
        it is a success, else its typed :class:`~service.client.errors.ApiError`.

        ``idempotent`` defaults to: a ``GET``-like method, or a request with an
        ``Idempotency-Key`` header.
        """
        headers = dict(headers or {})
        if json is not None:
            content = _dumps(json)
            headers.setdefault("Content-Type", "application/json")
        if idempotent is None:
            idempotent = method.upper() in _IDEMPOTENT_METHODS or _IDEMPOTENCY_HEADER in headers
        retry = 0
        while True:
            try:
                response = self._http.request(method, path, params=params, content=content,
                                              headers=headers)
            except httpx.TransportError as exc:
                if retry < self.retry.retries and retryable_error(exc, idempotent=idempotent):
                    retry += 1
                    self._pause(retry, None, f"{method} {path}: {type(exc).__name__}: {exc}")
                    continue
                raise TransportError(f"{method} {self.base_url}{path} failed after "
                                     f"{retry + 1} attempt(s): {type(exc).__name__}: {exc}"
                                     ) from exc
            if response.is_success:
                return response
            if retry < self.retry.retries and retryable_status(response.status_code,
                                                                idempotent=idempotent):
                wait = parse_retry_after(response.headers.get("Retry-After"))
                if wait is None or wait <= self.retry.max_retry_after_s:
                    retry += 1
                    self._pause(retry, wait, f"{method} {path}: {response.status_code}")
                    continue
            raise error_from_response(response)

    def _pause(self, retry: int, retry_after: float | None, why: str) -> None:
        delay = self.retry.delay(retry, retry_after)
        log.warning("%s; retry %d of %d in %.2f s", why, retry, self.retry.retries, delay)
        self.retry.sleep(delay)

    def _get(self, path: str, model: type[ModelT],
             params: Mapping[str, Any] | None = None) -> ModelT:
        return model.model_validate(self.request("GET", path, params=params).json())

    def _pages(self, path: str, model: type[ModelT],
               params: Mapping[str, Any] | None = None) -> Iterator[ModelT]:
        """Every item of a paginated list, fetching one page at a time."""
        query: dict[str, Any] = {**(params or {}), "limit": self.page_size}
        while True:
            page = self.request("GET", path, params=query).json()
            for item in page["items"]:
                yield model.model_validate(item)
            if not page.get("next_cursor"):
                return
            query["cursor"] = page["next_cursor"]


class ImportedCampaign(NamedTuple):
    """The answer of :meth:`Client.import_campaign`: the new campaign, and the new id of
    every imported one (``ids.observations[old_id]``, ...)."""

    campaign: Campaign
    ids: CampaignImported


class Campaign:
    """A handle on one campaign. ``data`` is what the service last said about it."""

    def __init__(self, client: Client, data: CampaignRead) -> None:
        self.client = client
        self.data = data

    @property
    def id(self) -> uuid.UUID:
        return self.data.id

    @property
    def name(self) -> str:
        return self.data.name

    @property
    def summary(self) -> CampaignSummary | None:
        return self.data.summary

    @property
    def _path(self) -> str:
        return f"/v1/campaigns/{self.id}"

    def __repr__(self) -> str:
        return f"Campaign({self.id}, {self.name!r}, problem={self.data.problem!r})"

    def refresh(self) -> Campaign:
        """Read the campaign again (its summary changes with every observation)."""
        self.data = self.client._get(self._path, CampaignRead)
        return self

    # --- suggestions ----------------------------------------------------------------------

    @overload
    def suggest(self, count: int = ..., *, wait: Literal[True] = ..., progress: bool = ...,
                timeout_s: float = ..., client_id: str | None = ...) -> list[Suggestion]: ...

    @overload
    def suggest(self, count: int = ..., *, wait: Literal[False], progress: bool = ...,
                timeout_s: float = ..., client_id: str | None = ...) -> JobRead: ...

    def suggest(self, count: int = 1, *, wait: bool = True, progress: bool = False,
                timeout_s: float = 600.0, client_id: str | None = None
                ) -> list[Suggestion] | JobRead:
        """Ask for ``count`` new designs.

        Args:
            count: How many designs.
            wait: Wait for the job and return the new suggestions (``False``: return the
                queued job at once; poll it with :meth:`Client.wait_for_job`).
            progress: Show a progress bar while waiting.
            timeout_s: How long to wait for the job.
            client_id: Who asks: this client's still-pending suggestions are returned first,
                and only the rest are computed (a robot that restarted gets its batch back).

        Raises:
            JobFailedError: the job failed or was cancelled.
            JobTimeoutError: the job did not finish within ``timeout_s``.
        """
        body: dict[str, Any] = {"count": count}
        if client_id is not None:
            body["client_id"] = client_id
        job = JobRead.model_validate(self.client.request(
            "POST", f"{self._path}/suggestions", json=body).json())
        if not wait:
            return job
        return self.suggestions_of(self.client.wait_for_job(job, timeout_s=timeout_s,
                                                            progress=progress))

    def suggestions_of(self, job: JobRead) -> list[Suggestion]:
        """The suggestions a finished suggest job made, in the job's order.

        Raises:
            JobFailedError: the job did not succeed.
        """
        if job.status != JobStatus.succeeded:
            raise JobFailedError(job)
        ids = [uuid.UUID(i) for i in (job.result or {}).get("suggestion_ids", [])]
        wanted = set(ids)
        found: dict[uuid.UUID, Suggestion] = {}
        # Usually still pending (a short list); else (a simulator answered them) look further.
        for status in (SuggestionStatus.pending, None):
            for suggestion in self.suggestions(status=status):
                if suggestion.id in wanted:
                    found[suggestion.id] = suggestion
            if len(found) >= len(ids):
                break
        return [found[i] for i in ids if i in found]

    def suggestions(self, status: SuggestionStatus | str | None = None) -> Iterator[Suggestion]:
        """Every suggestion (of ``status``, if given), oldest first, all pages."""
        params = {"status": SuggestionStatus(status).value} if status else {}
        for read in self.client._pages(f"{self._path}/suggestions", SuggestionRead, params):
            yield Suggestion(self, read)

    def pending(self) -> list[Suggestion]:
        """The suggestions in flight: proposed, neither observed nor abandoned."""
        return list(self.suggestions(SuggestionStatus.pending))

    # --- observations ---------------------------------------------------------------------

    def observe(self, observations: Iterable[ObservationInput] | None = None, *,
                parameters: Mapping[str, Any] | None = None,
                outcomes: Mapping[str, float] | None = None,
                noise_sd: Mapping[str, float] | None = None,
                gradients: Mapping[str, Mapping[str, float]] | None = None,
                suggestion: Suggestion | uuid.UUID | str | None = None,
                failed: bool = False, failure_reason: str | None = None,
                idempotency_key: str | None = None) -> list[ObservationRead]:
        """Post one result (keywords) or many (``observations``), all or nothing.

        One call is one ``Idempotency-Key`` (``idempotency_key``, or a fresh random one),
        sent again on every retry, so the service stores the results once whatever happens
        to the connection. Results answering a suggestion mark it observed; see also
        :meth:`Suggestion.result` to build them.

        Example:
            >>> campaign.observe(parameters={"x1": 1.0, "x2": 2.0},          # doctest: +SKIP
            ...                  outcomes={"value": 21.5, "constraint": -3.0})
        """
        if observations is None:
            single: dict[str, Any] = {"parameters": dict(parameters or {}), "failed": failed,
                                      "outcomes": dict(outcomes or {})}
            if isinstance(suggestion, Suggestion):
                single["parameters"] = single["parameters"] or dict(suggestion.parameters)
                suggestion = suggestion.id
            if suggestion is not None:
                single["suggestion_id"] = str(suggestion)
            if noise_sd:
                single["noise_sd"] = dict(noise_sd)
            if gradients:
                single["gradients"] = {k: dict(v) for k, v in gradients.items()}
            if failure_reason is not None:
                single["failure_reason"] = failure_reason
            items: list[Any] = [single]
        else:
            if (parameters or outcomes or suggestion or noise_sd or gradients or failed
                    or failure_reason):
                raise TypeError("give either a list of observations or one as keywords")
            items = [_as_json(o) for o in observations]
        response = self.client.request(
            "POST", f"{self._path}/observations", json={"observations": items},
            headers={_IDEMPOTENCY_HEADER: idempotency_key or _new_key()})
        return ObservationsCreated.model_validate(response.json()).observations

    def observations(self) -> Iterator[ObservationRead]:
        """Every observation, oldest first, all pages."""
        return self.client._pages(f"{self._path}/observations", ObservationRead)

    def observations_csv(self) -> str:
        """The observations as CSV text (see :mod:`service.observations_csv`)."""
        return self.client.request("GET", f"{self._path}/observations.csv").text

    def import_observations_csv(self, csv: str | bytes | Path, *, link_suggestions: bool = True,
                                idempotency_key: str | None = None) -> list[ObservationRead]:
        """Store the observations of a CSV (text, bytes or a file), all or nothing.

        Args:
            csv: The CSV, with the columns of :meth:`observations_csv`.
            link_suggestions: Read the ``suggestion_id`` column (``False``: ignore it, e.g.
                for rows exported from another campaign).
            idempotency_key: The upload's key; default a fresh random one.

        Raises:
            ValidationError: some rows are bad; ``exc.errors`` lists each with ``row`` (the
                header is row 1) and ``column``. Nothing was stored.
        """
        body = csv.read_bytes() if isinstance(csv, Path) else (
            csv.encode() if isinstance(csv, str) else csv)
        response = self.client.request(
            "POST", f"{self._path}/observations.csv",
            params={"suggestion_ids": "link" if link_suggestions else "ignore"}, content=body,
            headers={"Content-Type": "text/csv; charset=utf-8",
                     _IDEMPOTENCY_HEADER: idempotency_key or _new_key()})
        return ObservationsCreated.model_validate(response.json()).observations

    # --- the rest -------------------------------------------------------------------------

    def model_versions(self) -> Iterator[ModelVersionRead]:
        return self.client._pages(f"{self._path}/models", ModelVersionRead)

    def jobs(self, status: JobStatus | str | None = None) -> Iterator[JobRead]:
        params: dict[str, Any] = {"campaign_id": str(self.id)}
        if status:
            params["status"] = JobStatus(status).value
        return self.client._pages("/v1/jobs", JobRead, params)

    def export(self, *, weights: bool = False) -> CampaignExport:
        """The whole campaign as one document, for :meth:`Client.import_campaign` (with
        ``weights``: the model versions' weights too, base64)."""
        return self.client._get(f"{self._path}/export", CampaignExport,
                                {"weights": "true"} if weights else None)

    def train(self, kind: str, options: Mapping[str, Any] | None = None, *,
              wait: bool = True, timeout_s: float = 600.0) -> JobRead:
        """Train a model version now (``gp``, ``deep_ensemble``): the train job, finished
        when ``wait``."""
        job = JobRead.model_validate(self.client.request(
            "POST", f"{self._path}/models",
            json={"kind": kind, "options": _as_json(dict(options or {}))}).json())
        return self.client.wait_for_job(job, timeout_s=timeout_s) if wait else job

    def plot(self, kind: str, *, suggestion_id: uuid.UUID | str | None = None,
             timeout_s: float = 300.0) -> bytes:
        """A PNG of the campaign: ``convergence``, ``pareto``, ``parity`` or ``design`` (the
        problem's own picture, drawn by a worker: this waits for it)."""
        params = {"suggestion_id": str(suggestion_id)} if suggestion_id else None
        path = f"{self._path}/plots/{kind}"
        deadline = time.monotonic() + timeout_s
        while True:
            response = self.client.request("GET", path, params=params)
            if response.status_code != 202:
                return response.content
            job = self.client.wait_for_job(JobRead.model_validate(response.json()),
                                           timeout_s=max(1.0, deadline - time.monotonic()))
            if job.status != JobStatus.succeeded:
                raise JobFailedError(job)


class Suggestion:
    """A handle on one suggestion of a campaign. ``data`` is what the service last said."""

    def __init__(self, campaign: Campaign, data: SuggestionRead) -> None:
        self.campaign = campaign
        self.data = data

    @property
    def id(self) -> uuid.UUID:
        return self.data.id

    @property
    def parameters(self) -> dict[str, Any]:
        return self.data.parameters

    @property
    def status(self) -> SuggestionStatus:
        return self.data.status

    def __repr__(self) -> str:
        return f"Suggestion({self.id}, {self.status.value}, {self.parameters})"

    def result(self, outcomes: Mapping[str, float] | None = None, *,
               noise_sd: Mapping[str, float] | None = None, failed: bool = False,
               failure_reason: str | None = None) -> dict[str, Any]:
        """The observation answering this suggestion, to post with :meth:`Campaign.observe`
        (with others, in one call)."""
        body: dict[str, Any] = {"parameters": dict(self.parameters),
                                "outcomes": dict(outcomes or {}),
                                "suggestion_id": str(self.id), "failed": failed}
        if noise_sd:
            body["noise_sd"] = dict(noise_sd)
        if failure_reason is not None:
            body["failure_reason"] = failure_reason
        return body

    def observe(self, outcomes: Mapping[str, float] | None = None, *,
                noise_sd: Mapping[str, float] | None = None, failed: bool = False,
                failure_reason: str | None = None,
                idempotency_key: str | None = None) -> ObservationRead:
        """Post this suggestion's result; it becomes observed."""
        (stored,) = self.campaign.observe(
            [self.result(outcomes, noise_sd=noise_sd, failed=failed,
                         failure_reason=failure_reason)], idempotency_key=idempotency_key)
        self.data = self.data.model_copy(update={"status": SuggestionStatus.observed})
        return stored

    def abandon(self) -> Suggestion:
        """Give the suggestion back: it stops counting as in flight (``ConflictError`` if it
        is not pending)."""
        # Safe to resend: abandoning is a change to a fixed end state, never done twice (a
        # resend after a lost answer is told ConflictError: it is abandoned already).
        response = self.campaign.client.request(
            "POST", f"{self.campaign._path}/suggestions/{self.id}/abandon", idempotent=True)
        self.data = SuggestionRead.model_validate(response.json())
        return self


def _new_key() -> str:
    return f"dlc-{uuid.uuid4()}"


def _as_json(value: Any) -> Any:
    """A request body part as plain JSON values (models dumped, mappings copied)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_unset=True)
    if isinstance(value, Mapping):
        return {str(k): _as_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_as_json(v) for v in value]
    return value


def _dumps(value: Any) -> bytes:
    return json.dumps(value, default=_jsonable, separators=(",", ":")).encode()


class _JobProgress:
    """A rich progress bar for one job, on stderr; does nothing when disabled."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Self:
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TaskProgressColumn, TimeElapsedColumn

            self._bar = Progress("[progress.description]{task.description}", BarColumn(),
                                 TaskProgressColumn(), TimeElapsedColumn(),
                                 console=Console(stderr=True), transient=True)
            self._bar.start()
            self._task = self._bar.add_task("job", total=1.0)
        return self

    def update(self, job: JobRead) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=job.progress,
                             description=f"{job.kind.value} {job.status.value}"
                             + (f": {job.message}" if job.message else ""))

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
