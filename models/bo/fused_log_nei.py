r"""qLogNEI's evaluation in half the tensor operations: the acquisition's inner loop.

Optimising the acquisition evaluates it (value and gradient) a few dozen times per design.
On a campaign of tens of observations every tensor is tiny, so an evaluation costs what its
number of tensor operations costs. On the nanoparticle lab (20 observations, 8 restarts,
one thread) BoTorch's ``qLogNoisyExpectedImprovement`` on the cached posterior
(:mod:`models.bo.cached_posterior`) ran about 1,400 of them forward and backward, 3.1 ms: its
generic wrappers, one pass per constraint, infinity handling in its smooth maximum over a
batch of one and in its mean over the samples. With the outputs' posteriors stacked it took
2.4 ms; in this fused form about 700 operations, 1.8 ms.

:class:`FusedLogNEI` evaluates the *same* function from the same pieces. BoTorch still
builds the acquisition (the baseline pruned of designs that are very unlikely to be best,
the pending designs added to it, its quasi-Monte-Carlo sampler with its base samples); per
evaluation, for candidates :math:`X` and baseline :math:`B`:

1. joint samples :math:`f` at :math:`[B; X]` from the cached posterior and BoTorch's sampler;
2. the incumbent per sample, :math:`f^*_s = \max_{b \in B} \{g(f_{s,b}) : \text{every slack}
   \le 0\}`, by BoTorch's own ``compute_best_feasible_objective`` (no gradient; its fallback
   where a sample has no feasible baseline design);
3. per sample and candidate, :math:`\log \mathrm{fatplus}(g(f_{s,x}) - f^*_s) + \sum_c \log
   \mathrm{fatmoid}(-\mathrm{slack}_c / \eta)`, all constraints in one pass (each slack is
   ``sign * (y - threshold) / scale``, :class:`models.bo.sample_terms.OutcomeSlack`;
   :class:`models.bo.log_improvement.LogImprovementTerms`);
4. BoTorch's fat-tailed maximum over the candidates (skipped for one candidate, where it is
   the identity exactly) and the log of the mean of the exponentials over the samples
   (torch's ``logsumexp``; BoTorch's ``logmeanexp``, whose gradient stays finite at
   infinite values, where a result is not finite).

Where the outputs are stacked (:class:`~models.bo.cached_posterior.StackedRBF`: RBF GPs on
the same designs, one model included, a Hill prior mean too), steps 1-2 use the baseline block
(:mod:`models.bo.baseline_block`): the baseline's part of the joint factor, its samples and
so the incumbent are computed once per baseline, not per evaluation. With one candidate per
batch member (the sequential greedy batch, the default), the whole value and its gradient
are one ``torch.autograd.Function`` whose backward is in closed form
(:func:`~models.bo.baseline_block.single_candidate_gradient`,
:meth:`~models.bo.log_improvement.LogImprovementTerms.evaluate`): nothing is recorded for
autograd. Per evaluation of 8 restarts with their gradient, 20 observations, one thread
(``benchmarks/acquisition_evaluation.py``, median of 15 × 50 calls, all paths checked
against BoTorch's values and gradients first):

=======================================  =========  ============
path                                     Hartmann   nanoparticle
=======================================  =========  ============
BoTorch's qLogNEI, cached posterior      3.58 ms    3.49 ms
fused, joint samples, autograd           2.48 ms    2.42 ms
fused, baseline block, closed-form grad  1.15 ms    1.16 ms
=======================================  =========  ============

The smooth functions are BoTorch's formulas (``botorch.utils.safe_math``). The tests hold
values and gradients to BoTorch's qLogNEI to round-off (pending designs, several
constraints, minimised and maximised objectives, batches, one output). Differences at
round-off still send a campaign down another path (L-BFGS-B and the greedy batch amplify
them): on seeds 10-29 of the nanoparticle lab the fused form and the stacked posterior,
against the code before them, gave a lower final regret on 11 seeds and a higher one on 9.
Anything else (several objectives, another objective or constraint callable, a model
without cached factors) keeps BoTorch's class: :meth:`FusedLogNEI.wrap` returns ``None``.
"""

from __future__ import annotations

import math
from typing import Any, cast

import torch
from botorch.acquisition import AcquisitionFunction
from botorch.acquisition.logei import qLogNoisyExpectedImprovement
from botorch.acquisition.objective import GenericMCObjective
from botorch.acquisition.utils import compute_best_feasible_objective
from botorch.sampling.normal import NormalMCSampler
from botorch.utils.safe_math import fatmax, logmeanexp
from torch import Tensor
from torch.nn import Module

from models.bo.baseline_block import (
    BaselineBlock,
    single_candidate_gradient,
    single_candidate_samples,
)
from models.bo.cached_posterior import CachedModelList, IndependentNormalPosterior, StackedRBF
from models.bo.log_improvement import LogImprovementTerms
from models.bo.sample_terms import OutcomeSlack, SignedOutcome

__all__ = ["FusedLogNEI"]


class FusedLogNEI(AcquisitionFunction):
    r"""A ``qLogNoisyExpectedImprovement``'s value, computed in fused form.

    Use :meth:`wrap`. Pending designs are the wrapped acquisition's (incremental: they join
    its baseline); :meth:`set_X_pending` sets them there.

    Args:
        acquisition: BoTorch's acquisition, built on a :class:`CachedModelList`.
        objective: Its objective (one output, signed).
        slacks: Its constraints, or an empty list.
    """

    def __init__(self, acquisition: qLogNoisyExpectedImprovement, objective: SignedOutcome,
                 slacks: list[OutcomeSlack]) -> None:
        Module.__init__(self)
        self.acquisition = acquisition
        self.model = acquisition.model
        # BoTorch turns a float eta into a default-dtype tensor (float32); keep its value.
        eta = acquisition._eta
        eta = eta if isinstance(eta, Tensor) else torch.full((len(slacks),), eta)
        model = acquisition.model
        assert isinstance(model, CachedModelList)
        self.outputs = model.num_outputs
        self.terms = LogImprovementTerms.build(
            objective, slacks, eta.to(torch.float64).expand(len(slacks)),
            acquisition.tau_relu, self.outputs)
        # The baseline block draws the sampler's base samples itself (a normal sampler's).
        self.stacked = (model.stacked or StackedRBF.build(model.members, minimum=1)) \
            if isinstance(acquisition.sampler, NormalMCSampler) else None
        self._block: BaselineBlock | None = None
        self._incumbents: dict[int, Tensor] = {}

    @classmethod
    def wrap(cls, acquisition: AcquisitionFunction) -> FusedLogNEI | None:
        """The fused form of ``acquisition``, or ``None`` when it is not a qLogNEI this class
        reproduces (another model, objective, constraint or option)."""
        if type(acquisition) is not qLogNoisyExpectedImprovement \
                or not isinstance(acquisition.model, CachedModelList) \
                or acquisition.posterior_transform is not None \
                or acquisition._fat is not True or not acquisition.incremental \
                or acquisition._cache_root:
            return None
        objective = acquisition.objective
        if not isinstance(objective, GenericMCObjective) \
                or not isinstance(objective.objective, SignedOutcome):
            return None
        constraints = list(acquisition._constraints or [])
        slacks = [s for s in constraints if isinstance(s, OutcomeSlack)]
        if len(slacks) != len(constraints):
            return None
        return cls(acquisition, objective.objective, slacks)

    @property
    def X_pending(self) -> Tensor | None:  # type: ignore[override]
        """The wrapped acquisition's (``None``: incremental qLogNEI keeps them in its
        baseline)."""
        return self.acquisition.X_pending

    def set_X_pending(self, X_pending: Tensor | None = None) -> None:
        """Set the pending designs on the wrapped acquisition (its baseline is rebuilt)."""
        self.acquisition.set_X_pending(X_pending)

    def forward(self, X: Tensor) -> Tensor:
        r"""The acquisition value.

        Args:
            X: `batch_shape x q x d` candidate batches (a `q x d` one is a batch of one).

        Returns:
            `batch_shape` log acquisition values.
        """
        if X.dim() == 2:
            X = X.unsqueeze(0)
        q = X.shape[-2]
        if self.stacked is not None and q == 1:
            block, z, best = self._block_parts(X)
            value = _OneCandidateLogNEI.apply(X, block, z, best, self.terms,
                                              block.stacked.varying_mean(X))
            if bool(torch.isfinite(value).all()):
                return value
        new, best = self._block_samples(X) if self.stacked is not None \
            else self._joint_samples(X)
        value = self.terms.values(new, best)
        if q > 1:
            value = fatmax(value, dim=-1, tau=self.acquisition.tau_max)
        else:
            value = value.squeeze(-1)
        return _log_mean_exp(value)

    def _joint_samples(self, X: Tensor) -> tuple[Tensor, Tensor]:
        """The candidates' samples (`samples x batch x q x m`) and the incumbent per sample
        (`samples x batch`), from the joint posterior at ``[baseline; X]``."""
        baseline = self.acquisition.X_baseline
        n_baseline = baseline.shape[-2]
        X_full = torch.cat([baseline.expand(*X.shape[:-2], *baseline.shape[-2:]), X], dim=-2)
        samples = self.acquisition.get_posterior_samples(self.model.posterior(X_full))
        best = self._incumbent(samples[..., :n_baseline, :].detach(), baseline)
        return samples[..., n_baseline:, :], best

    def _block_samples(self, X: Tensor) -> tuple[Tensor, Tensor]:
        """As :meth:`_joint_samples`, the baseline's block factored once
        (:class:`~models.bo.baseline_block.BaselineBlock`): the baseline's samples, hence the
        incumbent, are fixed until the baseline (pending designs) or the base samples
        change; the incumbent is `samples x 1`."""
        block, z, best = self._block_parts(X)
        return block.candidate_samples(X, z), best

    def _block_parts(self, X: Tensor) -> tuple[BaselineBlock, Tensor, Tensor]:
        """The baseline block, the base samples (`samples x (n_B + q) x m`) and the
        incumbent (`samples x 1`) for candidates ``X``, each computed once."""
        baseline = self.acquisition.X_baseline
        if self._block is None or self._block.baseline is not baseline:
            assert self.stacked is not None
            self._block = BaselineBlock(self.stacked, baseline)
            self._incumbents = {}
        n_baseline = self._block.size
        z = self._base_samples(n_baseline + X.shape[-2])
        best = self._incumbents.get(z.shape[-2])
        if best is None:
            samples = self._block.baseline_samples(z[:, :n_baseline]).unsqueeze(1)
            best = self._incumbent(samples, baseline)
            self._incumbents[z.shape[-2]] = best
        return self._block, z, best

    def _base_samples(self, points: int) -> Tensor:
        """The sampler's base samples for a joint posterior at ``points`` designs,
        `samples x points x m`: the ones BoTorch's sampler draws for the full joint
        posterior (it keeps them while the shape stays the same)."""
        sampler = self.acquisition.sampler
        assert isinstance(sampler, NormalMCSampler)
        outputs = self.outputs
        drawn = cast(Tensor | None, sampler.base_samples)
        if drawn is None or drawn.shape != (*sampler.sample_shape, 1, points, outputs):
            shape = torch.zeros(1, points, outputs, dtype=self.acquisition.X_baseline.dtype)
            sampler._construct_base_samples(IndependentNormalPosterior(shape, shape))
            drawn = cast(Tensor, sampler.base_samples)
        return drawn.reshape(-1, points, outputs)

    def _incumbent(self, samples: Tensor, baseline: Tensor) -> Tensor:
        """The best feasible baseline objective per sample (`sample x batch`): BoTorch's
        ``compute_best_feasible_objective`` (no gradient; its fallback where a sample has no
        feasible baseline design)."""
        with torch.no_grad():
            objective = self.terms.objective_sign * samples[..., self.terms.objective_index]
            return compute_best_feasible_objective(
                samples=samples, obj=objective, constraints=self.acquisition._constraints,
                model=self.model, objective=self.acquisition.objective, X_baseline=baseline)


class _OneCandidateLogNEI(torch.autograd.Function):
    r"""qLogNEI for one candidate per batch member on the baseline block, its gradient in
    closed form: :math:`\partial\,\mathrm{logmeanexp}_s h_s / \partial h_s` is the
    softmax over the samples, :math:`\partial h / \partial f` comes from
    :meth:`~models.bo.log_improvement.LogImprovementTerms.evaluate` and its matrix ``A``, and
    :func:`~models.bo.baseline_block.single_candidate_gradient` takes it to the candidate.
    Nothing inside is recorded for autograd."""

    @staticmethod
    def forward(ctx: Any, X: Tensor, block: BaselineBlock, z: Tensor, best: Tensor,
                terms: LogImprovementTerms, varying: Tensor | None) -> Tensor:
        samples, state = single_candidate_samples(block, X, z, varying)  # S x ... x 1 x m
        arguments = terms.arguments(samples, best).squeeze(-2)  # S x ... x (1 + c)
        value, slopes = terms.evaluate(
            arguments, gradient=ctx.needs_input_grad[0] or ctx.needs_input_grad[5])
        result = torch.logsumexp(value, dim=0)  # ...
        ctx.block, ctx.state, ctx.A = block, state, terms.A
        ctx.save_for_backward(slopes, value, result)
        return result - math.log(value.shape[0])

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        slopes, value, result = ctx.saved_tensors
        weights = torch.exp(value - result) * grad  # S x ...
        g_samples = (slopes * weights.unsqueeze(-1)) @ ctx.A.transpose(-1, -2)
        g_X, g_varying = single_candidate_gradient(ctx.block, ctx.state,
                                                   g_samples.unsqueeze(-2))
        return g_X, None, None, None, None, g_varying if ctx.needs_input_grad[5] else None


def _log_mean_exp(value: Tensor) -> Tensor:
    """``log mean exp`` over the samples (dimension 0): torch's ``logsumexp``, or BoTorch's
    ``logmeanexp`` (whose gradient is finite at infinite values) when a result is not
    finite."""
    result = torch.logsumexp(value, dim=0) - math.log(value.shape[0])
    if bool(torch.isfinite(result).all()):
        return result
    return logmeanexp(value, dim=0)
