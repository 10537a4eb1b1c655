r"""Full-batch training of a stack of MLPs with a provably stable, curvature-set step size.

Every member :math:`e` minimises its own loss (in standard scores, see
:mod:`.normalization`)

.. math:: L_e(\theta_e) = \sum_i w_{ei}\, \tfrac1m \lVert f_{\theta_e}(u_i) - z_i\rVert^2
          + \alpha \sum_l \lVert W_{e,l}\rVert_F^2,

with bootstrap weights :math:`w_{ei}` (resample counts over the training split, summing to 1)
and weight decay :math:`\alpha` on the weights (not the biases).

**Gradient targets (Sobolev training).** Where the data carry derivatives of the outputs
w.r.t. the inputs (a differentiable simulator returns them for one extra backward pass), each
row's term gains :math:`\gamma` (``gradient_weight``) times the mean squared error of the
member's input Jacobian against them, over the entries that are present (mask :math:`M`):

.. math:: \gamma \, \frac{\sum_{kj} M_{ikj}\,(\partial_{u_j} f_{\theta_e,k}(u_i) - g_{ikj})^2}
          {\max(1, \sum_{kj} M_{ikj})},

both in the normalised units of :mod:`.normalization` (see
:func:`models.surrogates.ensemble.DeepEnsemble.fit` for the chain rule). The Jacobian comes
from autograd with ``create_graph=True``, so the parameter gradient of the loss is a second
derivative of the network and its Hessian-vector products (the curvature estimate) a third:
double backward through smooth activations handles both (not ``relu``, whose second
derivative is zero almost everywhere). Rows without gradients contribute their value term
only; the same bootstrap weight multiplies both terms of a row. The members share nothing, so
the sum :math:`\sum_e L_e` is minimised by one batched step per iteration and its Hessian is
block diagonal: one Lanczos iteration (:mod:`.stability`) gives every member's own
:math:`\lambda_{\max,e}`.

**Step size.** Heavy-ball gradient descent,
:math:`v \leftarrow \beta v - \eta_e \nabla L_e`, :math:`\theta_e \leftarrow \theta_e + v`,
with :math:`\eta_e = 2 f / \hat\lambda_{\max,e}` (``step_fraction`` :math:`f < 1`, default
0.5). On the local quadratic model this is stable iff :math:`\eta_e < 2(1+\beta)/\lambda_\max`;
:math:`\eta_e` is below the stricter plain-descent bound :math:`2/\lambda_\max` by the factor
:math:`f`, which also absorbs an under-estimated :math:`\hat\lambda` (a Ritz value
approaches :math:`\lambda_\max` from below) by up to :math:`1/f`. The curvature grows as a
network trains ("progressive sharpening", fastest in the first steps), so :math:`\hat\lambda`
is re-estimated at steps 1, 2, 4, 8, ... and then every ``curvature_every`` steps,
warm-started from the previous eigenvector, and the rate follows it.

**Divergence.** Each step checks every member's loss and gradient: NaN/inf, or a loss above
``blowup_factor`` times its first value, marks the member diverged. Its parameters go back
to the last good snapshot (taken at each curvature estimate, for a member whose loss has not
grown by half since its previous snapshot), its momentum is reset, its step fraction (or fixed
rate) is halved and the curvature re-estimated. When one member has needed more than
``max_retries`` such retries, :class:`~models.surrogates.errors.TrainingDivergedError` is
raised: a NaN model is never returned. The budget is per member: members diverge on their own
(their bootstraps and weights differ), so one member's halvings do not use up another's.

**Early stopping.** Every step evaluates each member on the shared validation split (or,
without one, on its training loss); a member stops when it has not improved for ``patience``
steps, and keeps the parameters of its best step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from .errors import TrainingDivergedError
from .mlp import mlp_forward
from .stability import EigenEstimate, largest_hessian_eigenvalue, stable_learning_rate

__all__ = ["GradientTargets", "TrainingData", "TrainingSchedule", "member_jacobian",
           "member_losses", "train_members"]


@dataclass(frozen=True)
class GradientTargets:
    r"""Input-gradient targets of some rows, in normalised units.

    Attributes:
        values: :math:`\partial z_k / \partial u_j`, `n x m x d` (0 where missing).
        mask: 1 where a target is present, 0 where missing, `n x m x d` (same dtype).
    """

    values: Tensor
    mask: Tensor

    def rows(self, index: Tensor) -> GradientTargets:
        """The targets of the rows ``index``."""
        return GradientTargets(self.values[index], self.mask[index])


@dataclass(frozen=True)
class TrainingData:
    r"""Transformed training data of a stack of members.

    Attributes:
        u_train: Inputs in the unit cube, `n x d`.
        z_train: Standardised targets, `n x m`.
        weights: Bootstrap weights, `members x n`, each row summing to 1.
        u_val: Validation inputs, `n_val x d` (``n_val`` may be 0).
        z_val: Validation targets, `n_val x m`.
        g_train: Input-gradient targets of the training rows (None: values only).
        g_val: Input-gradient targets of the validation rows (None with ``g_train`` None).
    """

    u_train: Tensor
    z_train: Tensor
    weights: Tensor
    u_val: Tensor
    z_val: Tensor
    g_train: GradientTargets | None = None
    g_val: GradientTargets | None = None


@dataclass(frozen=True)
class TrainingSchedule:
    r"""The optimiser's settings (a view of :class:`~models.surrogates.ensemble.EnsembleConfig`).

    Attributes:
        activation: Hidden activation name.
        weight_decay: :math:`\alpha`.
        epochs: Cap on full-batch steps.
        patience: Steps without validation improvement before a member stops.
        momentum: Heavy-ball :math:`\beta \in [0, 1)`.
        step_fraction: :math:`f \in (0, 1)`: the rate is :math:`2 f / \hat\lambda_\max`.
        learning_rate: A fixed rate instead (diagnostics: the bound is then only recorded).
        max_learning_rate: Cap on the rate where the curvature estimate is tiny or negative.
        curvature_every: Steps between curvature estimates.
        power_iterations: Cap on Hessian-vector products per estimate.
        power_rtol: Relative tolerance of the curvature estimate.
        max_retries: Divergence retries of one member before giving up.
        blowup_factor: A loss above this multiple of its first value counts as divergence.
        seed: Random source of the first curvature estimate's start vector.
        gradient_weight: :math:`\gamma` of the gradient term (used only with gradient
            targets).
    """

    activation: str
    weight_decay: float
    epochs: int
    patience: int
    momentum: float
    step_fraction: float
    learning_rate: float | None
    max_learning_rate: float
    curvature_every: int
    power_iterations: int
    power_rtol: float
    max_retries: int
    blowup_factor: float
    seed: int
    gradient_weight: float = 0.0


def member_jacobian(params: Sequence[Tensor], u: Tensor, activation: str, *,
                    create_graph: bool = True) -> tuple[Tensor, Tensor]:
    r"""Every member's outputs and their Jacobian w.r.t. its inputs.

    Each member gets its own copy of the inputs, so one backward per output gives every
    member's own :math:`\partial f_{e,k} / \partial u` (a shared input would sum them).

    Args:
        params: ``[W_0, b_0, ...]``, member dimension first.
        u: Inputs, `n x d`.
        activation: A key of :data:`~.mlp.ACTIVATIONS`.
        create_graph: Keep both differentiable w.r.t. ``params`` (training); else detached.

    Returns:
        ``(f, J)``: `members x n x m` and `members x n x m x d`.
    """
    members = params[0].shape[0]
    with torch.enable_grad():
        inputs = u.detach().expand(members, *u.shape).clone().requires_grad_(True)
        out = mlp_forward(params, inputs, activation)
        columns = [torch.autograd.grad(out[..., k].sum(), inputs, create_graph=create_graph,
                                       retain_graph=True)[0] for k in range(out.shape[-1])]
    jacobian = torch.stack(columns, dim=-2)
    return (out, jacobian) if create_graph else (out.detach(), jacobian.detach())


def _gradient_errors(jacobian: Tensor, targets: GradientTargets) -> Tensor:
    """Per member and row, the mean squared Jacobian error over the present targets,
    `members x n` (0 for a row without any)."""
    squared = targets.mask * (jacobian - targets.values) ** 2
    present = targets.mask.sum(dim=(-2, -1)).clamp(min=1.0)
    return squared.sum(dim=(-2, -1)) / present


def member_losses(params: list[Tensor], u: Tensor, z: Tensor, weights: Tensor | None,
                  activation: str, weight_decay: float, gradients: GradientTargets | None = None,
                  gradient_weight: float = 0.0) -> Tensor:
    """Each member's (weighted) mean squared error, plus ``gradient_weight`` times its
    gradient error where ``gradients`` are given, plus weight decay; shape `members`."""
    if gradients is not None and gradient_weight > 0.0:
        out, jacobian = member_jacobian(params, u, activation)
        squared = ((out - z) ** 2).mean(dim=-1) \
            + gradient_weight * _gradient_errors(jacobian, gradients)  # members x n
    else:
        squared = ((mlp_forward(params, u, activation) - z) ** 2).mean(dim=-1)
    data = squared.mean(dim=-1) if weights is None else (squared * weights).sum(dim=-1)
    if weight_decay == 0.0:
        return data
    decay = sum((w**2).sum(dim=(1, 2)) for w in params[0::2])
    return data + weight_decay * decay


def _per_member(values: Tensor, like: Tensor) -> Tensor:
    """`members` values reshaped to broadcast against a parameter tensor."""
    return values.reshape(-1, *([1] * (like.dim() - 1)))


def _where(mask: Tensor, a: list[Tensor], b: list[Tensor]) -> list[Tensor]:
    return [torch.where(_per_member(mask, x), x, y) for x, y in zip(a, b, strict=True)]


def _finite_members(tensors: list[Tensor]) -> Tensor:
    ok = None
    for t in tensors:
        member_ok = torch.isfinite(t).flatten(start_dim=1).all(dim=-1)
        ok = member_ok if ok is None else ok & member_ok
    assert ok is not None
    return ok


def _estimate_due(step: int, every: int) -> bool:
    """Curvature estimates at steps 0, 1, 2, 4, 8, ... (the curvature grows fastest early in
    training) and then every ``every`` steps."""
    if step % every == 0:
        return True
    return step < every and step & (step - 1) == 0


def _floats(t: Tensor) -> list[float | None]:
    return [float(v) if bool(torch.isfinite(v)) else None for v in t]


def _validation_score(params: list[Tensor], data: TrainingData,
                      s: TrainingSchedule) -> Tensor:
    """Each member's unweighted loss on the validation rows (its gradient term included when
    the training has one), without weight decay; detached."""
    loss = member_losses(params, data.u_val, data.z_val, None, s.activation, 0.0, data.g_val,
                         s.gradient_weight)
    return loss.detach()


def train_members(params: list[Tensor], data: TrainingData,
                  schedule: TrainingSchedule) -> tuple[list[Tensor], dict[str, Any]]:
    r"""Train every member; return the best parameters of each and what was done.

    Args:
        params: Initial ``[W_0, b_0, ...]``, member dimension first (see :mod:`.mlp`).
        data: The transformed data.
        schedule: The optimiser's settings.

    Returns:
        The members' best parameters (detached, finite) and a JSON-ready metrics dict:
        ``curvature`` (list of ``{"step", "lambda_max", "learning_rate", "train_loss"}``,
        one per estimate, per member), ``stability_bound`` (the rule used), ``bound_respected``
        (every rate below :math:`2/\hat\lambda_\max`), ``steps`` (steps run), ``best_step``
        (per member), ``stopped_early`` (per member), ``retries`` (in all),
        ``retries_per_member`` and ``divergences``.

    Raises:
        TrainingDivergedError: A member's divergence not cured by ``max_retries`` halvings.
    """
    s = schedule
    members = params[0].shape[0]
    dtype = params[0].dtype
    generator = torch.Generator().manual_seed(s.seed)
    has_val = data.u_val.shape[0] > 0

    def train_losses(p: Sequence[Tensor]) -> Tensor:
        return member_losses(list(p), data.u_train, data.z_train, data.weights, s.activation,
                             s.weight_decay, data.g_train, s.gradient_weight)

    def total_loss(p: Sequence[Tensor]) -> Tensor:
        return train_losses(p).sum()

    params = [p.detach().clone() for p in params]
    velocity = [torch.zeros_like(p) for p in params]
    snapshot = [p.clone() for p in params]
    snapshot_loss = torch.full((members,), float("inf"), dtype=dtype)
    fraction = torch.full((members,), s.step_fraction, dtype=dtype)
    fixed_rate = None if s.learning_rate is None else torch.full((members,), s.learning_rate,
                                                                 dtype=dtype)
    rate = torch.zeros(members, dtype=dtype)
    estimate: EigenEstimate | None = None
    need_estimate = True
    first_loss: Tensor | None = None

    best_score = torch.full((members,), float("inf"), dtype=dtype)
    best_params = [p.clone() for p in params]
    best_step = torch.zeros(members, dtype=torch.long)
    waited = torch.zeros(members, dtype=torch.long)
    active = torch.ones(members, dtype=torch.bool)

    curvature: list[dict[str, Any]] = []
    divergences: list[dict[str, Any]] = []
    retries = torch.zeros(members, dtype=torch.long)
    bound_respected = True
    step = 0
    for step in range(s.epochs):
        leaves = [p.clone().requires_grad_(True) for p in params]
        losses = train_losses(leaves)
        grads = torch.autograd.grad(losses.sum(), leaves)
        losses = losses.detach()
        if first_loss is None:
            first_loss = losses.clone()
        finite = torch.isfinite(losses) & _finite_members(list(grads))
        exploded = finite & (losses > s.blowup_factor * first_loss.clamp(min=1e-12))
        bad = (~finite | exploded) & active
        if bool(bad.any()):
            retries = retries + bad.long()
            reason = "non-finite loss or gradient" if bool((~finite & active).any()) \
                else f"loss exploded past {s.blowup_factor:g} x its first value"
            divergences.append({"step": step, "members": bad.nonzero().flatten().tolist(),
                                "reason": reason, "learning_rate": rate.tolist()})
            if int(retries.max()) > s.max_retries:
                raise TrainingDivergedError(step, int(retries.max()) - 1, rate.tolist(),
                                            _floats(losses), reason)
            # Back to the last good state, momentum reset: the velocity of a diverging run is
            # what diverged.
            params = _where(bad, snapshot, params)
            velocity = _where(bad, [torch.zeros_like(v) for v in velocity], velocity)
            if fixed_rate is not None:
                fixed_rate = torch.where(bad, 0.5 * fixed_rate, fixed_rate)
            else:
                fraction = torch.where(bad, 0.5 * fraction, fraction)
            need_estimate = True
            continue

        if need_estimate or _estimate_due(step, s.curvature_every):
            # A member's snapshot moves on only while its loss has not grown by half: a state
            # already on its way to blowing up is not "good".
            fresh = losses <= 1.5 * snapshot_loss
            snapshot = _where(fresh, params, snapshot)
            snapshot_loss = torch.where(fresh, losses, snapshot_loss)
            estimate = largest_hessian_eigenvalue(
                total_loss, params, block_dims=1,
                start=None if estimate is None else estimate.vector,
                iterations=s.power_iterations, rtol=s.power_rtol, generator=generator)
            lam = estimate.value
            rate = (fixed_rate.clone() if fixed_rate is not None else
                    stable_learning_rate(lam, fraction, max_rate=s.max_learning_rate))
            within = bool((rate * lam.clamp(min=0.0) < 2.0).all())
            bound_respected &= within
            curvature.append({"step": step, "lambda_max": lam.tolist(),
                              "learning_rate": rate.tolist(), "train_loss": losses.tolist(),
                              "power_iterations": estimate.iterations,
                              "power_converged": estimate.converged,
                              "below_2_over_lambda": within})
            need_estimate = False

        score = _validation_score(params, data, s) if has_val else losses
        with torch.no_grad():
            improved = active & torch.isfinite(score) & (score < best_score)
            best_score = torch.where(improved, score, best_score)
            best_params = _where(improved, params, best_params)
            best_step = torch.where(improved, torch.full_like(best_step, step), best_step)
            waited = torch.where(improved, torch.zeros_like(waited), waited + 1)
            active = active & (waited <= s.patience)
            if not bool(active.any()):
                break
            step_rate = torch.where(active, rate, torch.zeros_like(rate))
            velocity = [s.momentum * v - _per_member(step_rate, g) * g
                        for v, g in zip(velocity, grads, strict=True)]
            velocity = _where(active, velocity, [torch.zeros_like(v) for v in velocity])
            params = [p + v for p, v in zip(params, velocity, strict=True)]

    # Every member keeps its best-scoring state (the last one if it never scored finitely).
    final = _where(torch.isfinite(best_score), best_params, params)
    if not bool(_finite_members(final).all()):
        raise TrainingDivergedError(step, int(retries.max()), rate.tolist(), _floats(best_score),
                                    "non-finite parameters at the end of training")
    metrics: dict[str, Any] = {
        "stability_bound": (
            "heavy-ball GD, rate = 2 * step_fraction / lambda_max per member "
            f"(step_fraction={s.step_fraction:g}, momentum={s.momentum:g}); below 2/lambda_max "
            "(plain GD bound) and 2(1+momentum)/lambda_max (heavy-ball bound)"
            if s.learning_rate is None else
            f"fixed learning_rate={s.learning_rate:g} (bound not enforced, only recorded)"),
        "bound_respected": bound_respected,
        "curvature": curvature,
        "lambda_max": curvature[-1]["lambda_max"] if curvature else None,
        "learning_rate": rate.tolist(),
        "steps": step + 1,
        "best_step": best_step.tolist(),
        "stopped_early": (~active).tolist(),
        "best_score": _floats(best_score),
        "retries": int(retries.sum()),
        "retries_per_member": retries.tolist(),
        "divergences": divergences,
    }
    return [p.detach().clone() for p in final], metrics
