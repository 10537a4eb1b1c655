r"""A parametric PINN of the Fisher–KPP algae bloom: one network for a whole range of growth rates.

Why: a design loop asks "what growth rate (what nutrient control) keeps the bloom below a
cap?" many times. A forward PINN answers for one rate per training; a *parametric* PINN
:math:`u_\phi(x, t; r)` learns the solution family over :math:`r \in [r_\min, r_\max]` in one
training, and is then differentiable in :math:`r` as well, so a design can descend through it
(:mod:`models.pinn.design`).

The PDE is the case's (:mod:`models.physics.reaction_diffusion`), in physical units:

.. math:: u_t = D\,u_{xx} + r\,u(1 - u), \qquad (x, t, r) \in [0, L] \times [0, T]
          \times [r_\min, r_\max],

with :math:`u` the algae density as a fraction of the carrying capacity (dimensionless),
:math:`x` in km, :math:`t` in days, :math:`D` in km²/day and :math:`r` in 1/day. The growth
rate is an extra coordinate of the domain (:class:`~models.pinn.domain.Box` with names
``("x", "t", "r")``): collocation points are Sobol points of the 3D box, so the residual is
averaged over rates as well, but derivatives are taken in :math:`x` and :math:`t` only.
The network sees the box normalised to :math:`[-1, 1]^3` (:class:`~models.pinn.network.FieldNet`),
which is the nondimensionalisation: every input, the rate included, has unit scale.

The constraints are hard, as in the forward case (:mod:`models.pinn.cases.fisher_kpp`): the
no-flux ends through the :math:`\cos(k\pi x/L)` embedding of :math:`x`, the initial bloom
(which does not depend on :math:`r`) through :math:`u = u_0(x) + (t/T)\,N(x, t, r)`. The only
loss term is therefore the residual, trained by the existing engine
(:func:`~models.pinn.training.train_pinn`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from torch import Tensor

from models.physics.reaction_diffusion import FisherKPP, solve_reference

from .coefficients import Coefficients
from .derivatives import gradient
from .domain import Box
from .network import FieldNet
from .problem import PINNProblem

__all__ = ["ParametricBloom", "parametric_problem", "parametric_residual",
           "reference_field_error"]

#: Column of each input in the parametric network's points `n x 3`.
X, T, R = 0, 1, 2


@dataclass(frozen=True)
class ParametricBloom:
    """The channel, its fixed coefficients and the range of growth rates learned.

    Attributes:
        case: Channel length, horizon, diffusivity and initial bloom (its ``rate`` is unused:
            the rate is the network's third input).
        rate_min: :math:`r_\\min` (1/day), > 0.
        rate_max: :math:`r_\\max` (1/day), > ``rate_min``.
    """

    case: FisherKPP = field(default_factory=FisherKPP)
    rate_min: float = 0.5
    rate_max: float = 2.0

    def __post_init__(self) -> None:
        if not 0.0 < self.rate_min < self.rate_max:
            raise ValueError(f"need 0 < rate_min < rate_max, got [{self.rate_min}, "
                             f"{self.rate_max}]")

    @property
    def domain(self) -> Box:
        """The (x, t, r) box: km, days, 1/day."""
        c = self.case
        return Box((0.0, 0.0, self.rate_min), (c.length, c.horizon, self.rate_max),
                   ("x", "t", "r"))

    def at_rate(self, rate: float) -> FisherKPP:
        """The case with the growth rate fixed (for the reference solver)."""
        return replace(self.case, rate=float(rate))


def parametric_residual(x: Tensor, u: Tensor, c: Mapping[str, Tensor | float]) -> Tensor:
    r""":math:`u_t - D u_{xx} - r u (1 - u)` with :math:`r` read from the third input column.

    One backward pass gives :math:`(u_x, u_t, u_r)`; only :math:`u_x` is differentiated again
    (in :math:`x`); :math:`u_r` is never used: the rate is a parameter, not a coordinate the
    PDE differentiates in.
    """
    first = gradient(u, x)
    u_t = first[:, T:T + 1]
    u_xx = gradient(first[:, X:X + 1], x)[:, X:X + 1]
    rate = x[:, R:R + 1]
    return u_t - c["D"] * u_xx - rate * u * (1.0 - u)


def parametric_problem(bloom: ParametricBloom, *, width: int = 32, depth: int = 3,
                       harmonics: int = 8, seed: int = 0) -> tuple[PINNProblem, FieldNet]:
    """The residual-form problem over the (x, t, r) box and a fresh hard-constrained network.

    Args:
        bloom: Channel and rate range.
        width: Hidden units per layer.
        depth: Hidden layers.
        harmonics: Cosine harmonics of the exact no-flux embedding of :math:`x`.
        seed: Network seed.
    """
    case = bloom.case

    def transform(x: Tensor, raw: Tensor) -> Tensor:
        u0 = case.amplitude * torch.exp(-(((x[:, X:X + 1] - case.centre) / case.width) ** 2))
        return u0 + (x[:, T:T + 1] / case.horizon) * raw

    domain = bloom.domain
    net = FieldNet(domain, 1, width, depth, cosine_dims=("x",), harmonics=harmonics,
                   transform=transform, seed=seed)
    coefficients = Coefficients(known={"D": case.diffusivity})
    return PINNProblem(domain, parametric_residual, {}, coefficients), net


def reference_field_error(net: torch.nn.Module, bloom: ParametricBloom, rate: float,
                          nx: int = 401, nt: int = 21, stride_x: int = 4) -> float:
    r"""Relative :math:`L^2` error of :math:`u_\phi(\cdot, \cdot; r)` against the SciPy
    method-of-lines reference at one rate, over the reference's space-time grid."""
    ref = solve_reference(bloom.at_rate(rate), nx=nx, nt=nt, rtol=1e-9)
    xs = ref.x[::stride_x]
    tt, xx = np.meshgrid(ref.t, xs, indexing="ij")
    points = np.stack([xx.reshape(-1), tt.reshape(-1), np.full(xx.size, rate)], axis=1)
    values = torch.from_numpy(ref.u[:, ::stride_x].reshape(-1, 1))
    dtype = next(net.parameters()).dtype
    with torch.no_grad():
        pred = net(torch.from_numpy(points).to(dtype)).to(torch.float64)
    return float(torch.linalg.vector_norm(pred - values) / torch.linalg.vector_norm(values))
