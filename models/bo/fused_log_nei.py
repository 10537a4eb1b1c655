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
   ``sign * (y - threshold) / scale``, :class:`models.bo.sample_terms.OutcomeSlack`);
4. BoTorch's fat-tailed maximum over the candidates (skipped for one candidate, where it is
   the identity exactly) and the log of the mean of the exponentials over the samples
   (torch's ``logsumexp``; BoTorch's ``logmeanexp``, whose gradient stays finite at
   infinite values, where a result is not finite).

The smooth functions are BoTorch's own (``botorch.utils.safe_math``). The tests hold values
and gradients to BoTorch's qLogNEI to round-off (pending designs, several constraints,
minimised and maximised objectives, batches). Differences at round-off still send a campaign
down another path (L-BFGS-B and the greedy batch amplify them): on seeds 10-29 of the
nanoparticle lab this form and the stacked posterior, against the code before them, gave a
lower final regret on 11 seeds and a higher one on 9. Anything else (several objectives, another
objective or constraint callable, a model without cached factors) keeps BoTorch's class:
:meth:`FusedLogNEI.wrap` returns ``None``.
"""

from __future__ import annotations

import math

import torch
from botorch.acquisition import AcquisitionFunction
from botorch.acquisition.logei import qLogNoisyExpectedImprovement
from botorch.acquisition.objective import GenericMCObjective
from botorch.acquisition.utils import compute_best_feasible_objective
from botorch.utils.safe_math import fatmax, log_fatmoid, log_fatplus, logmeanexp
from torch import Tensor
from torch.nn import Module

from models.bo.cached_posterior import CachedModelList
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
        self.objective_index, self.objective_sign = objective.index, objective.sign
        dtype = torch.float64
        self.slack_indices = [s.index for s in slacks]
        self.thresholds = torch.tensor([s.threshold for s in slacks], dtype=dtype)
        self.slack_factors = torch.tensor([s.sign for s in slacks], dtype=dtype)
        self.slack_scales = torch.tensor([s.scale for s in slacks], dtype=dtype)
        # BoTorch turns a float eta into a default-dtype tensor (float32); keep its value.
        eta = acquisition._eta
        eta = eta if isinstance(eta, Tensor) else torch.full((len(slacks),), eta)
        self.eta = eta.to(dtype).expand(len(slacks)).clone()

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
        baseline = self.acquisition.X_baseline
        n_baseline, q = baseline.shape[-2], X.shape[-2]
        X_full = torch.cat([baseline.expand(*X.shape[:-2], *baseline.shape[-2:]), X], dim=-2)
        samples = self.acquisition.get_posterior_samples(self.model.posterior(X_full))
        best = self._incumbent(samples[..., :n_baseline, :].detach(), baseline)
        new = samples[..., n_baseline:, :]
        value = log_fatplus(self.objective_sign * new[..., self.objective_index]
                            - best.unsqueeze(-1), tau=self.acquisition.tau_relu)
        if self.slack_indices:
            value = value + log_fatmoid(-self._slack(new) / self.eta).sum(-1)
        if q > 1:
            value = fatmax(value, dim=-1, tau=self.acquisition.tau_max)
        else:
            value = value.squeeze(-1)
        return _log_mean_exp(value)

    def _slack(self, samples: Tensor) -> Tensor:
        """Every constraint's slack, `... x q x constraints`."""
        return ((samples[..., self.slack_indices] - self.thresholds) * self.slack_factors
                / self.slack_scales)

    def _incumbent(self, samples: Tensor, baseline: Tensor) -> Tensor:
        """The best feasible baseline objective per sample (`sample x batch`): BoTorch's
        ``compute_best_feasible_objective`` (no gradient; its fallback where a sample has no
        feasible baseline design)."""
        with torch.no_grad():
            objective = self.objective_sign * samples[..., self.objective_index]
            return compute_best_feasible_objective(
                samples=samples, obj=objective, constraints=self.acquisition._constraints,
                model=self.model, objective=self.acquisition.objective, X_baseline=baseline)


def _log_mean_exp(value: Tensor) -> Tensor:
    """``log mean exp`` over the samples (dimension 0): torch's ``logsumexp``, or BoTorch's
    ``logmeanexp`` (whose gradient is finite at infinite values) when a result is not
    finite."""
    result = torch.logsumexp(value, dim=0) - math.log(value.shape[0])
    if bool(torch.isfinite(result).all()):
        return result
    return logmeanexp(value, dim=0)
