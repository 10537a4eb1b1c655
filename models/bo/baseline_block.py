r"""qLogNEI's joint samples with the baseline's block factored once per acquisition.

qLogNEI samples the GP jointly at the baseline :math:`B` (observed and pending designs) and the
candidates :math:`X`: :math:`f = \mu + \mathcal{L} z` with :math:`\mathcal{L}` the Cholesky
factor of the joint posterior covariance and :math:`z` the sampler's fixed base samples. The
factor of :math:`[B; X]` is block lower-triangular,

.. math::

    \mathcal{L} = \begin{pmatrix} L_{BB} & 0 \\ C^\top & L_{XX} \end{pmatrix},\quad
    L_{BB} L_{BB}^\top = \Sigma_{BB},\quad C = L_{BB}^{-1} \Sigma_{BX},\quad
    L_{XX} L_{XX}^\top = \Sigma_{XX} - C^\top C,

and the baseline's block does not depend on the candidates. So :class:`BaselineBlock`
factors :math:`\Sigma_{BB}` once, and the baseline's samples
:math:`f_B = \mu_B + L_{BB} z_B`, hence qLogNEI's incumbent per sample, are fixed for the
whole optimisation. Per evaluation only the candidates' rows are computed,
:math:`f_X = \mu_X + C^\top z_B + L_{XX} z_X`: a `q x q` factorisation (a square root for
one candidate) instead of an :math:`(n_B + q)`-square one, and no incumbent. The Cholesky
factor is unique, so these are the joint samples the full factorisation gives, to round-off
(BoTorch's ``cache_root`` does the same for GPyTorch models; the difference is only where
the full factorisation needed jitter: a candidate on top of a noise-free baseline design).

Measured: see :mod:`models.bo.fused_log_nei`, which uses it for models stacked by
:class:`~models.bo.cached_posterior.StackedRBF`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from models.bo.cached_posterior import StackedRBF, safe_cholesky, scaled_rbf

__all__ = ["BaselineBlock", "SingleCandidateState", "single_candidate_gradient",
           "single_candidate_samples"]

#: Floor of a single candidate's conditional variance, relative to the prior variance: where
#: the candidate sits on a noise-free baseline design the Schur complement rounds to zero or
#: below, and the full factorisation would have needed jitter of this order.
VARIANCE_FLOOR = 1e-10


class BaselineBlock:
    r"""A :class:`StackedRBF`'s joint posterior at ``[baseline; X]``, baseline block cached.

    Args:
        stacked: The outputs' stacked posterior.
        baseline: `n_B x d` raw features of the baseline designs.
    """

    def __init__(self, stacked: StackedRBF, baseline: Tensor) -> None:
        self.stacked = stacked
        self.baseline = baseline
        with torch.no_grad():
            self.a, self.a_square = stacked.features(baseline)  # m x n_B x d, m x n_B x 1
            # Standardised latent means and V: m x n_B, m x n x n_B.
            self.mean, self.V = stacked.latent(baseline, self.a, self.a_square)
            covariance = stacked.prior_covariance(self.a, self.a_square, self.a,
                                                  self.a_square) \
                - self.V.transpose(-1, -2) @ self.V
            self.L = safe_cholesky(covariance)  # m x n_B x n_B
            self._one_candidate_factors()

    def _one_candidate_factors(self) -> None:
        r"""What one candidate's samples need, joined: the training and baseline designs'
        features side by side, and the lower-triangular
        :math:`M = \begin{pmatrix} L & 0 \\ V_B^\top & L_{BB} \end{pmatrix}`, so that one
        solve :math:`M w = (k_{train}; k_B)` gives :math:`w = (V; C)` (the second block row
        is :math:`L_{BB}^{-1}(k_B - V_B^\top V)`, the definition of :math:`C`)."""
        stacked = self.stacked
        m, n_train, n_baseline = stacked.L.shape[0], stacked.L.shape[-1], self.size
        self.points = torch.cat([stacked.train, self.a], dim=-2)  # m x (n + n_B) x d
        self.points_square = torch.cat([stacked.train_square,
                                        self.a_square.transpose(-1, -2)], dim=-1)
        M = torch.zeros(m, n_train + n_baseline, n_train + n_baseline, dtype=self.L.dtype)
        M[:, :n_train, :n_train] = stacked.L
        M[:, n_train:, :n_train] = self.V.transpose(-1, -2)
        M[:, n_train:, n_train:] = self.L
        self.M = M
        self.weights = torch.cat([stacked.alpha, torch.zeros(m, n_baseline, 1,
                                                             dtype=self.L.dtype)], dim=-2)
        self.floor = VARIANCE_FLOOR * stacked.outputscale  # m x 1 x 1

    @property
    def size(self) -> int:
        """:math:`n_B`, the number of baseline designs."""
        return self.baseline.shape[-2]

    def baseline_samples(self, z: Tensor) -> Tensor:
        r"""Samples at the baseline, `samples x n_B x m`, from base samples ``z`` of shape
        `samples x n_B x m`."""
        latent = self.mean.unsqueeze(-1) + self.L @ z.permute(2, 1, 0)  # m x n_B x samples
        return self._outcome_units(latent).permute(2, 1, 0)

    def candidate_samples(self, X: Tensor, z: Tensor) -> Tensor:
        r"""Samples at the candidates, jointly with the baseline's.

        Args:
            X: `batch_shape x q x d` raw candidate features.
            z: `samples x (n_B + q) x m` base samples, the baseline's first (the joint
                posterior's order).

        Returns:
            `samples x batch_shape x q x m`.
        """
        if X.shape[-2] == 1:
            varying = self.stacked.varying_mean(X)
            return _SingleCandidateSamples.apply(X, self, z, varying)
        return self._autograd_samples(X, z)

    def _autograd_samples(self, X: Tensor, z: Tensor) -> Tensor:
        """:meth:`candidate_samples` in torch operations (any ``q``; autograd's gradient)."""
        q = X.shape[-2]
        a, a_square = self.stacked.features(X)  # ... x m x q x d
        mean, V = self.stacked.latent(X, a, a_square)  # ... x m x q, ... x m x n x q
        cross = self.stacked.prior_covariance(self.a, self.a_square, a, a_square) \
            - self.V.transpose(-1, -2) @ V  # ... x m x n_B x q
        C = torch.linalg.solve_triangular(self.L, cross, upper=False)
        schur = self.stacked.prior_covariance(a, a_square, a, a_square) \
            - V.transpose(-1, -2) @ V - C.transpose(-1, -2) @ C  # ... x m x q x q
        if q == 1:
            own = schur.clamp_min(self.floor).sqrt()
        else:
            own = safe_cholesky(schur)
        rows = torch.cat([C.transpose(-1, -2), own], dim=-1)  # ... x m x q x (n_B + q)
        latent = mean.unsqueeze(-1) + rows @ z.permute(2, 1, 0)  # ... x m x q x samples
        return _sample_major(self._outcome_units(latent))

    def _outcome_units(self, latent: Tensor) -> Tensor:
        """Standardised `... x m x t x samples` values in the outcomes' units."""
        return latent * self.stacked.y_sd.unsqueeze(-1) + self.stacked.y_mean.unsqueeze(-1)


def _sample_major(values: Tensor) -> Tensor:
    """`... x m x q x samples` -> `samples x ... x q x m`."""
    dims = values.dim()
    return values.permute(dims - 1, *range(dims - 3), dims - 2, dims - 3)


@dataclass
class SingleCandidateState:
    """What the closed-form gradient of one candidate's samples needs from the forward."""

    z: Tensor
    a: Tensor
    k: Tensor
    w: Tensor
    sigma: Tensor
    inside: Tensor


def single_candidate_samples(block: BaselineBlock, X: Tensor, z: Tensor,
                             varying: Tensor | None = None
                             ) -> tuple[Tensor, SingleCandidateState]:
    r""":meth:`BaselineBlock.candidate_samples` for one candidate per batch member
    (`batch_shape x 1 x d`), with what :func:`single_candidate_gradient` needs; ``varying``
    is :meth:`StackedRBF.varying_mean` at ``X`` where a prior mean is not a constant (its
    gradient is the second result of :func:`single_candidate_gradient`, for autograd to take
    through the mean's module).

    Why a closed form: an acquisition evaluation is a few hundred tiny tensor operations,
    and autograd's backward over the samples cost more than their forward (on the
    nanoparticle lab 1.66 ms forward and backward against 0.95 ms for the whole value
    without gradient). With :math:`k = (k_{train}; k_B)` the candidate's kernel column
    against the training and baseline designs, :math:`w = M^{-1} k = (V; C)` (see
    :meth:`BaselineBlock._one_candidate_factors`), the samples are
    :math:`\mu + C^\top z_B + \sigma z_X` with :math:`\mu = c + k_{train}^\top \alpha`
    and :math:`\sigma^2 = s - |w|^2`, and their gradient is a handful of products (per
    output, :math:`G_s` the incoming gradient of sample :math:`s`, all times the outcome's
    standard deviation):

    .. math::

        g_\mu = \textstyle\sum_s G_s,\quad
        g_{\sigma^2} = \frac{\sum_s G_s z_{X,s}}{2\sigma},\quad
        g_w = (0; Z_B^\top G) - 2 g_{\sigma^2} w,\quad
        g_k = M^{-\top} g_w + (\alpha; 0)\, g_\mu,

    then through the RBF kernel, :math:`\partial k(a, b) / \partial a = k(a, b)\,(b - a)`
    in lengthscale units. The tests hold it to autograd's gradient of
    :meth:`BaselineBlock._autograd_samples` and to central differences.
    """
    stacked = block.stacked
    a, a_square = stacked.features(X)  # ... x m x 1 x d
    k = stacked.outputscale * scaled_rbf(a, block.points, a_square,
                                         block.points_square)  # ... x m x 1 x (n + n_B)
    mean = k @ block.weights + stacked.constant.unsqueeze(-1)  # ... x m x 1 x 1
    if varying is not None:
        mean = mean + varying.unsqueeze(-1)
    w = torch.linalg.solve_triangular(block.M, k.transpose(-1, -2), upper=False)
    schur = stacked.outputscale - w.pow(2).sum(-2, keepdim=True)  # ... x m x 1 x 1
    sigma = torch.maximum(schur, block.floor).sqrt()
    n_train = stacked.L.shape[-1]
    rows = torch.cat([w[..., n_train:, :].transpose(-1, -2), sigma], dim=-1)
    latent = mean + rows @ z.permute(2, 1, 0)  # ... x m x 1 x samples
    state = SingleCandidateState(z, a, k, w, sigma, schur > block.floor)
    return _sample_major(block._outcome_units(latent)), state


def single_candidate_gradient(block: BaselineBlock, state: SingleCandidateState,
                              grad: Tensor) -> tuple[Tensor, Tensor]:
    """The gradients w.r.t. the candidates (`batch_shape x 1 x d`) and w.r.t. a varying
    prior mean (`batch_shape x m x 1`) of ``(grad * samples).sum()``, for the samples of
    :func:`single_candidate_samples` and ``grad`` of their shape."""
    stacked, s = block.stacked, state
    dims = grad.dim()  # samples x ... x 1 x m -> ... x m x 1 x samples
    G = grad.permute(*range(1, dims - 2), dims - 1, dims - 2, 0) * stacked.y_sd.unsqueeze(-1)
    n_train = stacked.L.shape[-1]
    projected = G @ s.z.permute(2, 0, 1)  # (... x m x 1 x S) @ (m x S x (n_B + 1))
    g_variance = torch.where(s.inside, projected[..., -1:] / (2.0 * s.sigma), 0.0)
    g_w = torch.nn.functional.pad(projected[..., :-1].transpose(-1, -2), (0, 0, n_train, 0)) \
        - 2.0 * g_variance * s.w  # ... x m x (n + n_B) x 1
    g_mean = G.sum(-1, keepdim=True)  # ... x m x 1 x 1
    g_k = torch.linalg.solve_triangular(block.M.transpose(-1, -2), g_w, upper=True) \
        + block.weights * g_mean
    # d k(a, b) / d a = k(a, b) (b - a), lengthscale units.
    weighted = s.k * g_k.transpose(-1, -2)  # ... x m x 1 x (n + n_B)
    g_a = weighted @ block.points - weighted.sum(-1, keepdim=True) * s.a
    return (g_a * stacked.inverse_lengthscale).sum(-3) / stacked.coefficient, g_mean[..., 0]


class _SingleCandidateSamples(torch.autograd.Function):
    """:func:`single_candidate_samples` with :func:`single_candidate_gradient` as its
    backward."""

    @staticmethod
    def forward(ctx: Any, X: Tensor, block: BaselineBlock, z: Tensor,
                varying: Tensor | None) -> Tensor:
        samples, ctx.state = single_candidate_samples(block, X, z, varying)
        ctx.block = block
        return samples

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None, Tensor | None]:
        g_X, g_varying = single_candidate_gradient(ctx.block, ctx.state, grad)
        return g_X, None, None, g_varying if ctx.needs_input_grad[3] else None
