"""Canonical identity of a design, so that "the same design" means the same thing everywhere.

Pure Python (no torch): the API and the workers both compute it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

SIGNIFICANT_DIGITS = 10


def _canonical(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, float):
        # 10 significant digits: designs that differ only by float noise are the same design.
        return float(f"{value:.{SIGNIFICANT_DIGITS}g}") + 0.0
    return value


def design_key(parameters: Mapping[str, Any]) -> str:
    """SHA-256 of the design's canonical JSON (sorted names, rounded numbers)."""
    canonical = {name: _canonical(parameters[name]) for name in sorted(parameters)}
    return hashlib.sha256(json.dumps(canonical, separators=(",", ":")).encode()).hexdigest()
