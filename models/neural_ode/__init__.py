r"""Neural ODEs and hybrid (mechanistic + network) models on torchdiffeq.

* :mod:`.field` — right-hand sides with solver statistics (NFE, accepted/rejected steps).
* :mod:`.solve` — direct or adjoint gradients; step-size underflow caught
  (:class:`~.errors.StiffSolverError`) with an implicit :mod:`.implicit` SDIRK2 fallback; a
  model that produces NaN/inf is told apart (:class:`~.errors.NonFiniteFieldError`).
* :mod:`.data` — irregular trajectories batched on a union time grid.
* :mod:`.training` — fitting with a curriculum over the time horizon.
* :mod:`.design` — piecewise-constant dosing schedules by gradient through the solver.
* :mod:`.protein` — the protein-expression case; :mod:`.jobs` — its training job.
"""

from .data import TrajectoryBatch
from .design import DosingProblem, DosingResult, design_schedule
from .errors import (
    InvalidTrajectoryError,
    NonFiniteFieldError,
    NonFiniteODELossError,
    StiffSolverError,
)
from .field import BlackBoxField, ODEField, SolverStats
from .solve import SolverOptions, solve
from .training import NeuralODEConfig, NeuralODEResult, train_neural_ode

__all__ = ["BlackBoxField", "DosingProblem", "DosingResult", "InvalidTrajectoryError",
           "NeuralODEConfig", "NeuralODEResult", "NonFiniteFieldError", "NonFiniteODELossError",
           "ODEField",
           "SolverOptions", "SolverStats", "StiffSolverError", "TrajectoryBatch",
           "design_schedule", "solve", "train_neural_ode"]
