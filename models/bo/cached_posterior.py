r"""The exact GP posterior from cached factors, in plain torch: the acquisition's inner loop.

Optimising qLogNEI evaluates the model's joint posterior a few hundred times per suggestion
(L-BFGS-B iterations and line searches over every restart, plus the raw-sample screen). With
a few dozen observations the arithmetic is tiny; what costs is GPyTorch's machinery around
it (lazy kernel tensors, linear-operator shape checks, building a multi-task normal from
independent ones): about 13 ms an evaluation on this machine, most of a suggestion's time.

A fitted GP's hyperparameters do not change while the acquisition is optimised, so its
training-side factors can be computed once: the Cholesky factor :math:`L` of
:math:`K + \Sigma_{noise}` and :math:`\alpha = (K + \Sigma)^{-1}(y - m(X))` (in the model's
normalised inputs and standardised outcomes). Each evaluation then only needs

.. math::

    \mu_* = m(X_*) + K_{*X}\alpha, \qquad
    \Sigma_* = K_{**} - V^\top V, \quad V = L^{-1} K_{X*},

then the outcome transform undone (:math:`\mu \sigma_y + \bar y`, :math:`\Sigma \sigma_y^2`).
The outcomes of a model list are independent, so the joint posterior is one Gaussian per
outcome; :class:`IndependentNormalPosterior` samples it with BoTorch's quasi-MC base samples
(``base_sample_shape = batch x t x m``) without forming the ``tm x tm`` covariance.

The formulas are GPyTorch's (the tests compare means, joint covariances, samples and qLogNEI
values and gradients with it to round-off). One thing differs from GPyTorch's default path:
BoTorch caches the *baseline's* posterior root only for GPyTorch models (``cache_root``), so
here the observed designs' samples are drawn jointly with the candidates'. Both are sample
averages of the same integral with fixed base samples; acquisition values differ in the
third or fourth digit, and the regret benchmark (``benchmarks/bayesopt.py``) is the check
that this costs nothing.
Models this module does not know (a categorical kernel, batched hyperparameters, an input
transform other than the model's own) keep GPyTorch's path: :func:`cached_model_list`
returns the model list unchanged.

Outputs stacked: when every member is BoTorch's default GP (an RBF kernel; any prior mean)
on the same training designs, as the outcomes of a campaign that measures them together
are, :class:`StackedRBF` computes all outputs' posteriors in one pass over an output
dimension, with one batched Cholesky factorisation. The arithmetic is the same; the number of
tensor operations, which is what an evaluation of this size costs, no longer grows with the
number of outcomes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from botorch.models import ModelListGP, SingleTaskGP
from botorch.models.model import Model
from botorch.models.transforms.input import Normalize
from botorch.models.transforms.outcome import Standardize
from botorch.posteriors import Posterior
from botorch.sampling import IIDNormalSampler, MCSampler, SobolQMCNormalSampler
from botorch.sampling.get_sampler import GetSampler
from gpytorch.kernels import Kernel, MaternKernel, RBFKernel, ScaleKernel
from gpytorch.likelihoods import FixedNoiseGaussianLikelihood, GaussianLikelihood
from gpytorch.means import ConstantMean
from torch import Tensor
from torch.quasirandom import SobolEngine

__all__ = ["CachedGP", "CachedModelList", "IndependentNormalPosterior", "StackedRBF",
           "cached_model_list", "stationary_covariance", "supports"]

#: Jitter added to a posterior covariance's diagonal, relative to its mean diagonal, when
#: its Cholesky factorisation fails (candidates on top of each other or of a training
#: point): the first of these that works is used, as GPyTorch's ``psd_safe_cholesky`` does.
JITTERS: tuple[float, ...] = (1e-10, 1e-8, 1e-6)

_STATIONARY = (RBFKernel, MaternKernel)


def _supported_kernel(kernel: Kernel) -> bool:
    if isinstance(kernel, ScaleKernel):
        kernel = kernel.base_kernel
    return isinstance(kernel, _STATIONARY) and kernel.active_dims is None


def supports(model: Model) -> bool:
    """Whether :class:`CachedGP` reproduces this model's posterior."""
    if type(model) is not SingleTaskGP:  # a subclass (MixedSingleTaskGP) has its own kernel
        return False
    inputs = model.train_inputs[0] if model.train_inputs else None
    outcome = getattr(model, "outcome_transform", None)
    normalize = getattr(model, "input_transform", None)
    return (inputs is not None and inputs.dim() == 2 and model.num_outputs == 1
            and _supported_kernel(model.covar_module)
            and isinstance(model.likelihood, GaussianLikelihood | FixedNoiseGaussianLikelihood)
            and (outcome is None or isinstance(outcome, Standardize))
            and (normalize is None or (type(normalize) is Normalize
                                       and getattr(normalize, "indices", None) is None)))


def safe_cholesky(A: Tensor) -> Tensor:
    """The Cholesky factor of each matrix of ``A``, with jitter added only where needed."""
    L, info = torch.linalg.cholesky_ex(A)
    if not bool((info > 0).any()):
        return L
    scale = A.diagonal(dim1=-2, dim2=-1).mean(-1).abs().clamp_min(1e-30)
    eye = torch.eye(A.shape[-1], dtype=A.dtype, device=A.device)
    for jitter in JITTERS:
        L, info = torch.linalg.cholesky_ex(A + (jitter * scale)[..., None, None] * eye)
        if not bool((info > 0).any()):
            return L
    raise torch.linalg.LinAlgError(
        f"posterior covariance not positive definite even with jitter {JITTERS[-1]:g}")


class CachedGP:
    r"""One fitted ``SingleTaskGP``'s exact posterior with its training factors cached.

    Args:
        model: A fitted ``SingleTaskGP`` in eval mode (see :func:`supports`).
    """

    def __init__(self, model: SingleTaskGP) -> None:
        if not supports(model):
            raise ValueError(f"no cached posterior for {type(model).__name__}")
        self.model = model
        with torch.no_grad():
            X = model.train_inputs[0]  # normalised already: the model is in eval mode
            y = model.train_targets
            self.train_X = X
            K = self._kernel(X, X) + torch.diag_embed(self._train_noise(y))
            self.L = safe_cholesky(K)
            residual = (y - model.mean_module(X)).unsqueeze(-1)
            self.alpha = torch.cholesky_solve(residual, self.L).squeeze(-1)
        transform = getattr(model, "outcome_transform", None)
        if isinstance(transform, Standardize):
            self.y_mean = transform.means.reshape(())
            self.y_sd = transform.stdvs.reshape(())
        else:
            self.y_mean = torch.zeros((), dtype=X.dtype)
            self.y_sd = torch.ones((), dtype=X.dtype)

    def _train_noise(self, y: Tensor) -> Tensor:
        noise = self.model.likelihood.noise
        return noise.reshape(-1).expand_as(y) if noise.numel() == 1 else noise.reshape(-1)

    def mean_and_covariance(self, X: Tensor) -> tuple[Tensor, Tensor]:
        r"""Latent posterior mean `batch x t` and covariance `batch x t x t` at raw features.

        Args:
            X: `batch_shape x t x d` features (the model's raw inputs).
        """
        Xn = self._normalise(X)
        K_star = self._kernel(Xn, self.train_X)  # batch x t x n
        mean = self.model.mean_module(Xn) + K_star @ self.alpha
        V = torch.linalg.solve_triangular(self.L, K_star.transpose(-1, -2), upper=False)
        covariance = self._kernel(Xn, Xn) - V.transpose(-1, -2) @ V
        return mean * self.y_sd + self.y_mean, covariance * self.y_sd**2

    def _normalise(self, X: Tensor) -> Tensor:
        transform = getattr(self.model, "input_transform", None)
        if transform is None:
            return X
        return (X - transform.offset) / transform.coefficient

    def normalisation(self) -> tuple[Tensor, Tensor]:
        """``(offset, coefficient)`` of the model's input normalisation (``(0, 1)`` without
        one), each broadcastable to `d`."""
        transform = getattr(self.model, "input_transform", None)
        if transform is None:
            one = torch.ones((), dtype=self.train_X.dtype)
            return torch.zeros((), dtype=self.train_X.dtype), one
        return transform.offset.reshape(-1), transform.coefficient.reshape(-1)

    def _kernel(self, A: Tensor, B: Tensor) -> Tensor:
        return stationary_covariance(self.model.covar_module, A, B)


def stationary_covariance(covar_module: Kernel, A: Tensor, B: Tensor) -> Tensor:
    """The covariance ``k(A, B)`` of a :func:`supports`-ed kernel at normalised inputs: an
    RBF kernel directly (the default GP's, a handful of tensor operations, differentiable in
    its hyperparameters), any other stationary kernel through its ``forward``."""
    kernel, scale = covar_module, None
    if isinstance(kernel, ScaleKernel):
        kernel, scale = kernel.base_kernel, kernel.outputscale
    if isinstance(kernel, RBFKernel):
        a, b = A / kernel.lengthscale, B / kernel.lengthscale
        K = scaled_rbf(a, b, a.pow(2).sum(-1, keepdim=True), b.pow(2).sum(-1).unsqueeze(-2))
    else:
        K = kernel.forward(A, B)
    return K if scale is None else scale.unsqueeze(-1).unsqueeze(-1) * K


def scaled_rbf(a: Tensor, b: Tensor, a_square: Tensor, b_square: Tensor) -> Tensor:
    r"""``exp(-|a_i - b_j|^2 / 2)`` for inputs already divided by the lengthscales, from their
    squared norms (``... x t x 1`` and ``... x 1 x n``, passed in so a caller can cache the
    training side's); rounding below zero is clamped."""
    squared = (a_square - 2.0 * a @ b.transpose(-1, -2) + b_square).clamp_min(0.0)
    return torch.exp(-0.5 * squared)


class IndependentNormalPosterior(Posterior):
    r"""``m`` independent outputs, each jointly Gaussian over the ``t`` points.

    Args:
        mean: `batch_shape x t x m` means.
        scale_tril: `batch_shape x m x t x t` Cholesky factors of each output's covariance.
    """

    def __init__(self, mean: Tensor, scale_tril: Tensor) -> None:
        self._mean = mean
        self.scale_tril = scale_tril

    @property
    def mean(self) -> Tensor:
        return self._mean

    @property
    def variance(self) -> Tensor:
        return self.scale_tril.pow(2).sum(-1).transpose(-1, -2)

    @property
    def device(self) -> torch.device:
        return self._mean.device

    @property
    def dtype(self) -> torch.dtype:
        return self._mean.dtype

    @property
    def batch_shape(self) -> torch.Size:
        return self._mean.shape[:-2]

    @property
    def base_sample_shape(self) -> torch.Size:
        return self._mean.shape

    @property
    def batch_range(self) -> tuple[int, int]:
        return (0, -2)

    def _extended_shape(self, sample_shape: torch.Size = torch.Size()) -> torch.Size:  # noqa: B008
        return sample_shape + self._mean.shape

    def rsample_from_base_samples(self, sample_shape: torch.Size,
                                  base_samples: Tensor) -> Tensor:
        r"""``mean + L z`` per output, `sample_shape x batch_shape x t x m`.

        BoTorch's samplers hand every batch member the same base samples (an expanded view):
        those are multiplied once per output, as one `t x t` by `t x samples` product per
        batch member, instead of one matrix-vector product per sample, batch member and
        output (the broadcast copies the factors once per sample).
        """
        batch = self._mean.shape[:-2]
        shared = base_samples[(slice(None),) * len(sample_shape) + (slice(0, 1),) * len(batch)]
        if len(batch) and shared.expand(base_samples.shape).stride() == base_samples.stride():
            t, m = base_samples.shape[-2:]
            z = shared.reshape(-1, t, m).permute(2, 1, 0)  # m x t x samples
            product = self.scale_tril @ z  # batch x m x t x samples
            dims = len(batch)
            samples = product.permute(dims + 2, *range(dims), dims + 1, dims)
            return samples.reshape(*sample_shape, *samples.shape[1:]) + self._mean
        z = base_samples.transpose(-1, -2).unsqueeze(-1)  # ... x m x t x 1
        return (self.scale_tril @ z).squeeze(-1).transpose(-1, -2) + self._mean

    def rsample(self, sample_shape: torch.Size | None = None) -> Tensor:
        shape = torch.Size([1]) if sample_shape is None else sample_shape
        base = torch.randn(shape + self.base_sample_shape, dtype=self.dtype,
                           device=self.device)
        return self.rsample_from_base_samples(shape, base)


@GetSampler.register(IndependentNormalPosterior)
def _sampler(posterior: IndependentNormalPosterior, sample_shape: torch.Size, *,
             seed: int | None = None) -> MCSampler:
    """BoTorch's choice for a Gaussian posterior (``get_sampler``, e.g. when pruning the
    baseline): scrambled Sobol normals, i.i.d. ones past Sobol's dimension limit."""
    sampler = SobolQMCNormalSampler(sample_shape=sample_shape, seed=seed)
    collapsed = sampler._get_collapsed_shape(posterior=posterior)[len(sample_shape):]
    if collapsed.numel() > SobolEngine.MAXDIM:
        return IIDNormalSampler(sample_shape=sample_shape, seed=seed)
    return sampler


class StackedRBF:
    r"""Several :class:`CachedGP` s of RBF kernels on the same training designs, evaluated
    together: every factor gets a leading output dimension `m`. :meth:`latent` includes every
    prior mean: the constants from the stack, any other by its module (:meth:`varying_mean`).

    Use :meth:`build`, which returns ``None`` when the members cannot be stacked.
    """

    def __init__(self, members: Sequence[CachedGP]) -> None:
        first = members[0]
        self.offset, self.coefficient = first.normalisation()
        inverse = []
        scales = []
        for member in members:
            kernel, scale = member.model.covar_module, None
            if isinstance(kernel, ScaleKernel):
                kernel, scale = kernel.base_kernel, kernel.outputscale
            inverse.append(1.0 / kernel.lengthscale.detach().reshape(-1))
            scales.append(torch.ones((), dtype=first.train_X.dtype) if scale is None
                          else scale.detach().reshape(()))
        with torch.no_grad():
            self.inverse_lengthscale = torch.stack(inverse)[:, None, :]  # m x 1 x d
            self.train = first.train_X.unsqueeze(0) * self.inverse_lengthscale  # m x n x d
            self.train_square = self.train.pow(2).sum(-1).unsqueeze(-2)  # m x 1 x n
            self.outputscale = torch.stack(scales)[:, None, None]  # m x 1 x 1
            self.L = torch.stack([m.L for m in members])  # m x n x n
            self.alpha = torch.stack([m.alpha for m in members]).unsqueeze(-1)  # m x n x 1
            self.constant = torch.stack([
                m.model.mean_module.constant.detach().reshape(())
                if type(m.model.mean_module) is ConstantMean
                else torch.zeros((), dtype=first.train_X.dtype) for m in members])[:, None]
            self.y_mean = torch.stack([m.y_mean for m in members])[:, None]  # m x 1
            self.y_sd = torch.stack([m.y_sd for m in members])[:, None]  # m x 1
        # Other prior means (a Hill curve in a dose, say) are evaluated by their modules.
        self.mean_modules = [(j, m.model.mean_module) for j, m in enumerate(members)
                             if type(m.model.mean_module) is not ConstantMean]

    @classmethod
    def build(cls, members: Sequence[CachedGP], minimum: int = 2) -> StackedRBF | None:
        """The stack, or ``None`` unless there are at least ``minimum`` members (a stack of
        one pays off only where its other uses do: :mod:`models.bo.baseline_block`), each
        with an RBF kernel (scaled or not), on equal training designs and equal input
        normalisations."""
        if len(members) < max(minimum, 1):
            return None
        first = members[0]
        offset, coefficient = first.normalisation()
        for member in members:
            kernel = member.model.covar_module
            if isinstance(kernel, ScaleKernel):
                kernel = kernel.base_kernel
            if not isinstance(kernel, RBFKernel):
                return None
            other_offset, other_coefficient = member.normalisation()
            if member.train_X.shape != first.train_X.shape \
                    or not torch.equal(member.train_X, first.train_X) \
                    or other_offset.shape != offset.shape \
                    or not torch.equal(other_offset, offset) \
                    or not torch.equal(other_coefficient, coefficient):
                return None
        return cls(members)

    def features(self, X: Tensor) -> tuple[Tensor, Tensor]:
        r"""`batch_shape x t x d` raw features, normalised and divided by each output's
        lengthscales (`... x m x t x d`), and their squared norms (`... x m x t x 1`)."""
        a = ((X - self.offset) / self.coefficient).unsqueeze(-3) * self.inverse_lengthscale
        return a, a.pow(2).sum(-1, keepdim=True)

    def prior_covariance(self, a: Tensor, a_square: Tensor, b: Tensor,
                         b_square: Tensor) -> Tensor:
        """The kernel between two sets of :meth:`features` (`... x m x t x s`)."""
        return self.outputscale * scaled_rbf(a, b, a_square, b_square.transpose(-1, -2))

    def latent(self, X: Tensor, a: Tensor, a_square: Tensor) -> tuple[Tensor, Tensor]:
        r"""The standardised latent mean (`... x m x t`, every prior mean included) and
        ``V = L^{-1} K_{X*}`` (`... x m x n x t`) at raw features ``X`` and their
        :meth:`features` ``a, a_square``: what every posterior quantity is built on."""
        K_star = self.outputscale * scaled_rbf(a, self.train, a_square,
                                               self.train_square)  # ... x m x t x n
        mean = (K_star @ self.alpha).squeeze(-1) + self.constant  # ... x m x t
        varying = self.varying_mean(X)
        if varying is not None:
            mean = mean + varying
        V = torch.linalg.solve_triangular(self.L, K_star.transpose(-1, -2), upper=False)
        return mean, V

    def varying_mean(self, X: Tensor) -> Tensor | None:
        r"""The prior means that are not constants, at `batch_shape x t x d` raw features
        (`... x m x t`, zero for the outputs with a constant mean, which :meth:`latent`
        adds itself); ``None`` when every prior mean is a constant. Differentiable (the mean
        modules' own forward)."""
        if not self.mean_modules:
            return None
        normalised = (X - self.offset) / self.coefficient
        columns: list[Tensor] = [torch.zeros_like(X[..., 0])] * self.L.shape[0]
        for j, module in self.mean_modules:
            columns[j] = module(normalised)
        return torch.stack(columns, dim=-2)

    def posterior(self, X: Tensor) -> IndependentNormalPosterior:
        r"""Every output's latent posterior at `batch_shape x t x d` raw features."""
        a, a_square = self.features(X)
        mean, V = self.latent(X, a, a_square)
        covariance = self.prior_covariance(a, a_square, a, a_square) \
            - V.transpose(-1, -2) @ V
        mean = mean * self.y_sd + self.y_mean
        covariance = covariance * (self.y_sd * self.y_sd).unsqueeze(-1)
        return IndependentNormalPosterior(mean.transpose(-1, -2), safe_cholesky(covariance))


class CachedModelList(Model):
    r"""A ``ModelListGP`` of supported GPs whose posterior comes from :class:`CachedGP`.

    Calls this class cannot answer exactly the same way (observation noise, a posterior
    transform) go to the original model list.

    Args:
        models: The fitted model list, eval mode.
    """

    def __init__(self, models: ModelListGP) -> None:
        super().__init__()
        self.original = models
        self.members = [CachedGP(m) for m in models.models]  # type: ignore[arg-type]
        self.stacked = StackedRBF.build(self.members)

    @property
    def num_outputs(self) -> int:
        return len(self.members)

    @property
    def batch_shape(self) -> torch.Size:
        return torch.Size()

    def posterior(self, X: Tensor, output_indices: Sequence[int] | None = None,
                  observation_noise: bool | Tensor = False,
                  posterior_transform: Any = None, **kwargs: Any) -> Posterior:
        r"""The joint posterior at `batch_shape x t x d` features (latent, noise excluded)."""
        if observation_noise is not False or posterior_transform is not None or kwargs:
            wanted = None if output_indices is None else list(output_indices)
            return self.original.posterior(X, output_indices=wanted,
                                           observation_noise=observation_noise,
                                           posterior_transform=posterior_transform, **kwargs)
        if output_indices is None and self.stacked is not None:
            return self.stacked.posterior(X)
        indices = range(self.num_outputs) if output_indices is None else output_indices
        means, factors = [], []
        for i in indices:
            mean, covariance = self.members[i].mean_and_covariance(X)
            means.append(mean)
            factors.append(safe_cholesky(covariance))
        return IndependentNormalPosterior(torch.stack(means, dim=-1),
                                          torch.stack(factors, dim=-3))

    def condition_on_observations(self, X: Tensor, Y: Tensor, **kwargs: Any) -> Model:
        raise NotImplementedError("condition the original model list instead")


def cached_model_list(models: ModelListGP) -> Model:
    """The model list with cached posteriors, or the list itself when a member is not
    supported (see :func:`supports`)."""
    if all(isinstance(m, Model) and supports(m) for m in models.models):
        return CachedModelList(models)
    return models
