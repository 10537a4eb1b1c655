"""Shared pieces of the API schemas: strict models that refuse unknown fields and NUL bytes."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError


def find_nul(value: Any, path: tuple[str | int, ...] = ()) -> tuple[str | int, ...] | None:
    """The path of the first string (key or value) holding a NUL byte, or ``None``.

    PostgreSQL ``text`` and ``jsonb`` reject NUL, so letting one through would be a 500 at
    commit time instead of a 422 naming the field.
    """
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and "\x00" in key:
                return (*path, key)
            found = find_nul(item, (*path, key))
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = find_nul(item, (*path, index))
            if found is not None:
                return found
    return None


class StrictModel(BaseModel):
    """Request bodies: unknown fields (including server-owned ones such as ``id`` or
    ``status``) are refused, floats must be finite, strings must not contain NUL."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_max_length=10_000)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        path = find_nul(data)
        if path is not None:
            raise PydanticCustomError(
                "nul_byte", "strings must not contain NUL bytes (at {path})",
                {"path": ".".join(str(p) for p in path)},
            )
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
