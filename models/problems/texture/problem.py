r"""The surface-texture problem, evaluated by the lubrication simulator (torch).

:class:`TextureProblem` turns a design (see :mod:`models.problems.texture` for the two
parameterisations, their units and the outcomes) into a film, solves the Reynolds equation
with cavitation on the configured grid, and reports load, friction, friction coefficient and
minimum film. Its tensor path (:meth:`TextureProblem.evaluate_tensor`,
:meth:`TextureProblem.predict`) is differentiable end to end, so gradient inverse design can
run directly through the simulator (``sd = 0``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import torch
from torch import Tensor

from models.physics.lubrication import (
    DimpleTexture,
    Grid,
    InclinedPad,
    LubricationSolution,
    simulate,
)
from models.problems.base import DesignError, Problem, ProblemSpec
from models.problems.texture import (
    OUTCOMES,
    SPEC,
    default_space,
    validate_options,
)

F64 = torch.float64
#: The load below which the friction coefficient is reported as ``f / MIN_LOAD``: a pad that
#: carries no load (e.g. a parallel film, whose JFO pressure vanishes) has an infinite
#: coefficient, which neither JSON nor a surrogate can hold.
MIN_LOAD = 1e-6


class TextureProblem(Problem):
    r"""Minimise friction of a textured pad subject to a load floor (dimensionless outcomes).

    Args:
        options: ``problem_options`` (validated and completed by
            :func:`models.problems.texture.validate_options`).

    Example:
        >>> problem = TextureProblem({"profile": "dimples"})
        >>> out = problem.evaluate([{"dimple_depth": 1.0, "dimple_radius": 0.08,
        ...                          "area_density": 0.3, "textured_fraction": 0.5}])
        >>> sorted(out[0])
        ['friction', 'friction_coefficient', 'load', 'min_film']
    """

    spec: ClassVar[ProblemSpec] = SPEC
    outcome_names: ClassVar[tuple[str, ...]] = OUTCOMES
    #: Designs solved per simulator call (bounds memory on large batches).
    chunk: ClassVar[int] = 64

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        self.options = validate_options(options)
        space = default_space(self.options)
        self._names = [p["name"] for p in space["parameters"]]
        self._bounds = torch.tensor([[p["lower"] for p in space["parameters"]],
                                     [p["upper"] for p in space["parameters"]]], dtype=F64)
        grid = self.options["grid"]
        if self.profile == "dimples":
            self.grid = Grid.pad(grid["nx"], grid["nz"], width_ratio=self.options["width_ratio"])
        else:
            self.grid = Grid.line(grid["nx"])

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> TextureProblem:
        return cls(options)

    @property
    def profile(self) -> str:
        """``"dimples"`` or ``"free_form"``."""
        return str(self.options["profile"])

    def parameter_names(self) -> list[str]:
        """The design's parameter names, in the order of the tensor columns."""
        return list(self._names)

    @property
    def bounds(self) -> Tensor:
        """`2 x d` lower and upper bounds of the design variables (float64)."""
        return self._bounds.clone()

    # ------------------------------------------------------------------ physics
    def texture(self, X: Tensor) -> Any:
        r"""The film of a batch of designs, a callable ``texture(x, zeta) -> h``.

        Args:
            X: `n x d` designs (differentiable).
        """
        if self.profile == "dimples":
            base = InclinedPad(self.options["inclination"])
            return DimpleTexture(X[:, 0], X[:, 1], X[:, 2], X[:, 3], base=base)
        m = X.shape[-1]

        def film(x: Tensor, zeta: Tensor | None = None) -> Tensor:
            return X[..., torch.floor(x * m).long().clamp(0, m - 1)]

        return film

    def solve(self, X: Tensor) -> LubricationSolution:
        """Solve the films of `n x d` designs (checked) in one batched call."""
        X = self._checked(X)
        return simulate(self.texture(X), self.grid, cavitation=self.options["cavitation"])

    def evaluate_tensor(self, X: Tensor) -> Tensor:
        r"""All outcomes of a batch of designs, differentiable w.r.t. ``X``.

        Args:
            X: `n x d` designs inside the bounds (original units).

        Returns:
            `n x 4`: ``load``, ``friction``, ``friction_coefficient`` (:math:`f / w`, with
            :math:`w` floored at :data:`MIN_LOAD`), ``min_film``.
        """
        X = self._checked(X)
        rows = [self._outcomes(X[i:i + self.chunk]) for i in range(0, X.shape[0], self.chunk)]
        return torch.cat(rows, dim=0) if rows else X.new_zeros(0, len(OUTCOMES))

    def evaluate_tensor_with_gradients(self, X: Tensor,
                                       outcomes: Sequence[str] = ("load", "friction"),
                                       ) -> tuple[Tensor, Tensor]:
        r"""All outcomes of a batch and the derivatives of some of them w.r.t. the design.

        One forward and one backward per requested outcome through the simulator (the designs
        are solved independently, so the backward of a column sum gives every row its own
        gradient): what a differentiable simulator offers a gradient-enhanced surrogate for
        about the price of one more solve per outcome.

        Args:
            X: `n x d` designs inside the bounds (original units).
            outcomes: Names from :data:`~models.problems.texture.OUTCOMES` to differentiate.

        Returns:
            ``(values, gradients)``: `n x 4` as :meth:`evaluate_tensor` (detached) and
            `n x k x d` with ``gradients[i, j, l]`` the derivative of ``outcomes[j]`` of design
            ``i`` w.r.t. its parameter ``l`` (outcome units per parameter unit).

        Raises:
            DesignError: Bad shape, non-finite or out-of-bounds designs, unknown outcomes.
        """
        unknown = [o for o in outcomes if o not in OUTCOMES]
        if unknown:
            raise DesignError(f"cannot differentiate unknown outcomes {unknown}; known: "
                              f"{list(OUTCOMES)}")
        leaf = self._checked(X).detach().clone().requires_grad_(True)
        with torch.enable_grad():
            values = self.evaluate_tensor(leaf)
            columns = [torch.autograd.grad(values[:, OUTCOMES.index(o)].sum(), leaf,
                                           retain_graph=True)[0] for o in outcomes]
        gradients = torch.stack(columns, dim=1) if columns else leaf.new_zeros(
            leaf.shape[0], 0, leaf.shape[1])
        return values.detach(), gradients.detach()

    def predict(self, X: Tensor) -> tuple[Tensor, Tensor]:
        """The simulator as a ``predict(X) -> (mean, sd)`` model for inverse design (sd 0)."""
        mean = self.evaluate_tensor(X)
        return mean, torch.zeros_like(mean)

    def _outcomes(self, X: Tensor) -> Tensor:
        sol = simulate(self.texture(X), self.grid, cavitation=self.options["cavitation"])
        coefficient = sol.friction / sol.load.clamp(min=MIN_LOAD)
        film = sol.film.h_nodes.flatten(start_dim=-2).amin(dim=-1)
        return torch.stack([sol.load, sol.friction, coefficient, film], dim=-1)

    def _checked(self, X: Tensor) -> Tensor:
        d = len(self._names)
        if X.dim() != 2 or X.shape[-1] != d:
            raise DesignError(f"expected designs of shape n x {d}, got {tuple(X.shape)}")
        X = X.to(F64)
        if not bool(torch.isfinite(X).all()):
            raise DesignError("designs must be finite")
        tol = 1e-9 * (self._bounds[1] - self._bounds[0])
        outside = ((X < self._bounds[0] - tol) | (X > self._bounds[1] + tol)).any(dim=-1)
        if bool(outside.any()):
            rows = outside.nonzero().flatten().tolist()
            raise DesignError(f"designs {rows} lie outside the bounds of the {self.profile} "
                              f"space")
        return X

    def _evaluate_true(self, designs: Sequence[Mapping[str, Any]]) -> list[dict[str, float]]:
        with torch.no_grad():
            values = self.evaluate_tensor(self._design_matrix(designs)).tolist()
        return [dict(zip(OUTCOMES, row, strict=True)) for row in values]

    def evaluate_with_gradients(self, designs: Sequence[Mapping[str, Any]],
                                outcomes: Sequence[str]
                                ) -> list[tuple[dict[str, float], dict[str, dict[str, float]]]]:
        """Values and derivatives of ``outcomes`` (see
        :meth:`evaluate_tensor_with_gradients`) as the service stores them."""
        self.check_designs(designs)
        names = [o for o in outcomes if o in OUTCOMES]
        values, gradients = self.evaluate_tensor_with_gradients(self._design_matrix(designs),
                                                                names)
        return [(dict(zip(OUTCOMES, row, strict=True)),
                 {o: dict(zip(self._names, slopes, strict=True))
                  for o, slopes in zip(names, per_design, strict=True)})
                for row, per_design in zip(values.tolist(), gradients.tolist(), strict=True)]

    def _design_matrix(self, designs: Sequence[Mapping[str, Any]]) -> Tensor:
        rows = []
        for index, design in enumerate(designs):
            try:
                rows.append([float(design[name]) for name in self._names])
            except (TypeError, ValueError) as exc:
                raise DesignError(f"design {index}: parameters must be numbers ({exc})") \
                    from None
        return torch.tensor(rows, dtype=F64).reshape(-1, len(self._names))
