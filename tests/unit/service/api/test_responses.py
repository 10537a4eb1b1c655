"""The NaN guard of every response."""

from __future__ import annotations

import json
import math

import pytest

from service.api.responses import SafeJSONResponse, finite_or_null


def test_non_finite_floats_become_null_at_any_depth() -> None:
    value = {"a": math.nan, "b": [1.0, math.inf, {"c": -math.inf}], "d": (2.0, math.nan),
             "e": "NaN", "f": 3, "g": None, "h": True}
    assert finite_or_null(value) == {"a": None, "b": [1.0, None, {"c": None}],
                                     "d": [2.0, None], "e": "NaN", "f": 3, "g": None,
                                     "h": True}


def test_rendered_bytes_are_strict_json() -> None:
    body = bytes(SafeJSONResponse({"rmse": math.nan, "name": "caf\u00e9"}).body)

    def refuse(token: str) -> None:
        raise AssertionError(token)

    assert json.loads(body, parse_constant=refuse) == {"rmse": None, "name": "caf\u00e9"}


def test_rendering_refuses_what_it_cannot_make_finite() -> None:
    class Weird(float):
        pass

    # A float subclass is still a float: replaced, never rendered as NaN.
    assert SafeJSONResponse({"x": Weird("nan")}).body == b'{"x":null}'
    with pytest.raises(TypeError):
        SafeJSONResponse({"x": object()})
