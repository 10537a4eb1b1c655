"""The API's JSON response class: never NaN, never infinity.

Python's ``json`` writes ``NaN`` and ``Infinity``, which are not JSON: a strict client fails to
parse the whole response. Stored values are finite (the request schemas refuse the rest), but
derived numbers (model metrics, predictions) may not be, so every response goes through
:class:`SafeJSONResponse`, which turns non-finite floats into ``null`` and then renders with
``allow_nan=False`` (a non-finite value that slipped through would be a bug, not bad JSON).
"""

from __future__ import annotations

import json
import math
from typing import Any

from fastapi.responses import JSONResponse


def finite_or_null(value: Any) -> Any:
    """``value`` with every non-finite float, at any depth, replaced by ``None``.

    Example:
        >>> finite_or_null({"rmse": float("nan"), "bounds": [1.0, float("inf")]})
        {'rmse': None, 'bounds': [1.0, None]}
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite_or_null(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite_or_null(item) for item in value]
    return value


class SafeJSONResponse(JSONResponse):
    """The app's default response class (see the module docstring)."""

    def render(self, content: Any) -> bytes:
        return json.dumps(finite_or_null(content), allow_nan=False, ensure_ascii=False,
                          separators=(",", ":")).encode("utf-8")
