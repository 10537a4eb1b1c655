r"""The exact marginal log likelihood in plain torch: the hyperparameter fit's inner loop.

Fitting a GP's hyperparameters (:func:`models.bo.gp.fit_gp`) runs L-BFGS-B on the exact
marginal log likelihood; each evaluation (value and gradient) goes through GPyTorch's
machinery (lazy kernel tensors, linear-operator dispatch, a ``MultivariateNormal`` built and
scored) and costs about 2.3 ms on this machine for 24 observations, where the arithmetic, a
Cholesky factorisation of a 24 x 24 matrix, costs microseconds. A suggestion fits one model
per outcome every round, so this overhead was a third of a suggestion's time (profiled on the
constrained Hartmann problem of ``benchmarks/bayesopt.py``).

:func:`fit_closure` returns the same objective, written as a few tensor operations:

.. math::

    -\frac{1}{n}\Big[-\tfrac12 r^\top (K + \Sigma)^{-1} r - \tfrac12\log|K + \Sigma|
    - \tfrac n2 \log 2\pi + \sum_j \log p_j(\theta_j)\Big], \qquad r = y - m(X),

in the model's normalised inputs and standardised outcomes, with the model's own kernel
(:func:`models.bo.cached_posterior.stationary_covariance`), mean, noise (inferred or fixed)
and every registered prior :math:`p_j` (lengthscales, noise, a Hill mean's parameters):
exactly what GPyTorch's ``ExactMarginalLogLikelihood`` computes, divided by :math:`n` as it
is. BoTorch's ``fit_gpytorch_mll`` still runs the fit (bounds from the parameters'
constraints, L-BFGS-B, retries from prior samples on failure); only the closure it calls is
ours. The tests compare the value and the gradient with GPyTorch's to round-off, and the
gradient with central differences. Models this module does not know (a categorical kernel,
batched hyperparameters) get ``None``: GPyTorch's own closure.
"""

from __future__ import annotations

import math

import torch
from botorch.models import SingleTaskGP
from botorch.optim.closures.core import ForwardBackwardClosure
from botorch.optim.utils import get_parameters
from gpytorch.mlls import ExactMarginalLogLikelihood
from torch import Tensor

from models.bo.cached_posterior import safe_cholesky, stationary_covariance, supports

__all__ = ["fit_closure", "negative_log_likelihood"]


def negative_log_likelihood(model: SingleTaskGP, X: Tensor, y: Tensor) -> Tensor:
    r"""GPyTorch's training loss of ``model`` on normalised features and standardised targets.

    Args:
        model: A :func:`models.bo.cached_posterior.supports`-ed GP, in train mode.
        X: `n x d` normalised training features.
        y: `n` standardised training targets.

    Returns:
        The scalar ``-(log p(y | X, theta) + log p(theta)) / n``, differentiable in the
        model's parameters.
    """
    n = y.shape[-1]
    noise = model.likelihood.noise.reshape(-1)
    K = stationary_covariance(model.covar_module, X, X)
    K = K + torch.diag_embed(noise.expand(n) if noise.numel() == 1 else noise)
    L = safe_cholesky(K)
    residual = (y - model.mean_module(X)).unsqueeze(-1)
    whitened = torch.linalg.solve_triangular(L, residual, upper=False)
    log_likelihood = (-0.5 * whitened.pow(2).sum() - L.diagonal().log().sum()
                      - 0.5 * n * math.log(2.0 * math.pi))
    for _, module, prior, closure, _ in model.named_priors():  # type: ignore[operator]
        value = closure(module)
        log_likelihood = log_likelihood + prior.log_prob(value).sum()
    return -log_likelihood / n


def fit_closure(mll: ExactMarginalLogLikelihood) -> ForwardBackwardClosure | None:
    r"""A loss-and-gradient closure for BoTorch's ``fit_gpytorch_mll(mll, closure=...)``.

    Args:
        mll: The marginal likelihood of a model to fit (put in train mode here).

    Returns:
        The closure over the parameters that require gradients (in ``mll``'s order, as
        BoTorch's optimiser expects), or ``None`` for a model :func:`supports` rejects or
        one with added loss terms: GPyTorch's own closure is then the one to use.
    """
    model = mll.model
    if not isinstance(model, SingleTaskGP) or not supports(model) \
            or any(True for _ in mll.added_loss_terms()):
        return None
    mll.train()
    with torch.no_grad():
        X = model.transform_inputs(model.train_inputs[0])  # raw in train mode: normalise
    y = model.train_targets
    parameters = get_parameters(mll, requires_grad=True)
    return ForwardBackwardClosure(lambda: negative_log_likelihood(model, X, y), parameters)
