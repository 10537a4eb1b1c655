r"""Pictures of a trained physics model against its truth, drawn when the model is trained.

A scientist should *see* that a PINN matches its reference and a neural ODE its data:

* Fisher–KPP: the learned field :math:`u_\theta(x, t)`, the converged finite-difference
  reference, and their difference, as space-time maps (the inverse case also marks the
  sensors);
* neo-Hookean bar: the Deep Ritz displacement against the exact solution;
* protein expression: the learned mRNA and protein trajectories against the noisy training
  data, and the ground truth at the unseen doses, over twice the training horizon.

Each function returns PNG bytes (matplotlib's Agg canvas, no display), stored with the model
version's job and served as the campaign's ``model`` picture.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from models.figures import new_figure, to_png
from models.physics.hyperelastic import BarProblem
from models.physics.hyperelastic.reference import bar_reference
from models.physics.protein_expression import ExpressionParameters
from models.physics.protein_expression.model import simulate
from models.physics.reaction_diffusion.reference import ReferenceSolution

#: ``predict(doses, times) -> len(times) x len(doses) x 2`` states of a learned model.
Predictor = Callable[[Sequence[float], np.ndarray], np.ndarray]


def field_vs_reference(net: nn.Module, ref: ReferenceSolution, title: str,
                       sensors: np.ndarray | None = None, stride_x: int = 4) -> bytes:
    """Space-time maps of the learned field, the reference and their difference.

    Args:
        net: The PINN, ``(x, t) -> u``.
        ref: The reference on its grid (``u`` is `nt x nx`).
        title: Figure title (the case, its error).
        sensors: Optional `m x 2` sensor positions ``(x, t)`` to mark.
        stride_x: Plot every ``stride_x``-th node in x.
    """
    x, t = ref.x[::stride_x], ref.t
    tt, xx = np.meshgrid(t, x, indexing="ij")
    points = torch.from_numpy(np.stack([xx.ravel(), tt.ravel()], axis=1))
    dtype = next(net.parameters()).dtype
    with torch.no_grad():
        learned = net(points.to(dtype)).double().numpy().reshape(tt.shape)
    reference = ref.u[:, ::stride_x]
    figure = new_figure(13.0, 3.8)
    panels = figure.subplots(1, 3)
    extent = (float(x[0]), float(x[-1]), float(t[0]), float(t[-1]))
    limits = (float(reference.min()), float(reference.max()))
    for panel, values, name in ((panels[0], learned, "PINN"),
                                (panels[1], reference, "reference (finite differences)")):
        image = panel.imshow(values, origin="lower", aspect="auto", extent=extent,
                             vmin=limits[0], vmax=limits[1], cmap="viridis")
        panel.set_title(name)
        figure.colorbar(image, ax=panel, label="u")
    difference = panels[2].imshow(learned - reference, origin="lower", aspect="auto",
                                  extent=extent, cmap="RdBu_r")
    panels[2].set_title("PINN - reference")
    figure.colorbar(difference, ax=panels[2])
    if sensors is not None:
        panels[0].scatter(sensors[:, 0], sensors[:, 1], s=4, color="white", label="sensors")
        panels[0].legend(loc="upper right", fontsize="small")
    for panel in panels:
        panel.set_xlabel("x")
        panel.set_ylabel("t")
    figure.suptitle(title)
    return to_png(figure)


def bar_displacement(net: nn.Module, bar: BarProblem, title: str, n: int = 101) -> bytes:
    """The Deep Ritz displacement of the bar against the exact solution."""
    x = np.linspace(0.0, bar.length, n)
    exact, _ = bar_reference(bar, x)
    dtype = next(net.parameters()).dtype
    with torch.no_grad():
        learned = net(torch.from_numpy(x).reshape(-1, 1).to(dtype)).double().numpy()[:, 0]
    figure = new_figure(6.4, 4.2)
    axes = figure.add_subplot()
    axes.plot(x, exact, color="black", linewidth=2.0, label="exact")
    axes.plot(x, learned, color="tab:orange", linestyle="--", label="Deep Ritz")
    axes.set_xlabel("x (reference configuration)")
    axes.set_ylabel("displacement u(x)")
    axes.grid(alpha=0.3)
    axes.legend()
    axes.set_title(title)
    return to_png(figure)


def trajectories_vs_data(predict: Predictor, data_times: Sequence[np.ndarray],
                         data_values: Sequence[np.ndarray], train_doses: Sequence[float],
                         test_doses: Sequence[float], horizon: float, title: str,
                         params: ExpressionParameters | None = None) -> bytes:
    """Learned mRNA and protein over twice the training horizon: training doses against
    their noisy data, unseen doses against the ground truth.

    Args:
        predict: ``predict(doses, times) -> len(times) x len(doses) x 2`` of the model.
        data_times / data_values: Per training dose, its measurement times and `k x 2` values.
        train_doses / test_doses: Doses (µM).
        horizon: Training horizon (h).
        title: Figure title.
        params: Ground-truth parameters (for the unseen doses).
    """
    params = params or ExpressionParameters()
    times = np.linspace(0.0, 2.0 * horizon, 121)
    doses = [*train_doses, *test_doses]
    learned = predict(doses, times)
    figure = new_figure(12.0, 4.2)
    panels = figure.subplots(1, 2)
    colors = [f"C{i % 10}" for i in range(len(doses))]
    for species, panel in enumerate(panels):
        for i, dose in enumerate(train_doses):
            panel.plot(times, learned[:, i, species], color=colors[i], linewidth=1.4,
                       label=f"{dose:g} µM")
            panel.scatter(data_times[i], data_values[i][:, species], s=10, color=colors[i])
        for j, dose in enumerate(test_doses):
            k = len(train_doses) + j
            truth = simulate(dose, times, params)
            panel.plot(times, learned[:, k, species], color=colors[k], linestyle="--",
                       linewidth=1.4, label=f"{dose:g} µM (unseen)")
            panel.plot(times, truth[:, species], color=colors[k], linestyle=":",
                       linewidth=1.0)
        panel.axvline(horizon, color="grey", linewidth=0.8)
        panel.set_xlabel("time (h)")
        panel.set_ylabel(("mRNA", "protein")[species])
        panel.grid(alpha=0.3)
    panels[1].legend(fontsize="x-small", ncol=2)
    figure.suptitle(f"{title} (dots: data; dotted: ground truth; grey line: training horizon)")
    return to_png(figure)
