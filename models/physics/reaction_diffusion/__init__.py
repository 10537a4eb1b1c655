r"""Fisher–KPP reaction–diffusion: an algae bloom spreading along a channel.

:math:`u_t = D\,u_{xx} + r\,u(1-u)` — :math:`u` the algae density as a fraction of the carrying
capacity, :math:`x` in km along the channel, :math:`t` in days, :math:`D` in km²/day,
:math:`r` in 1/day.

* :mod:`.reference` — method-of-lines finite differences integrated by SciPy (BDF with the
  banded Jacobian), no-flux or Dirichlet ends, 1D and 2D; second-order convergent.
* :mod:`.travelling_wave` — the exact Ablowitz–Zeppetella travelling wave.
"""

from .reference import FisherKPP, ReferenceSolution, bloom, solve_reference, solve_reference_2d
from .travelling_wave import travelling_wave, wave_speed

__all__ = ["FisherKPP", "ReferenceSolution", "bloom", "solve_reference", "solve_reference_2d",
           "travelling_wave", "wave_speed"]
