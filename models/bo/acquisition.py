r"""The acquisition functions of constrained BO: BoTorch's log-noisy improvement family.

* One objective: ``qLogNoisyExpectedImprovement`` (qLogNEI) of the objective (negated when
  minimised), improvement counted only where the outcome constraints hold.
* Several objectives: ``qLogNoisyExpectedHypervolumeImprovement`` (qLogNEHVI) of the
  objectives (each negated when minimised) above a reference point, likewise constrained.

Outcome constraints use BoTorch's ``constraints`` argument: each is a callable giving the
*slack* of a sampled outcome (``<= 0`` where met), which BoTorch turns into a smoothed
feasibility indicator (a sigmoid of temperature ``eta``) multiplied into each Monte-Carlo
sample's improvement: in expectation, the improvement weighted by the probability of
feasibility. We divide every slack by its outcome's standard deviation in the data, so one
``eta`` (in sd units) suits outcomes of any scale. A failure model adds one more constraint
(:mod:`models.bo.failures`).

Both functions are *noisy* variants: the incumbent is integrated over the posterior at the
observed designs (``X_baseline``) rather than taken from noisy measurements, and pending
designs (``X_pending``) enter every Monte-Carlo batch jointly with the candidates, so a design
that merely repeats a pending one earns (almost) nothing.

On the cached posterior (:mod:`models.bo.cached_posterior`) one objective's qLogNEI is
evaluated by :class:`models.bo.fused_log_nei.FusedLogNEI`: BoTorch's function, built by
BoTorch's class, in fewer tensor operations (``AcquisitionConfig.fused_evaluation``).

Reference point (several objectives): given in the config, or inferred with BoTorch's
``infer_reference_point`` from the model's mean at the observed designs, over those that meet
every constraint (all of them when none does).

No compiled hypervolume kernel (:func:`never_compile_hypervolume_kernel`): BoTorch 0.18's
qLogNEHVI compiles a fused C++ kernel the first time a process builds one, with
``-march=native``, and falls back to its torch code where no compiler or ``ninja`` is found.
For a service that is three problems: a worker's first multi-objective job waits for a C++
build (under the test suite's load on this 2-core machine the build ran over 7 minutes, and a test
timed out at 300 s before it linked); the numbers depend on the machine that compiled them
(native instructions), which breaks the bit-for-bit replay :mod:`models.numerics` provides;
and two workers, one with a compiler and one without, suggest different designs from the same
data. So every process uses BoTorch's torch implementation of the same quantity. What it
costs: a 2-objective suggestion (BraninCurrin, 20 observations, ``q = 2``) took 0.39 s on the
torch path against 0.25 s with the compiled kernel (medians of 3 calls, two runs each), with
the same designs to 6 decimals; the compile itself took 24 s on this machine when idle.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import botorch.acquisition.multi_objective.logei as botorch_hypervolume
import torch
from botorch.acquisition import AcquisitionFunction
from botorch.acquisition.logei import qLogNoisyExpectedImprovement
from botorch.acquisition.multi_objective.logei import qLogNoisyExpectedHypervolumeImprovement
from botorch.acquisition.multi_objective.objective import WeightedMCMultiOutputObjective
from botorch.acquisition.objective import GenericMCObjective
from botorch.models.model import Model
from botorch.sampling import SobolQMCNormalSampler
from botorch.utils.multi_objective.hypervolume import infer_reference_point
from botorch.utils.multi_objective.pareto import is_non_dominated
from torch import Tensor

from models.bo.config import AcquisitionConfig
from models.bo.fused_log_nei import FusedLogNEI
from models.bo.problem import Objective, OutcomeConstraint
from models.bo.sample_terms import OutcomeSlack, SignedOutcome

Constraint = Callable[..., Tensor]


def never_compile_hypervolume_kernel() -> None:
    """Make BoTorch's qLogNEHVI use its torch code, never its JIT-compiled C++ kernel (see the
    module's notes): marks the kernel's one load attempt as made, with no kernel loaded. The
    switch is private to BoTorch (``botorch.acquisition.multi_objective.logei``); BoTorch is
    pinned (``constraints.txt``), and ``tests/unit/models/bo/test_multi_objective.py`` fails if
    a release moves it."""
    botorch_hypervolume._C = None
    botorch_hypervolume._load_attempted = True


never_compile_hypervolume_kernel()


def constraint_callables(constraints: Sequence[OutcomeConstraint], outputs: Sequence[str],
                         scales: Mapping[str, float]) -> list[Constraint]:
    r"""BoTorch constraint callables: the slack of each constraint, in sd units.

    Args:
        constraints: The outcome constraints.
        outputs: The model list's outputs, in order.
        scales: Outcome name -> its standard deviation in the data (> 0).

    Returns:
        Callables mapping `sample_shape x batch_shape x q x m` samples to
        `sample_shape x batch_shape x q` slacks (``<= 0`` where met).
    """
    return [OutcomeSlack(index=outputs.index(c.name), sign=float(c.sign),
                         threshold=float(c.threshold), scale=float(scales[c.name]))
            for c in constraints]


def reference_point(model: Model, objectives: Sequence[Objective], outputs: Sequence[str],
                    X_baseline: Tensor, constraints: Sequence[Constraint],
                    given: Mapping[str, float] | None = None) -> Tensor:
    r"""The hypervolume reference point, in the maximised (sign-adjusted) objectives.

    Args:
        model: The model list.
        objectives: The objectives.
        outputs: The model list's outputs, in order.
        X_baseline: `n x d` observed features.
        constraints: Constraint callables (see :func:`constraint_callables`).
        given: Outcome name -> reference value in the outcome's units, if set by the user.

    Returns:
        `n_objectives` reference point.
    """
    signs = torch.tensor([o.sign for o in objectives], dtype=X_baseline.dtype)
    if given is not None:
        return signs * torch.tensor([float(given[o.name]) for o in objectives],
                                    dtype=X_baseline.dtype)
    with torch.no_grad():
        posterior: Any = model.posterior(X_baseline)
        mean = posterior.mean  # n x m
    Y = mean[:, [outputs.index(o.name) for o in objectives]] * signs
    feasible = torch.ones(Y.shape[0], dtype=torch.bool)
    for constraint in constraints:
        feasible &= constraint(mean) <= 0
    if bool(feasible.any()):
        Y = Y[feasible]
    return infer_reference_point(Y[is_non_dominated(Y)])


def build_acquisition(model: Model, objectives: Sequence[Objective],
                      constraints: Sequence[Constraint], outputs: Sequence[str], *,
                      X_baseline: Tensor, X_pending: Tensor | None,
                      config: AcquisitionConfig, seed: int) -> AcquisitionFunction:
    r"""qLogNEI (one objective) or qLogNEHVI (several), with outcome constraints.

    Args:
        model: The model list (outcomes, and possibly the failure model), eval mode.
        objectives: One or more objectives.
        constraints: Constraint callables (outcome constraints, failure model).
        outputs: The model list's outputs, in order.
        X_baseline: `n x d` features of the observed designs.
        X_pending: `p x d` features of the designs in flight, or ``None``.
        config: Samples, ``eta``, reference point, baseline pruning.
        seed: Seed of the quasi-Monte-Carlo base samples.

    Returns:
        The acquisition function: `batch_shape x q x d` -> `batch_shape` log values.

    Example:
        >>> acqf = build_acquisition(model, [Objective("y", "minimize")], [], ["y"],
        ...                          X_baseline=X, X_pending=None,
        ...                          config=AcquisitionConfig(), seed=0)  # doctest: +SKIP
    """
    if not objectives:
        raise ValueError("at least one objective is needed")
    sampler = SobolQMCNormalSampler(sample_shape=torch.Size([config.mc_samples]), seed=seed)
    indices = [outputs.index(o.name) for o in objectives]
    signs = [o.sign for o in objectives]
    if len(objectives) == 1:
        acquisition = qLogNoisyExpectedImprovement(
            model=model, X_baseline=X_baseline, sampler=sampler,
            objective=GenericMCObjective(SignedOutcome(indices[0], float(signs[0]))),
            X_pending=X_pending, constraints=list(constraints) or None, eta=config.eta,
            prune_baseline=config.prune_baseline)
        fused = FusedLogNEI.wrap(acquisition) if config.fused_evaluation else None
        return fused if fused is not None else acquisition
    ref = reference_point(model, objectives, outputs, X_baseline, constraints,
                          config.reference_point)
    return qLogNoisyExpectedHypervolumeImprovement(
        model=model, ref_point=ref, X_baseline=X_baseline, sampler=sampler,
        objective=WeightedMCMultiOutputObjective(
            weights=torch.tensor(signs, dtype=X_baseline.dtype), outcomes=indices),
        constraints=list(constraints) or None, X_pending=X_pending, eta=config.eta,
        prune_baseline=config.prune_baseline)
