"""API error answers become typed exceptions carrying code, message and field."""

from __future__ import annotations

import httpx
import pytest

from service.client.errors import (
    ApiError,
    AuthError,
    ConflictError,
    NotFoundError,
    ServerError,
    UnavailableError,
    ValidationError,
    error_class,
    error_from_response,
)


def _answer(status: int, **kwargs: object) -> httpx.Response:
    return httpx.Response(status, request=httpx.Request("POST", "http://api/v1/c"),
                          **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("status", "cls"), [
    (400, ApiError), (401, AuthError), (403, AuthError), (404, NotFoundError),
    (409, ConflictError), (422, ValidationError), (418, ApiError), (500, ServerError),
    (502, ServerError), (503, UnavailableError)])
def test_status_families(status: int, cls: type[ApiError]) -> None:
    assert issubclass(error_class(status), cls)


def test_a_422_names_its_field() -> None:
    error = error_from_response(_answer(422, json={"error": {
        "code": "invalid", "message": "observations.0.parameters.x: 9 is outside [0, 1]",
        "details": [{"loc": ["body", "observations", 0, "parameters", "x"],
                     "msg": "9 is outside [0, 1]", "type": "invalid"},
                    {"loc": ["query", "limit"], "msg": "too big"}]}}))
    assert isinstance(error, ValidationError)
    assert (error.status, error.code) == (422, "invalid")
    assert error.field == "observations.0.parameters.x"
    assert [e.field for e in error.errors] == ["observations.0.parameters.x", "limit"]
    assert (error.method, error.url) == ("POST", "http://api/v1/c")
    assert "422 invalid" in str(error)


def test_csv_row_errors_carry_row_and_column() -> None:
    error = error_from_response(_answer(422, json={"error": {
        "code": "invalid", "message": "rejected", "details": [
            {"loc": ["body", "row", 4, "temperature"], "msg": "bad", "row": 4,
             "column": "temperature"}]}}))
    (row,) = error.errors
    assert (row.row, row.column, row.field) == (4, "temperature", "row.4.temperature")


def test_a_conflict_without_a_list_of_details() -> None:
    error = error_from_response(_answer(409, json={"error": {
        "code": "conflict", "message": "in flight",
        "details": {"loc": ["header", "Idempotency-Key"]}}}))
    assert isinstance(error, ConflictError)
    assert error.field == "Idempotency-Key"


def test_an_answer_not_in_the_api_shape() -> None:
    error = error_from_response(_answer(502, text="<html>Bad gateway</html>"))
    assert isinstance(error, ServerError)
    assert (error.code, error.message) == ("http_502", "<html>Bad gateway</html>")
    assert error.field is None and error.errors == []
    empty = error_from_response(_answer(404))
    assert isinstance(empty, NotFoundError) and empty.message == "Not Found"
