r"""The PINN cases as training jobs: typed settings in, :class:`TrainedModel` out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from models.design.rounds import TrainedModel
from models.physics.hyperelastic import BarProblem, NeoHookean

from ..training import PINNConfig, PINNResult, train_pinn
from . import fisher_kpp as fk
from .figures import bar_displacement, field_vs_reference
from .neo_hookean import bar_error, bar_problem
from .registry import Progress, settings_from, state_bytes

__all__ = ["FisherSettings", "fisher_kpp_forward", "fisher_kpp_inverse", "neo_hookean_bar"]


@dataclass(frozen=True)
class FisherSettings:
    """Settings of the Fisher–KPP jobs (case, network, training, sensors)."""

    diffusivity: float = 0.01
    rate: float = 1.0
    width: int = 32
    depth: int = 3
    hard: bool = True
    adam_epochs: int = 1000
    lbfgs_iterations: int = 1000
    learning_rate: float = 1e-3
    n_collocation: int = 2000
    adaptive_weights: bool = False
    resample_every: int = 0
    dtype: str = "float32"
    max_seconds: float | None = None
    seed: int = 0
    n_sensors: int = 50
    noise: float = 0.01
    guess_diffusivity: float = 0.02
    guess_rate: float = 0.5

    def training(self) -> PINNConfig:
        """The trainer's settings."""
        return PINNConfig(adam_epochs=self.adam_epochs, learning_rate=self.learning_rate,
                          lbfgs_iterations=self.lbfgs_iterations,
                          n_collocation=self.n_collocation,
                          adaptive_weights=self.adaptive_weights,
                          resample_every=self.resample_every, dtype=self.dtype,
                          max_seconds=self.max_seconds, seed=self.seed)


def _curves(result: PINNResult) -> list[dict[str, Any]]:
    return [dict(h) for h in result.history]


def fisher_kpp_forward(config: Mapping[str, Any], progress: Progress) -> TrainedModel:
    """Forward Fisher–KPP; metric ``rel_l2`` against the converged reference."""
    s = settings_from(FisherSettings, config)
    case = fk.default_case(diffusivity=s.diffusivity, rate=s.rate)
    ref = fk.reference(case)
    points, values = fk.reference_points(ref)
    problem, net = fk.forward_problem(case, width=s.width, depth=s.depth, hard=s.hard,
                                      seed=s.seed)
    result = train_pinn(problem, net, s.training(), progress)
    error = fk.relative_l2(net, points, values)
    return TrainedModel("pinn", state_bytes(net), {"case": "fisher_kpp_forward", **asdict(s)},
                        {"rel_l2": error, "seconds": result.seconds, "epochs": result.epochs,
                         "loss_curves": _curves(result)},
                        figure=field_vs_reference(
                            net, ref, f"Fisher-KPP forward: relative L2 {error:.2e}"))


def fisher_kpp_inverse(config: Mapping[str, Any], progress: Progress) -> TrainedModel:
    """Inverse Fisher–KPP from noisy sensors; metrics: recovered D, r and their errors."""
    s = settings_from(FisherSettings, config)
    case = fk.default_case(diffusivity=s.diffusivity, rate=s.rate)
    ref = fk.reference(case)
    data = fk.sensor_data(ref, s.n_sensors, s.noise, seed=s.seed)
    problem, net = fk.inverse_problem(case, data, (s.guess_diffusivity, s.guess_rate),
                                      width=s.width, depth=s.depth, seed=s.seed)
    result = train_pinn(problem, net, s.training(), progress)
    d, r = result.coefficients["D"], result.coefficients["r"]
    points, values = fk.reference_points(ref)
    title = (f"Fisher-KPP inverse: D = {d:.4g} (true {case.diffusivity:g}), "
             f"r = {r:.4g} (true {case.rate:g})")
    return TrainedModel("pinn", state_bytes(net), {"case": "fisher_kpp_inverse", **asdict(s)},
                        {"D": d, "r": r, "D_rel_error": abs(d / case.diffusivity - 1),
                         "r_rel_error": abs(r / case.rate - 1),
                         "rel_l2": fk.relative_l2(net, points, values),
                         "seconds": result.seconds, "loss_curves": _curves(result)},
                        figure=field_vs_reference(net, ref, title,
                                                  sensors=data.points.double().numpy()))


@dataclass(frozen=True)
class BarSettings:
    """Settings of the Deep Ritz neo-Hookean bar job."""

    length: float = 1.0
    body_force: float = 1.0
    traction: float = 0.5
    mu: float = 1.0
    lam: float = 1.5
    width: int = 20
    depth: int = 2
    quadrature: int = 64
    adam_epochs: int = 300
    lbfgs_iterations: int = 200
    learning_rate: float = 1e-2
    seed: int = 0


def neo_hookean_bar(config: Mapping[str, Any], progress: Progress) -> TrainedModel:
    """Deep Ritz bar; metric ``rel_l2`` of the displacement against the exact solution."""
    s = settings_from(BarSettings, config)
    bar = BarProblem(s.length, s.body_force, s.traction, NeoHookean(s.mu, s.lam))
    problem, net = bar_problem(bar, s.width, s.depth, s.quadrature, s.seed)
    result = train_pinn(problem, net, PINNConfig(
        adam_epochs=s.adam_epochs, lbfgs_iterations=s.lbfgs_iterations,
        learning_rate=s.learning_rate, dtype="float64", seed=s.seed), progress)
    error = bar_error(net, bar)
    return TrainedModel("pinn", state_bytes(net), {"case": "neo_hookean_bar", **asdict(s)},
                        {"rel_l2": error, "seconds": result.seconds,
                         "energy": result.history[-1]["loss"],
                         "loss_curves": _curves(result)},
                        figure=bar_displacement(
                            net, bar, f"neo-Hookean bar (Deep Ritz): relative L2 {error:.2e}"))
