"""The handler table covers the whole error tree, and details always name a location."""

from __future__ import annotations

import pytest

from service import errors
from service.api.errors import ERROR_STATUS, _located, status_for, validation_details
from service.repositories.suggestions import SuggestionRace


def _subclasses(cls: type) -> set[type]:
    found: set[type] = set(cls.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


@pytest.mark.parametrize("cls", sorted(_subclasses(errors.DesignloopError), key=str))
def test_every_service_error_has_a_status(cls: type[errors.DesignloopError]) -> None:
    error = cls.__new__(cls)
    assert 400 <= status_for(error) < 500 or status_for(error) == 503


def test_the_table_is_as_documented() -> None:
    assert {cls.__name__: status for cls, status in ERROR_STATUS.items()} == {
        "BadRequest": 400, "Unauthorized": 401, "NotFound": 404, "Conflict": 409,
        "LeaseLost": 409, "PayloadTooLarge": 413, "InvalidInput": 422, "RateLimited": 429,
        "ServiceUnavailable": 503}


def test_subclasses_inherit_their_parents_status() -> None:
    assert status_for(SuggestionRace("raced")) == 409
    assert status_for(errors.DesignloopError("bare")) == 500


def test_validation_details_append_the_path_below_the_model() -> None:
    raw = [{"loc": ("body",), "msg": "strings must not contain NUL bytes", "type": "nul_byte",
            "ctx": {"loc": ["metadata", "k"]}, "input": {"k": "\x00"}},
           {"loc": ("body", "space"), "msg": "Value error, the space is empty",
            "type": "value_error", "input": {}}]
    assert validation_details(raw) == [
        {"loc": ["body", "metadata", "k"], "msg": "strings must not contain NUL bytes",
         "type": "nul_byte"},
        {"loc": ["body", "space"], "msg": "the space is empty", "type": "value_error"}]


def test_repository_locations_are_placed_in_the_body() -> None:
    assert _located(errors.InvalidInput("bad", field=["observations", 0]).details,
                    "invalid") == [{"loc": ["body", "observations", 0], "msg": "bad",
                                    "type": "invalid"}]
    assert _located(errors.InvalidInput("bad", field=["query", "cursor"]).details,
                    "invalid")[0]["loc"] == ["query", "cursor"]
