"""Numeric problem options (dosing, bloom): defaults filled in, and each bad option refused
with a :class:`ProblemError` that names ``problem_options.<name>``."""

from __future__ import annotations

from typing import Any

import pytest

from models.problems.base import ProblemError
from models.problems.bloom import validate as bloom_options
from models.problems.dosing import validate as dosing_options


def test_defaults_are_filled_in_and_given_values_kept() -> None:
    assert dosing_options({"n_intervals": 4.0}) == {
        "horizon": 12.0, "n_intervals": 4, "max_dose": 10.0, "target": 8.0, "tolerance": 0.05}
    assert bloom_options({"biomass_cap": 1}) == {
        "natural_rate": 2.0, "max_abatement": 0.75, "biomass_cap": 1.0}


@pytest.mark.parametrize(("validate", "options", "message"), [
    (dosing_options, {"dose": 1.0}, "problem_options.dose: unknown option"),
    (dosing_options, {"target": 50}, "problem_options.target: must lie in [0.5, 20.0]"),
    (dosing_options, {"n_intervals": 2.5}, "problem_options.n_intervals: must be an integer"),
    (dosing_options, {"horizon": True}, "problem_options.horizon: must be a number"),
    (bloom_options, {"natural_rate": "fast"}, "problem_options.natural_rate: must be a number"),
    (bloom_options, {"max_abatement": 0.99}, "problem_options.max_abatement: must lie in"),
])
def test_a_bad_option_is_refused_by_name(validate: Any, options: dict[str, Any],
                                         message: str) -> None:
    with pytest.raises(ProblemError) as error:
        validate(options)
    assert str(error.value).startswith(message)
