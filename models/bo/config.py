r"""Typed configuration of Bayesian optimisation: scientific hyperparameters, not settings.

A :class:`BOConfig` is stored with the job and the model version that used it
(:meth:`BOConfig.to_dict` / :meth:`BOConfig.from_dict` round-trip through JSON), so a
suggestion can be replayed exactly. Defaults are chosen for a lab campaign of tens of
experiments on a CPU: a suggest call of ``q = 4`` on 30 observations takes seconds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class HillPriorConfig:
    r"""A saturating (Hill) prior mean in one input (see :mod:`models.bo.prior_mean`).

    Measured on the nanoparticle lab (``benchmarks/bayesopt_ablation.py``, the prior on T-cell
    activation in dose, 30 paired seeds each): it showed no benefit, and it suggested more
    infeasible experiments. On seeds 0-29 its median final regret was 23.0 against the
    constant mean's 16.4 (9 seeds better, 21 worse, sign-test p 0.04); on fresh seeds 100-129
    (some defaults were chosen on 0-9) 23.6 against 23.7 (14 better, 16 worse): the regret harm
    did not replicate. The infeasible suggestions did: 74 against 52, and 77 against 51. A
    mean that rises with dose makes high doses look good wherever the data are thin, and there
    high doses also raise the constrained complement activation: on 10 of the first seeds, 34
    of 160 suggestions were above 4 mg/kg with the prior against 15 without it. It is off by
    default; where the same input drives a constraint, expect it to pull suggestions to the
    infeasible side.

    Attributes:
        parameter: The input the outcome saturates in (a continuous or integer parameter,
            e.g. ``"dose"``); values must be ``>= 0``.
        outcomes: The outcomes whose models get this mean (``None``: every outcome).
        hill_bounds: Bounds on the Hill coefficient (steepness).
    """

    parameter: str
    outcomes: tuple[str, ...] | None = None
    hill_bounds: tuple[float, float] = (0.5, 5.0)


@dataclass(frozen=True)
class GPConfig:
    r"""How the outcome surrogates are fitted (see :mod:`models.bo.gp`).

    Attributes:
        max_iterations: Cap on the L-BFGS iterations of one marginal-likelihood fit.
        warm_start: Start from the previous model state's hyperparameters when given.
        warm_max_iterations: Cap on the iterations of a warm-started fit (it starts close).
        max_attempts: Fit attempts (with hyperparameters resampled from their priors) before
            giving up.
        prior_mean: An optional saturating prior mean.
        winsorize: Clip each outcome's extreme values on its uninteresting side (Tukey
            fences, as Ax does by default) before fitting (:mod:`models.bo.winsorize`). Off
            by default: on the nanoparticle lab it did not change the median regret over 10
            seeds (22.7 against 22.4).
        torch_likelihood: Fit with the marginal likelihood written in plain torch
            (:mod:`models.bo.marginal_likelihood`): the same objective and gradient as
            GPyTorch's to round-off, at about half the cost an evaluation. ``False`` keeps
            GPyTorch's closure (always used for models the plain one does not cover).
    """

    max_iterations: int = 200
    warm_start: bool = True
    warm_max_iterations: int = 50
    max_attempts: int = 3
    prior_mean: HillPriorConfig | None = None
    winsorize: bool = False
    torch_likelihood: bool = True


@dataclass(frozen=True)
class AcquisitionConfig:
    r"""The acquisition function (see :mod:`models.bo.acquisition`).

    Attributes:
        mc_samples: Quasi-Monte Carlo samples of the posterior.
        eta: Temperature of the smoothed feasibility indicator, in units of each constrained
            outcome's standard deviation (smaller is sharper).
        reference_point: For several objectives: the hypervolume reference point, outcome
            name -> value in the outcome's units (``None``: inferred from the data).
        prune_baseline: Drop baseline points that are very unlikely to be the best.
        cached_posterior: Evaluate the acquisition on the GP posterior from cached training
            factors in plain torch (:mod:`models.bo.cached_posterior`): the same numbers, a
            fraction of GPyTorch's per-call overhead. ``False`` keeps GPyTorch's path.
        fused_evaluation: Evaluate qLogNEI (one objective, on cached posteriors) in fused
            form (:mod:`models.bo.fused_log_nei`): BoTorch's function to round-off, in about
            half its tensor operations. ``False`` keeps BoTorch's class.
    """

    mc_samples: int = 128
    eta: float = 1e-2
    reference_point: Mapping[str, float] | None = None
    prune_baseline: bool = True
    cached_posterior: bool = True
    fused_evaluation: bool = True


@dataclass(frozen=True)
class OptimizerConfig:
    r"""The acquisition optimiser (see :mod:`models.bo.optimize`).

    Attributes:
        num_restarts: Gradient-based restarts per candidate.
        simplex_restarts: Restarts per candidate where composition groups are searched in
            stick-breaking coordinates (:mod:`models.bo.simplex`): all restarts go into one
            batched L-BFGS-B solve whose cost is mostly the per-evaluation overhead, so 8
            cost about what 4 do, and on the nanoparticle lab they recovered the acquisition
            values that 4 restarts in these coordinates missed (measured, see
            ``benchmarks/bayesopt.py``'s notes).
        stick_breaking: Search composition groups in stick-breaking coordinates where the
            space allows it; ``False`` hands the sums to SLSQP as equality constraints.
        raw_samples: Random points from which the restarts are chosen.
        max_iterations: Cap on the iterations of one continuous (L-BFGS-B / SLSQP) solve
            (per restart: BoTorch's batched L-BFGS-B stops each restart on its own). 30: on
            the BO benchmark (10 seeds, q = 2) 30 instead of 50, with ``warm_iterations``
            10, left the median regret no worse on either problem (Hartmann 0.64 -> 0.50,
            nanoparticle 17.9 -> 15.3, both within the seeds' spread) for fewer evaluations
            of the acquisition.
        max_alternating: Cap on the discrete/continuous alternations of the mixed optimiser.
        pool_size: Feasible random designs scored when an optimised design must be replaced
            (a duplicate of a pending one, a rounding that broke a constraint, a design below
            a chance constraint's probability).
        joint_batch: Optimise a batch of continuous designs jointly (one solve of the
            ``q x d`` problem) instead of one design at a time (``q`` solves, sequential
            greedy). Joint: a batch of 8 costs 1.2-2x one design instead of 5-7x, but the
            larger problem is optimised less well by the same restarts (measured in
            ``benchmarks/bayesopt.py``), so greedy stays the default.
        warm_iterations: Sequential greedy only (continuous spaces, composition groups
            included): after the first design of a batch, each next step starts from the
            best of the previous step's local optima that are still acceptable (the
            acquisition only changed near the design just made pending; at most as many as a
            fresh step has restarts) plus the ``num_restarts`` best of ``raw_samples`` fresh
            designs, and runs at most this many iterations. ``0``
            restarts every step from scratch. On the nanoparticle lab (24 observations) 10
            cut the CPU time of q = 8 from 6.3x to 3.7x that of q = 1 with acquisition
            values of the batch no worse (``benchmarks/bayesopt.py``'s q timing); the
            default since its regret was measured no worse (see ``max_iterations``).
        pooled_from: Batches of at least this many designs (``None``, the default: none)
            are built by *pooled* greedy steps and then refined jointly, where the space
            allows warm starts (continuous; box-bounded, or composition groups by
            stick-breaking): the first design by a full optimisation, each later one as the
            best acceptable design of a pool (the first solve's local optima and
            ``raw_samples`` fresh designs, scored in one evaluation with the batch so far
            pending: no solve), then the whole batch as the one start of a joint solve of its
            acquisition (``refine_iterations``), kept when each design still passes the checks
            and the batch's joint value rose. What it buys: on the nanoparticle lab (24
            observations, seeds 0-7) a batch of 8 took 1.85-2.09x (median 1.93x) the time of
            one design, against 3.6x greedy; on Hartmann6 2.3x against 4.3x. What it costs: the
            batch's log acquisition was lower than greedy's on 7 of those 8 nanoparticle seeds
            (median by 0.02), and over whole campaigns at q = 8 (seeds 100-119,
            ``benchmarks/results/bayesopt_ablation_q8_from100.json``) its final regret was no
            different on the nanoparticle lab (11 seeds better, 9 worse) but worse on
            constrained Hartmann6 (5 better, 15 worse, sign-test p 0.04; 40 infeasible
            suggestions against 17). So greedy stays the default. The joint batch
            (``joint_batch``) costs about the same and was far worse on both (1/19 and 4/16).
        refine_iterations: L-BFGS-B iterations of the joint refinement of a pooled batch
            (``0``: none). Nanoparticle lab, seeds 0-7, q = 8: 0 gives 1.32x with a batch log
            acquisition 0.05-0.33 below greedy's; 20 gives 1.93x and wins most of it back; 30
            gives 2.14x.
    """

    num_restarts: int = 4
    simplex_restarts: int = 8
    stick_breaking: bool = True
    raw_samples: int = 128
    max_iterations: int = 30
    max_alternating: int = 4
    pool_size: int = 2048
    joint_batch: bool = False
    warm_iterations: int = 10
    pooled_from: int | None = None
    refine_iterations: int = 20

    def __post_init__(self) -> None:
        if self.pooled_from is not None and (isinstance(self.pooled_from, bool) or
                                             not isinstance(self.pooled_from, int) or
                                             self.pooled_from < 2):
            raise ValueError(f"optimizer.pooled_from must be null or a batch size of at least 2 "
                             f"(a batch of one has no later designs to pool), got "
                             f"{self.pooled_from!r}")
        if isinstance(self.refine_iterations, bool) or \
                not isinstance(self.refine_iterations, int) or self.refine_iterations < 0:
            raise ValueError(f"optimizer.refine_iterations must be an integer >= 0, got "
                             f"{self.refine_iterations!r}")


@dataclass(frozen=True)
class FailureConfig:
    r"""How failed experiments steer the search (see :mod:`models.bo.failures`).

    Attributes:
        enabled: Model the failures (when there are any) and weight the acquisition by the
            probability of success; off, failures are only left out of the outcome models.
    """

    enabled: bool = True


@dataclass(frozen=True)
class RiskConfig:
    r"""How chance constraints (an outcome constraint with a risk level) are enforced (see
    :mod:`models.bo.risk`).

    Attributes:
        penalty: Weight of the penalty that steers the optimiser toward safe designs, in
            units of the log-acquisition per standard deviation of shortfall.
    """

    penalty: float = 100.0


@dataclass(frozen=True)
class BOConfig:
    r"""Everything a constrained-BO suggest call is configured by.

    Attributes:
        gp: Surrogate fitting.
        acquisition: The acquisition function.
        optimizer: Its optimiser.
        failures: Handling of failed experiments.
        risk: Enforcement of chance constraints.
        fixed_features: Parameters held at a value this round, name -> value in the design's
            own units (e.g. ``{"dose": 2.0}``; a categorical's label; a sequence's string).
        quality: Compute leave-one-out error and calibration metrics of every model.
        min_observations: Fewest successful observations of an outcome to model it.

    Example:
        >>> config = BOConfig(fixed_features={"dose": 2.0})
        >>> BOConfig.from_dict(config.to_dict()) == config
        True
    """

    gp: GPConfig = field(default_factory=GPConfig)
    acquisition: AcquisitionConfig = field(default_factory=AcquisitionConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    failures: FailureConfig = field(default_factory=FailureConfig)
    risk: RiskConfig = field(default_factory=RiskConfig)
    fixed_features: Mapping[str, Any] = field(default_factory=dict)
    quality: bool = True
    min_observations: int = 2

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (tuples become lists)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BOConfig:
        """Read :meth:`to_dict`'s shape; missing keys take their defaults."""
        return _build(cls, data)


def _build(cls: type, data: Mapping[str, Any]) -> Any:
    kwargs: dict[str, Any] = {}
    hints = {f.name: f for f in dataclasses.fields(cls)}
    for name, value in data.items():
        if name not in hints:
            raise ValueError(f"{cls.__name__}: unknown field {name!r}")
        nested = _NESTED.get((cls.__name__, name))
        if nested is not None and value is not None:
            value = _build(nested, value)
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[name] = value
    return cls(**kwargs)


_NESTED: dict[tuple[str, str], type] = {
    ("BOConfig", "gp"): GPConfig,
    ("BOConfig", "acquisition"): AcquisitionConfig,
    ("BOConfig", "optimizer"): OptimizerConfig,
    ("BOConfig", "failures"): FailureConfig,
    ("BOConfig", "risk"): RiskConfig,
    ("GPConfig", "prior_mean"): HillPriorConfig,
}
