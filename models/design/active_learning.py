r"""The ``inverse_design`` strategy: a deep-ensemble surrogate descended by gradient, round by round.

The "digital twin" loop of a simulator campaign (or a lab one): a few expensive evaluations,
a fast differentiable surrogate of them, gradient inverse design through the surrogate, and
the best few designs sent back to be evaluated. One call of :func:`propose` is one round:

1. **Start.** With fewer than ``initial_points`` successful observations (default
   :math:`2d + 2`) it proposes a scrambled-Sobol batch
   (:func:`models.design.space_filling.space_filling_designs`), keeping the stream position in
   the state, so the start of the campaign is one low-discrepancy sequence.
2. **Surrogate.** A :class:`~models.surrogates.DeepEnsemble` of MLPs is trained on every
   successful observation, one output per outcome the campaign optimises or constrains, with
   the space's box as its input cube. Its step size is set by the loss curvature
   (:math:`\eta < 2/\lambda_\max`, see :mod:`models.surrogates.stability`); what was used is
   stored in the model version's metrics. It is trained afresh each round: the input box is
   fixed but the output standardisation moves with the data, so the previous weights
   (``request.previous_model``) would start from a shifted target; a fit on a few hundred
   rows takes seconds.
3. **Inverse design** (:func:`models.design.inverse.inverse_design`): ``starts`` Sobol starts
   plus the best observed designs, optimised as one batch; the objective with an uncertainty
   penalty :math:`\pm\mu + \kappa\sigma`; each outcome constraint (``load >= 0.06``) by the
   augmented Lagrangian, held at :math:`\mu \mp \kappa_c\sigma`; a roughness penalty on
   profiles (``smoothness_weight``); continuation from heavy L2 regularisation to none.
4. **Trust region.** The search box is the space's box intersected with a cube of half-side
   ``trust_radius`` (a fraction of each parameter's range) around the best observed design
   (feasible first), TuRBO-style: it doubles after a round that improved the best feasible
   observation (while none is feasible: reduced the least constraint violation) and halves
   after one that did not (within ``[min_trust_radius, 1]``). Together with
   :math:`\kappa\sigma` it keeps designs where the surrogate has data. With ``consistency``
   (default) the ensemble is shifted by its residual at the incumbent (zero-order consistency
   of trust-region model management) and the constraint margins are the shifted model's RMS
   error on the ``local_points`` observations nearest the incumbent. ``radius_levels > 1``
   solves nested trust boxes (radius, radius/2, ...) and takes the batch round robin.
5. **Designs.** The distinct local optima (clustered starts), best first, that are neither
   pending nor observed, each with its predicted mean and sd per outcome, predicted
   feasibility, multipliers and KKT residuals; if there are fewer than ``count``, Sobol
   points of the trust box fill the batch.

Only continuous parameters are supported (log-scale ones are optimised in their logarithm).

**Observations with gradients.** A differentiable simulator can return, for one extra backward
pass, the derivatives of the outcomes w.r.t. the design. An observation may carry them as

.. code-block:: python

    {"parameters": {"x": 0.3, "y": 0.7},
     "outcomes": {"f": 0.41, "g": 1.0},
     "gradients": {"f": {"x": -1.0, "y": -0.2}, "g": {"x": 1.0, "y": 1.0}}}

``gradients[outcome][parameter]`` is :math:`\partial\,\text{outcome}/\partial\,\text{parameter}`
in the outcome's units per unit of the parameter (as given, not of its logarithm: the strategy
converts for log-scale parameters). Any entry may be missing (or None/NaN): it is simply not
fitted. Where observations carry gradients and ``gradient_weight > 0`` the ensemble fits them
too (:meth:`models.surrogates.DeepEnsemble.fit` with ``dY``), and with ``consistency`` (and
``consistency_order`` 1, the default) the model is made first-order consistent at the
incumbent: its value *and* its gradient there equal the observed ones (the first-order model
management of Alexandrov et al. 1998, under which the trust-region loop behaves at worst like
a gradient method). Observations without gradients work exactly as before.

Options (``strategy.options``, all optional; see :class:`ActiveLearningOptions`):
``initial_points``, ``members``, ``width``, ``depth``, ``epochs``, ``patience``, ``starts``,
``kappa``, ``constraint_kappa``, ``smoothness_weight``, ``continuation``, ``trust_radius``,
``min_trust_radius``, ``cluster_distance``, ``inner_iterations``, ``outer_iterations``,
``constraint_margin``, ``initial_basis``, ``radius_levels``, ``consistency``, ``local_points``,
``gradient_weight``, ``consistency_order``.

An auto-looping simulator campaign stops by :func:`models.design.stopping.stopped_improving`
applied to :func:`best_feasible` of the *simulated* observations after each round.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
from torch import Tensor
from torch.quasirandom import SobolEngine

from models.design.inverse import (
    InverseDesignConfig,
    InverseDesignResult,
    Objective,
    OutcomeConstraint,
    inverse_design,
)
from models.design.rounds import ProposedDesign, RoundRequest, RoundResult, TrainedModel
from models.design.space_filling import space_filling_designs
from models.errors import ScienceError
from models.space.keys import design_key
from models.space.space import ContinuousParameter, Space
from models.surrogates import DeepEnsemble, EnsembleConfig

__all__ = ["ActiveLearningError", "ActiveLearningOptions", "best_feasible", "propose"]

F64 = torch.float64


class ActiveLearningError(ScienceError):
    """The campaign cannot be run by the ``inverse_design`` strategy as configured."""


@dataclass(frozen=True)
class ActiveLearningOptions:
    r"""Settings of the ``inverse_design`` strategy (``strategy.options``).

    Attributes:
        initial_points: Successful observations before the first surrogate (None: :math:`2d+2`).
        members: Ensemble size.
        width: Hidden units per layer of each MLP.
        depth: Hidden layers.
        epochs: Cap on training steps.
        patience: Early-stopping patience (steps).
        starts: Sobol starts of the inverse design (the best observed designs are added).
        kappa: Uncertainty penalty :math:`\kappa` on the objective.
        constraint_kappa: Margin :math:`\kappa_c` (in sds) on the outcome constraints.
        smoothness_weight: Roughness penalty on the design vector (a profile), original units.
        continuation: L2 continuation weights, heavy to 0.
        trust_radius: Initial half-side of the trust box, as a fraction of each range.
        min_trust_radius: The trust box never shrinks below this.
        cluster_distance: Unit-cube RMS distance within which two optima are the same.
        inner_iterations: Projected-gradient iterations per inner solve.
        outer_iterations: Augmented-Lagrangian rounds in the last stage.
        constraint_margin: Each outcome constraint is tightened by this many of the
            ensemble's validation RMSEs of that outcome (its prediction error, which the
            members' spread underestimates near the data): optima sit on the constraint's
            boundary, and without a margin half of them land on its wrong side. With
            ``consistency`` the RMSE is the local one (see ``local_points``).
        initial_basis: None: the start is Sobol points of the box; ``k``: Sobol points of a
            ``k``-knot piecewise-linear family of profiles (for spaces whose parameters are
            values along a line).
        radius_levels: Nested trust boxes per round (radius, radius/2, ...), at most ``count``.
        consistency: Shift the ensemble by its residual at the incumbent (exact there).
        local_points: Observations nearest the incumbent that set the local margins.
        gradient_weight: Weight of the gradient term of the ensemble's loss (normalised
            units) when observations carry gradients; 0 ignores the gradients.
        consistency_order: 1: with ``consistency``, also match the incumbent's observed
            gradient (where it has one); 0: match its values only.
    """

    initial_points: int | None = None
    members: int = 5
    width: int = 64
    depth: int = 2
    epochs: int = 1500
    patience: int = 200
    starts: int = 32
    kappa: float = 1.0
    constraint_kappa: float = 1.0
    smoothness_weight: float = 0.0
    continuation: tuple[float, ...] = (0.1, 0.0)
    trust_radius: float = 0.5
    min_trust_radius: float = 1.0 / 32.0
    cluster_distance: float = 0.05
    inner_iterations: int = 60
    outer_iterations: int = 6
    constraint_margin: float = 1.0
    initial_basis: int | None = None
    radius_levels: int = 1
    consistency: bool = True
    local_points: int = 8
    gradient_weight: float = 1.0
    consistency_order: int = 1

    def __post_init__(self) -> None:
        checks = [
            (self.initial_points is None or self.initial_points >= 2, "initial_points >= 2"),
            (self.initial_basis is None or self.initial_basis >= 2, "initial_basis >= 2"),
            (self.radius_levels >= 1, "radius_levels >= 1"),
            (self.starts >= 1, "starts >= 1"),
            (self.constraint_margin >= 0, "constraint_margin >= 0"),
            (min(self.kappa, self.constraint_kappa, self.smoothness_weight) >= 0,
             "kappa, constraint_kappa and smoothness_weight >= 0"),
            (0 < self.min_trust_radius <= self.trust_radius <= 1,
             "0 < min_trust_radius <= trust_radius <= 1"),
            (math.isfinite(self.gradient_weight) and self.gradient_weight >= 0,
             "gradient_weight must be finite and >= 0"),
            (self.consistency_order in (0, 1), "consistency_order must be 0 or 1"),
        ]
        for ok, message in checks:
            if not ok:
                raise ActiveLearningError(f"bad inverse_design option: {message}",
                                          {"options": asdict(self)})

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> ActiveLearningOptions:
        """Parse ``strategy.options``; unknown keys and bad values are an
        :class:`ActiveLearningError` naming them."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ActiveLearningError(f"unknown inverse_design options {unknown}",
                                      {"unknown": unknown, "known": sorted(known)})
        values = dict(options)
        if "continuation" in values:
            values["continuation"] = tuple(float(c) for c in values["continuation"])
        try:
            return cls(**values)
        except (TypeError, ValueError) as exc:
            raise ActiveLearningError(f"bad inverse_design options: {exc}") from exc

    def ensemble(self, seed: int) -> EnsembleConfig:
        return EnsembleConfig(members=self.members, width=self.width, depth=self.depth,
                              epochs=self.epochs, patience=self.patience, seed=seed,
                              gradient_weight=self.gradient_weight)

    def design(self, seed: int) -> InverseDesignConfig:
        return InverseDesignConfig(
            starts=self.starts, seed=seed, kappa=self.kappa,
            constraint_kappa=self.constraint_kappa, smoothness_weight=self.smoothness_weight,
            continuation=self.continuation, inner_iterations=self.inner_iterations,
            outer_iterations=self.outer_iterations, cluster_distance=self.cluster_distance)


# ---------------------------------------------------------------------- the round
def propose(request: RoundRequest) -> RoundResult:
    """One round of the ``inverse_design`` strategy (see the module docstring).

    Args:
        request: The campaign's round (space, observations, pending designs, objective,
            constraints, options, seed, state).

    Returns:
        ``count`` designs (fewer only if the space is exhausted), the strategy state, and the
        trained ensemble as a ``deep_ensemble`` model version (None in space-filling rounds).

    Raises:
        ActiveLearningError: Non-continuous parameters, not exactly one objective, an outcome
            the observations never report, or bad options.
        TrainingDivergedError: The ensemble's training diverged beyond recovery.

    Example:
        >>> result = propose(request)  # doctest: +SKIP
        >>> result.designs[0].predictions["mean"]  # doctest: +SKIP
        {'friction': 0.66, 'load': 0.061}
    """
    options = ActiveLearningOptions.from_options(request.options)
    box = _Box.of(request.space)
    successes = request.successful_observations()
    initial = options.initial_points or 2 * box.dim + 2
    if len(successes) < initial:
        if options.initial_basis is not None and options.initial_basis < box.dim:
            return _basis_round(request, box, options.initial_basis, initial - len(successes))
        return _space_filling_round(request, initial - len(successes))
    return _model_round(request, options, box, successes)


def _space_filling_round(request: RoundRequest, missing: int) -> RoundResult:
    skip = int(request.state.get("sobol_skip", 0))
    result = space_filling_designs(request.space, request.count, seed=request.seed, skip=skip,
                                   exclude=request.taken)
    state = {**request.state, "sobol_skip": result.next_skip}
    designs = [ProposedDesign(d, {"source": "space_filling"}) for d in result.designs]
    return RoundResult(designs=designs, state=state,
                       info={"phase": "space_filling", "observations_missing": missing})


def _basis_round(request: RoundRequest, box: _Box, knots: int, missing: int) -> RoundResult:
    """Space filling in a smooth low-dimensional family of profiles (``initial_basis``).

    The parameters, in the space's order, are read as values along a line; a design is the
    piecewise-linear interpolant of ``knots`` equally spaced knot values, each a coordinate of
    a scrambled-Sobol point of :math:`[0, 1]^k` and mapped to each parameter's range. A
    space-filling design of the box itself puts almost every point on a rough, nearly
    uncorrelated profile; this one fills the family of smooth profiles instead, with the same
    number of points per dimension that a :math:`k`-dimensional Sobol design has.
    """
    skip = int(request.state.get("basis_skip", 0))
    engine = SobolEngine(knots, scramble=True, seed=request.seed)
    if skip:
        engine.fast_forward(skip)
    basis = _hat_basis(knots, box.dim)
    taken = set(request.taken) | {design_key(p) for p in request.pending}
    designs: list[ProposedDesign] = []
    while len(designs) < request.count:
        skip += 1
        u = (engine.draw(1, dtype=F64) @ basis)[0]
        design = box.decode(box.bounds[0] + u * (box.bounds[1] - box.bounds[0]))
        key = design_key(design)
        if key not in taken:
            taken.add(key)
            designs.append(ProposedDesign(design, {"source": "space_filling_basis"}))
    state = {**request.state, "basis_skip": skip}
    return RoundResult(designs=designs, state=state,
                       info={"phase": "space_filling", "observations_missing": missing,
                             "basis_knots": knots})


def _hat_basis(knots: int, dim: int) -> Tensor:
    """`knots x dim`: row ``j`` is the piecewise-linear hat of knot ``j`` sampled at ``dim``
    equally spaced positions of [0, 1] (rows sum to 1 at every position)."""
    t = torch.linspace(0.0, 1.0, dim, dtype=F64) * (knots - 1)
    j = torch.arange(knots, dtype=F64)[:, None]
    return (1.0 - (t[None, :] - j).abs()).clamp(min=0.0)


def _model_round(request: RoundRequest, options: ActiveLearningOptions, box: _Box,
                 successes: Sequence[Mapping[str, Any]]) -> RoundResult:
    goal, limits = _targets(request)
    names = [goal.name] + [c.name for c in limits if c.name != goal.name]
    X, Y, dY = _training_data(successes, box, names)
    if options.gradient_weight == 0.0:
        dY = None
    request.progress(0.1, f"training a {options.members}-member ensemble on {X.shape[0]} rows"
                     + ("" if dY is None else " with gradients"))
    model = DeepEnsemble.fit(X, Y, options.ensemble(request.seed), bounds=box.bounds, dY=dY)

    best = best_feasible(successes, request.objectives, request.constraints)
    shortfall = _least_violation(Y, names, limits)
    radius = _trust_radius(request.state, options, best, shortfall, goal.maximize)
    incumbent = _incumbent(X, Y, names, goal, limits)
    request.progress(0.5, f"inverse design from {options.starts} starts, trust radius {radius:g}")
    predict, shift = _consistent(model, X, Y, incumbent, options.consistency,
                                 dY if options.consistency_order == 1 else None)
    margins = _local_margins(predict, X, Y, incumbent, names, options.constraint_margin,
                             options.local_points) \
        if options.consistency else _margins(model, names, options.constraint_margin)
    constraints = [OutcomeConstraint(names.index(c.name), c.threshold + (
        -margins[c.name] if c.upper else margins[c.name]), upper=c.upper) for c in limits]
    levels = _levels(radius, options, request.count)
    results = []
    for level in levels:
        bounds = box.trust_bounds(incumbent, level)
        starts = _starts(X, Y, names, goal, limits, bounds, options, request.seed)
        results.append(inverse_design(predict, bounds,
                                      objective=Objective(0, goal.maximize),
                                      constraints=constraints,
                                      config=options.design(request.seed), initial=starts))
    designs = _select(request, box, results, levels, names, limits,
                      box.trust_bounds(incumbent, radius))
    result = results[0]
    state = {**request.state, "trust_radius": radius, "best_value": best,
             "least_violation": shortfall,
             "model_rounds": int(request.state.get("model_rounds", 0)) + 1}
    trained = TrainedModel(kind="deep_ensemble", weights=model.to_bytes(),
                           config={"ensemble": asdict(model.config), "outputs": names,
                                   "parameters": box.names, "log_scale": box.log_scale},
                           metrics=_model_metrics(model, names, result, radius, margins))
    return RoundResult(designs=designs, state=state, model=trained,
                       info={"phase": "inverse_design", "trust_radius": radius,
                             "distinct_optima": int(result.x.shape[0]),
                             "trust_levels": levels,
                             "consistency_shift": dict(zip(names, shift.tolist(), strict=True)),
                             "best_observed": best})


# ------------------------------------------------------------------ the problem
@dataclass(frozen=True)
class _Target:
    """An outcome to optimise or constrain, in the surrogate's terms."""

    name: str
    maximize: bool = False
    threshold: float = 0.0
    upper: bool = False


def _targets(request: RoundRequest) -> tuple[_Target, list[_Target]]:
    if len(request.objectives) != 1:
        raise ActiveLearningError(
            "the inverse_design strategy optimises exactly one objective",
            {"objectives": [o.get("name") for o in request.objectives]})
    objective = request.objectives[0]
    goal = _Target(str(objective["name"]), maximize=objective.get("goal") == "maximize")
    limits = [_Target(str(c["name"]), threshold=float(c["threshold"]), upper=c["op"] == "<=")
              for c in request.constraints]
    return goal, limits


@dataclass(frozen=True)
class _Box:
    """The space's continuous box; log-scale parameters in their logarithm."""

    names: list[str]
    log_scale: list[bool]
    bounds: Tensor  # 2 x d

    @property
    def dim(self) -> int:
        return len(self.names)

    @classmethod
    def of(cls, space: Space) -> _Box:
        if space.compositions or not all(isinstance(p, ContinuousParameter)
                                         for p in space.parameters):
            raise ActiveLearningError(
                "the inverse_design strategy needs a space of continuous parameters only",
                {"parameters": [type(p).__name__ for p in space.parameters],
                 "compositions": len(space.compositions)})
        params = [p for p in space.parameters if isinstance(p, ContinuousParameter)]
        lo = [math.log(p.lower) if p.log_scale else p.lower for p in params]
        hi = [math.log(p.upper) if p.log_scale else p.upper for p in params]
        return cls([p.name for p in params], [p.log_scale for p in params],
                   torch.tensor([lo, hi], dtype=F64))

    def encode(self, design: Mapping[str, Any]) -> list[float]:
        return [math.log(float(design[n])) if log else float(design[n])
                for n, log in zip(self.names, self.log_scale, strict=True)]

    def encode_gradients(self, observation: Mapping[str, Any],
                         names: list[str]) -> list[list[float]]:
        """The observation's ``gradients`` as `m x d` derivatives w.r.t. the box coordinates
        (``x * dy/dx`` for a log-scale parameter, whose coordinate is ``log x``); NaN where
        missing.

        Raises:
            ActiveLearningError: ``gradients`` is not a mapping of mappings of numbers.
        """
        given = observation.get("gradients") or {}
        if not isinstance(given, Mapping) or not all(
                isinstance(v, Mapping) for v in given.values()):
            raise ActiveLearningError(
                "an observation's gradients must be {outcome: {parameter: derivative}}",
                {"gradients": str(given)[:200]})
        out = []
        for name in names:
            per = given.get(name) or {}
            row = []
            for p, log in zip(self.names, self.log_scale, strict=True):
                try:
                    value = _finite(per.get(p))
                except (TypeError, ValueError):
                    raise ActiveLearningError(
                        f"gradient of {name!r} w.r.t. {p!r} is not a number: {per.get(p)!r}",
                        {"outcome": name, "parameter": p}) from None
                if value is not None and log:
                    value *= float(observation["parameters"][p])
                row.append(math.nan if value is None else value)
            out.append(row)
        return out

    def decode(self, x: Tensor) -> dict[str, float]:
        values = x.clamp(self.bounds[0], self.bounds[1]).tolist()
        return {n: (math.exp(v) if log else v)
                for n, v, log in zip(self.names, values, self.log_scale, strict=True)}

    def trust_bounds(self, centre: Tensor, radius: float) -> Tensor:
        """The box around ``centre`` of half-side ``radius`` of each range, within the space."""
        half = radius * (self.bounds[1] - self.bounds[0])
        lo = torch.maximum(self.bounds[0], centre - half)
        hi = torch.minimum(self.bounds[1], centre + half)
        return torch.stack([lo, hi])


def _training_data(successes: Sequence[Mapping[str, Any]], box: _Box,
                   names: list[str]) -> tuple[Tensor, Tensor, Tensor | None]:
    """``X`` (box coordinates), ``Y`` and, when any observation carries gradients, ``dY``
    (`n x m x d`, w.r.t. the box coordinates, NaN where missing) of the observations that
    report every outcome."""
    rows, values, slopes = [], [], []
    for obs in successes:
        outcomes = obs.get("outcomes") or {}
        y = [_finite(outcomes.get(n)) for n in names]
        if any(v is None for v in y):
            continue
        rows.append(box.encode(obs["parameters"]))
        values.append([v for v in y if v is not None])
        slopes.append(box.encode_gradients(obs, names))
    if len(rows) < 2:
        raise ActiveLearningError(
            f"fewer than 2 observations report every outcome of {names}",
            {"outcomes": names, "usable": len(rows)})
    X, Y = torch.tensor(rows, dtype=F64), torch.tensor(values, dtype=F64)
    dY = torch.tensor(slopes, dtype=F64)
    return X, Y, (dY if bool((~torch.isnan(dY)).any()) else None)


def _finite(value: Any) -> float | None:
    """The value as a finite float, or None (missing, NaN or infinite)."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _feasible(Y: Tensor, names: list[str], limits: Sequence[_Target]) -> Tensor:
    ok = torch.ones(Y.shape[0], dtype=torch.bool)
    for c in limits:
        y = Y[:, names.index(c.name)]
        ok &= (y <= c.threshold) if c.upper else (y >= c.threshold)
    return ok


def _violation(Y: Tensor, names: list[str], limits: Sequence[_Target]) -> Tensor:
    total = torch.zeros(Y.shape[0], dtype=F64)
    for c in limits:
        y = Y[:, names.index(c.name)]
        scale = y.std().clamp(min=1e-12) if y.numel() > 1 else torch.ones((), dtype=F64)
        gap = (y - c.threshold) if c.upper else (c.threshold - y)
        total = total + gap.clamp(min=0.0) / scale
    return total


def _ranked(Y: Tensor, names: list[str], goal: _Target, limits: Sequence[_Target]) -> Tensor:
    """Row order, best first: feasible by objective, then the least violating."""
    sign = -1.0 if goal.maximize else 1.0
    feasible = _feasible(Y, names, limits)
    key = torch.where(feasible, sign * Y[:, 0], torch.full_like(Y[:, 0], math.inf))
    order = torch.argsort(_violation(Y, names, limits), stable=True)
    return order[torch.argsort(key[order], stable=True)]


def _incumbent(X: Tensor, Y: Tensor, names: list[str], goal: _Target,
               limits: Sequence[_Target]) -> Tensor:
    return X[_ranked(Y, names, goal, limits)[0]]


def _starts(X: Tensor, Y: Tensor, names: list[str], goal: _Target, limits: Sequence[_Target],
            bounds: Tensor, options: ActiveLearningOptions, seed: int) -> Tensor:
    """The (up to 4) best observed designs, clamped into the trust box, then Sobol points of
    the box."""
    u = SobolEngine(X.shape[1], scramble=True, seed=seed).draw(options.starts, dtype=F64)
    sobol = bounds[0] + u * (bounds[1] - bounds[0])
    best = X[_ranked(Y, names, goal, limits)[:4]].clamp(bounds[0], bounds[1])
    return torch.cat([best, sobol])


def _consistent(model: DeepEnsemble, X: Tensor, Y: Tensor, incumbent: Tensor,
                enabled: bool, dY: Tensor | None = None,
                ) -> tuple[Callable[[Tensor], tuple[Tensor, Tensor]], Tensor]:
    """The ensemble, corrected to agree with the observations at the incumbent.

    The trust-region model management of Alexandrov, Dennis, Lewis & Torczon (1998): the
    model of a trust-region step must agree with the truth at the trust region's centre.
    Adding the residual ``y(x_c) - mu(x_c)`` makes the ensemble exact at the incumbent, so
    the inverse design compares a design with the incumbent's *observed* objective and load
    rather than with the ensemble's (possibly much worse) fit of them. Where the incumbent's
    observation carries gradients (``dY``), the linear term
    ``(g(x_c) - grad mu(x_c)) . (x - x_c)`` also makes the model's gradient exact there
    (first-order consistency; a missing derivative gets no correction).
    """
    if not enabled:
        return model.predict, torch.zeros(Y.shape[1], dtype=F64)
    row = int(((X - incumbent) ** 2).sum(dim=-1).argmin())
    with torch.no_grad():
        fit, _ = model.predict(X[row:row + 1])
    shift = (Y[row] - fit[0]).detach()
    centre = X[row].detach()
    slope = None
    if dY is not None and bool((~torch.isnan(dY[row])).any()):
        residual = dY[row] - model.input_gradient(X[row:row + 1])[0]  # m x d
        slope = torch.where(torch.isnan(residual), torch.zeros_like(residual), residual)

    def predict(Z: Tensor) -> tuple[Tensor, Tensor]:
        mean, sd = model.predict(Z)
        if slope is not None:
            mean = mean + (Z - centre.to(Z)) @ slope.to(Z).T
        return mean + shift, sd
    return predict, shift


def _local_margins(predict: Callable[[Tensor], tuple[Tensor, Tensor]], X: Tensor, Y: Tensor,
                   incumbent: Tensor, names: list[str], factor: float,
                   points: int = 8) -> dict[str, float]:
    """Per outcome, ``factor`` times the corrected model's RMS error on the observations
    nearest the incumbent (the incumbent itself, where it is exact, excluded): the error
    where the trust-region step will land, not the global one."""
    order = torch.argsort(((X - incumbent) ** 2).sum(dim=-1))[1:points + 1]
    if order.numel() == 0:
        return dict.fromkeys(names, 0.0)
    with torch.no_grad():
        mean, _ = predict(X[order])
    rmse = ((mean - Y[order]) ** 2).mean(dim=0).sqrt()
    return {n: factor * float(r) for n, r in zip(names, rmse, strict=True)}


def _margins(model: DeepEnsemble, names: list[str], factor: float) -> dict[str, float]:
    """Per outcome, ``factor`` times the ensemble's validation RMSE (training RMSE without a
    validation split)."""
    rmse = model.metrics.get("val_rmse") or model.metrics.get("train_rmse") or [0.0] * len(names)
    return {n: factor * float(r) for n, r in zip(names, rmse, strict=True)}


def _least_violation(Y: Tensor, names: list[str], limits: Sequence[_Target]) -> float:
    """The smallest total constraint violation of any observation, each constraint's gap
    relative to its threshold's magnitude (0 once an observation is feasible): the progress
    measure of the rounds before the first feasible design."""
    total = torch.zeros(Y.shape[0], dtype=F64)
    for c in limits:
        y = Y[:, names.index(c.name)]
        gap = (y - c.threshold) if c.upper else (c.threshold - y)
        total = total + gap.clamp(min=0.0) / max(abs(c.threshold), 1e-12)
    return float(total.min()) if total.numel() else 0.0


def _trust_radius(state: Mapping[str, Any], options: ActiveLearningOptions,
                  best: float | None, shortfall: float, maximize: bool) -> float:
    """Double after a round that improved the best feasible observation (or, while none is
    feasible, reduced the least constraint violation), halve after one that did not (the
    first model round uses ``options.trust_radius``)."""
    if "trust_radius" not in state:
        return options.trust_radius
    radius = float(state["trust_radius"])
    previous = state.get("best_value")
    if best is None:
        before = state.get("least_violation")
        improved = before is None or shortfall < float(before)
    else:
        improved = previous is None or (best > previous if maximize else best < previous)
    radius = radius * 2.0 if improved else radius / 2.0
    return min(1.0, max(options.min_trust_radius, radius))


# ---------------------------------------------------------------- the designs
def _levels(radius: float, options: ActiveLearningOptions, count: int) -> list[float]:
    """The nested trust radii of one round: ``radius``, ``radius / 2``, ... (``radius_levels``
    of them, at most ``count``, none below ``min_trust_radius / 4``)."""
    levels = [radius / 2.0**j for j in range(max(1, min(options.radius_levels, count)))]
    return [r for r in levels if r >= options.min_trust_radius / 4.0] or [radius]


def _select(request: RoundRequest, box: _Box, results: Sequence[InverseDesignResult],
            levels: Sequence[float], names: list[str], limits: Sequence[_Target],
            bounds: Tensor) -> list[ProposedDesign]:
    """Round robin over the nested trust boxes: the best optimum of each, then the second
    best of each, ...; new designs only; Sobol points of the trust box fill the rest."""
    taken = set(request.taken) | {design_key(p) for p in request.pending}
    chosen: list[ProposedDesign] = []
    depth = max(r.x.shape[0] for r in results)
    for i in range(depth):
        for result, level in zip(results, levels, strict=True):
            if len(chosen) == request.count or i >= result.x.shape[0]:
                continue
            design = box.decode(result.x[i])
            key = design_key(design)
            if key in taken:
                continue
            taken.add(key)
            chosen.append(ProposedDesign(design, {**_predictions(result, i, names, limits),
                                                  "trust_radius": level}))
    if len(chosen) < request.count:
        chosen.extend(_fill(request, box, bounds, taken, request.count - len(chosen)))
    return chosen


def _predictions(result: InverseDesignResult, i: int, names: list[str],
                 limits: Sequence[_Target]) -> dict[str, Any]:
    return {
        "source": "inverse_design",
        "mean": dict(zip(names, result.mean[i].tolist(), strict=True)),
        "sd": dict(zip(names, result.sd[i].tolist(), strict=True)),
        "predicted_feasible": bool(result.feasible[i]),
        "multipliers": {c.name: float(m) for c, m in zip(limits, result.multipliers[i],
                                                          strict=True)},
        "kkt": {"stationarity": float(result.kkt.stationarity[i]),
                "primal": float(result.kkt.primal[i]),
                "complementarity": float(result.kkt.complementarity[i])},
        "converged": bool(result.converged[i]),
        "cluster_size": int(result.cluster_size[i]),
    }


def _fill(request: RoundRequest, box: _Box, bounds: Tensor, taken: set[str],
          count: int) -> list[ProposedDesign]:
    """Sobol points of the trust box, when the optima are fewer than asked."""
    engine = SobolEngine(box.dim, scramble=True, seed=request.seed + 1)
    out: list[ProposedDesign] = []
    for _ in range(64):
        u = engine.draw(max(2 * count, 8), dtype=F64)
        for x in bounds[0] + u * (bounds[1] - bounds[0]):
            design = box.decode(x)
            key = design_key(design)
            if key not in taken:
                taken.add(key)
                out.append(ProposedDesign(design, {"source": "trust_region_fill"}))
                if len(out) == count:
                    return out
    return out


def _model_metrics(model: DeepEnsemble, names: list[str], result: InverseDesignResult,
                   radius: float, margins: dict[str, float]) -> dict[str, Any]:
    m = model.metrics
    val = m.get("val_rmse")
    return {
        "learning_rate": m.get("learning_rate"),
        "lambda_max": m.get("lambda_max"),
        "stability_bound": m.get("stability_bound"),
        "bound_respected": m.get("bound_respected"),
        "retries": m.get("retries"),
        "steps": m.get("steps"),
        "n_train": m.get("n_train"),
        "n_val": m.get("n_val"),
        "train_rmse": dict(zip(names, m.get("train_rmse") or [], strict=False)),
        "val_rmse": dict(zip(names, val, strict=False)) if val else None,
        "trust_radius": radius,
        "constraint_margins": margins,
        "inverse_design": {k: result.metrics.get(k) for k in
                           ("predict_calls", "spg_iterations", "starts", "distinct")},
        "gradients": _gradient_metrics(m.get("gradients") or {"used": False}, names),
    }


def _gradient_metrics(report: Mapping[str, Any], names: list[str]) -> dict[str, Any]:
    """The ensemble's gradient report with its per-output RMSEs keyed by outcome."""
    out = dict(report)
    for key in ("train_rmse", "val_rmse"):
        if out.get(key) is not None:
            out[key] = dict(zip(names, out[key], strict=False))
    return out


# ---------------------------------------------------------------- convergence
def best_feasible(observations: Sequence[Mapping[str, Any]],
                  objectives: Sequence[Mapping[str, Any]],
                  constraints: Sequence[Mapping[str, Any]] = ()) -> float | None:
    """The best objective value among the successful observations that meet every outcome
    constraint (API JSON shapes), or None when none does.

    Example:
        >>> obs = [{"outcomes": {"f": 2.0, "w": 0.1}}, {"outcomes": {"f": 1.0, "w": 0.01}}]
        >>> best_feasible(obs, [{"name": "f", "goal": "minimize"}],
        ...               [{"name": "w", "op": ">=", "threshold": 0.05}])
        2.0
    """
    name = str(objectives[0]["name"])
    maximize = objectives[0].get("goal") == "maximize"
    values = []
    for obs in observations:
        out = obs.get("outcomes") or {}
        if obs.get("failed") or out.get(name) is None:
            continue
        if all(_meets(out.get(c["name"]), c) for c in constraints):
            values.append(float(out[name]))
    if not values:
        return None
    return max(values) if maximize else min(values)


def _meets(value: Any, constraint: Mapping[str, Any]) -> bool:
    if value is None:
        return False
    t = float(constraint["threshold"])
    return float(value) <= t if constraint["op"] == "<=" else float(value) >= t

