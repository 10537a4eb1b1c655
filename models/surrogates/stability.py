r"""The curvature of a training loss, and the step size that is stable for it.

Gradient descent :math:`\theta_{k+1} = \theta_k - \eta \nabla L(\theta_k)` on the quadratic
model :math:`L \approx \tfrac12 \delta^\top H \delta` of the loss near :math:`\theta_k`
multiplies the error along an eigenvector of :math:`H` with eigenvalue :math:`\lambda` by
:math:`1 - \eta\lambda`, so it is stable (no direction grows) iff
:math:`0 < \eta < 2 / \lambda_\max`. Heavy-ball momentum
:math:`v_{k+1} = \beta v_k - \eta \nabla L`, :math:`\theta_{k+1} = \theta_k + v_{k+1}` with
:math:`0 \le \beta < 1` has the wider region :math:`0 < \eta < 2 (1 + \beta) / \lambda_\max`
(Polyak 1964; the characteristic roots of :math:`z^2 - (1 + \beta - \eta\lambda) z + \beta`
lie in the unit disc iff :math:`0 < \eta\lambda < 2(1 + \beta)`), so a rate below
:math:`2 / \lambda_\max` is stable for both.

:math:`\lambda_\max` is never formed from the Hessian: :func:`largest_hessian_eigenvalue` runs
the Lanczos iteration (:func:`lanczos`) on Hessian-vector products
:math:`Hv = \nabla_\theta (\nabla_\theta L \cdot v)` (double backward through autograd, one
gradient graph reused for every product): after :math:`k` products the largest eigenvalue of
the :math:`k \times k` tridiagonal projection (the largest Ritz value) estimates
:math:`\lambda_\max`.

Why Lanczos and not power iteration. Away from a minimum the Hessian of a network's loss is
indefinite. Power iteration converges to the eigenvalue of largest *magnitude*; when that one
is negative (:math:`\mu`), a second pass on :math:`H - \mu I` converges at the rate
:math:`(\lambda_2 - \mu)/(\lambda_\max - \mu)`, close to 1 when :math:`|\mu|` dwarfs
:math:`\lambda_\max`, and its relative stopping test then fires near :math:`\mu`: a Sobolev
loss fitted to steep simulator gradients gave :math:`\mu \approx -240` beside
:math:`\lambda_\max \approx 30`, an "estimate" of 0.13, a step 200 times too long and a
training that diverged whatever the retries (kept as a test). Lanczos finds the largest
*algebraic* eigenvalue directly, whatever the sign of the others, and its Ritz value
converges to an extreme eigenvalue in far fewer products. (:func:`power_iteration` stays, for
an operator without that structure.)

A Ritz value, like any Rayleigh quotient, is at most :math:`\lambda_\max`, so an unconverged
estimate is *low*: callers take a safety fraction of :math:`2/\hat\lambda` and re-estimate as
training moves.

Parameters may come as *blocks*: every tensor carries the same leading ``block_shape`` (the
members of an ensemble), the loss is a sum of independent per-block losses, its Hessian is
block diagonal, and one iteration (power or Lanczos) gives every block's own
:math:`\lambda_\max`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = [
    "EigenEstimate",
    "hessian_vector_product",
    "lanczos",
    "largest_hessian_eigenvalue",
    "power_iteration",
    "stable_learning_rate",
]

Vector = list[Tensor]
MatVec = Callable[[Vector], Vector]


@dataclass(frozen=True)
class EigenEstimate:
    r"""An estimate of the largest (algebraic) eigenvalue of a symmetric operator.

    Attributes:
        value: :math:`\hat\lambda_\max`, shape `block_shape` (a 0-d tensor without blocks).
        vector: Its unit eigenvector estimate (per block), shaped like the parameters.
        iterations: Operator applications used (both passes of power iteration).
        converged: Whether the estimate settled to ``rtol`` in every block.
        shifted: Power iteration only: whether a shifted second pass was needed (a negative
            dominant eigenvalue). Always ``False`` for :func:`lanczos`.
    """

    value: Tensor
    vector: Vector
    iterations: int
    converged: bool
    shifted: bool


def _dot(a: Vector, b: Vector, block_dims: int) -> Tensor:
    """Per-block inner product, shape `block_shape`."""
    total = None
    for x, y in zip(a, b, strict=True):
        term = (x * y).flatten(start_dim=block_dims).sum(-1)
        total = term if total is None else total + term
    assert total is not None
    return total


def _scale(v: Vector, s: Tensor, block_dims: int) -> Vector:
    """Each block of ``v`` times its scalar ``s`` (shape `block_shape`)."""
    return [t * s.reshape(*s.shape, *([1] * (t.dim() - block_dims))) for t in v]


def _normalise(v: Vector, block_dims: int) -> Vector:
    norm = _dot(v, v, block_dims).sqrt()
    tiny = torch.finfo(norm.dtype).tiny
    return _scale(v, 1.0 / norm.clamp(min=tiny), block_dims)


def power_iteration(matvec: MatVec, start: Vector, *, block_dims: int = 0,
                    iterations: int = 100, rtol: float = 1e-4,
                    generator: torch.Generator | None = None) -> EigenEstimate:
    r"""Largest algebraic eigenvalue of a symmetric operator by (shifted) power iteration.

    Args:
        matvec: :math:`v \mapsto Av`, block diagonal over the leading ``block_dims`` dims.
        start: A start vector (list of tensors); random, or the previous estimate's vector.
        block_dims: How many leading dims index independent blocks (0: one operator).
        iterations: Cap on operator applications per pass.
        rtol: Stop when every block's Rayleigh quotient changes by less than ``rtol`` times
            its magnitude between iterations.
        generator: Random source of the shifted pass's start vector (a fixed seed if None).

    Returns:
        The :class:`EigenEstimate`.

    Example:
        >>> a = torch.diag(torch.tensor([3.0, 1.0, -0.5], dtype=torch.float64))
        >>> est = power_iteration(lambda v: [a @ v[0]], [torch.ones(3, dtype=torch.float64)],
        ...                       rtol=1e-12)
        >>> round(float(est.value), 6)
        3.0
    """
    value, vector, used, converged = _power(matvec, start, block_dims, iterations, rtol, None)
    if not bool((value < 0).any()):
        return EigenEstimate(value, vector, used, converged, False)
    # Dominant eigenvalue negative in some block: iterate on A - mu I (mu = min(value, 0)),
    # from a random vector. A structured one (e.g. constant plus the previous eigenvector)
    # can be nearly orthogonal to the top eigenvector of a network's loss, or close to the
    # negative one; the pass then "converges" near mu and the step size built on it blows up
    # (seen with gradient-target losses, whose Hessians are strongly indefinite).
    shift = value.clamp(max=0.0)
    source = generator if generator is not None else torch.Generator().manual_seed(0)
    fresh = [torch.randn(t.shape, generator=source, dtype=t.dtype).to(t.device) for t in start]
    shifted_value, vector, more, converged = _power(matvec, fresh, block_dims, iterations, rtol,
                                                    shift)
    return EigenEstimate(shifted_value + shift, vector, used + more, converged, True)


def _power(matvec: MatVec, start: Vector, block_dims: int, iterations: int, rtol: float,
           shift: Tensor | None) -> tuple[Tensor, Vector, int, bool]:
    v = _normalise([t.detach() for t in start], block_dims)
    previous: Tensor | None = None
    value = torch.zeros(())
    for used in range(1, iterations + 1):
        av = [t.detach() for t in matvec(v)]
        if shift is not None:
            av = [a - s for a, s in zip(av, _scale(v, shift, block_dims), strict=True)]
        value = _dot(v, av, block_dims)  # Rayleigh quotient (v has unit norm)
        v = _normalise(av, block_dims)
        if previous is not None:
            change = (value - previous).abs()
            if bool((change <= rtol * value.abs().clamp(min=1e-30)).all()):
                return value, v, used, True
        previous = value
    return value, v, iterations, False


def hessian_vector_product(loss: Tensor, params: Sequence[Tensor]) -> MatVec:
    r""":math:`v \mapsto \nabla^2 L\, v` for a loss already computed from ``params``.

    The gradient graph is built once (``create_graph=True``) and reused by every product.

    Args:
        loss: A scalar computed from ``params`` (which require grad).
        params: The parameters.

    Returns:
        The product function (its outputs are detached).
    """
    grads = torch.autograd.grad(loss, list(params), create_graph=True)

    def hvp(v: Vector) -> Vector:
        out = torch.autograd.grad(grads, list(params), grad_outputs=v, retain_graph=True,
                                  allow_unused=True)
        return [torch.zeros_like(p) if o is None else o.detach()
                for p, o in zip(params, out, strict=True)]

    return hvp


def largest_hessian_eigenvalue(loss_fn: Callable[[Sequence[Tensor]], Tensor],
                               params: Sequence[Tensor], *, block_dims: int = 0,
                               start: Vector | None = None, iterations: int = 50,
                               rtol: float = 1e-3,
                               generator: torch.Generator | None = None) -> EigenEstimate:
    r""":math:`\lambda_\max` of the Hessian of ``loss_fn`` at ``params``, per block (Lanczos).

    Args:
        loss_fn: ``loss_fn(params) -> scalar``: the sum of the blocks' losses when
            ``block_dims > 0``.
        params: Current parameter values (not modified; need not require grad).
        block_dims: Leading dims of every parameter that index independent blocks.
        start: Start vector (e.g. the previous estimate's, to warm-start); random if None.
        iterations: Cap on Hessian-vector products per pass.
        rtol: Relative tolerance on the Rayleigh quotient.
        generator: Random source for the start vector.

    Returns:
        The :class:`EigenEstimate` of :func:`lanczos`; ``value`` has shape `block_shape`.

    Example:
        >>> a = torch.tensor([[2.0, 1.0], [1.0, 2.0]], dtype=torch.float64)
        >>> est = largest_hessian_eigenvalue(lambda p: 0.5 * p[0] @ a @ p[0],
        ...                                  [torch.zeros(2, dtype=torch.float64)], rtol=1e-12)
        >>> round(float(est.value), 6)
        3.0
    """
    leaves = [p.detach().clone().requires_grad_(True) for p in params]
    with torch.enable_grad():
        loss = loss_fn(leaves)
        hvp = hessian_vector_product(loss, leaves)
        if start is None:
            start = [torch.randn(p.shape, generator=generator, dtype=p.dtype) for p in leaves]
        return lanczos(hvp, start, block_dims=block_dims, iterations=iterations, rtol=rtol)


def lanczos(matvec: MatVec, start: Vector, *, block_dims: int = 0, iterations: int = 30,
            rtol: float = 1e-4) -> EigenEstimate:
    r"""Largest algebraic eigenvalue of a symmetric operator by the Lanczos iteration.

    Every block (the leading ``block_dims`` dims) runs its own iteration, all in the same
    operator applications. The Krylov basis is fully reorthogonalised (twice, classical
    Gram-Schmidt): :math:`k` stays a few dozen, so keeping the basis is cheap and the Ritz
    values stay free of the spurious copies of plain Lanczos in floating point.

    Args:
        matvec: :math:`v \mapsto Av`, block diagonal over the leading ``block_dims`` dims.
        start: The first Krylov vector: random, or the previous estimate's eigenvector (a
            warm start that converges in a few products when the operator changed little).
        block_dims: How many leading dims index independent blocks (0: one operator).
        iterations: Cap on operator applications (the Krylov dimension).
        rtol: Stop when every block's largest Ritz value changes by less than ``rtol`` times
            its magnitude between iterations, or its Krylov space became invariant.

    Returns:
        The :class:`EigenEstimate` (``vector``: the Ritz vector of the largest Ritz value).

    Example:
        >>> a = torch.diag(torch.tensor([-50.0, 3.0, 1.0], dtype=torch.float64))
        >>> est = lanczos(lambda v: [a @ v[0]], [torch.ones(3, dtype=torch.float64)])
        >>> round(float(est.value), 6)
        3.0
    """
    basis = [_normalise([t.detach() for t in start], block_dims)]
    alphas: list[Tensor] = []
    betas: list[Tensor] = []
    previous: Tensor | None = None
    for used in range(1, iterations + 1):
        q = basis[-1]
        w = [t.detach() for t in matvec(q)]
        alphas.append(_dot(q, w, block_dims))
        for _ in range(2):
            for v in basis:
                w = [a - b for a, b in zip(w, _scale(v, _dot(v, w, block_dims), block_dims),
                                          strict=True)]
        beta = _dot(w, w, block_dims).sqrt()
        values, vectors = torch.linalg.eigh(_tridiagonal(alphas, betas))
        value = values[..., -1]
        scale = value.abs().clamp(min=torch.finfo(value.dtype).tiny)
        invariant = beta <= 1e-10 * torch.stack(alphas).abs().amax(0).clamp(min=1e-300)
        settled = invariant if previous is None else (
            invariant | ((value - previous).abs() <= rtol * scale))
        if bool(settled.all()) or used == iterations:
            ritz = vectors[..., -1]  # block_shape x k
            vector = _combine(basis, ritz, block_dims)
            return EigenEstimate(value, _normalise(vector, block_dims), used,
                                 bool(settled.all()), False)
        previous = value
        betas.append(beta)
        basis.append(_scale(w, 1.0 / beta.clamp(min=torch.finfo(beta.dtype).tiny), block_dims))
    raise AssertionError("unreachable: the loop returns at its last iteration")


def _tridiagonal(alphas: Sequence[Tensor], betas: Sequence[Tensor]) -> Tensor:
    """The `block_shape x k x k` symmetric tridiagonal matrix of the Lanczos coefficients."""
    T = torch.diag_embed(torch.stack(list(alphas), dim=-1))
    if betas:
        off = torch.diag_embed(torch.stack(list(betas), dim=-1), offset=1)
        T = T + off + off.transpose(-1, -2)
    return T


def _combine(basis: Sequence[Vector], weights: Tensor, block_dims: int) -> Vector:
    r"""Per block, :math:`\sum_i w_i q_i` (``weights``: `block_shape x k`)."""
    out = [torch.zeros_like(t) for t in basis[0]]
    for i, q in enumerate(basis):
        out = [o + t for o, t in zip(out, _scale(q, weights[..., i], block_dims), strict=True)]
    return out


def stable_learning_rate(lambda_max: Tensor, fraction: float | Tensor,
                         max_rate: float = float("inf")) -> Tensor:
    r""":math:`\min(2 f / \hat\lambda_\max, \eta_\text{cap})`: below the descent bound
    :math:`2/\hat\lambda_\max` for a fraction :math:`f < 1`.

    A non-positive estimate (no positive curvature: any step is stable on the quadratic
    model) gives ``max_rate``.

    Args:
        lambda_max: :math:`\hat\lambda_\max`, any shape.
        fraction: :math:`f \in (0, 1)`, a float or a tensor broadcasting against it.
        max_rate: The cap :math:`\eta_\text{cap}`.

    Example:
        >>> stable_learning_rate(torch.tensor([4.0, 0.0]), 0.5, max_rate=10.0)
        tensor([ 0.2500, 10.0000])
    """
    f = torch.as_tensor(fraction, dtype=lambda_max.dtype)
    if not bool(((f > 0) & (f < 1)).all()):
        raise ValueError(f"the stable step needs 0 < fraction < 1, got {fraction}")
    positive = lambda_max > 0
    rate = 2.0 * f / torch.where(positive, lambda_max, torch.ones_like(lambda_max))
    rate = torch.where(positive, rate, torch.full_like(rate, max_rate))
    return rate.clamp(max=max_rate)
