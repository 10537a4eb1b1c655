r"""Cavitation models: how the film behaves where the Reynolds equation wants :math:`p < 0`.

Three models, one class each, chosen by name through :data:`CAVITATION_MODELS`:

``"none"`` — :class:`FullSommerfeld`
    The linear Reynolds equation everywhere; pressures may be negative (a reference, not a
    physical model of a liquid film).

``"reynolds"`` — :class:`ReynoldsCondition`
    :math:`p \ge 0` as the linear complementarity problem (LCP) of the obstacle problem,

    .. math:: p \ge 0, \quad \lambda = A p - b \ge 0, \quad p \cdot \lambda = 0,

    solved by the primal–dual active-set method (Hintermüller, Ito & Kunisch, SIAM J. Optim.
    13 (2002) 865–888), which is a semi-smooth Newton method and, for an M-matrix :math:`A`,
    converges in finitely many steps. Its continuum limit is the Swift–Stieber condition
    (:math:`p = \partial p / \partial n = 0` at film rupture). Not mass-conserving: the flux
    :math:`\lambda` vanishes in the cavitated zone and reformation is not modelled.

``"jfo"`` — :class:`ElrodAdams`
    The mass-conserving Jakobsson–Floberg–Olsson model in the Elrod–Adams form: the fluid
    fraction :math:`\theta` enters the Couette flux, and

    .. math:: p \ge 0, \quad 0 \le \theta \le 1, \quad p\,(1 - \theta) = 0,
              \quad R(p, \theta) = A p + C \theta + \theta_\text{in} c_\text{in} = 0.

    Written with one *universal variable* :math:`\phi` per node,
    :math:`p = \max(\phi, 0)` and :math:`\theta = 1 + \min(\phi, 0)`, so the complementarity
    holds by construction and :math:`R(\phi) = 0` is piecewise linear; it is solved by
    semi-smooth Newton, whose step on a fixed pressurised set :math:`S` is the linear solve

    .. math:: \big(A\,\mathrm{diag}(s) + C\,\mathrm{diag}(1 - s)\big)\,\phi
              = -\big(C \mathbf{1} + \theta_\text{in} c_\text{in}\big),

    started from the pressurised set of the linear (full-Sommerfeld) solution. (Elrod & Adams, *Cavitation and related
    phenomena in lubrication*, 1974; Giacopini, Fowell, Dini & Strozzi, J. Tribol. 132 (2010)
    041702, for the complementarity form.) Every control volume, cavitated or not, then
    balances its flux: mass is conserved through rupture and reformation.

Gradients. The active set (cavitated nodes) is found without autograd, in float64; then one
linear solve on that fixed set is done with autograd on. Its solution equals the converged one,
and its derivative is the exact derivative of the discrete solution wherever the active set
does not change under a small perturbation (almost everywhere): implicit differentiation of the
piecewise-linear system.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

from models.errors import ScienceError

from .reynolds import ReynoldsOperator
from .stencil import Stencil


class CavitationConvergenceError(ScienceError):
    """The active-set iteration of a cavitation model did not settle.

    Args:
        model: The model's name.
        iterations: How many iterations were made.
        inconsistent: How many nodes still violate the complementarity conditions.
    """

    def __init__(self, model: str, iterations: int, inconsistent: int) -> None:
        super().__init__(
            f"the {model} cavitation solve did not converge in {iterations} iterations "
            f"({inconsistent} nodes still inconsistent)",
            {"model": model, "iterations": iterations, "inconsistent": inconsistent})


@dataclass(frozen=True)
class CavitationResult:
    r"""Interior fields of a solved film, `batch_shape x nxi x nzi`.

    Attributes:
        pressure: Dimensionless pressure :math:`p` (differentiable w.r.t. the film).
        fill: Fluid fraction :math:`\theta` (1 wherever the film is full).
        cavitated: Boolean mask of the nodes in the cavitated (active) set.
        iterations: Active-set iterations used (0 for a linear model).
    """

    pressure: Tensor
    fill: Tensor
    cavitated: Tensor
    iterations: int


class CavitationModel(abc.ABC):
    """Solves the discrete Reynolds equation of :mod:`.reynolds` with some cavitation law."""

    name: ClassVar[str]
    fill_inlet: float = 1.0

    @abc.abstractmethod
    def solve(self, operator: ReynoldsOperator) -> CavitationResult:
        """Pressure and fluid fraction on the interior nodes."""


class FullSommerfeld(CavitationModel):
    """No cavitation: the linear Reynolds equation, negative pressures allowed."""

    name = "none"

    def solve(self, operator: ReynoldsOperator) -> CavitationResult:
        pressure = operator.poiseuille.solve(operator.full_film_rhs())
        ones = torch.ones_like(pressure)
        return CavitationResult(pressure, ones, torch.zeros_like(ones, dtype=torch.bool), 0)


class ReynoldsCondition(CavitationModel):
    """:math:`p \\ge 0` as an LCP (primal–dual active set); full film assumed for the shear.

    Started from the set where the linear solution is negative, the method releases only the
    cavitated nodes next to the full film at each step, so the iterations grow with the number
    of nodes the rupture boundary must move (about 0.15 ``nx`` for a cosine film: 30 at 201
    nodes, 115 at 801); each is one linear solve. :class:`ElrodAdams` converges in a handful.

    Args:
        max_iter: Cap on the active-set iterations (default: the number of unknowns + 10,
            which bounds the monotone iteration for an M-matrix).
        tol: Relative tolerance of the sign tests (relative to the largest pressure).
    """

    name = "reynolds"

    def __init__(self, max_iter: int | None = None, tol: float = 1e-11) -> None:
        self.max_iter = max_iter
        self.tol = tol

    def solve(self, operator: ReynoldsOperator) -> CavitationResult:
        active, iterations = self.active_set(operator)
        free = (~active).to(operator.inlet.dtype)
        pressure = _masked_operator(operator.poiseuille, free).solve(
            free * operator.full_film_rhs())
        return CavitationResult(pressure, torch.ones_like(pressure), active, iterations)

    def active_set(self, operator: ReynoldsOperator) -> tuple[Tensor, int]:
        """The cavitated nodes of the LCP solution (no autograd, float64), and the iterations."""
        with torch.no_grad():
            a = operator.poiseuille.detach().to(torch.float64)
            b = operator.full_film_rhs().detach().to(torch.float64)
            p = a.solve(b)
            active = p < 0
            max_iter = self.max_iter or p.shape[-1] * p.shape[-2] + 10
            changed = 0
            for iteration in range(1, max_iter + 1):
                free = (~active).to(torch.float64)
                p = _masked_operator(a, free).solve(free * b)
                multiplier = (a.matvec(p) - b) * (1.0 - free)
                tol = self.tol * (1.0 + p.abs().amax())
                new_active = torch.where(active, multiplier > -tol, p < -tol)
                changed = int((new_active != active).sum())
                if changed == 0:
                    return active, iteration
                active = new_active
        raise CavitationConvergenceError(self.name, max_iter, changed)


class ElrodAdams(CavitationModel):
    """Mass-conserving JFO cavitation (Elrod–Adams), by semi-smooth Newton.

    Args:
        fill_inlet: Fluid fraction :math:`\\theta` of the lubricant entering at the leading edge
            (1: flooded; below 1: a starved inlet).
        max_iter: Cap on the Newton iterations.
        tol: Relative tolerance of the sign tests.
    """

    name = "jfo"

    def __init__(self, fill_inlet: float = 1.0, max_iter: int = 100, tol: float = 1e-11) -> None:
        if not 0.0 < fill_inlet <= 1.0:
            raise ValueError(f"fill_inlet must be in (0, 1], got {fill_inlet}")
        self.fill_inlet = float(fill_inlet)
        self.max_iter = max_iter
        self.tol = tol

    def solve(self, operator: ReynoldsOperator) -> CavitationResult:
        pressurised, iterations = self.pressurised_set(operator)
        phi = self._newton_step(operator.poiseuille, operator.couette, operator.inlet,
                                pressurised.to(operator.inlet.dtype))
        zero = torch.zeros_like(phi)
        return CavitationResult(torch.where(pressurised, phi, zero),
                                torch.where(pressurised, zero, phi) + 1.0, ~pressurised,
                                iterations)

    def pressurised_set(self, operator: ReynoldsOperator) -> tuple[Tensor, int]:
        """Nodes of full film (no autograd, float64), and the Newton iterations used."""
        with torch.no_grad():
            a = operator.poiseuille.detach().to(torch.float64)
            c = operator.couette.detach().to(torch.float64)
            inlet = operator.inlet.detach().to(torch.float64)
            pressurised = a.solve(operator.full_film_rhs().detach().to(torch.float64)) > 0
            changed = 0
            for iteration in range(1, self.max_iter + 1):
                phi = self._newton_step(a, c, inlet, pressurised.to(torch.float64))
                tol = self.tol * (1.0 + phi.abs().amax())
                new = torch.where(pressurised, phi > -tol, phi > tol)
                changed = int((new != pressurised).sum())
                if changed == 0:
                    self._check_fill(phi)
                    return pressurised, iteration
                pressurised = new
        raise CavitationConvergenceError(self.name, self.max_iter, changed)

    def _newton_step(self, a: Stencil, c: Stencil, inlet: Tensor, s: Tensor) -> Tensor:
        jacobian = a.scale_columns(s) + c.scale_columns(1.0 - s)
        rhs = -(c.matvec(torch.ones_like(inlet)) + self.fill_inlet * inlet)
        return jacobian.solve(rhs)

    def _check_fill(self, phi: Tensor) -> None:
        low = float(phi.amin())
        if low < -1.0 - 1e-9:
            raise ScienceError(f"the JFO solution empties the film (fluid fraction {1 + low:.3g}"
                               f" < 0): the inlet supply cannot feed this film",
                               {"min_fill": 1.0 + low})


def _masked_operator(a: Stencil, free: Tensor) -> Stencil:
    """:math:`A` restricted to the free nodes, identity on the others."""
    return a.scale_columns(free).scale_rows(free).plus_diagonal(1.0 - free)


CAVITATION_MODELS: dict[str, type[CavitationModel]] = {
    FullSommerfeld.name: FullSommerfeld,
    ReynoldsCondition.name: ReynoldsCondition,
    ElrodAdams.name: ElrodAdams,
}
"""The cavitation models by their stable names."""


def get_cavitation_model(model: str | CavitationModel) -> CavitationModel:
    """A model instance from its name (default settings) or the instance itself."""
    if isinstance(model, CavitationModel):
        return model
    try:
        return CAVITATION_MODELS[model]()
    except KeyError:
        raise ValueError(f"unknown cavitation model {model!r}; "
                         f"known: {sorted(CAVITATION_MODELS)}") from None
