r"""A saturating (Hill-type) GP prior mean: dose responses level off.

With ``s`` the physical value of one input (e.g. the dose in mg/kg),

    m(x) = c + a * s^h / (EC50^h + s^h) = c + a * sigmoid(h * (ln s - ln EC50)),

a baseline ``c``, an amplitude ``a`` (either sign: rising or falling responses), the
half-maximal value ``EC50`` and the Hill coefficient ``h``. The GP models the rest (the other
inputs, and departures from the curve) with its kernel. All four parameters are GPyTorch
parameters of the model, so fitting the marginal likelihood learns them jointly with the
kernel's hyperparameters; :meth:`HillMean.initialize_from_data` gives that fit a least-squares
start (a grid over ``EC50`` and ``h`` with ``c`` and ``a`` in closed form), which keeps it out
of the flat regions where a sigmoid has no gradient.

The mean acts on the model's *transformed* inputs (normalised to the unit cube by the model's
``Normalize`` transform over the :class:`~models.bo.encoding.Encoder` bounds), and on
*standardised* outcomes; it maps its column back to physical units itself, so ``EC50`` is
reported in the parameter's own units (:attr:`HillMean.ec50`).
"""

from __future__ import annotations

import math

import torch
from gpytorch.constraints import Interval
from gpytorch.means import Mean
from torch import Tensor


class HillMean(Mean):
    r"""``c + a * s^h / (EC50^h + s^h)`` in one input column.

    Args:
        column: Index of the input column (a feature of the encoder).
        lower: The parameter's lower bound, in its units (``>= 0``).
        upper: The parameter's upper bound, in its units (``> lower``).
        log_scale: Whether the feature is the logarithm of the value.
        hill_bounds: Bounds on the Hill coefficient ``h``.

    Example:
        >>> mean = HillMean(column=0, lower=0.1, upper=100.0, log_scale=True)
        >>> mean(torch.rand(5, 2)).shape
        torch.Size([5])
    """

    def __init__(self, column: int, lower: float, upper: float, log_scale: bool = False,
                 hill_bounds: tuple[float, float] = (0.5, 5.0)) -> None:
        super().__init__()
        if not (0.0 <= lower < upper and math.isfinite(upper)):
            raise ValueError(f"a Hill mean needs 0 <= lower < upper, got [{lower}, {upper}]")
        if log_scale and lower <= 0:
            raise ValueError("a log-scale input needs lower > 0")
        self.column = column
        self.log_scale = log_scale
        self.lower, self.upper = float(lower), float(upper)
        self._floor = max(lower, 1e-6 * upper)
        ec50_low = lower / 10.0 if lower > 0 else 1e-3 * upper
        self.register_parameter("raw_offset", torch.nn.Parameter(torch.zeros(())))
        self.register_parameter("raw_amplitude", torch.nn.Parameter(torch.ones(())))
        self.register_parameter("raw_log_ec50", torch.nn.Parameter(torch.zeros(())))
        self.register_parameter("raw_hill", torch.nn.Parameter(torch.zeros(())))
        self.register_constraint("raw_log_ec50",
                                 Interval(math.log(ec50_low), math.log(10.0 * upper)))
        self.register_constraint("raw_hill", Interval(*hill_bounds))
        self.initialize(log_ec50=0.5 * (math.log(self._floor) + math.log(upper)), hill=1.0)

    # ---------------------------------------------------------------------- parameters

    @property
    def offset(self) -> Tensor:
        """The baseline ``c`` (standardised outcome units)."""
        return self.raw_offset

    @property
    def amplitude(self) -> Tensor:
        """The amplitude ``a`` (standardised outcome units)."""
        return self.raw_amplitude

    @property
    def log_ec50(self) -> Tensor:
        return self.raw_log_ec50_constraint.transform(self.raw_log_ec50)

    @property
    def ec50(self) -> Tensor:
        """``EC50`` in the parameter's own units."""
        return self.log_ec50.exp()

    @property
    def hill(self) -> Tensor:
        """The Hill coefficient ``h``."""
        return self.raw_hill_constraint.transform(self.raw_hill)

    def initialize(self, **kwargs: float | Tensor) -> HillMean:  # type: ignore[override]
        """Set ``offset``, ``amplitude``, ``log_ec50`` or ``hill`` by value."""
        for name, value in kwargs.items():
            value = torch.as_tensor(value, dtype=self.raw_offset.dtype)
            if name in ("offset", "amplitude"):
                getattr(self, f"raw_{name}").data.fill_(float(value))
            elif name in ("log_ec50", "hill"):
                constraint = getattr(self, f"raw_{name}_constraint")
                low, high = float(constraint.lower_bound), float(constraint.upper_bound)
                inside = value.clamp(low + 1e-6 * (high - low), high - 1e-6 * (high - low))
                getattr(self, f"raw_{name}").data.copy_(constraint.inverse_transform(inside))
            else:
                raise AttributeError(f"HillMean has no parameter {name!r}")
        return self

    # ------------------------------------------------------------------------- values

    def physical(self, u: Tensor) -> Tensor:
        r"""The parameter's value from its normalised feature.

        Args:
            u: `batch_shape` normalised features in ``[0, 1]``.

        Returns:
            `batch_shape` values in the parameter's units, at least a small positive floor.
        """
        if self.log_scale:
            lo, hi = math.log(self.lower), math.log(self.upper)
            return torch.exp(lo + u * (hi - lo))
        return (self.lower + u * (self.upper - self.lower)).clamp_min(self._floor)

    def response(self, s: Tensor) -> Tensor:
        r"""The saturating fraction ``s^h / (EC50^h + s^h)`` of physical values ``s > 0``."""
        return torch.sigmoid(self.hill * (torch.log(s) - self.log_ec50))

    def forward(self, x: Tensor) -> Tensor:
        r"""The prior mean.

        Args:
            x: `batch_shape x n x d` normalised inputs.

        Returns:
            `batch_shape x n` mean values (standardised outcome units).
        """
        s = self.physical(x[..., self.column])
        return self.offset + self.amplitude * self.response(s)

    def initialize_from_data(self, u: Tensor, y: Tensor, grid: int = 24) -> HillMean:
        r"""Least-squares start: ``EC50`` and ``h`` on a grid, ``c`` and ``a`` in closed form.

        Args:
            u: `n` normalised features of the column.
            y: `n` (standardised) outcomes.
            grid: Points of the ``EC50`` grid (log-spaced within its bounds, widened by a
                factor of 2 inside the data range).

        Returns:
            ``self``, initialised.
        """
        with torch.no_grad():
            s = self.physical(u.to(torch.float64)).log()
            y = y.to(torch.float64).reshape(-1)
            low = float(self.raw_log_ec50_constraint.lower_bound)
            high = float(self.raw_log_ec50_constraint.upper_bound)
            log_ec50 = torch.linspace(max(low, float(s.min()) - math.log(2.0)),
                                      min(high, float(s.max()) + math.log(2.0)), grid,
                                      dtype=torch.float64)
            hill_low = float(self.raw_hill_constraint.lower_bound)
            hill_high = float(self.raw_hill_constraint.upper_bound)
            hills = torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64).clamp(hill_low, hill_high)
            # g: grid x hills x n saturating fractions; regress y on [1, g] for each.
            g = torch.sigmoid(hills[None, :, None] * (s - log_ec50[:, None, None]))
            g_mean = g.mean(-1, keepdim=True)
            centred = g - g_mean
            var = (centred**2).sum(-1)
            amplitude = (centred * (y - y.mean())).sum(-1) / var.clamp_min(1e-12)
            offset = y.mean() - amplitude * g_mean.squeeze(-1)
            residual = ((offset[..., None] + amplitude[..., None] * g - y) ** 2).sum(-1)
            residual = torch.where(var > 1e-12, residual, torch.full_like(residual, math.inf))
            best = int(residual.argmin())
            i, j = divmod(best, hills.numel())
            return self.initialize(offset=offset[i, j], amplitude=amplitude[i, j],
                                   log_ec50=log_ec50[i], hill=hills[j])
