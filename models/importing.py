"""Named registries of the science: ``"module:attribute"`` targets imported only when used.

Strategies, trainers, physics cases and problem implementations are registered by name so
that listing them costs nothing (no torch import in the API process); this resolves one.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any


def resolve(registry: Mapping[str, str], name: str, error: type[Exception],
            what: str) -> Any:
    """The object registered as ``name`` (its module imported now).

    Raises:
        error: ``name`` is not registered (the message lists the known names).
    """
    try:
        target = registry[name]
    except KeyError:
        raise error(f"unknown {what} {name!r}; known: {sorted(registry)}") from None
    module_name, _, attr = target.partition(":")
    return getattr(importlib.import_module(module_name), attr)
