r"""The nanoparticle problem's own picture: where a formulation sits in the lab's landscape.

:func:`design_plot` draws, for one formulation (the others held at its values):

* left: T-cell activation over zeta potential x PEG fraction, with the complement boundary
  ``complement_activation = 0.3`` (the charge x PEG interaction: safe below/right of it),
  the formulation as a star and the reference optimum's (zeta, PEG) as a cross;
* right: the dose responses, T-cell activation (saturating) and complement activation (still
  rising), with the threshold and the formulation's dose.

Noise-free truth throughout (the lab's ground truth, not a model). Uses matplotlib's
object API with the Agg canvas: no global pyplot state, safe in a worker.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from models.figures import new_figure, to_png
from models.problems.nanoparticle.problem import (
    BOX_BOUNDS,
    FEATURES,
    NanoparticleProblem,
    complement_activation,
    t_cell_activation,
)

_GRID = 80
_ZETA, _PEG, _DOSE = FEATURES.index("zeta_potential"), FEATURES.index("peg_fraction"), \
    FEATURES.index("dose")


def design_plot(problem: NanoparticleProblem, parameters: Mapping[str, Any]) -> bytes:
    r"""A PNG of one formulation in the lab's landscape.

    Args:
        problem: The lab (its truth functions and threshold are drawn).
        parameters: One formulation, name -> value (a design of the spec's space).

    Returns:
        PNG bytes.

    Raises:
        DesignError: ``parameters`` is not a formulation of the space.

    Example:
        >>> png = design_plot(NanoparticleProblem(), NanoparticleProblem.reference_optimum()
        ...                   .design)  # doctest: +SKIP
        >>> png[:8] == b"\x89PNG\r\n\x1a\n"  # doctest: +SKIP
        True
    """
    x = problem.design_tensor([parameters])[0]
    figure = new_figure(10.0, 4.2, constrained=False)
    left, right = figure.subplots(1, 2)
    _charge_peg_panel(left, x, problem.threshold)
    _dose_panel(right, x, problem.threshold)
    figure.suptitle("Nanoparticle formulation in the in-silico lab (noise-free truth)")
    figure.tight_layout()
    return to_png(figure)


def _charge_peg_panel(axes: Any, x: torch.Tensor, threshold: float) -> None:
    zeta = torch.linspace(*BOX_BOUNDS[_ZETA], _GRID, dtype=torch.float64)
    peg = torch.linspace(*BOX_BOUNDS[_PEG], _GRID, dtype=torch.float64)
    Z, P = torch.meshgrid(zeta, peg, indexing="xy")
    X = x.expand(_GRID, _GRID, -1).clone()
    X[..., _ZETA], X[..., _PEG] = Z, P
    with torch.no_grad():
        T, C = t_cell_activation(X), complement_activation(X)
    image = axes.contourf(Z.numpy(), P.numpy(), T.numpy(), levels=20, cmap="viridis")
    axes.figure.colorbar(image, ax=axes, label="T-cell activation (%)")
    boundary = axes.contour(Z.numpy(), P.numpy(), C.numpy(), levels=[threshold],
                            colors="red", linewidths=2)
    axes.clabel(boundary, fmt={threshold: f"complement = {threshold}"}, fontsize=8)
    axes.plot(float(x[_ZETA]), float(x[_PEG]), marker="*", markersize=16, color="white",
              markeredgecolor="black", label="this formulation")
    best = NanoparticleProblem.reference_optimum().design
    axes.plot(best["zeta_potential"], best["peg_fraction"], marker="x", markersize=10,
              color="orange", label="reference optimum")
    axes.set_xlabel("zeta potential (mV)")
    axes.set_ylabel("PEG fraction (mol fraction)")
    axes.set_title("charge x PEG (other parameters held)")
    axes.legend(loc="upper left", fontsize=8)


def _dose_panel(axes: Any, x: torch.Tensor, threshold: float) -> None:
    low, high = BOX_BOUNDS[_DOSE]
    dose = torch.logspace(torch.log10(torch.tensor(low)).item(),
                          torch.log10(torch.tensor(high)).item(), 200, dtype=torch.float64)
    X = x.expand(dose.shape[0], -1).clone()
    X[:, _DOSE] = dose
    with torch.no_grad():
        T, C = t_cell_activation(X), complement_activation(X)
    axes.plot(dose.numpy(), T.numpy(), color="tab:blue", label="T-cell activation")
    axes.set_xscale("log")
    axes.set_xlabel("dose (mg/kg)")
    axes.set_ylabel("T-cell activation (%)", color="tab:blue")
    twin = axes.twinx()
    twin.plot(dose.numpy(), C.numpy(), color="tab:red", label="complement activation")
    twin.axhline(threshold, color="tab:red", linestyle="--", linewidth=1)
    twin.set_ylabel("complement activation (fraction)", color="tab:red")
    axes.axvline(float(x[_DOSE]), color="black", linestyle=":", label="this dose")
    axes.set_title("dose response (other parameters held)")
    axes.legend(loc="upper left", fontsize=8)
