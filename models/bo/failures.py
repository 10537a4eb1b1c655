r"""Failed experiments: kept, left out of the outcome models, and steering the search away.

A failed experiment (a formulation that would not assemble, a measurement that could not be
taken) carries no outcome, so it cannot train an outcome model. It still says something: its
neighbourhood is likely to fail too. We model that with a *feasibility GP on the failure
indicator*: an exact GP regression of ``1`` (success) / ``0`` (failure) over every attempted
design, with inferred noise, and call a design *likely to succeed* where the latent function
exceeds 1/2. Inside the acquisition it is one more outcome constraint,
``0.5 - s(x) <= 0``, so BoTorch multiplies the improvement by the (smoothed, Monte-Carlo)
probability of success exactly as it does for measured outcome constraints; its marginal
probability ``P(s(x) >= 0.5) = Phi((mu(x) - 0.5) / sigma(x))`` is reported per suggestion.

A GP regression on labels is cruder than a GP classifier (its predictive probabilities are not
calibrated), but it is exact, fast, fitted like the other models, and it enters BoTorch's
constraint machinery without a custom acquisition. The model is built only when at least one
experiment failed (otherwise it would say nothing).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from botorch.models import SingleTaskGP
from torch import Tensor

from models.bo.config import GPConfig
from models.bo.data import TrainingData
from models.bo.encoding import Encoder
from models.bo.gp import build_gp, fit_gp, load_hyperparameters
from models.bo.sample_terms import OutcomeSlack

#: Name of the failure model's output in the model list and the stored state.
SUCCESS_OUTPUT = "__success__"
#: The latent success indicator above which a design counts as likely to succeed.
SUCCESS_THRESHOLD = 0.5


def fit_failure_model(data: TrainingData, encoder: Encoder, config: GPConfig,
                      previous: Mapping[str, Tensor] | None = None) -> SingleTaskGP | None:
    r"""The feasibility GP on the success indicator, or ``None`` when nothing failed.

    Args:
        data: The training data (``X_attempted`` and ``failed``).
        encoder: The feature encoding.
        config: Fit caps (its prior mean is not used here).
        previous: Hyperparameters of a previous failure model, for a warm start.

    Returns:
        The fitted model (eval mode), or ``None``.
    """
    if data.n_failed == 0:
        return None
    success = (~data.failed).to(torch.float64).unsqueeze(-1)
    model = build_gp(data.X_attempted, success, None, encoder)
    warm = previous is not None and config.warm_start and load_hyperparameters(model,
                                                                               previous) > 0
    fit_gp(model, config, warm=warm, name=SUCCESS_OUTPUT)
    return model


def success_constraint(output: int) -> OutcomeSlack:
    r"""BoTorch constraint callable on the model list's samples: ``<= 0`` where the sampled
    success indicator is at least :data:`SUCCESS_THRESHOLD`.

    Args:
        output: Index of the failure model's output.

    Returns:
        A callable mapping `sample_shape x batch_shape x q x m` samples to
        `sample_shape x batch_shape x q` slacks (already on the indicator's unit scale).
    """
    return OutcomeSlack(index=output, sign=-1.0, threshold=SUCCESS_THRESHOLD, scale=1.0)


def success_probability(model: SingleTaskGP, X: Tensor) -> Tensor:
    r"""``P(s(x) >= 0.5)`` under the failure model.

    Args:
        model: The fitted failure model.
        X: `n x d` features.

    Returns:
        `n` probabilities.
    """
    with torch.no_grad():
        posterior = model.posterior(X)
        mean = posterior.mean.squeeze(-1)
        sd = posterior.variance.squeeze(-1).clamp_min(1e-18).sqrt()
    normal = torch.distributions.Normal(torch.zeros_like(mean), torch.ones_like(mean))
    return normal.cdf((mean - SUCCESS_THRESHOLD) / sd)
