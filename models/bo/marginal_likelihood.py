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
constraints, retries from prior samples on failure); the closure it calls is ours, and so is
its solver with these closures, L-BFGS-B in log coordinates (:mod:`models.bo.log_lbfgs`). The
tests compare the value and the gradient with GPyTorch's to round-off, and the
gradient with central differences. Models this module does not know (a categorical kernel,
batched hyperparameters) get ``None``: GPyTorch's own closure.

For BoTorch's default model (an ARD RBF kernel whose lengthscales are their raw values, a
constant mean, homoscedastic inferred or fixed noise, log-normal priors), and for the same
with another prior mean (a Hill curve in a dose: its parameters' part is autograd's through
the mean alone, :math:`\partial(-\log p)/\partial m = -\alpha`, its priors included),
:func:`fit_closure` returns :class:`RBFLikelihoodClosure` instead: the value *and* its
gradient in closed form, with no autograd graph. The plain-torch objective above still spent most of its ~0.8 ms an
evaluation (20 observations, 8 features) on per-operation overhead, most of it in the
backward pass and in the priors' ``torch.distributions`` machinery; the closed form is a
dozen tensor operations. With :math:`A = K + \Sigma`, :math:`\alpha = A^{-1} r`,
:math:`W = A^{-1} - \alpha\alpha^\top` and :math:`D^{(k)}_{ij} = (x_{ik} - x_{jk})^2`:

.. math::

    \frac{\partial(-\log p)}{\partial \ell_k} = \tfrac12 \sum_{ij} W_{ij} K_{ij}
    \frac{D^{(k)}_{ij}}{\ell_k^3}, \qquad
    \frac{\partial(-\log p)}{\partial \sigma^2} = \tfrac12 \operatorname{tr} W, \qquad
    \frac{\partial(-\log p)}{\partial c} = -\textstyle\sum_i \alpha_i,

plus each log-normal prior's :math:`-\partial \log p(\theta)/\partial\theta =
(1 + (\log\theta - \mu)/s^2)/\theta`. The tests hold it to GPyTorch's value and gradient
to round-off and to central differences.
"""

from __future__ import annotations

import math

import torch
from botorch.models import SingleTaskGP
from botorch.optim.closures.core import ForwardBackwardClosure
from botorch.optim.utils import get_parameters
from gpytorch.kernels import RBFKernel
from gpytorch.likelihoods import FixedNoiseGaussianLikelihood, GaussianLikelihood
from gpytorch.likelihoods.noise_models import HomoskedasticNoise
from gpytorch.means import ConstantMean
from gpytorch.mlls import ExactMarginalLogLikelihood
from gpytorch.priors import LogNormalPrior
from torch import Tensor

from models.bo.cached_posterior import safe_cholesky, stationary_covariance, supports

__all__ = ["RBFLikelihoodClosure", "fit_closure", "negative_log_likelihood"]


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


def fit_closure(mll: ExactMarginalLogLikelihood
                ) -> ForwardBackwardClosure | RBFLikelihoodClosure | None:
    r"""A loss-and-gradient closure for BoTorch's ``fit_gpytorch_mll(mll, closure=...)``.

    Args:
        mll: The marginal likelihood of a model to fit (put in train mode here).

    Returns:
        The closure over the parameters that require gradients (in ``mll``'s order, as
        BoTorch's optimiser expects): the closed form (:class:`RBFLikelihoodClosure`) for
        BoTorch's default model, plain torch with autograd otherwise; or ``None`` for a
        model :func:`supports` rejects or one with added loss terms: GPyTorch's own closure
        is then the one to use.
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
    if RBFLikelihoodClosure.handles(model, parameters):
        return RBFLikelihoodClosure(model, X, y, parameters)
    return ForwardBackwardClosure(lambda: negative_log_likelihood(model, X, y), parameters)


class RBFLikelihoodClosure:
    r""":func:`negative_log_likelihood` and its gradient in closed form, for BoTorch's default
    GP (see the module's notes and :meth:`handles`).

    Args:
        model: The GP, in train mode; its parameters are read at every call (the optimiser
            writes them in place between calls).
        X: `n x d` normalised training features.
        y: `n` standardised training targets.
        parameters: The parameters to differentiate, name -> tensor, in the optimiser's order.
    """

    def __init__(self, model: SingleTaskGP, X: Tensor, y: Tensor,
                 parameters: dict[str, Tensor]) -> None:
        self.model, self.X, self.y, self.parameters = model, X, y, parameters
        n, d = X.shape
        #: Squared differences per feature, `(n n) x d`: the kernel and the lengthscales'
        #: gradient are each one product with it.
        self.squared = (X.unsqueeze(-2) - X.unsqueeze(-3)).pow(2).reshape(n * n, d)
        self.constant_term = 0.5 * n * math.log(2.0 * math.pi)
        likelihood = model.likelihood
        self.fixed_noise = isinstance(likelihood, FixedNoiseGaussianLikelihood)
        self.noise_prior = None if self.fixed_noise else \
            getattr(likelihood.noise_covar, "noise_prior", None)
        self.lengthscale_prior = getattr(model.covar_module, "lengthscale_prior", None)
        roles = {id(tensor): role for role, tensor in _roles(model).items()}
        self.order = [roles[id(tensor)] for tensor in parameters.values()]
        self.constant_mean = type(model.mean_module) is ConstantMean
        #: A prior mean other than a constant (a Hill curve): its parameters, by role, and its
        #: priors; their part of the gradient is autograd's through the mean alone.
        self.mean_parameters = {role: tensor for role, tensor in _roles(model).items()
                                if role.startswith("mean.")}
        self.mean_priors = [(prior, closure, module) for name, module, prior, closure, _
                            in model.named_priors()  # type: ignore[operator]
                            if name.startswith("mean_module.")]

    @staticmethod
    def handles(model: SingleTaskGP, parameters: dict[str, Tensor]) -> bool:
        """Whether the closed form is this model's objective: an ARD RBF kernel (no output
        scale) whose lengthscales are their raw values, a scalar constant mean or another
        mean module (a Hill curve: its part by autograd through the mean, priors included),
        Gaussian noise (inferred homoscedastic, its raw value the noise, or fixed),
        log-normal priors on the lengthscales and noise or none, and nothing else to
        differentiate."""
        kernel, mean, likelihood = model.covar_module, model.mean_module, model.likelihood
        if type(kernel) is not RBFKernel or kernel.raw_lengthscale_constraint.enforced \
                or (type(mean) is ConstantMean and mean.raw_constant.dim() != 0):
            return False
        allowed_priors = {"covar_module.lengthscale_prior"}
        if type(likelihood) is GaussianLikelihood:
            noise = likelihood.noise_covar
            if type(noise) is not HomoskedasticNoise or noise.raw_noise_constraint.enforced \
                    or noise.raw_noise.numel() != 1:
                return False
            allowed_priors.add("likelihood.noise_covar.noise_prior")
        elif type(likelihood) is not FixedNoiseGaussianLikelihood \
                or any(True for _ in likelihood.parameters()):
            return False
        expected = {id(tensor) for tensor in _roles(model).values()}
        priors = list(model.named_priors())  # type: ignore[operator]
        return ({id(tensor) for tensor in parameters.values()} == expected
                and all((name in allowed_priors and isinstance(prior, LogNormalPrior))
                        or name.startswith("mean_module.")
                        for name, _, prior, _, _ in priors))

    def __call__(self) -> tuple[Tensor, tuple[Tensor, ...]]:
        """The loss ``-(log p(y | theta) + log p(theta)) / n`` and its gradient with respect to
        each parameter (shaped like it), in :attr:`parameters`' order."""
        with torch.no_grad():
            return self._evaluate()

    def _evaluate(self) -> tuple[Tensor, tuple[Tensor, ...]]:
        model, y = self.model, self.y
        n = y.shape[-1]
        lengthscale = model.covar_module.raw_lengthscale.reshape(-1)
        inverse_square = lengthscale.pow(-2)
        K = torch.exp(-0.5 * (self.squared @ inverse_square)).reshape(n, n)
        noise = model.likelihood.noise.reshape(-1)
        L = safe_cholesky(K + torch.diag_embed(noise.expand(n)))
        if self.constant_mean:
            residual = (y - model.mean_module.raw_constant).unsqueeze(-1)
        else:
            with torch.enable_grad():
                prior_mean = model.mean_module(self.X)
            residual = (y - prior_mean.detach()).unsqueeze(-1)
        alpha = torch.cholesky_solve(residual, L)
        loss = 0.5 * (residual * alpha).sum() + L.diagonal().log().sum() + self.constant_term
        W = torch.cholesky_inverse(L) - alpha @ alpha.transpose(-1, -2)
        gradients = {
            "lengthscale":
                (0.5 * (W * K).reshape(-1) @ self.squared) * inverse_square / lengthscale,
        }
        if self.constant_mean:
            gradients["constant"] = -alpha.sum()
        elif self.mean_parameters:
            # d loss / d m = -alpha; the mean's priors with it, both through the mean.
            with torch.enable_grad():
                prior_loss = sum((-prior.log_prob(closure(module)).sum()
                                  for prior, closure, module in self.mean_priors),
                                 torch.zeros((), dtype=y.dtype))
                terms = -(alpha.squeeze(-1) * prior_mean).sum() + prior_loss
                found = torch.autograd.grad(terms, list(self.mean_parameters.values()),
                                            allow_unused=True)
            loss = loss + prior_loss.detach()
            for (role, tensor), grad in zip(self.mean_parameters.items(), found, strict=True):
                gradients[role] = torch.zeros_like(tensor) if grad is None else grad
        if not self.fixed_noise:
            gradients["noise"] = 0.5 * W.diagonal().sum()
        for prior, role, value in ((self.lengthscale_prior, "lengthscale", lengthscale),
                                   (self.noise_prior, "noise", noise)):
            if prior is not None:
                prior_loss, prior_gradient = _log_normal_loss(prior, value)
                loss = loss + prior_loss
                gradients[role] = gradients[role] + prior_gradient
        return loss / n, tuple((gradients[role] / n).reshape(parameter.shape)
                               for role, parameter in zip(self.order, self.parameters.values(),
                                                          strict=True))


def _roles(model: SingleTaskGP) -> dict[str, Tensor]:
    """The tensors :class:`RBFLikelihoodClosure` differentiates, by role (the noise only when
    it is inferred)."""
    mean = model.mean_module
    roles: dict[str, Tensor] = {"lengthscale": model.covar_module.raw_lengthscale}
    if type(mean) is ConstantMean:
        roles["constant"] = mean.raw_constant
    else:
        roles |= {f"mean.{name}": tensor for name, tensor in mean.named_parameters()}
    if isinstance(model.likelihood, GaussianLikelihood) \
            and not isinstance(model.likelihood, FixedNoiseGaussianLikelihood):
        roles["noise"] = model.likelihood.noise_covar.raw_noise
    return roles


def _log_normal_loss(prior: LogNormalPrior, value: Tensor) -> tuple[Tensor, Tensor]:
    """``-sum log p(value)`` under a log-normal prior, and its gradient in ``value``.

    The scale's square and logarithm are taken in the prior's own dtype (BoTorch's priors
    are float32), as ``torch.distributions.Normal.log_prob`` takes them, so the value is
    GPyTorch's to the last bit of float64 rather than differing in the eighth digit.
    """
    loc = prior.loc.to(value)
    variance, log_scale = prior.scale.pow(2).to(value), prior.scale.log().to(value)
    log_value = value.log()
    loss = (log_value + log_scale + math.log(math.sqrt(2.0 * math.pi))
            + (log_value - loc).pow(2) / (2.0 * variance)).sum()
    return loss, (1.0 + (log_value - loc) / variance) / value
