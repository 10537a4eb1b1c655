"""The Python client of the designloop API (no torch, no database: httpx and pydantic only).

Example:
    >>> from service.client import Client                                # doctest: +SKIP
    >>> client = Client("http://127.0.0.1:8000", "dl_...")
    >>> campaign = client.campaign("5f0c...")
    >>> batch = campaign.suggest(4, progress=True)
"""

from __future__ import annotations

from service.client.client import Campaign, Client, ImportedCampaign, Suggestion
from service.client.errors import (
    ApiError,
    AuthError,
    BadRequestError,
    ClientError,
    ConflictError,
    FieldError,
    JobFailedError,
    JobTimeoutError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitedError,
    ServerError,
    TransportError,
    UnavailableError,
    ValidationError,
)
from service.client.retry import RetryPolicy

__all__ = [
    "ApiError",
    "AuthError",
    "BadRequestError",
    "Campaign",
    "Client",
    "ClientError",
    "ConflictError",
    "FieldError",
    "ImportedCampaign",
    "JobFailedError",
    "JobTimeoutError",
    "NotFoundError",
    "PayloadTooLargeError",
    "RateLimitedError",
    "RetryPolicy",
    "ServerError",
    "Suggestion",
    "TransportError",
    "UnavailableError",
    "ValidationError",
]
