"""The pure parts of the pictures: best-so-far, the non-dominated front, calibration share,
design distances; and that each renderer gives a PNG (without torch)."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from service.plots import convergence, pareto, parity, training
from service.plots.data import Experiment, ParityPoint
from service.plots.figure import PNG_SIGNATURE
from service.repositories.reprocess import design_distance
from service.schemas.campaign import CampaignSpec


def _e(round_: int, value: float | None, feasible: bool = True) -> Experiment:
    outcomes = {} if value is None else {"y": value}
    return Experiment(round=round_, outcomes=outcomes, failed=value is None,
                      feasible=feasible and value is not None)


def test_best_so_far_ignores_infeasible_and_failed_and_follows_the_goal() -> None:
    runs = [_e(0, 5.0), _e(0, 1.0, feasible=False), _e(1, None), _e(1, 4.0), _e(3, 4.5)]
    assert convergence.best_so_far(runs, "y", "minimize") == [(0, 5.0), (1, 4.0), (2, 4.0),
                                                              (3, 4.0)]
    assert convergence.best_so_far(runs, "y", "maximize") == [(0, 5.0), (1, 5.0), (2, 5.0),
                                                              (3, 5.0)]
    assert convergence.best_so_far([_e(0, 1.0, feasible=False)], "y", "minimize") == []


def test_non_dominated_points() -> None:
    points = [(1.0, 5.0), (2.0, 2.0), (3.0, 3.0), (5.0, 1.0), (2.0, 2.0)]
    # (3, 3) is dominated by (2, 2); equal points do not dominate each other.
    assert pareto.non_dominated(points, ("minimize", "minimize")) == [0, 1, 3, 4]
    assert pareto.non_dominated(points, ("maximize", "maximize")) == [0, 2, 3]
    assert pareto.non_dominated(points, ("minimize", "maximize")) == [0]


def test_share_within_two_sd() -> None:
    points = [ParityPoint(0.0, 1.0, 1.9), ParityPoint(0.0, 1.0, -2.1), ParityPoint(0.0, None, 9)]
    assert parity.within_two_sd(points) == 0.5
    assert parity.within_two_sd([ParityPoint(0.0, None, 1.0)]) is None


SPEC = CampaignSpec.model_validate({
    "space": {"parameters": [
        {"type": "continuous", "name": "x", "lower": 0.0, "upper": 10.0},
        {"type": "continuous", "name": "r", "lower": 1e-3, "upper": 10.0, "log_scale": True},
        {"type": "categorical", "name": "c", "choices": ["a", "b"]},
        {"type": "sequence", "name": "s", "alphabet": "HP", "length": 4}],
        "compositions": [{"name": "mix", "components": ["p", "q"], "total": 2.0}]},
    "objectives": [{"name": "y", "goal": "minimize"}],
    "strategy": {"kind": "space_filling"}, "evaluator": {"kind": "lab"}})
BASE = {"x": 5.0, "r": 1.0, "c": "a", "s": "HHPP", "p": 1.0, "q": 1.0}


@pytest.mark.parametrize(("change", "expected"), [
    ({}, 0.0),
    ({"x": 10.0}, 0.5 / 6**0.5),  # half the range, one coordinate of six
    ({"r": 10.0}, 0.25 / 6**0.5),  # a quarter of four decades
    ({"c": "b"}, 1.0 / 6**0.5),
    ({"s": "PPPP"}, 0.5 / 6**0.5),
    ({"p": 2.0, "q": 0.0}, (2 * 0.5**2 / 6) ** 0.5),
])
def test_design_distance_scales_each_kind_to_the_unit_cube(change: dict[str, object],
                                                           expected: float) -> None:
    assert design_distance(SPEC, BASE, {**BASE, **change}) == pytest.approx(expected)


def test_renderers_give_pngs() -> None:
    import matplotlib.image

    runs = [_e(r, 10.0 / (r + 1), feasible=r % 2 == 0) for r in range(5)] + [_e(2, None)]
    two = [Experiment(round=0, outcomes={"y": float(i), "z": float(5 - i)}, failed=False,
                      feasible=True) for i in range(5)]
    pictures = [convergence.render(runs, "y", "minimize"),
                pareto.render(two, [("y", "minimize"), ("z", "minimize")]),
                parity.render({"y": [ParityPoint(float(i), 0.1, i + 0.05) for i in range(4)]}),
                convergence.render([], "y", "minimize")]
    for png in pictures:
        assert png.startswith(PNG_SIGNATURE)
        assert matplotlib.image.imread(io.BytesIO(png), format="png").shape[0] > 100


def test_renderers_import_no_torch() -> None:
    code = ("import sys; from service.plots import convergence; "
            "from service.plots.data import Experiment; "
            "convergence.render([Experiment(0, {'y': 1.0}, False, True)], 'y', 'minimize'); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "False"


def test_training_terms_keep_positive_finite_losses_by_epoch() -> None:
    curves = [{"epoch": 0, "pde": 1.0, "bc": 0.5, "seconds": 0.1},
              {"epoch": 10, "pde": 0.1, "bc": float("nan"), "error": 0.0},
              {"epoch": 20, "pde": 0.01, "bc": 0.05, "converged": True}]
    assert training.terms(curves) == {"pde": [(0.0, 1.0), (10.0, 0.1), (20.0, 0.01)],
                                      "bc": [(0.0, 0.5), (20.0, 0.05)]}


def test_training_terms_leave_out_solver_counters_and_coefficients() -> None:
    neural_ode = [{"epoch": 0, "loss": 0.5, "horizon": 0.35, "seconds": 0.2, "nfe": 120,
                   "attempted": 20, "accepted": 18, "rejected": 2, "fallbacks": 1},
                  {"epoch": 10, "loss": 0.1, "horizon": 0.35, "seconds": 1.4, "nfe": 980,
                   "attempted": 160, "accepted": 150, "rejected": 10, "fallbacks": 3}]
    assert training.terms(neural_ode) == {"loss": [(0.0, 0.5), (10.0, 0.1)]}
    pinn = [{"epoch": 0, "stage": "adam", "pde": 1.0, "loss": 1.2, "coef_D": 0.02,
             "monitor": 0.3}]
    assert set(training.terms(pinn)) == {"pde", "loss", "monitor"}


def test_training_picture_is_a_png_with_or_without_curves() -> None:
    assert training.render([{"epoch": 1, "loss": 2.0}, {"epoch": 2, "loss": 1.0}],
                           "t").startswith(PNG_SIGNATURE)
    assert training.render([], "t").startswith(PNG_SIGNATURE)
