r"""A deep ensemble of MLPs: a differentiable surrogate that knows its (epistemic) uncertainty.

Lakshminarayanan, Pritzel & Blundell, "Simple and scalable predictive uncertainty estimation
using deep ensembles", NeurIPS 2017: members that differ in their random initialisation (one
seed each) and in their bootstrap resample of the training split disagree where the data do not
pin the function down. The prediction is the members' mean and the uncertainty their standard
deviation (unbiased, across members), per output, in the original units:

.. math:: \mu(x) = \tfrac1E \sum_e f_e(x), \qquad
          \sigma(x)^2 = \tfrac{1}{E - 1} \sum_e (f_e(x) - \mu(x))^2 .

Inputs are mapped to the unit cube of the given bounds (or of the data) and outputs
standardised (:mod:`.normalization`); all members train at once (:mod:`.mlp`,
:mod:`.training`) with a step size set by the loss curvature and early stopping on a shared
validation split. Predictions are differentiable w.r.t. the inputs, so the ensemble can be
handed to :func:`models.design.inverse.inverse_design` as ``predict``.

**Gradient targets.** ``fit(..., dY=...)`` also fits the derivatives of the outputs w.r.t. the
inputs where the data carry them (Sobolev training, Czarnecki et al., NeurIPS 2017): a
differentiable simulator returns them for one backward pass per call, and each is worth up to
``d`` more numbers per call to the fit. Both terms of the loss are in normalised units; with
:math:`c = 2(x - \ell)/(h - \ell) - 1` the network's input and :math:`z = (y - m)/s` its
output, a target :math:`\partial y_k/\partial x_j` becomes

.. math:: \frac{\partial z_k}{\partial c_j} = \frac{\partial y_k}{\partial x_j}
          \,\frac{h_j - \ell_j}{2\, s_k}.

(Inputs on a log scale are the caller's business: give ``X`` in the logarithm and ``dY``
w.r.t. it, :math:`\partial y/\partial \log x = x\,\partial y/\partial x`.)

Example:
    >>> import torch
    >>> X = torch.rand(64, 2, dtype=torch.float64)
    >>> Y = torch.sin(3 * X[:, :1]) + X[:, 1:] ** 2
    >>> model = DeepEnsemble.fit(X, Y, EnsembleConfig(members=3, width=16, epochs=300))
    >>> mean, sd = model.predict(X[:5])
    >>> mean.shape, sd.shape
    (torch.Size([5, 1]), torch.Size([5, 1]))
"""

from __future__ import annotations

import io
import math
from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
from torch import Tensor

from .errors import InvalidTrainingDataError, SurrogateStateError
from .mlp import ACTIVATIONS, init_parameters, mlp_forward
from .normalization import Standardize, UnitCube
from .training import (
    GradientTargets,
    TrainingData,
    TrainingSchedule,
    member_jacobian,
    train_members,
)

__all__ = ["DeepEnsemble", "EnsembleConfig"]

STATE_KIND = "deep_ensemble"
STATE_VERSION = 1
_DTYPES = {"float64": torch.float64, "float32": torch.float32}


@dataclass(frozen=True)
class EnsembleConfig:
    r"""Hyperparameters of a :class:`DeepEnsemble` (stored with every model version).

    Attributes:
        members: Ensemble size :math:`E \ge 2`.
        width: Hidden units per layer.
        depth: Hidden layers.
        activation: A key of :data:`models.surrogates.mlp.ACTIVATIONS`.
        epochs: Cap on full-batch steps.
        patience: Steps without validation improvement before a member stops.
        val_fraction: Fraction of the rows held out (shared by all members) for early stopping
            and the reported validation error; none below 5 rows.
        weight_decay: :math:`\alpha` on the weights, in the standardised loss.
        bootstrap: Whether each member trains on its own bootstrap resample.
        momentum: Heavy-ball :math:`\beta \in [0, 1)`.
        step_fraction: :math:`f \in (0, 1)`; rate :math:`2 f / \hat\lambda_\max`.
        learning_rate: A fixed rate overriding the curvature rule (diagnostics only).
        max_learning_rate: Cap on the rate where the curvature is tiny or negative.
        curvature_every: Steps between :math:`\lambda_\max` estimates.
        power_iterations: Cap on Hessian-vector products per estimate.
        power_rtol: Relative tolerance of the curvature estimate (Lanczos' top Ritz value).
        max_retries: Halvings of one member's step after its divergences before giving up.
        blowup_factor: A loss above this multiple of its first value counts as divergence.
        seed: Seeds the split, the bootstraps and (``seed * 1000 + e``) member ``e``'s weights.
        dtype: ``"float64"`` (default: gradient checks, accurate curvature) or ``"float32"``.
        gradient_weight: :math:`\gamma`, weight of the gradient term in normalised units
            (used only when :meth:`DeepEnsemble.fit` is given gradient targets).
    """

    members: int = 5
    width: int = 64
    depth: int = 2
    activation: str = "silu"
    epochs: int = 3000
    patience: int = 300
    val_fraction: float = 0.2
    weight_decay: float = 1e-5
    bootstrap: bool = True
    momentum: float = 0.9
    step_fraction: float = 0.5
    learning_rate: float | None = None
    max_learning_rate: float = 10.0
    curvature_every: int = 100
    power_iterations: int = 30
    power_rtol: float = 1e-3
    max_retries: int = 5
    blowup_factor: float = 1e4
    seed: int = 0
    dtype: str = "float64"
    gradient_weight: float = 1.0

    def __post_init__(self) -> None:
        checks = [
            (self.members >= 2, "members must be at least 2 (the sd needs two)"),
            (self.width >= 1 and self.depth >= 1, "width and depth must be positive"),
            (self.activation in ACTIVATIONS, f"activation must be one of {sorted(ACTIVATIONS)}"),
            (self.epochs >= 1 and self.patience >= 1, "epochs and patience must be positive"),
            (0.0 <= self.val_fraction < 1.0, "val_fraction must be in [0, 1)"),
            (self.weight_decay >= 0.0, "weight_decay must be >= 0"),
            (0.0 <= self.momentum < 1.0, "momentum must be in [0, 1)"),
            (0.0 < self.step_fraction < 1.0, ("step_fraction must be in (0, 1): the rate "
             "2 * step_fraction / lambda_max must stay below 2 / lambda_max")),
            (self.learning_rate is None or self.learning_rate > 0, "learning_rate must be > 0"),
            (self.curvature_every >= 1 and self.power_iterations >= 2,
             "curvature_every >= 1 and power_iterations >= 2"),
            (self.max_retries >= 0 and self.blowup_factor > 1, "bad divergence settings"),
            (self.dtype in _DTYPES, f"dtype must be one of {sorted(_DTYPES)}"),
            (math.isfinite(self.gradient_weight) and self.gradient_weight >= 0.0,
             "gradient_weight must be finite and >= 0"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    @property
    def torch_dtype(self) -> torch.dtype:
        return _DTYPES[self.dtype]

    def schedule(self) -> TrainingSchedule:
        return TrainingSchedule(
            activation=self.activation, weight_decay=self.weight_decay, epochs=self.epochs,
            patience=self.patience, momentum=self.momentum, step_fraction=self.step_fraction,
            learning_rate=self.learning_rate, max_learning_rate=self.max_learning_rate,
            curvature_every=self.curvature_every, power_iterations=self.power_iterations,
            power_rtol=self.power_rtol, max_retries=self.max_retries,
            blowup_factor=self.blowup_factor, seed=self.seed,
            gradient_weight=self.gradient_weight)


class DeepEnsemble:
    r"""A trained ensemble; build it with :meth:`fit` or :meth:`from_bytes`.

    Args:
        config: Its hyperparameters.
        params: ``[W_0, b_0, ...]`` with the member dimension first (see :mod:`.mlp`).
        inputs: The input transform (to the unit cube).
        outputs: The output transform (standard scores).
        metrics: What training did (JSON-ready), see :meth:`fit`.
    """

    def __init__(self, config: EnsembleConfig, params: list[Tensor], inputs: UnitCube,
                 outputs: Standardize, metrics: dict[str, Any] | None = None) -> None:
        self.config = config
        self.params = [p.detach() for p in params]
        self.inputs = inputs
        self.outputs = outputs
        self.metrics: dict[str, Any] = dict(metrics or {})

    @property
    def num_inputs(self) -> int:
        return int(self.params[0].shape[1])

    @property
    def num_outputs(self) -> int:
        return int(self.params[-1].shape[-1])

    @property
    def dtype(self) -> torch.dtype:
        return self.params[0].dtype

    # ------------------------------------------------------------------ fitting
    @classmethod
    def fit(cls, X: Tensor, Y: Tensor, config: EnsembleConfig | None = None, *,
            bounds: Tensor | None = None, dY: Tensor | None = None) -> DeepEnsemble:
        r"""Train an ensemble on ``(X, Y)``, and on the gradients ``dY`` where given.

        Args:
            X: Inputs, `n x d`, original units.
            Y: Outputs, `n x m` (or `n`), original units; all finite.
            config: Hyperparameters (defaults: :class:`EnsembleConfig`).
            bounds: `2 x d` bounds of the design space (the unit cube of the inputs); the
                data's bounding box if None. Give them: the sd is then comparable across
                training sets and extrapolation is measured against the whole space.
            dY: Optional gradient targets :math:`\partial y_k/\partial x_j`, `n x m x d`
                (`n x d` with a vector ``Y``), original units of ``Y`` per unit of ``X``;
                NaN marks a missing entry (a row may have none). The validation split and the
                bootstrap weights apply to them row by row with the values. Needs a smooth
                activation.

        Returns:
            The ensemble, with ``metrics``: everything :func:`~.training.train_members`
            reports (curvature estimates :math:`\hat\lambda_\max` and rates per member, steps,
            best step per member, retries), plus ``n_train``, ``n_val``, ``val_rmse`` and
            ``train_rmse`` (per output, original units, of the ensemble mean; ``val_rmse`` is
            None without a validation split) and ``gradients`` (whether gradient targets were
            fitted, their weight and count, and ``train_rmse`` / ``val_rmse`` of the ensemble
            mean's input gradient per output, original units, over the present targets).

        Raises:
            InvalidTrainingDataError: Bad shapes, NaN/inf (inf in ``dY``), fewer than 2 rows,
                gradient targets with the non-smooth ``relu``.
            TrainingDivergedError: Training diverged and halving the step did not cure it.
        """
        config = config or EnsembleConfig()
        dtype = config.torch_dtype
        X, Y = _validated(X, Y, dtype)
        dY = None if dY is None else _validated_gradients(dY, X, Y, config, dtype)
        inputs = (UnitCube.from_bounds(bounds.to(dtype)) if bounds is not None
                  else UnitCube.from_data(X))
        if inputs.lower.shape[0] != X.shape[1]:
            raise InvalidTrainingDataError(
                f"bounds are for {inputs.lower.shape[0]} inputs, X has {X.shape[1]}",
                {"bounds_dims": int(inputs.lower.shape[0]), "x_dims": int(X.shape[1])})
        generator = torch.Generator().manual_seed(config.seed)
        train_idx, val_idx = _split(X.shape[0], config.val_fraction, generator)
        outputs = Standardize.fit(Y[train_idx])
        u, z = _centred(inputs.transform(X)), outputs.transform(Y)
        g = None if dY is None else _normalised_gradients(dY, inputs, outputs)
        weights = _bootstrap_weights(config.members, train_idx.numel(), config.bootstrap,
                                     generator, dtype)
        data = TrainingData(u_train=u[train_idx], z_train=z[train_idx], weights=weights,
                            u_val=u[val_idx], z_val=z[val_idx],
                            g_train=None if g is None else g.rows(train_idx),
                            g_val=None if g is None else g.rows(val_idx))
        seeds = [config.seed * 1000 + e for e in range(config.members)]
        params = init_parameters(config.members, X.shape[1], Y.shape[1], config.width,
                                 config.depth, seeds=seeds, dtype=dtype)
        params, metrics = train_members(params, data, config.schedule())
        model = cls(config, params, inputs, outputs, metrics)
        with torch.no_grad():
            model.metrics.update({
                "n_train": int(train_idx.numel()), "n_val": int(val_idx.numel()),
                "train_rmse": _rmse(model, X[train_idx], Y[train_idx]),
                "val_rmse": _rmse(model, X[val_idx], Y[val_idx]) if val_idx.numel() else None,
            })
        model.metrics["gradients"] = _gradient_report(model, X, dY, train_idx, val_idx)
        return model

    # --------------------------------------------------------------- prediction
    def member_predictions(self, X: Tensor) -> Tensor:
        """Every member's prediction, `members x n x m`, original units, differentiable."""
        if X.dim() != 2 or X.shape[-1] != self.num_inputs:
            raise ValueError(f"X must be n x {self.num_inputs}, got {tuple(X.shape)}")
        params = [p.to(X.dtype) for p in self.params]
        z = mlp_forward(params, _centred(self.inputs.transform(X)), self.config.activation)
        return self.outputs.untransform(z)

    def predict(self, X: Tensor) -> tuple[Tensor, Tensor]:
        r"""Predictive mean and epistemic sd.

        Args:
            X: `n x d`, original units (gradients flow back to it).

        Returns:
            ``(mean, sd)``, each `n x m`, original units.
        """
        members = self.member_predictions(X)
        return members.mean(dim=0), members.std(dim=0)

    __call__ = predict

    def input_gradient(self, X: Tensor) -> Tensor:
        r"""The ensemble mean's Jacobian :math:`\partial\mu_k/\partial x_j`, `n x m x d`,
        original units (detached; for reports and checks against gradient targets)."""
        if X.dim() != 2 or X.shape[-1] != self.num_inputs:
            raise ValueError(f"X must be n x {self.num_inputs}, got {tuple(X.shape)}")
        params = [p.to(X.dtype) for p in self.params]
        u = _centred(self.inputs.transform(X.detach()))
        _, jacobian = member_jacobian(params, u, self.config.activation, create_graph=False)
        scale = self.outputs.std.to(X)[:, None] * 2.0 / self.inputs.width.to(X)[None, :]
        return jacobian.mean(dim=0).detach() * scale

    # ------------------------------------------------------------------ storage
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to predict again: tensors and JSON-ready plain data only."""
        return {
            "kind": STATE_KIND,
            "version": STATE_VERSION,
            "config": asdict(self.config),
            "params": [p.clone() for p in self.params],
            "inputs": self.inputs.state_dict(),
            "outputs": self.outputs.state_dict(),
            "metrics": self.metrics,
        }

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> DeepEnsemble:
        """The ensemble of a :meth:`state_dict`.

        Raises:
            SurrogateStateError: The state is not a deep ensemble's, or of another version.
        """
        if state.get("kind") != STATE_KIND or state.get("version") != STATE_VERSION:
            raise SurrogateStateError(
                "not a stored deep ensemble of a known version",
                {"kind": state.get("kind"), "version": state.get("version"),
                 "expected": [STATE_KIND, STATE_VERSION]})
        known = {f.name for f in fields(EnsembleConfig)}
        config = EnsembleConfig(**{k: v for k, v in state["config"].items() if k in known})
        return cls(config, list(state["params"]), UnitCube.from_state_dict(state["inputs"]),
                   Standardize.from_state_dict(state["outputs"]), state.get("metrics"))

    def to_bytes(self) -> bytes:
        """The :meth:`state_dict` serialised with :func:`torch.save` (for a model version)."""
        buffer = io.BytesIO()
        torch.save(self.state_dict(), buffer)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> DeepEnsemble:
        """Load :meth:`to_bytes` output (``weights_only``: no code is unpickled)."""
        try:
            state = torch.load(io.BytesIO(blob), weights_only=True)
        except Exception as exc:
            raise SurrogateStateError(f"cannot read a stored deep ensemble: {exc}") from exc
        return cls.from_state_dict(state)


def _validated(X: Tensor, Y: Tensor, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
    if Y.dim() == 1:
        Y = Y[:, None]
    if X.dim() != 2 or Y.dim() != 2 or X.shape[0] != Y.shape[0]:
        raise InvalidTrainingDataError(
            f"need X of n x d and Y of n x m, got {tuple(X.shape)} and {tuple(Y.shape)}",
            {"x_shape": list(X.shape), "y_shape": list(Y.shape)})
    if X.shape[0] < 2:
        raise InvalidTrainingDataError("need at least 2 rows to train",
                                       {"rows": int(X.shape[0])})
    bad = ~(torch.isfinite(X).all(dim=1) & torch.isfinite(Y).all(dim=1))
    if bool(bad.any()):
        rows = bad.nonzero().flatten().tolist()
        raise InvalidTrainingDataError(
            f"{len(rows)} rows hold NaN or inf (first: {rows[:5]})",
            {"non_finite_rows": rows[:100], "count": len(rows)})
    return X.detach().to(dtype), Y.detach().to(dtype)


def _validated_gradients(dY: Tensor, X: Tensor, Y: Tensor, config: EnsembleConfig,
                         dtype: torch.dtype) -> Tensor:
    """``dY`` as `n x m x d` in ``dtype``: NaN (missing) allowed, inf and bad shapes not."""
    n, d = X.shape
    m = Y.shape[1]
    if dY.dim() == 2 and m == 1:
        dY = dY[:, None, :]
    if dY.dim() != 3 or tuple(dY.shape) != (n, m, d):
        raise InvalidTrainingDataError(
            f"gradient targets dY must be n x m x d = {n} x {m} x {d} (one derivative per "
            f"output and input, NaN where missing), got {tuple(dY.shape)}",
            {"dy_shape": list(dY.shape), "expected": [n, m, d]})
    if bool(torch.isinf(dY).any()):
        rows = torch.isinf(dY).flatten(start_dim=1).any(dim=1).nonzero().flatten().tolist()
        raise InvalidTrainingDataError(
            f"{len(rows)} rows of dY hold inf (first: {rows[:5]}); use NaN for a missing "
            f"derivative", {"non_finite_gradient_rows": rows[:100], "count": len(rows)})
    if config.activation == "relu":
        raise InvalidTrainingDataError(
            "gradient targets need a smooth activation: relu's second derivative is zero "
            "almost everywhere, so the gradient term would not train the network",
            {"activation": config.activation})
    return dY.detach().to(dtype)


def _normalised_gradients(dY: Tensor, inputs: UnitCube,
                          outputs: Standardize) -> GradientTargets:
    r"""``dY`` (original units) as :math:`\partial z/\partial c` with its mask of present
    entries (see the module docstring for the chain rule)."""
    present = ~torch.isnan(dY)
    scale = inputs.width.to(dY)[None, None, :] / (2.0 * outputs.std.to(dY)[None, :, None])
    values = torch.where(present, dY, torch.zeros_like(dY)) * scale
    return GradientTargets(values, present.to(dY.dtype))


def _gradient_report(model: DeepEnsemble, X: Tensor, dY: Tensor | None, train_idx: Tensor,
                     val_idx: Tensor) -> dict[str, Any]:
    """Whether gradient targets were fitted, and the mean's gradient RMSE against them."""
    if dY is None:
        return {"used": False}

    def rmse(index: Tensor) -> list[float | None] | None:
        if index.numel() == 0:
            return None
        target = dY[index]
        present = ~torch.isnan(target)
        error = torch.where(present, model.input_gradient(X[index]) - target,
                            torch.zeros_like(target))
        count = present.sum(dim=(0, 2))
        mse = (error**2).sum(dim=(0, 2)) / count.clamp(min=1)
        return [float(v) if int(c) else None for v, c in zip(mse.sqrt(), count, strict=True)]

    return {"used": model.config.gradient_weight > 0.0,
            "weight": model.config.gradient_weight,
            "rows_with_gradients": int((~torch.isnan(dY)).flatten(start_dim=1).any(1).sum()),
            "train_rmse": rmse(train_idx), "val_rmse": rmse(val_idx)}


def _split(n: int, fraction: float, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """Random train / validation indices; no validation below 5 rows."""
    n_val = round(fraction * n) if n >= 5 else 0
    n_val = min(n_val, n - 2)
    perm = torch.randperm(n, generator=generator)
    return perm[n_val:].sort().values, perm[:n_val].sort().values


def _bootstrap_weights(members: int, n: int, bootstrap: bool, generator: torch.Generator,
                       dtype: torch.dtype) -> Tensor:
    """`members x n` resample counts over ``n``, each row summing to 1 (uniform if not
    ``bootstrap``)."""
    if not bootstrap:
        return torch.full((members, n), 1.0 / n, dtype=dtype)
    draws = torch.randint(0, n, (members, n), generator=generator)
    counts = torch.zeros(members, n, dtype=dtype).scatter_add_(
        1, draws, torch.ones(members, n, dtype=dtype))
    return counts / n


def _rmse(model: DeepEnsemble, X: Tensor, Y: Tensor) -> list[float]:
    mean, _ = model.predict(X)
    return ((mean - Y) ** 2).mean(dim=0).sqrt().tolist()


def _centred(u: Tensor) -> Tensor:
    """The unit cube mapped to :math:`[-1, 1]^d`: zero-centred inputs condition the first
    layer's Hessian better (a constant offset couples the weights with the bias)."""
    return 2.0 * u - 1.0
