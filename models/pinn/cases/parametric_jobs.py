r"""The parametric Fisher–KPP PINN as a training job (case ``"fisher_kpp_parametric"``).

``POST /v1/campaigns/{id}/models {"kind": "pinn", "options": {"case":
"fisher_kpp_parametric", "config": {...}}}`` trains :math:`u_\phi(x, t; r)` over the growth
rates :math:`[r_\min, r_\max]` (:mod:`models.pinn.parametric`) and stores it as a ``pinn``
model version that the ``pinn_design`` strategy (:mod:`models.pinn.round`) designs through.

Metrics, each against the SciPy reference solved at the ``check_rates``: the field's relative
:math:`L^2` error over space-time, and the relative error of the biomass at the horizon
(:func:`models.pinn.design.biomass`, the quantity the design targets); with
``design_target`` also a rate designed by gradient and its biomass on the reference.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import torch

from models.design.rounds import TrainedModel
from models.physics.reaction_diffusion import FisherKPP

from ..design import biomass, design_rate, reference_biomass
from ..network import FieldNet
from ..parametric import ParametricBloom, parametric_problem, reference_field_error
from ..training import PINNConfig, train_pinn
from .registry import Progress, settings_from, state_bytes

__all__ = ["ParametricSettings", "fisher_kpp_parametric", "restore_parametric"]


@dataclass(frozen=True)
class ParametricSettings:
    """Settings of the parametric job: channel, rate range, network, training, checks.

    The channel's length, horizon and initial bloom are the :class:`FisherKPP` defaults
    (1 km, 1 day, a Gaussian of amplitude 0.5 and width 0.1 km at the centre). The defaults
    train in ~55 s of one CPU core and measure, at the five check rates, a field relative
    :math:`L^2` error <= 0.3% and a biomass error <= 0.15% against the reference (fixed seed).
    """

    diffusivity: float = 0.01
    rate_min: float = 0.5
    rate_max: float = 2.0
    width: int = 32
    depth: int = 3
    harmonics: int = 8
    adam_epochs: int = 1000
    lbfgs_iterations: int = 2000
    learning_rate: float = 3e-3
    n_collocation: int = 2000
    dtype: str = "float32"
    max_seconds: float | None = None
    seed: int = 0
    check_rates: tuple[float, ...] = (0.5, 0.875, 1.25, 1.625, 2.0)
    design_target: float | None = None

    def bloom(self) -> ParametricBloom:
        """The channel and rate range."""
        return ParametricBloom(FisherKPP(diffusivity=self.diffusivity), self.rate_min,
                               self.rate_max)

    def training(self) -> PINNConfig:
        """The trainer's settings."""
        return PINNConfig(adam_epochs=self.adam_epochs, learning_rate=self.learning_rate,
                          lbfgs_iterations=self.lbfgs_iterations,
                          n_collocation=self.n_collocation, dtype=self.dtype,
                          max_seconds=self.max_seconds, seed=self.seed)


def _settings(config: Mapping[str, Any]) -> ParametricSettings:
    rates = config.get("check_rates", ParametricSettings.check_rates)
    return settings_from(ParametricSettings, {**config, "check_rates": tuple(rates)})


def fisher_kpp_parametric(config: Mapping[str, Any], progress: Progress) -> TrainedModel:
    """Train the parametric PINN; metrics against the reference at the check rates."""
    s = _settings(config)
    bloom = s.bloom()
    problem, net = parametric_problem(bloom, width=s.width, depth=s.depth,
                                      harmonics=s.harmonics, seed=s.seed)
    result = train_pinn(problem, net, s.training(), progress)
    dtype = next(net.parameters()).dtype
    rates = [float(r) for r in s.check_rates]
    with torch.no_grad():
        predicted = biomass(net, bloom, torch.tensor(rates, dtype=dtype)).tolist()
    truth = [reference_biomass(bloom, r) for r in rates]
    field_errors = [reference_field_error(net, bloom, r) for r in rates]
    biomass_errors = [abs(p / t - 1.0) for p, t in zip(predicted, truth, strict=True)]
    metrics: dict[str, Any] = {
        "check_rates": rates, "field_rel_l2": field_errors,
        "max_field_rel_l2": max(field_errors), "predicted_biomass": predicted,
        "reference_biomass": truth, "biomass_rel_error": biomass_errors,
        "max_biomass_rel_error": max(biomass_errors), "seconds": result.seconds,
        "epochs": result.epochs, "loss_curves": [dict(h) for h in result.history]}
    if s.design_target is not None:
        design = design_rate(net, bloom, s.design_target)
        verified = reference_biomass(bloom, design.rate)
        metrics["design"] = {"target": s.design_target, "rate": design.rate,
                             "predicted_biomass": design.predicted_biomass,
                             "reference_biomass": verified,
                             "reference_rel_error": abs(verified / s.design_target - 1.0),
                             "at_bound": design.at_bound, "steps": len(design.history)}
    return TrainedModel("pinn", state_bytes(net),
                        {"case": "fisher_kpp_parametric", **asdict(s)}, metrics,
                        figure=_figure(net, bloom, rates, predicted, truth))


def restore_parametric(weights: bytes, config: Mapping[str, Any]
                       ) -> tuple[FieldNet, ParametricBloom]:
    """The trained network and its channel from a ``fisher_kpp_parametric`` model version
    (``config`` is the version's: the settings, plus keys the service adds, ignored)."""
    known = {f.name for f in fields(ParametricSettings)}
    s = _settings({k: v for k, v in config.items() if k in known})
    _, net = parametric_problem(s.bloom(), width=s.width, depth=s.depth,
                                harmonics=s.harmonics, seed=s.seed)
    state = torch.load(io.BytesIO(weights), weights_only=True)
    net.to(s.training().torch_dtype)
    net.load_state_dict(state)
    return net, s.bloom()


def _figure(net: FieldNet, bloom: ParametricBloom, rates: Sequence[float],
            predicted: Sequence[float], truth: Sequence[float]) -> bytes:
    """Biomass at the horizon against the rate (PINN curve, reference points)."""
    from models.figures import new_figure, to_png

    dtype = next(net.parameters()).dtype
    grid = np.linspace(bloom.rate_min, bloom.rate_max, 61)
    with torch.no_grad():
        curve = biomass(net, bloom, torch.tensor(grid, dtype=dtype)).double().numpy()
    figure = new_figure(6.0, 4.0)
    panel = figure.subplots()
    panel.plot(grid, curve, label="parametric PINN")
    panel.scatter(rates, truth, color="black", zorder=3, label="reference (finite differences)")
    panel.set_xlabel("growth rate r (1/day)")
    panel.set_ylabel("biomass at T (km at capacity)")
    worst = max(abs(p / t - 1.0) for p, t in zip(predicted, truth, strict=True))
    panel.set_title(f"Fisher-KPP parametric PINN: biomass within {worst:.2%} of reference")
    panel.legend()
    return to_png(figure)
