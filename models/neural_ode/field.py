r"""Right-hand sides :math:`f(t, y; u)` of neural ODEs, with solver statistics.

Every field counts its evaluations and, through torchdiffeq's callbacks
(``callback_step`` / ``callback_accept_step`` / ``callback_reject_step``, called by the
adaptive Runge–Kutta solvers), the attempted, accepted and rejected steps. ``inputs`` are
per-trajectory controls held constant during a solve (e.g. the inducer dose), `batch x k`.

* :class:`BlackBoxField` — :math:`\dot y = s \odot N_\theta(y / s, u)`: learns the whole law.
* Hybrid fields (known mechanism + a network for the unknown part) subclass
  :class:`ODEField` (see :mod:`models.neural_ode.protein`).
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import Tensor, nn

__all__ = ["BlackBoxField", "ODEField", "SolverStats", "mlp"]


@dataclass
class SolverStats:
    """Counts of one or more solves.

    Attributes:
        nfe: Right-hand-side evaluations (forward and, with the adjoint, backward).
        attempted: Adaptive steps attempted.
        accepted: Steps accepted by the error control.
        rejected: Steps rejected (retried with a smaller step).
        fallbacks: Solves that fell back to the fallback solver.
    """

    nfe: int = 0
    attempted: int = 0
    accepted: int = 0
    rejected: int = 0
    fallbacks: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


def mlp(n_in: int, n_out: int, width: int, depth: int, dtype: torch.dtype) -> nn.Sequential:
    """A tanh MLP with a small last layer (the field starts near zero: slow dynamics)."""
    layers: list[nn.Module] = []
    sizes = [n_in] + [width] * depth
    for a, b in itertools.pairwise(sizes):
        layers += [nn.Linear(a, b, dtype=dtype), nn.Tanh()]
    last = nn.Linear(sizes[-1], n_out, dtype=dtype)
    with torch.no_grad():
        last.weight.mul_(0.1)
        last.bias.zero_()
    layers.append(last)
    return nn.Sequential(*layers)


class ODEField(nn.Module):
    """Base of the right-hand sides: statistics and inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.stats = SolverStats()
        self.inputs: Tensor | None = None
        #: ``(t, y)`` (detached) at the start of the solver's latest step: where a failed solve
        #: got stuck, to tell a model producing NaN/inf from a stiff system.
        self.last_state: tuple[Tensor, Tensor] | None = None
        # all-finite flags of the derivatives of the current and the previous step attempt
        # (tensors: no device synchronisation per evaluation; read only after a failure)
        self._finite_now: Tensor | None = None
        self._finite_before: Tensor | None = None

    def set_inputs(self, inputs: Tensor) -> None:
        """Controls `batch x k` for the next solves."""
        self.inputs = inputs

    def rhs(self, t: Tensor, y: Tensor) -> Tensor:
        """:math:`f(t, y; u)`, `batch x n` (override)."""
        raise NotImplementedError

    def forward(self, t: Tensor, y: Tensor) -> Tensor:
        self.stats.nfe += 1
        derivative = self.rhs(t, y)
        finite = torch.isfinite(derivative.detach()).all()
        self._finite_now = finite if self._finite_now is None else self._finite_now & finite
        return derivative

    def reset_watch(self) -> None:
        """Forget the latest step and the finiteness of its derivatives (a new solve)."""
        self.last_state = None
        self._finite_now = self._finite_before = None

    def met_non_finite(self) -> bool:
        """Whether a derivative evaluated in the latest two step attempts (since
        :meth:`reset_watch`) was NaN/inf: the model, not stiffness, stopped the solver."""
        flags = [f for f in (self._finite_before, self._finite_now) if f is not None]
        return not all(bool(f) for f in flags)

    def callback_step(self, t0: Tensor, y0: Tensor, dt: Tensor) -> None:
        self.stats.attempted += 1
        self.last_state = (t0.detach(), y0.detach())
        self._finite_before, self._finite_now = self._finite_now, None

    def callback_accept_step(self, t0: Tensor, y0: Tensor, dt: Tensor) -> None:
        self.stats.accepted += 1

    def callback_reject_step(self, t0: Tensor, y0: Tensor, dt: Tensor) -> None:
        self.stats.rejected += 1


class BlackBoxField(ODEField):
    r""":math:`\dot y = s \odot N_\theta(y / s, \log(1 + u))`: a fully learned law.

    Args:
        state_dim: :math:`n`.
        input_dim: :math:`k` (controls).
        scale: Typical magnitude of each state variable `n` (makes the network's inputs and
            outputs O(1)).
        width: Hidden units.
        depth: Hidden layers.
        rate: Typical rate (1/time) of the dynamics: outputs are :math:`s \cdot rate \cdot N`.
        dtype: Parameter dtype.
    """

    scale: Tensor

    def __init__(self, state_dim: int, input_dim: int, scale: Tensor, width: int = 32,
                 depth: int = 2, rate: float = 1.0, dtype: torch.dtype = torch.float32,
                 seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.net = mlp(state_dim + input_dim, state_dim, width, depth, dtype)
        self.register_buffer("scale", scale.to(dtype))
        self.rate = rate

    def rhs(self, t: Tensor, y: Tensor) -> Tensor:
        assert self.inputs is not None, "set_inputs first"
        z = torch.cat([y / self.scale, torch.log1p(self.inputs)], dim=-1)
        return self.scale * self.rate * self.net(z)
