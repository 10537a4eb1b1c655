r"""Reference solutions of neo-Hookean bodies, for checking energy-form (Deep Ritz) models.

**Bar.** A bar :math:`X \in [0, L]` fixed at :math:`X = 0`, loaded by a body force
:math:`b` per unit reference length (N/m) and an end traction :math:`\tau` (N) at
:math:`X = L`. Equilibrium :math:`dP/dX + b = 0` with :math:`P(L) = \tau` gives the stress
:math:`P(X) = \tau + b\,(L - X)` in closed form; the stretch is the unique root of
:math:`P(\lambda_s) = P(X)` (the law is strictly increasing), and
:math:`u(X) = \int_0^X (\lambda_s - 1)\,dX'` by high-order quadrature. Both steps are exact
to ~1e-12: a reference, not an approximation.

**Plate in uniaxial stretch (plane strain).** Under a traction :math:`\tau` on
:math:`X_1 = L` with roller supports, the deformation is homogeneous,
:math:`F = \operatorname{diag}(\lambda_1, \lambda_2)`, with :math:`P_{11} = \tau`,
:math:`P_{22} = 0`: two equations solved by SciPy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.integrate import quad
from scipy.optimize import brentq

from .energy import NeoHookean, bar_stress

__all__ = ["BarProblem", "bar_reference", "uniaxial_stretch"]


@dataclass(frozen=True)
class BarProblem:
    """A neo-Hookean bar (reference length L in m, loads in N/m and N, moduli in N).

    Attributes:
        length: :math:`L`.
        body_force: :math:`b` per unit reference length.
        traction: End load :math:`\\tau` at :math:`X = L`.
        material: The constants.
    """

    length: float = 1.0
    body_force: float = 1.0
    traction: float = 0.5
    material: NeoHookean = field(default_factory=NeoHookean)


def _stretch(stress: float, material: NeoHookean) -> float:
    return float(brentq(lambda s: bar_stress(s, material) - stress, 1e-3, 1e3, xtol=1e-14,
                        rtol=1e-14))


def bar_reference(problem: BarProblem, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact displacement :math:`u(X)` and stretch :math:`\\lambda_s(X)` at points ``x``."""
    def stretch_at(s: float) -> float:
        return _stretch(problem.traction + problem.body_force * (problem.length - s),
                        problem.material)

    stretch = np.array([stretch_at(float(s)) for s in x])
    disp = np.array([quad(lambda s: stretch_at(s) - 1.0, 0.0, float(s), epsabs=1e-13,
                          epsrel=1e-12)[0] for s in x])
    return disp, stretch


def uniaxial_stretch(traction: float, material: NeoHookean, tol: float = 1e-14,
                     max_iterations: int = 50) -> tuple[float, float]:
    """Principal stretches :math:`(\\lambda_1, \\lambda_2)` of the plane-strain plate, by
    Newton's method on :math:`(P_{11} - \tau, P_{22})` with the exact Jacobian (damped to
    keep the stretches positive)."""
    mu, lam = material.mu, material.lam
    s = np.array([1.0, 1.0])
    for _ in range(max_iterations):
        l1, l2 = s
        log_j = math.log(l1 * l2)
        residual = np.array([mu * (l1 - 1 / l1) + lam * log_j / l1 - traction,
                             mu * (l2 - 1 / l2) + lam * log_j / l2])
        if np.abs(residual).max() < tol * max(1.0, abs(traction)):
            return float(l1), float(l2)
        cross = lam / (l1 * l2)
        jac = np.array([[mu * (1 + 1 / l1**2) + lam * (1 - log_j) / l1**2, cross],
                        [cross, mu * (1 + 1 / l2**2) + lam * (1 - log_j) / l2**2]])
        step = np.linalg.solve(jac, -residual)
        while np.any(s + step <= 0.0):
            step *= 0.5
        s = s + step
    raise RuntimeError(f"uniaxial stretch did not converge for traction {traction}")
