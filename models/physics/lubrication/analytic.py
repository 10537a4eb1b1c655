r"""Closed-form solutions of the 1D Reynolds equation, in the scaling of :mod:`.scaling`.

Every formula is derived from :math:`q = h/2 - h^3 p'/12 = \text{const}` (1D, flooded inlet,
ambient pressure at both ends), in the units :math:`p = P h_\text{ref}^2 / (\mu U L)`,
:math:`w = W h_\text{ref}^2 / (\mu U L^2 B)`, :math:`f = F h_\text{ref} / (\mu U L B)` with
:math:`F` the shear force on the moving surface. References:

* Plane inclined slider — B. J. Hamrock, S. R. Schmid, B. O. Jacobson, *Fundamentals of Fluid
  Film Lubrication*, 2nd ed., Marcel Dekker (2004), ch. 8 ("Fixed-incline slider bearing"),
  with :math:`K = h_1/h_2 - 1` (their :math:`H_o` ratio form), :math:`h_\text{ref} = h_2`:

  .. math:: w = \frac{6}{K^2}\Big(\ln(1+K) - \frac{2K}{2+K}\Big),\qquad
            f = \frac{1}{K}\Big(4\ln(1+K) - \frac{6K}{2+K}\Big),

  maximal load :math:`w = 0.1602` at :math:`K = 1.189` (:math:`h_1/h_2 = 2.189`).
  Derivation: :math:`p' = 6/h^2 - 12\,h_1 h_2/((h_1+h_2) h^3)`; :math:`f = \int dx/h +
  \tfrac12 \int h p' dx = \ln(1+K)/K + K w / 2`.
* Rayleigh step — Lord Rayleigh, "Notes on the theory of lubrication", Phil. Mag. 35 (1918)
  1–12; Hamrock et al. ch. 8. Inlet film :math:`H = h_1/h_2` over :math:`[0, a]`, land
  :math:`h_2 = h_\text{ref}` over :math:`[a, 1]`; the pressure is piecewise linear with peak

  .. math:: p_m = \frac{6 (H - 1)}{H^3 / a + 1 / (1 - a)},\qquad w = p_m / 2, \qquad
            f = \frac{a}{H} + (1 - a) + \frac{(H - 1)\,p_m}{2}.

  Maximising over :math:`a` gives :math:`a = H^{3/2} / (1 + H^{3/2})` and
  :math:`w = 3 (H - 1) / (1 + H^{3/2})^2`, maximal at :math:`H = 1 + \sqrt{3}/2 = 1.866`,
  :math:`a = 0.718`, :math:`w = 0.2063`.
* Short (narrow) bearing limit of the finite plane slider, :math:`B/L \to 0` (Dubois & Ocvirk,
  NACA Report 1157, 1953, for the journal bearing): with :math:`\lambda^2 \partial_z(h^3
  \partial_z p) = 6 h'`, :math:`w \to (B/L)^2 (1 - 1/(1+K)^2) / 4`.
* A parallel land – pocket – land film with mass-conserving (JFO) cavitation (derived here):
  inlet land :math:`h_1` over :math:`[0, a]`, pocket :math:`h_p > h_1` over :math:`[a, b]`,
  outlet land :math:`h_3 < h_1` over :math:`[b, 1]`. The film ruptures at the pocket's edge,
  :math:`p \equiv 0` on the inlet land, the flux is :math:`q = h_1/2`, the pocket holds a
  partial film :math:`\theta = h_1/h_p` up to the reformation point :math:`c`, then full film:

  .. math:: p_b = \frac{6 (1 - b)(h_1 - h_3)}{h_3^3}, \qquad
            b - c = \frac{h_p^3\, p_b}{6 (h_p - h_1)}, \qquad w = \frac{p_b (1 - c)}{2},

  valid when :math:`a \le c` (else the pocket is full and there is no cavity).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

Number = Tensor | float

RAYLEIGH_OPTIMAL_RATIO = 1.0 + math.sqrt(3.0) / 2.0
"""Film ratio :math:`h_1 / h_2` of the maximum-load Rayleigh step (1.8660)."""
RAYLEIGH_OPTIMAL_POSITION = RAYLEIGH_OPTIMAL_RATIO**1.5 / (1.0 + RAYLEIGH_OPTIMAL_RATIO**1.5)
"""Step position :math:`a / L` of the maximum-load Rayleigh step (0.7182)."""


def inclined_slider_load(inclination: Number) -> Number:
    r"""Dimensionless load :math:`w` of the infinitely wide plane slider, :math:`K > 0`."""
    k = inclination
    return 6.0 / k**2 * (_log1p(k) - 2.0 * k / (2.0 + k))


def inclined_slider_friction(inclination: Number) -> Number:
    r"""Dimensionless friction :math:`f` on the moving surface of the plane slider, :math:`K>0`."""
    k = inclination
    return (4.0 * _log1p(k) - 6.0 * k / (2.0 + k)) / k


def inclined_slider_pressure(x: Tensor, inclination: float) -> Tensor:
    r"""Pressure :math:`p(x)` of the plane slider (:math:`h = 1 + K(1-x)`), shape of ``x``."""
    k = inclination
    h1, h = 1.0 + k, 1.0 + k * (1.0 - x)
    c = -12.0 * h1 / (h1 + 1.0)
    return (6.0 * (1.0 / h - 1.0 / h1) + 0.5 * c * (1.0 / h**2 - 1.0 / h1**2)) / k


def inclined_slider_short_bearing_load(inclination: Number, width_ratio: Number) -> Number:
    r"""Narrow-pad limit :math:`w \approx (B/L)^2 (1 - (1+K)^{-2}) / 4` of the finite slider."""
    return width_ratio**2 * (1.0 - 1.0 / (1.0 + inclination) ** 2) / 4.0


def inclined_slider_optimum(tol: float = 1e-12) -> tuple[float, float]:
    """``(K, w)`` of the maximum-load plane slider, by golden-section search on (0.1, 5)."""
    lo, hi = 0.1, 5.0
    g = (math.sqrt(5.0) - 1.0) / 2.0
    while hi - lo > tol:
        a, b = hi - g * (hi - lo), lo + g * (hi - lo)
        if inclined_slider_load(a) > inclined_slider_load(b):
            hi = b
        else:
            lo = a
    k = 0.5 * (lo + hi)
    return k, float(inclined_slider_load(k))


def rayleigh_step_peak(ratio: Number, position: Number) -> Number:
    r"""Peak pressure :math:`p_m` at the step."""
    return 6.0 * (ratio - 1.0) / (ratio**3 / position + 1.0 / (1.0 - position))


def rayleigh_step_load(ratio: Number, position: Number) -> Number:
    r"""Dimensionless load :math:`w` of the Rayleigh step (:math:`h_\text{ref}` = the land)."""
    return 0.5 * rayleigh_step_peak(ratio, position)


def rayleigh_step_friction(ratio: Number, position: Number) -> Number:
    r"""Dimensionless friction :math:`f` on the moving surface of the Rayleigh step."""
    return (position / ratio + (1.0 - position)
            + 0.5 * (ratio - 1.0) * rayleigh_step_peak(ratio, position))


def rayleigh_step_optimum() -> tuple[float, float, float]:
    """``(h1/h2, a/L, w)`` of the maximum-load Rayleigh step: (1.8660, 0.7182, 0.2063)."""
    h, a = RAYLEIGH_OPTIMAL_RATIO, RAYLEIGH_OPTIMAL_POSITION
    return h, a, float(rayleigh_step_load(h, a))


@dataclass(frozen=True)
class PocketSolution:
    """The JFO solution of the land–pocket–land film (see the module docstring)."""

    flux: float
    cavity_fill: float
    reformation: float
    peak_pressure: float
    load: float
    friction: float

    def pressure(self, x: Tensor, pocket_end: float) -> Tensor:
        """:math:`p(x)`: zero up to the reformation point, linear up to the peak, then down."""
        c, b, pb = self.reformation, pocket_end, self.peak_pressure
        rising = pb * (x - c) / (b - c)
        falling = pb * (1.0 - x) / (1.0 - b)
        return torch.where(x <= c, torch.zeros_like(x), torch.where(x <= b, rising, falling))


def pocket_jfo_solution(inlet_film: float, pocket_film: float, outlet_film: float,
                        pocket_start: float, pocket_end: float) -> PocketSolution:
    r"""The mass-conserving solution of a land–pocket–land film.

    Args:
        inlet_film: :math:`h_1` over :math:`[0, a]`.
        pocket_film: :math:`h_p > h_1` over :math:`[a, b]`.
        outlet_film: :math:`h_3 < h_1` over :math:`[b, 1]`.
        pocket_start: :math:`a`.
        pocket_end: :math:`b`.

    Raises:
        ValueError: If the films do not give a cavity inside the pocket.
    """
    h1, hp, h3, a, b = inlet_film, pocket_film, outlet_film, pocket_start, pocket_end
    if not (hp > h1 > h3 > 0 and 0 < a < b < 1):
        raise ValueError("need pocket > inlet > outlet film and 0 < a < b < 1")
    pb = 6.0 * (1.0 - b) * (h1 - h3) / h3**3
    c = b - hp**3 * pb / (6.0 * (hp - h1))
    if c < a:
        raise ValueError(f"no cavity: the full film would reach back to x={c:.3g} < a={a}")
    fill = h1 / hp
    friction = (a / h1 + (c - a) * fill / hp + (b - c) / hp + 0.5 * hp * pb
                + (1.0 - b) / h3 - 0.5 * h3 * pb)
    return PocketSolution(flux=0.5 * h1, cavity_fill=fill, reformation=c, peak_pressure=pb,
                          load=0.5 * pb * (1.0 - c), friction=friction)


def _log1p(k: Number) -> Number:
    return torch.log1p(k) if isinstance(k, Tensor) else math.log1p(k)
