r"""The dimensionless form of the Reynolds equation, and the way back to SI units.

A pad of length :math:`L` (along the sliding direction :math:`X`) and width :math:`B` (across
it, :math:`Z`) faces a runner that slides at speed :math:`U` in the :math:`+X` direction; the
lubricant has dynamic viscosity :math:`\mu`; the film thickness is :math:`H(X, Z)`. Lubricant
enters at :math:`X = 0` (the leading edge) and leaves at :math:`X = L`. Every edge of the pad is
at ambient pressure, and pressures are gauge pressures above ambient.

Dimensional inputs and their units:

=====================  =====================================  ==========
symbol                 meaning                                unit
=====================  =====================================  ==========
:math:`\mu`            dynamic viscosity                      Pa s
:math:`U`              sliding speed (sum of surface speeds)  m/s
:math:`L`              pad length, along the sliding          m
:math:`B`              pad width, across the sliding          m
:math:`H`              film thickness                         m
:math:`h_\text{ref}`   reference film (the outlet or minimum) m
:math:`P`              gauge pressure                         Pa
:math:`W`              load capacity (normal force)           N
:math:`F`              friction force on the moving surface   N
=====================  =====================================  ==========

Scaling (every solver quantity is dimensionless in these units):

.. math::

    x = X / L, \quad z = Z / B, \quad h = H / h_\text{ref}, \quad
    p = \frac{P\, h_\text{ref}^2}{\mu U L}, \quad \lambda = L / B,

which turns the steady, incompressible, isoviscous Reynolds equation with the Jakobsson–Floberg–
Olsson fluid fraction :math:`\theta` into

.. math::

    \partial_x (h^3 \partial_x p) + \lambda^2 \partial_z (h^3 \partial_z p)
        = 6\, \partial_x (\theta h),

on :math:`[0, 1]^2` (1D: :math:`[0, 1]`, an infinitely wide pad), with :math:`p = 0` on the
edges. The dimensionless outputs are

.. math::

    w = \int\!\!\int p\, dx\, dz = \frac{W h_\text{ref}^2}{\mu U L^2 B}, \qquad
    f = \int\!\!\int \Big(\frac{\theta}{h} + \frac{h}{2} \partial_x p\Big) dx\, dz
      = \frac{F h_\text{ref}}{\mu U L B},

so that :math:`w` is the classical load coefficient (0.1602 for the best plane slider, 0.2063
for the best Rayleigh step, with :math:`h_\text{ref}` the minimum film), and the friction
coefficient is :math:`F / W = (h_\text{ref} / L)\, f / w`. The dimensionless volume flux per
unit width is :math:`q = Q / (U h_\text{ref}) = \theta h / 2 - h^3 \partial_x p / 12`.

Example:
    >>> scales = BearingScales(viscosity=0.05, speed=10.0, length=0.02, width=0.02,
    ...                        film=10e-6)
    >>> round(scales.load(0.2063))  # N, for the optimal Rayleigh step
    8252
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor


@dataclass(frozen=True)
class BearingScales:
    r"""The dimensional constants that turn solver numbers into SI quantities.

    Args:
        viscosity: Dynamic viscosity :math:`\mu`, in Pa s.
        speed: Sliding speed :math:`U` of the runner in the :math:`+X` direction, in m/s.
        length: Pad length :math:`L` along the sliding direction, in m.
        width: Pad width :math:`B` across the sliding direction, in m (for a 1D, infinitely
            wide pad: the width the load and friction are reported for).
        film: Reference film thickness :math:`h_\text{ref}`, in m.
    """

    viscosity: float
    speed: float
    length: float
    width: float
    film: float

    def __post_init__(self) -> None:
        for name in ("viscosity", "speed", "length", "width", "film"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")

    @property
    def pressure_scale(self) -> float:
        r""":math:`\mu U L / h_\text{ref}^2`, in Pa."""
        return self.viscosity * self.speed * self.length / self.film**2

    @property
    def load_scale(self) -> float:
        r""":math:`\mu U L^2 B / h_\text{ref}^2`, in N."""
        return self.pressure_scale * self.length * self.width

    @property
    def friction_scale(self) -> float:
        r""":math:`\mu U L B / h_\text{ref}`, in N."""
        return self.viscosity * self.speed * self.length * self.width / self.film

    @property
    def width_ratio(self) -> float:
        """:math:`B / L`, the pad's aspect ratio as :class:`Grid` takes it."""
        return self.width / self.length

    def pressure(self, p: Tensor | float) -> Tensor | float:
        """Gauge pressure in Pa from the dimensionless :math:`p`."""
        return p * self.pressure_scale

    def load(self, w: Tensor | float) -> Tensor | float:
        """Load capacity in N from the dimensionless load :math:`w`."""
        return w * self.load_scale

    def friction(self, f: Tensor | float) -> Tensor | float:
        """Friction force in N from the dimensionless friction :math:`f`."""
        return f * self.friction_scale

    def friction_coefficient(self, f: Tensor | float, w: Tensor | float) -> Tensor | float:
        r"""The (dimensional) friction coefficient :math:`F / W = (h_\text{ref}/L) f / w`."""
        return (self.film / self.length) * f / w

    def film_thickness(self, h: Tensor | float) -> Tensor | float:
        """Film thickness in m from the dimensionless :math:`h`."""
        return h * self.film

    def dimensionless_film(self, film_m: Tensor | float) -> Tensor | float:
        """The dimensionless :math:`h` of a film thickness given in m."""
        return film_m / self.film

    def dimensionless_pressure(self, pressure_pa: Tensor | float) -> Tensor | float:
        """The dimensionless :math:`p` of a gauge pressure given in Pa."""
        return pressure_pa / self.pressure_scale
