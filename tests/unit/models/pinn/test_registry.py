"""train_case: the service's entry into the physics cases."""

from __future__ import annotations

import io

import pytest
import torch

from models.pinn.cases.registry import CASES, train_case
from models.pinn.errors import InvalidCaseConfigError, UnknownCaseError


def test_unknown_case_and_unknown_key_are_typed_errors() -> None:
    with pytest.raises(UnknownCaseError):
        train_case("no_such_case", {})
    with pytest.raises(InvalidCaseConfigError) as info:
        train_case("neo_hookean_bar", {"epochs": 3})
    assert info.value.details["unknown"] == ["epochs"]
    assert set(CASES) >= {"fisher_kpp_forward", "fisher_kpp_inverse", "neo_hookean_bar",
                          "protein_expression"}


def test_bar_job_returns_a_storable_model_version_with_metrics() -> None:
    seen: list[int] = []
    model = train_case("neo_hookean_bar", {"adam_epochs": 100, "lbfgs_iterations": 60,
                                           "quadrature": 32},
                       progress=lambda e, t: seen.append(e))
    assert model.kind == "pinn" and model.config["case"] == "neo_hookean_bar"
    assert model.metrics["rel_l2"] < 1e-2 and model.metrics["loss_curves"]
    state = torch.load(io.BytesIO(model.weights or b""), weights_only=True)
    assert any(k.startswith("mlp.") for k in state) and seen
