r"""Compressible neo-Hookean hyperelasticity: energy densities and reference solutions.

* :mod:`.energy` — strain-energy densities (1D bar, 2D plane strain), torch, differentiable.
* :mod:`.reference` — the bar under a distributed load and an end traction, solved exactly
  by inverting the monotone stress–stretch law pointwise (SciPy root finding); and the
  homogeneous uniaxial stretch of a plate (two stress equations, SciPy).
"""

from .energy import NeoHookean, bar_energy_density, plane_strain_energy_density
from .reference import BarProblem, bar_reference, uniaxial_stretch

__all__ = ["BarProblem", "NeoHookean", "bar_energy_density", "bar_reference",
           "plane_strain_energy_density", "uniaxial_stretch"]
