r"""Physics-informed neural networks: residual and energy (Deep Ritz) forms.

* :mod:`.problem` — :class:`PINNProblem`: domain, user-written residual, conditions,
  coefficients; :mod:`.ritz` — :class:`EnergyProblem` for the energy form.
* :mod:`.conditions` — Dirichlet, Neumann, periodic, initial, observations (separate terms).
* :mod:`.network` — :class:`FieldNet`: Fourier / cosine (exact no-flux) / periodic
  embeddings and hard-constraint output transforms.
* :mod:`.training` — :func:`train_pinn`: Adam then L-BFGS, gradient-norm loss balancing,
  residual-based resampling, NaN detection, progress callback, time budget;
  :func:`polish_pinn`: float64 + L-BFGS polish of a trained float32 network.
* :mod:`.coefficients` — known and trainable (log-parameterised) PDE coefficients.
* :mod:`.cases` — built-in cases (Fisher–KPP, neo-Hookean) and
  :func:`~.cases.registry.train_case` for training jobs.
"""

from .coefficients import Coefficients
from .conditions import Condition, Dirichlet, Neumann, Observations, Periodic, initial
from .derivatives import derivative, gradient, laplacian
from .domain import Box
from .errors import InvalidCaseConfigError, NonFiniteLossError, UnknownCaseError
from .network import FieldNet
from .problem import PINNProblem
from .ritz import EnergyProblem
from .training import PINNConfig, PINNResult, polish_pinn, train_pinn

__all__ = ["Box", "Coefficients", "Condition", "Dirichlet", "EnergyProblem", "FieldNet",
           "InvalidCaseConfigError", "Neumann", "NonFiniteLossError", "Observations",
           "PINNConfig", "PINNProblem", "PINNResult", "Periodic", "UnknownCaseError",
           "derivative", "gradient", "initial", "laplacian", "polish_pinn", "train_pinn"]
