r"""Film-thickness parameterisations: design variables in, :math:`h(x, \zeta)` out.

Every texture is a callable ``texture(x, zeta)`` of the pad coordinates :math:`x = X / L` and
:math:`\zeta = (Z - B/2) / L` (see :mod:`.grid`), returning the dimensionless film
:math:`h = H / h_\text{ref}` of shape `batch_shape x broadcast(x, zeta).shape`, where
`batch_shape` is the broadcast shape of the texture's parameters (tensors or floats). Every
output is differentiable w.r.t. the continuous parameters (almost everywhere).

* :class:`InclinedPad` — the plane slider (parallel when the inclination is 0), the base film.
* :class:`RayleighStep` — a single step.
* :class:`GrooveTexture` — 1D "dimples": transverse grooves on a base film.
* :class:`DimpleTexture` — 2D dimples on a square array on a base film, partial texturing.
* :class:`FreeFormProfile` — a free 1D profile of 32–64 bounded values.

Dimple and groove parameters (both in units of :math:`h_\text{ref}` and :math:`L`):

* ``depth`` :math:`d \ge 0`: the dimple's depth below the base film;
* ``radius`` :math:`r > 0`: dimple radius (groove half-width), in units of :math:`L`;
* ``density`` :math:`\rho`: fraction of the textured area that is dimpled,
  :math:`\rho = \pi r^2 / \ell^2` on a square array of cell side :math:`\ell` (at most
  :math:`\pi / 4`), :math:`\rho = 2 r / \ell` for grooves (at most 1);
* ``fraction`` :math:`\alpha \in [0, 1]`: the textured fraction of the pad, measured from the
  leading edge (partial texturing).

The cells run from the leading edge, :math:`[k\ell, (k+1)\ell]`, one dimple in the middle of
each; across the pad the dimple rows are centred on the midline (so the film is symmetric in
:math:`\zeta`). Cell :math:`k` carries its dimple at the depth
:math:`d \cdot \mathrm{clip}(\alpha/\ell - k, 0, 1)`: whole dimples where the textured zone
covers the whole cell, none beyond it, and one dimple whose depth grows with the covered
fraction of its cell. The textured zone is then exact whenever :math:`\alpha / \ell` is a whole
number, and the film is continuous in :math:`\alpha, \ell` in between (which gradient-based
design needs).

The dimple's profile is a smooth cap, :math:`d\,(1 - s^2 / r^2)_+^3` at distance :math:`s` from
its centre (volume :math:`\pi r^2 d / 4`; for grooves :math:`(1 - s^2/r^2)_+^3` across the
groove): a spherical cap with its rim rounded so that the film is twice continuously
differentiable in the parameters. Why: the film is sampled at fixed points, and a point that
a growing dimple's edge sweeps over sees a jump (a flat-bottomed dimple: its derivative w.r.t.
the radius then vanishes almost everywhere on a fixed grid), a kink (the plain paraboloid cap:
at a central-difference step of 6e-6 enough points straddle the rim to bias the difference by
~1%), or a jump of the second derivative (the squared cap: ~1e-4). With the cubed cap, load and
friction are smooth functions of the design, and their autograd gradients match central
differences to ~1e-6 relative.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .film import Texture

Param = Tensor | float


def _param(value: Param, points: Tensor) -> Tensor:
    """``value`` (shape `batch_shape`) reshaped to broadcast against points of ``points``'s
    rank, in its dtype."""
    t = torch.as_tensor(value, dtype=points.dtype)
    return t.reshape(*t.shape, *([1] * points.dim()))


def _points(x: Tensor, zeta: Tensor | None) -> Tensor:
    """A zero tensor of the broadcast shape of the sample points."""
    return torch.zeros_like(x) if zeta is None else torch.zeros_like(x) + torch.zeros_like(zeta)


class InclinedPad:
    r"""The plane inclined slider :math:`h = 1 + K (1 - x)`, :math:`K = h_1 / h_2 - 1 \ge 0`.

    :math:`h_\text{ref}` is the outlet film :math:`h_2`; :math:`K = 0` is the parallel pad.

    Args:
        inclination: :math:`K`, `batch_shape`.

    Example:
        >>> InclinedPad(1.0)(torch.tensor([0.0, 1.0]), None)
        tensor([2., 1.])
    """

    def __init__(self, inclination: Param = 0.0) -> None:
        self.inclination = inclination

    def __call__(self, x: Tensor, zeta: Tensor | None = None) -> Tensor:
        points = _points(x, zeta)
        k = _param(self.inclination, points)
        return 1.0 + k * (1.0 - (x + points))


class RayleighStep:
    r"""The Rayleigh step: :math:`h = H` for :math:`x < a`, 1 after (:math:`h_\text{ref}` is
    the land's film).

    Args:
        ratio: :math:`H = h_1 / h_2 > 0`, `batch_shape` (differentiable).
        position: Step position :math:`a = B_1 / L` in (0, 1) (not differentiable: the film
            jumps there). Put it on a node for an exact discretisation.
    """

    def __init__(self, ratio: Param, position: float) -> None:
        if not 0.0 < position < 1.0:
            raise ValueError(f"the step position must be in (0, 1), got {position}")
        self.ratio = ratio
        self.position = position

    def __call__(self, x: Tensor, zeta: Tensor | None = None) -> Tensor:
        points = _points(x, zeta)
        ratio = _param(self.ratio, points)
        inlet = ((x + points) < self.position).to(points.dtype)
        return 1.0 + (ratio - 1.0) * inlet


class _PeriodicTexture:
    """Shared checks and the partial-texturing weights of grooves and dimples."""

    max_density: float = 1.0

    def __init__(self, depth: Param, radius: Param, density: Param, fraction: Param,
                 base: Texture | None = None) -> None:
        self.depth, self.radius, self.density, self.fraction = depth, radius, density, fraction
        self.base = base if base is not None else InclinedPad(0.0)
        self._validate()

    def _validate(self) -> None:
        def values(p: Param) -> Tensor:
            return torch.as_tensor(p).detach()
        if bool((values(self.depth) < 0).any()):
            raise ValueError("dimple depth must be >= 0")
        if bool((values(self.radius) <= 0).any()):
            raise ValueError("dimple radius must be > 0")
        rho = values(self.density)
        if bool(((rho <= 0) | (rho > self.max_density)).any()):
            raise ValueError(f"area density must be in (0, {self.max_density:.4g}]")
        alpha = values(self.fraction)
        if bool(((alpha < 0) | (alpha > 1)).any()):
            raise ValueError("textured fraction must be in [0, 1]")

    def cell_size(self, points: Tensor) -> Tensor:
        """Cell side :math:`\\ell` (units of L), broadcast against ``points``."""
        raise NotImplementedError

    def _cell_x(self, x: Tensor, cell: Tensor, points: Tensor) -> tuple[Tensor, Tensor]:
        """Offset from the cell centre along x, and the cell's depth weight."""
        k = torch.floor((x + points) / cell).detach()
        offset = x - (k + 0.5) * cell
        alpha = _param(self.fraction, points)
        weight = (alpha / cell - k).clamp(0.0, 1.0)
        return offset, weight


class GrooveTexture(_PeriodicTexture):
    r"""Transverse grooves (the 1D form of dimples) on a base film.

    Args:
        depth: :math:`d`, `batch_shape`, units of :math:`h_\text{ref}`.
        radius: Groove half-width :math:`r`, units of :math:`L`.
        density: :math:`\rho = 2 r / \ell` in (0, 1].
        fraction: Textured fraction :math:`\alpha` from the leading edge.
        base: Base film (default parallel, :math:`h = 1`).
    """

    max_density = 1.0

    def cell_size(self, points: Tensor) -> Tensor:
        return 2.0 * _param(self.radius, points) / _param(self.density, points)

    def __call__(self, x: Tensor, zeta: Tensor | None = None) -> Tensor:
        points = _points(x, zeta)
        offset, weight = self._cell_x(x, self.cell_size(points), points)
        radius = _param(self.radius, points)
        cap = (1.0 - (offset / radius) ** 2).clamp(min=0.0) ** 3
        return self.base(x, zeta) + _param(self.depth, points) * weight * cap


class DimpleTexture(_PeriodicTexture):
    r"""Smooth-cap dimples on a square array, on a base film (2D only).

    Args:
        depth: :math:`d`, `batch_shape`, units of :math:`h_\text{ref}`.
        radius: Dimple radius :math:`r`, units of :math:`L`.
        density: Area density :math:`\rho = \pi r^2 / \ell^2` in (0, pi/4].
        fraction: Textured fraction :math:`\alpha` from the leading edge.
        base: Base film (default parallel, :math:`h = 1`).

    Example:
        >>> from models.physics.lubrication import Grid, simulate
        >>> tex = DimpleTexture(depth=1.0, radius=0.05, density=0.3, fraction=0.6,
        ...                     base=InclinedPad(0.5))
        >>> sol = simulate(tex, Grid.pad(64, 32, width_ratio=1.0))
        >>> sol.pressure.shape, bool(sol.load > 0)
        (torch.Size([64, 32]), True)
    """

    max_density = math.pi / 4

    def cell_size(self, points: Tensor) -> Tensor:
        return _param(self.radius, points) * torch.sqrt(math.pi / _param(self.density, points))

    def __call__(self, x: Tensor, zeta: Tensor | None = None) -> Tensor:
        if zeta is None:
            raise ValueError("DimpleTexture is 2D: use GrooveTexture on a 1D grid")
        points = _points(x, zeta)
        cell = self.cell_size(points)
        offset, weight = self._cell_x(x, cell, points)
        across = zeta - cell * torch.round((zeta + points) / cell).detach()
        radius = _param(self.radius, points)
        cap = (1.0 - (offset**2 + across**2) / radius**2).clamp(min=0.0) ** 3
        return self.base(x, zeta) + _param(self.depth, points) * weight * cap


class FreeFormProfile:
    r"""A free 1D film profile of :math:`M` values (32 to 64), bounded by reparameterisation.

    The design variables are unconstrained reals :math:`v_k`; the film values are

    * :math:`h_k = h_\min + (h_\max - h_\min)\,\sigma(v_k)` (logistic :math:`\sigma`) when an
      upper bound is given, or
    * :math:`h_k = h_\min + \mathrm{softplus}(v_k)` when it is not,

    so every real :math:`v` is a feasible film with :math:`h > h_\min` (in units of
    :math:`h_\text{ref}`), and an optimiser needs no projection. The film between values is
    piecewise constant on :math:`M` equal cells (``"constant"``: steps are representable; use a
    grid with ``nx - 1`` a multiple of :math:`M` to put every cell edge on a node) or piecewise
    linear through :math:`M` equally spaced nodes from :math:`x = 0` to 1 (``"linear"``).

    Args:
        raw: :math:`v`, `batch_shape x M`.
        h_min: Minimum film (> 0).
        h_max: Maximum film, or None for no upper bound.
        interpolation: ``"constant"`` or ``"linear"``.

    Example:
        >>> profile = FreeFormProfile.from_values(torch.full((64,), 1.5), h_min=1.0, h_max=3.0)
        >>> float(profile.values.max())
        1.5
    """

    def __init__(self, raw: Tensor, h_min: float = 1.0, h_max: float | None = 3.0,
                 interpolation: str = "constant") -> None:
        if not 32 <= raw.shape[-1] <= 64:
            raise ValueError(f"a free-form profile has 32 to 64 values, got {raw.shape[-1]}")
        if not h_min > 0 or (h_max is not None and not h_max > h_min):
            raise ValueError(f"need 0 < h_min < h_max, got {h_min}, {h_max}")
        if interpolation not in ("constant", "linear"):
            raise ValueError(f"interpolation is 'constant' or 'linear', got {interpolation!r}")
        self.raw, self.h_min, self.h_max, self.interpolation = raw, h_min, h_max, interpolation

    @classmethod
    def from_values(cls, values: Tensor, h_min: float = 1.0, h_max: float | None = 3.0,
                    interpolation: str = "constant", margin: float = 1e-9) -> FreeFormProfile:
        """The profile whose film values are ``values`` (clamped into the open bounds)."""
        if h_max is None:
            excess = (values - h_min).clamp(min=margin)
            raw = excess + torch.log(-torch.expm1(-excess))  # inverse softplus
        else:
            unit = ((values - h_min) / (h_max - h_min)).clamp(margin, 1.0 - margin)
            raw = torch.logit(unit)
        return cls(raw, h_min, h_max, interpolation)

    @property
    def values(self) -> Tensor:
        """Film values :math:`h_k`, `batch_shape x M`."""
        if self.h_max is None:
            return self.h_min + torch.nn.functional.softplus(self.raw)
        return self.h_min + (self.h_max - self.h_min) * torch.sigmoid(self.raw)

    def __call__(self, x: Tensor, zeta: Tensor | None = None) -> Tensor:
        points = _points(x, zeta)
        xs = (x + points).to(self.raw.dtype)
        values = self.values
        m = values.shape[-1]
        if self.interpolation == "constant":
            index = torch.floor(xs * m).long().clamp(0, m - 1)
            return values[..., index]
        t = xs * (m - 1)
        left = torch.floor(t).long().clamp(0, m - 2)
        w = t - left
        return values[..., left] * (1.0 - w) + values[..., left + 1] * w
