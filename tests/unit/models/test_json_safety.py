"""The last guard before storing a model's numbers as JSON: no NaN, no infinity."""

from __future__ import annotations

import json
import math

from models.json_safety import finite_json, finite_metrics


def test_non_finite_floats_become_none_and_their_paths_are_reported() -> None:
    value = {"a": math.nan, "b": [1.0, math.inf, {"c": -math.inf}], "d": (2.0, "x"),
             "e": None, "f": 3}
    cleaned, found = finite_json(value)
    assert cleaned == {"a": None, "b": [1.0, None, {"c": None}], "d": [2.0, "x"], "e": None,
                       "f": 3}
    assert found == {"a": "nan", "b[1]": "inf", "b[2].c": "-inf"}
    json.dumps(cleaned, allow_nan=False)
    assert value["a"] is not None  # the input is not modified


def test_finite_metrics_lists_what_it_replaced_and_leaves_clean_metrics_alone() -> None:
    clean = {"rmse": 0.5, "quality": {"y": {"r2": None}}}
    assert finite_metrics(clean) == clean
    once = finite_metrics({"r2": math.nan})
    assert once == {"r2": None, "non_finite": {"r2": "nan"}}
    twice = finite_metrics({**once, "z": math.inf})
    assert twice["non_finite"] == {"r2": "nan", "z": "inf"}
