"""Shared fixtures of the lattice-protein tests; one BLAS thread (the machine is shared).

Tests marked ``slow`` (the 6 x 6 enumeration and friends) are skipped here unless the marker
expression names them, e.g. ``pytest -m slow tests/unit/models/sequence``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from models.sequence import ConformationSet, compact_conformations

torch.set_num_threads(1)

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "slow" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="slow: run with -m slow")
    for item in items:
        if "slow" in item.keywords and HERE in Path(str(item.path)).parents:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def conformations_2x3() -> ConformationSet:
    return compact_conformations(2, 3, use_cache=False)


@pytest.fixture(scope="session")
def conformations_3x3() -> ConformationSet:
    return compact_conformations(3, use_cache=False)


@pytest.fixture(scope="session")
def conformations_4x4() -> ConformationSet:
    return compact_conformations(4, use_cache=False)


@pytest.fixture(scope="session")
def conformations_5x5() -> ConformationSet:
    return compact_conformations(5, use_cache=False)
