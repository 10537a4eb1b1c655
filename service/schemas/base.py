"""Shared pieces of the API schemas: strict request models (no unknown fields, no NUL bytes, no
non-finite numbers), read models built from rows, pages and the error body."""

from __future__ import annotations

import math
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError


def find_invalid(value: Any, path: tuple[str | int, ...] = ()
                 ) -> tuple[tuple[str | int, ...], str] | None:
    """The path of the first value no store accepts, and why (``"nul_byte"`` or
    ``"non_finite"``), or ``None``.

    Why both: PostgreSQL ``text`` and ``jsonb`` reject NUL, and JSON has no NaN or infinity
    (``jsonb`` refuses them, SQLite would store them and break every later response). Typed
    ``float`` fields refuse non-finite values already; this also covers free-form fields such
    as ``metadata`` or ``strategy.options``, so a bad value is a 422 naming the field instead
    of a 500 at commit time.
    """
    if isinstance(value, str):
        return (path, "nul_byte") if "\x00" in value else None
    if isinstance(value, float):
        return None if math.isfinite(value) else (path, "non_finite")
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and "\x00" in key:
                return (*path, key), "nul_byte"
            found = find_invalid(item, (*path, key))
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = find_invalid(item, (*path, index))
            if found is not None:
                return found
    return None


_MESSAGES = {
    "nul_byte": "strings must not contain NUL bytes (at {path})",
    "non_finite": "numbers must be finite: NaN and infinity are not JSON (at {path})",
}


class StrictModel(BaseModel):
    """Request bodies: unknown fields (including server-owned ones such as ``id`` or
    ``status``) are refused, floats must be finite, strings must not contain NUL.

    The refusal of NUL and non-finite values carries the offending path in its context as
    ``loc`` (relative to the model), so the API can name the field in its 422.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_max_length=10_000)

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        found = find_invalid(data)
        if found is not None:
            path, kind = found
            raise PydanticCustomError(kind, _MESSAGES[kind], {
                "path": ".".join(str(p) for p in path), "loc": list(path)})
        return data


class ReadModel(BaseModel):
    """Response bodies: built from ORM rows."""

    model_config = ConfigDict(from_attributes=True)


ItemT = TypeVar("ItemT")


class Page(BaseModel, Generic[ItemT]):
    """One page of a list; pass ``next_cursor`` back as ``cursor`` for the next one."""

    items: list[ItemT]
    next_cursor: str | None = None


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    error: ErrorDetail
