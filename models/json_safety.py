r"""JSON safety of the numbers a model reports: no NaN, no infinity.

Metrics, configurations and predictions are stored as JSON, and PostgreSQL's JSONB has no
NaN or infinity tokens: a non-finite float makes the whole results transaction fail at commit
with a database error instead of a readable one (SQLite would store it, so the two backends
would also disagree). A number that is undefined for the data (R^2 of identical outcomes, say)
should be ``None`` with a reason where it is computed (see :mod:`models.bo.quality`);
:func:`finite_json` is the last guard before storing: it replaces whatever non-finite float is
left by ``None`` and says where.

Pure Python (no torch), so the service's persistence layer can call it too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

#: The key :func:`finite_metrics` lists the replaced paths under.
NON_FINITE_KEY = "non_finite"


def finite_json(value: Any) -> tuple[Any, dict[str, str]]:
    r"""``value`` with every non-finite float replaced by ``None``.

    Args:
        value: JSON-like data (dicts, lists, tuples, scalars).

    Returns:
        The cleaned copy (dicts and lists rebuilt, tuples as lists), and the replaced values:
        path (``"quality.c.r2"``, ``"suggestions[1]"``) -> ``repr`` of the value.

    Example:
        >>> finite_json({"a": float("nan"), "b": [1.0, float("inf")]})
        ({'a': None, 'b': [1.0, None]}, {'a': 'nan', 'b[1]': 'inf'})
    """
    found: dict[str, str] = {}
    return _clean(value, "", found), found


def finite_metrics(metrics: Mapping[str, Any]) -> dict[str, Any]:
    r"""Metrics made JSON-safe, the replaced paths listed under :data:`NON_FINITE_KEY`.

    Paths already listed there (the metrics went through this before) are kept.
    """
    cleaned, found = finite_json(dict(metrics))
    if found:
        cleaned[NON_FINITE_KEY] = {**(cleaned.get(NON_FINITE_KEY) or {}), **found}
    return cleaned  # type: ignore[no-any-return]


def _clean(value: Any, path: str, found: dict[str, str]) -> Any:
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        found[path] = repr(value)
        return None
    if isinstance(value, Mapping):
        return {k: _clean(v, f"{path}.{k}" if path else str(k), found)
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v, f"{path}[{i}]", found) for i, v in enumerate(value)]
    return value
