r"""The sequence problem's ``design`` plot: target vs designed contact maps, and the fold.

Drawn with matplotlib's Agg canvas on a private :class:`~matplotlib.figure.Figure` (no pyplot
state, safe in a worker thread). Left: the contact map, the target's contacts in the upper
triangle and the designed sequence's ground state's in the lower one (shared contacts in
green, missing in red, extra in orange). Middle: the exact predicted (Boltzmann) contact map of
the design at the campaign's temperature. Right: the ground-state chain on the lattice, residues
coloured by letter, contacts dotted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from matplotlib.axes import Axes

from models.figures import new_figure, to_png
from models.problems.base import DesignError
from models.problems.sequence.problem import SequenceProblem


def design_plot(problem: SequenceProblem, parameters: Mapping[str, Any]) -> bytes:
    """A PNG of one design (see the module docstring), its verdict in the title.

    Args:
        problem: The campaign's problem.
        parameters: The design: ``{"sequence": "HPPH..."}``.

    Returns:
        PNG bytes.

    Raises:
        DesignError: The sequence is missing or does not fit the lattice or the alphabet.
    """
    text = parameters.get("sequence")
    if not isinstance(text, str):
        raise DesignError("the design lacks the 'sequence' parameter (a string)")
    verification = problem.verify([text])
    ground = int(verification.folding.ground_state[0])
    conformations = problem.conformations
    ground_map = conformations.contact_maps(torch.tensor([ground]), torch.float32)[0].numpy()
    target_map = problem.target.contact_map.numpy()
    with torch.no_grad():
        one_hot = torch.nn.functional.one_hot(problem.oracle.check([text]),
                                              problem.alphabet.size).float()
        predicted = problem.boltzmann_predictor()(one_hot)[0].numpy()
    figure = new_figure(13.0, 5.0, constrained=False)
    map_ax, predicted_ax, fold_ax = figure.subplots(1, 3)
    _maps(map_ax, target_map, ground_map)
    image = predicted_ax.imshow(predicted, cmap="viridis", vmin=0.0, vmax=1.0)
    predicted_ax.set_title(f"predicted contacts, T = {problem.options['temperature']:g}")
    figure.colorbar(image, ax=predicted_ax, fraction=0.046)
    coords = conformations.coords()[ground].numpy()
    _fold(fold_ax, coords, text, problem.alphabet.letters, ground_map)
    verdict = "success" if bool(verification.success[0]) else "not the unique ground state"
    figure.suptitle(f"{text}: target {problem.target.index}, ground state {ground} "
                    f"(degeneracy {int(verification.folding.degeneracy[0])}), target gap "
                    f"{float(verification.target_gap[0]):.3g} {problem.alphabet.units}: "
                    f"{verdict}")
    figure.tight_layout()
    return to_png(figure)


def _maps(ax: Axes, target: np.ndarray, ground: np.ndarray) -> None:
    """Upper triangle: the target; lower: the ground state; colours say agreement."""
    length = target.shape[0]
    rgb = np.ones((length, length, 3))
    upper = np.triu(np.ones((length, length), dtype=bool), 1)
    shared = (target > 0) & (ground > 0)
    colours = {"shared": (0.2, 0.6, 0.2), "missing": (0.85, 0.2, 0.2),
               "extra": (1.0, 0.6, 0.0)}
    rgb[upper & (target > 0)] = colours["missing"]
    rgb[upper & shared] = colours["shared"]
    lower = upper.T
    rgb[lower & (ground > 0)] = colours["extra"]
    rgb[lower & shared] = colours["shared"]
    ax.imshow(rgb, interpolation="nearest")
    ax.set_title("contacts: target (upper) vs ground state (lower)")
    ax.set_xlabel("residue j")
    ax.set_ylabel("residue i")


def _fold(ax: Axes, coords: np.ndarray, text: str, letters: str, contacts: np.ndarray) -> None:
    rows, cols = coords[:, 0], coords[:, 1]
    for i, j in zip(*np.nonzero(np.triu(contacts, 1)), strict=True):
        ax.plot([cols[i], cols[j]], [rows[i], rows[j]], ":", color="0.6", zorder=1)
    ax.plot(cols, rows, "-", color="0.2", linewidth=2.5, zorder=2)
    palette = ["tab:red", "tab:blue", "tab:green", "tab:purple", "tab:orange"]
    colours = [palette[letters.index(c) % len(palette)] if len(letters) <= 5 else
               f"C{letters.index(c) % 10}" for c in text]
    ax.scatter(cols, rows, c=colours, s=260, zorder=3, edgecolors="black")
    for k, (r, c) in enumerate(zip(rows, cols, strict=True)):
        ax.text(c, r, text[k], ha="center", va="center", fontsize=8, color="white", zorder=4)
    ax.annotate("start", (cols[0], rows[0]), xytext=(0, 14), textcoords="offset points",
                ha="center", fontsize=8)
    ax.set_aspect("equal")
    ax.invert_yaxis()
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title("ground state on the lattice (dotted: contacts)")
