r"""Protein expression under an inducer dose: a documented ground-truth ODE and its data.

* :mod:`.model` — the two-species mRNA/protein model with a saturating (Hill) regulation of
  transcription by the dose, simulated by SciPy, also under piecewise-constant schedules.
* :mod:`.data` — noisy measurements at irregular times for several doses.
"""

from .data import Measurement, generate_dataset
from .model import ExpressionParameters, hill, simulate, simulate_schedule

__all__ = ["ExpressionParameters", "Measurement", "generate_dataset", "hill", "simulate",
           "simulate_schedule"]
