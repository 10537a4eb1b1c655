"""Strict request models refuse NUL bytes and non-finite numbers anywhere, naming the path."""

from __future__ import annotations

import math
from typing import Any

import pytest
from pydantic import ValidationError

from service.schemas.base import find_invalid
from service.schemas.campaign import CampaignCreate


@pytest.mark.parametrize(("value", "expected"), [
    ({"a": [1.0, {"b": "ok"}]}, None),
    ({"a": [1.0, {"b": "n\x00"}]}, (("a", 1, "b"), "nul_byte")),
    ({"k\x00": 1}, (("k\x00",), "nul_byte")),
    ({"a": [math.nan]}, (("a", 0), "non_finite")),
    ({"a": -math.inf}, (("a",), "non_finite")),
    ([1, 2**80, True, None], None),
])
def test_find_invalid(value: Any, expected: Any) -> None:
    assert find_invalid(value) == expected


def test_the_error_carries_the_path_for_the_api() -> None:
    with pytest.raises(ValidationError) as info:
        CampaignCreate.model_validate({"name": "c", "metadata": {"notes": ["ok", "b\x00d"]}})
    (error,) = info.value.errors()
    assert error["type"] == "nul_byte"
    assert error["ctx"]["loc"] == ["metadata", "notes", 1]
