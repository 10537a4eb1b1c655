r"""Neo-Hookean bodies by minimum potential energy (Deep Ritz).

* :func:`bar_problem` — the bar fixed at :math:`X = 0` under a body force and an end
  traction: :math:`\Pi[u] = \int_0^L W(1 + u')\,dX - \int_0^L b\,u\,dX - \tau\,u(L)`, with
  :math:`u = X\,N(X)` (the fixed end exactly). Checked against the exact
  :func:`~models.physics.hyperelastic.bar_reference` (non-uniform stretch).
* :func:`plate_problem` — the plate :math:`[0, L]^2` on rollers (:math:`u_1 = 0` at
  :math:`X_1 = 0`, :math:`u_2 = 0` at :math:`X_2 = 0`) pulled by :math:`\tau` on
  :math:`X_1 = L`, plane strain; checked against
  :func:`~models.physics.hyperelastic.uniaxial_stretch`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from models.physics.hyperelastic import BarProblem, NeoHookean, bar_reference, uniaxial_stretch
from models.physics.hyperelastic.energy import bar_energy_density, plane_strain_energy_density

from ..derivatives import gradient
from ..domain import Box
from ..network import FieldNet
from ..ritz import EnergyProblem, gauss_legendre, tensor_gauss_legendre

__all__ = ["bar_error", "bar_problem", "plate_error", "plate_problem"]


def bar_problem(bar: BarProblem, width: int = 20, depth: int = 2, quadrature: int = 64,
                seed: int = 0) -> tuple[EnergyProblem, FieldNet]:
    """The bar's energy problem and a network :math:`u = X N(X)` (m)."""
    domain = Box((0.0,), (bar.length,), ("X",))
    net = FieldNet(domain, 1, width, depth, transform=lambda x, raw: x * raw,
                   zero_output=True, seed=seed)
    points, weights = gauss_legendre(0.0, bar.length, quadrature)
    end = torch.tensor([[bar.length]], dtype=torch.float64)

    def energy(model: nn.Module, x: Tensor, w: Tensor) -> dict[str, Tensor]:
        x = x.detach().clone().requires_grad_(True)
        u = model(x)
        stretch = 1.0 + gradient(u, x)[:, 0]
        strain = (w * bar_energy_density(stretch, bar.material)).sum()
        load = -(w * bar.body_force * u[:, 0]).sum() - bar.traction * model(end.to(x.dtype))[0, 0]
        return {"strain": strain, "load": load}

    return EnergyProblem(domain, energy, points, weights), net


def bar_error(net: nn.Module, bar: BarProblem, n: int = 101) -> float:
    """Relative L2 error of the displacement against the exact bar solution."""
    x = np.linspace(0.0, bar.length, n)
    exact, _ = bar_reference(bar, x)
    dtype = next(net.parameters()).dtype
    with torch.no_grad():
        pred = net(torch.from_numpy(x).reshape(-1, 1).to(dtype)).double().numpy()[:, 0]
    return float(np.linalg.norm(pred - exact) / np.linalg.norm(exact))


def plate_problem(traction: float, material: NeoHookean, length: float = 1.0,
                  width: int = 20, depth: int = 2, quadrature: int = 12,
                  seed: int = 0) -> tuple[EnergyProblem, FieldNet]:
    """The plate's energy problem and a network :math:`(u_1, u_2) = (X_1 N_1, X_2 N_2)`."""
    domain = Box((0.0, 0.0), (length, length), ("X1", "X2"))
    net = FieldNet(domain, 2, width, depth, transform=lambda x, raw: x * raw,
                   zero_output=True, seed=seed)
    points, weights = tensor_gauss_legendre(domain, quadrature)
    edge, edge_w = gauss_legendre(0.0, length, quadrature)
    right = torch.cat([torch.full_like(edge, length), edge], dim=1)

    def energy(model: nn.Module, x: Tensor, w: Tensor) -> dict[str, Tensor]:
        x = x.detach().clone().requires_grad_(True)
        u = model(x)
        grad = torch.stack([gradient(u[:, i:i + 1], x) for i in range(2)], dim=1)
        strain = (w * plane_strain_energy_density(grad, material)).sum()
        u_right = model(right.to(x.dtype))[:, 0]
        load = -traction * (edge_w.to(x.dtype) * u_right).sum()
        return {"strain": strain, "load": load}

    return EnergyProblem(domain, energy, points, weights), net


def plate_error(net: nn.Module, traction: float, material: NeoHookean,
                length: float = 1.0) -> tuple[float, tuple[float, float]]:
    """Relative L2 error of the displacement against the homogeneous uniaxial stretch, and
    the exact stretches."""
    l1, l2 = uniaxial_stretch(traction, material)
    g = torch.linspace(0.0, length, 21, dtype=torch.float64)
    x = torch.stack(torch.meshgrid(g, g, indexing="ij"), dim=-1).reshape(-1, 2)
    exact = torch.stack([(l1 - 1.0) * x[:, 0], (l2 - 1.0) * x[:, 1]], dim=1)
    dtype = next(net.parameters()).dtype
    with torch.no_grad():
        pred = net(x.to(dtype)).double()
    return float(torch.linalg.vector_norm(pred - exact) / torch.linalg.vector_norm(exact)), (l1, l2)
