r"""Composition groups without equality constraints: a stick-breaking map onto the simplex.

A composition group ``sum_i x_i = T`` (each ``x_i`` in ``[0, T]``) forces a constrained solver
(SLSQP) on the acquisition optimisation, which takes many more, costlier iterations than
L-BFGS-B over a box, and its random starts must come from a hit-and-run chain. Where the
only constraints of the free features are such sums, we optimise instead over *stick-breaking*
coordinates ``u`` in the unit box, one fewer per group:

    x_1 = T u_1,   x_j = T u_j prod_{l<j} (1 - u_l)  (j < k),   x_k = T prod_{l<k} (1 - u_l).

The map sends ``[0, 1]^{k-1}`` onto the whole simplex (faces and vertices included), is smooth,
and its image sums to ``T`` to rounding (``x_k`` is what is left), so the equality holds to
~1e-16 relative after decoding — far inside the 1e-6 a suggestion must meet — with no
constraint handed to the solver. The acquisition composed with the map is optimised by BoTorch's
``optimize_acqf`` with L-BFGS-B, all restarts batched in one solve.

Random starts are exactly uniform on the simplex without a Markov chain: under the uniform
(flat Dirichlet) distribution the stick fractions are independent, ``u_j ~ Beta(1, k - j)``
(``j = 1..k-1``), so each is a scrambled-Sobol coordinate ``s`` pushed through the Beta's
inverse CDF, ``u = 1 - (1 - s)^{1/(k-j)}``.

The map applies when the domain has no linear inequality constraints, and each equality is a
sum with unit coefficients over disjoint free features whose bounds are ``[0, >= total]``
(so the bounds add nothing to ``x >= 0, sum = T``): :func:`simplex_map` returns ``None``
otherwise, and the caller keeps SLSQP.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from botorch.acquisition import AcquisitionFunction
from botorch.utils.sampling import draw_sobol_samples
from torch import Tensor
from torch.nn import Module

#: A remaining stick shorter than this (relative to the total) leaves the later fractions
#: undetermined; the inverse map sets them to 0.
_TINY = 1e-12


@dataclass(frozen=True)
class SimplexMap:
    r"""Stick-breaking coordinates of a box times simplices.

    Attributes:
        bounds: `2 x d` bounds of the free features (the reduced problem).
        groups: Per composition group, its free features (ascending) and their total.
        others: The free features in no group.
    """

    bounds: Tensor
    groups: tuple[tuple[tuple[int, ...], float], ...]
    others: tuple[int, ...]

    @property
    def dimension(self) -> int:
        """``d``, the free features."""
        return int(self.bounds.shape[-1])

    @property
    def unit_dimension(self) -> int:
        """``d - groups``: the coordinates the optimiser sees."""
        return len(self.others) + sum(len(idx) - 1 for idx, _ in self.groups)

    @property
    def unit_bounds(self) -> Tensor:
        """`2 x d_u` bounds of the coordinates: the others' own, ``[0, 1]`` for fractions."""
        lower = [float(self.bounds[0, i]) for i in self.others]
        upper = [float(self.bounds[1, i]) for i in self.others]
        fractions = self.unit_dimension - len(self.others)
        return torch.tensor([lower + [0.0] * fractions, upper + [1.0] * fractions],
                            dtype=self.bounds.dtype)

    def to_features(self, U: Tensor) -> Tensor:
        r"""Features from coordinates (differentiable).

        Args:
            U: `batch_shape x d_u` coordinates (fractions in ``[0, 1]``).

        Returns:
            `batch_shape x d` features; each group sums to its total.
        """
        X = U.new_empty(*U.shape[:-1], self.dimension)
        n = len(self.others)
        X[..., list(self.others)] = U[..., :n]
        for idx, total in self.groups:
            remaining = torch.full_like(U[..., 0], total)
            parts = []
            for j in range(len(idx) - 1):
                u = U[..., n + j]
                parts.append(remaining * u)
                remaining = remaining * (1.0 - u)
            parts.append(remaining)
            X[..., list(idx)] = torch.stack(parts, dim=-1)
            n += len(idx) - 1
        return X

    def to_unit(self, X: Tensor) -> Tensor:
        r"""Coordinates of features (the inverse of :meth:`to_features` on the simplices).

        Args:
            X: `batch_shape x d` features meeting the group sums (up to rounding).

        Returns:
            `batch_shape x d_u` coordinates, fractions clamped to ``[0, 1]``.
        """
        columns = [X[..., list(self.others)]]
        for idx, total in self.groups:
            remaining = torch.full_like(X[..., 0], total)
            for j in range(len(idx) - 1):
                x = X[..., idx[j]].clamp_min(0.0)
                short = remaining <= _TINY * max(total, 1.0)
                u = torch.where(short, torch.zeros_like(x), x / remaining.clamp_min(1e-300))
                columns.append(u.clamp(0.0, 1.0).unsqueeze(-1))
                remaining = (remaining - x).clamp_min(0.0)
        return torch.cat(columns, dim=-1)

    def sample(self, n: int, q: int, seed: int | None) -> Tensor:
        r"""`n x q x d_u` coordinates of scrambled-Sobol designs, uniform on the box times
        simplices (the fractions through the Beta inverse CDFs, see the module's notes).

        The signature is BoTorch's initial-condition ``generator(n, q, seed)``.
        """
        if seed is None:
            seed = int(torch.randint(0, 2**31 - 1, (1,)))
        unit = torch.zeros(2, q * self.unit_dimension, dtype=self.bounds.dtype)
        unit[1] = 1.0
        S = draw_sobol_samples(unit, n=n, q=1, seed=seed).reshape(n, q, self.unit_dimension)
        bounds = self.unit_bounds
        m = len(self.others)
        U = bounds[0] + (bounds[1] - bounds[0]) * S
        for idx, _ in self.groups:
            k = len(idx)
            for j in range(k - 1):
                U[..., m + j] = 1.0 - (1.0 - S[..., m + j]) ** (1.0 / (k - 1 - j))
            m += k - 1
        return U


def simplex_map(bounds: Tensor, inequality_constraints: Sequence[tuple[Tensor, Tensor, float]],
                equality_constraints: Sequence[tuple[Tensor, Tensor, float]]
                ) -> SimplexMap | None:
    r"""The stick-breaking map of a box with composition sums, if it applies.

    Args:
        bounds: `2 x d` bounds of the free features.
        inequality_constraints: On the free features (BoTorch tuples); any makes it ``None``.
        equality_constraints: On the free features: each must be ``sum_{i in idx} x_i = T``
            (unit coefficients, ``T >= 0``), over features of no other equality, at least two,
            each bounded by ``[0, u]`` with ``u >= T``.

    Returns:
        The map, or ``None`` when a constraint is of another kind (keep the solver's
        constraints then).
    """
    if inequality_constraints or not equality_constraints:
        return None
    seen: set[int] = set()
    groups = []
    for idx, coef, rhs in equality_constraints:
        members = [int(i) for i in idx]
        total = float(rhs)
        if len(members) < 2 or seen.intersection(members) or total < 0 \
                or not bool((coef == 1).all()):
            return None
        lower, upper = bounds[0, members], bounds[1, members]
        if bool((lower != 0).any()) or bool((upper < total).any()):
            return None
        seen.update(members)
        groups.append((tuple(sorted(members)), total))
    others = tuple(i for i in range(bounds.shape[-1]) if i not in seen)
    return SimplexMap(bounds=bounds, groups=tuple(groups), others=others)


class SimplexAcquisition(AcquisitionFunction):
    r"""An acquisition over stick-breaking coordinates: ``a(to_features(U))``.

    Args:
        acq_function: The acquisition over `batch x q x d` (free) features.
        mapping: The coordinates' map.
    """

    def __init__(self, acq_function: AcquisitionFunction, mapping: SimplexMap) -> None:
        Module.__init__(self)
        self.acq_func = acq_function
        self.mapping = mapping

    def forward(self, X: Tensor) -> Tensor:
        """`batch_shape` values of `batch_shape x q x d_u` coordinates."""
        return self.acq_func(self.mapping.to_features(X))

    # Read-only on purpose: pending designs live (as features) on the base acquisition, which
    # the caller sets; BoTorch's base class declares a writeable attribute.
    @property
    def X_pending(self) -> Tensor | None:  # type: ignore[override]
        """The base acquisition's pending designs (features, not coordinates)."""
        return getattr(self.acq_func, "X_pending", None)
