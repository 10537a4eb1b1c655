r"""Fisher–KPP algae bloom as a PINN: forward, inverse (recover :math:`D, r`), travelling wave.

The residual is :math:`u_t - D u_{xx} - r u (1 - u)` on :math:`(x, t) \in [0, L] \times
[0, T]` (km, days). By default the constraints are *hard*: the no-flux ends through the
:math:`\cos(k\pi x/L)` embedding (:mod:`models.pinn.network`) and the initial bloom through
the output transform :math:`u = u_0(x) + (t/T)\,N(x, t)`, so the only loss term of the
forward problem is the residual. ``hard=False`` gives the textbook soft form instead
(Neumann and initial-condition penalty terms), e.g. to compare with other PINN libraries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np
import torch
from torch import Tensor, nn

from models.physics.reaction_diffusion import FisherKPP, ReferenceSolution, solve_reference
from models.physics.reaction_diffusion.reference import bloom_profile_y

from ..coefficients import Coefficients
from ..conditions import Condition, Dirichlet, Neumann, Observations, initial
from ..derivatives import gradient, laplacian
from ..domain import Box
from ..network import FieldNet
from ..problem import PINNProblem

__all__ = ["SensorData", "fisher_residual", "forward_problem", "inverse_problem",
           "reference_points", "relative_l2", "sensor_data", "wave_problem"]


def fisher_residual(x: Tensor, u: Tensor, c: Mapping[str, Tensor | float]) -> Tensor:
    r""":math:`u_t - D \nabla^2 u - r u (1-u)`; time is the last input column, the others
    are space (1D or 2D)."""
    t_dim = x.shape[1] - 1
    first = gradient(u, x)              # one pass gives u_t and the space gradient
    lap = laplacian(u, x, tuple(range(t_dim)), first=first)
    u_t = first[:, t_dim:t_dim + 1]
    return u_t - c["D"] * lap - c["r"] * u * (1.0 - u)


def _bloom_torch(x: Tensor, case: FisherKPP) -> Tensor:
    return case.amplitude * torch.exp(-(((x - case.centre) / case.width) ** 2))


def _domain(case: FisherKPP, width_y: float | None = None) -> Box:
    if width_y is None:
        return Box((0.0, 0.0), (case.length, case.horizon), ("x", "t"))
    return Box((0.0, 0.0, 0.0), (case.length, width_y, case.horizon), ("x", "y", "t"))


def _hard_net(case: FisherKPP, domain: Box, width: int, depth: int, harmonics: int,
              seed: int, width_y: float | None = None) -> FieldNet:
    def transform(x: Tensor, raw: Tensor) -> Tensor:
        u0 = _bloom_torch(x[:, :1], case)
        if width_y is not None:
            y = x[:, 1:2]
            u0 = u0 * (1.0 + 0.5 * torch.cos(torch.pi * y / width_y)) / 1.5
        return u0 + (x[:, -1:] / case.horizon) * raw

    space = ("x",) if width_y is None else ("x", "y")
    return FieldNet(domain, 1, width, depth, cosine_dims=space, harmonics=harmonics,
                    transform=transform, seed=seed)


def forward_problem(case: FisherKPP, *, width: int = 32, depth: int = 3, harmonics: int = 8,
                    hard: bool = True, n_boundary: int = 200, seed: int = 0,
                    width_y: float | None = None) -> tuple[PINNProblem, FieldNet]:
    """The forward problem (known :math:`D, r`) and a fresh network.

    Args:
        case: Channel, coefficients and initial bloom.
        width: Hidden units per layer.
        depth: Hidden layers.
        harmonics: Cosine harmonics of the no-flux embedding (hard form).
        hard: Hard constraints (default) or soft Neumann + initial-condition terms.
        n_boundary: Points per soft boundary / initial term.
        seed: Network seed.
        width_y: Channel width (km) for the 2D (x, y, t) version; None: 1D.
    """
    domain = _domain(case, width_y)
    coefficients = Coefficients(known={"D": case.diffusivity, "r": case.rate})
    if hard:
        net = _hard_net(case, domain, width, depth, harmonics, seed, width_y)
        return PINNProblem(domain, fisher_residual, {}, coefficients), net
    if width_y is not None:
        raise ValueError("the soft form is implemented for the 1D channel only")
    net = FieldNet(domain, 1, width, depth, seed=seed)
    conditions: dict[str, Condition] = {
        "initial": initial(domain, n_boundary, lambda p: _bloom_torch(p[:, :1], case), seed),
        "left": Neumann(domain.sample_face("x", "lower", n_boundary, seed + 1), dim=0),
        "right": Neumann(domain.sample_face("x", "upper", n_boundary, seed + 2), dim=0),
    }
    return PINNProblem(domain, fisher_residual, conditions, coefficients), net


def reference_points(ref: ReferenceSolution, stride_x: int = 8) -> tuple[Tensor, Tensor]:
    """Points `n x 2` (x, t) and reference values `n x 1` of a 1D reference (float64)."""
    x = ref.x[::stride_x]
    tt, xx = np.meshgrid(ref.t, x, indexing="ij")
    points = np.stack([xx.reshape(-1), tt.reshape(-1)], axis=1)
    values = ref.u[:, ::stride_x].reshape(-1, 1)
    return torch.from_numpy(points), torch.from_numpy(values)


def relative_l2(net: nn.Module, points: Tensor, values: Tensor) -> float:
    r""":math:`\lVert u_\theta - u_\text{ref}\rVert_2 / \lVert u_\text{ref}\rVert_2` over the
    given space-time points."""
    dtype = next(net.parameters()).dtype
    with torch.no_grad():
        pred = net(points.to(dtype)).to(torch.float64)
    return float(torch.linalg.vector_norm(pred - values) / torch.linalg.vector_norm(values))


class SensorData:
    """Noisy sensor records of the reference field.

    Attributes:
        points: `n x 2` (x, t) of every record (sensors x times).
        values: `n x 1` noisy values.
        clean: `n x 1` noise-free values.
    """

    def __init__(self, points: Tensor, values: Tensor, clean: Tensor) -> None:
        self.points, self.values, self.clean = points, values, clean


def sensor_data(ref: ReferenceSolution, n_sensors: int, noise: float, seed: int = 0,
                time_stride: int = 5) -> SensorData:
    """``n_sensors`` fixed positions spread along the channel (random nodes), each recording
    every ``time_stride``-th reference time, with Gaussian noise of sd ``noise`` times the
    field's peak."""
    rng = np.random.default_rng(seed)
    nodes = np.sort(rng.choice(ref.x.size, size=n_sensors, replace=False))
    times = np.arange(0, ref.t.size, time_stride)
    tt, ii = np.meshgrid(times, nodes, indexing="ij")
    points = np.stack([ref.x[ii.reshape(-1)], ref.t[tt.reshape(-1)]], axis=1)
    clean = ref.u[tt.reshape(-1), ii.reshape(-1)].reshape(-1, 1)
    sd = noise * float(np.abs(ref.u).max())
    noisy = clean + sd * rng.standard_normal(clean.shape)
    return SensorData(torch.from_numpy(points), torch.from_numpy(noisy), torch.from_numpy(clean))


def inverse_problem(case: FisherKPP, data: SensorData, guess: tuple[float, float], *,
                    width: int = 32, depth: int = 3, harmonics: int = 8,
                    seed: int = 0) -> tuple[PINNProblem, FieldNet]:
    """Recover :math:`D, r` (log-parameterised, starting at ``guess``) and the field from
    sensor data; the initial bloom and no-flux ends are known (hard)."""
    domain = _domain(case)
    net = _hard_net(case, domain, width, depth, harmonics, seed)
    coefficients = Coefficients(unknown={"D": guess[0], "r": guess[1]})
    conditions: dict[str, Condition] = {"data": Observations(data.points, data.values)}
    return PINNProblem(domain, fisher_residual, conditions, coefficients), net


def wave_problem(case: FisherKPP, n_boundary: int = 200, width: int = 32, depth: int = 3,
                 seed: int = 0) -> tuple[PINNProblem, FieldNet, ReferenceSolution]:
    """The Ablowitz–Zeppetella wave on :math:`[0, L] \\times [0, T]`: exact initial and
    Dirichlet end values (soft), and the exact field on a grid to compare with."""
    from models.physics.reaction_diffusion import travelling_wave

    d, r = case.diffusivity, case.rate

    shift = float(np.exp(-0.3 * case.length * np.sqrt(r / (6 * d))))   # front at 0.3 L

    def exact(p: Tensor) -> Tensor:
        return torch.as_tensor(travelling_wave(p[:, :1], p[:, 1:2], d, r, shift=shift))

    domain = _domain(case)

    def transform(x: Tensor, raw: Tensor) -> Tensor:
        return exact(torch.cat([x[:, :1], torch.zeros_like(x[:, 1:])], 1)) + \
            (x[:, 1:] / case.horizon) * raw

    net = FieldNet(domain, 1, width, depth, transform=transform, seed=seed)
    conditions: dict[str, Condition] = {
        "left": Dirichlet(domain.sample_face("x", "lower", n_boundary, seed + 1), exact),
        "right": Dirichlet(domain.sample_face("x", "upper", n_boundary, seed + 2), exact),
    }
    problem = PINNProblem(domain, fisher_residual, conditions,
                          Coefficients(known={"D": d, "r": r}))
    grid = domain.grid((41, 21))
    values = exact(grid)
    xs, ts = np.linspace(0, case.length, 41), np.linspace(0, case.horizon, 21)
    ref = ReferenceSolution(x=xs, t=ts, u=values.numpy().reshape(41, 21).T)
    return problem, net, ref


def reference_2d_points(case: FisherKPP, width_y: float, nx: int = 101, ny: int = 51,
                        nt: int = 21) -> tuple[Tensor, Tensor]:
    """Points `n x 3` (x, y, t) and values of the 2D method-of-lines reference."""
    from models.physics.reaction_diffusion import solve_reference_2d

    ref = solve_reference_2d(case, width_y, nx, ny, nt)
    assert ref.y is not None
    tt, xx, yy = np.meshgrid(ref.t, ref.x[::4], ref.y[::4], indexing="ij")
    points = np.stack([xx.reshape(-1), yy.reshape(-1), tt.reshape(-1)], axis=1)
    values = ref.u[:, ::4, ::4].reshape(-1, 1)
    _ = bloom_profile_y
    return torch.from_numpy(points), torch.from_numpy(values)


def default_case(**overrides: float) -> FisherKPP:
    """The built-in channel (:class:`FisherKPP` defaults) with overrides."""
    return replace(FisherKPP(), **overrides)


def reference(case: FisherKPP) -> ReferenceSolution:
    """The converged 1D reference (801 nodes, 101 times) of ``case``."""
    return solve_reference(case, nx=801, nt=101)
