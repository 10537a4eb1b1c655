r"""The in-silico nanoparticle lab: smooth ground truths, measurement noise, a known optimum.

A design is read into a `n x 8` tensor in natural units, in :data:`FEATURES` order:
size ``s`` (nm), zeta potential ``z`` (mV), PEG mole fraction ``p``, ligand density ``L``
(mol %), dose ``D`` (mg/kg), and the lipid fractions ``a`` (ionizable), ``b`` (phospholipid),
``c`` (cholesterol), ``a + b + c = 1``.

**T-cell activation** (% of antigen-specific CD8+ T cells; maximise) is a product of
dimensionless factors, each a textbook shape:

    T = 60 * H(D) * S(s) * Q(z) * P(p) * G(L) * F(a, c)

* ``H(D) = D^1.6 / (0.4^1.6 + D^1.6)``: a Hill dose response, saturating above ~1 mg/kg;
* ``S(s) = exp(-ln(s / 90)^2 / (2 * 0.35^2))``: lymph-node drainage and uptake by
  dendritic cells peak near 90 nm (log-normal in size);
* ``Q(z) = (0.35 + 0.65 * sigmoid(z / 8 mV)) * (1 - 0.5 * sigmoid((z - 25 mV) / 5 mV))``:
  cationic surfaces are taken up more, until membrane toxicity above ~25 mV kills the cells;
* ``P(p) = 0.55 + 0.45 * exp(-p / 0.03)``: the PEG "dilemma", a PEG shell slows uptake;
* ``G(L) = 1 + 0.6 L / (0.3 + L) - 0.15 L``: targeting ligands help until crowding
  (optimum ``L = 0.795`` mol %);
* ``F(a, c) = exp(-(a - 0.5)^2 / (2 * 0.15^2) - (c - 0.38)^2 / (2 * 0.2^2))``: endosomal
  escape needs about half ionizable lipid, stability about 38 % cholesterol.

**Complement activation** (fraction of a positive control; constraint ``<= 0.3``) grows with
dose without saturating in range, and its dominant term is the **charge x PEG interaction**:
a cationic surface activates complement, a PEG shell hides the charge:

    C = 0.02 + R(D) * (1.2 * sigmoid(z / 6 mV) * exp(-p / 0.015)
                       + 0.12 * s / 100 nm + 1.5 * p + 0.15 * a + 0.03 * L),
    R(D) = D / (D + 1 mg/kg)

(``1.5 p``: anti-PEG antibodies; ``0.15 a``: ionizable lipids are mildly pro-inflammatory.)
Efficacy wants high dose, positive charge and little PEG; all three raise complement, so the
best safe formulation sits on the constraint boundary ``C = 0.3`` with a moderate PEG shell
(see :meth:`NanoparticleProblem.reference_optimum`).

**Noise.** A measurement adds independent Gaussian noise of sd :data:`NOISE_SD` (1.5 % points
of activation, 0.015 of complement) times ``noise_scale``, from the problem's own seeded
generator: the same seed and the same sequence of calls give the same measurements.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from scipy.optimize import minimize
from torch import Tensor
from torch.quasirandom import SobolEngine

from models.problems.base import DesignError, Problem, ProblemSpec
from models.problems.nanoparticle import COMPLEMENT_THRESHOLD, SPEC
from models.problems.nanoparticle.options import validate

#: Columns of the natural-unit design tensor.
FEATURES: tuple[str, ...] = ("particle_size", "zeta_potential", "peg_fraction",
                             "ligand_density", "dose", "ionizable_lipid", "phospholipid",
                             "cholesterol")
OUTCOMES: tuple[str, str] = ("t_cell_activation", "complement_activation")
#: Measurement-noise sd of each outcome at ``noise_scale = 1`` (its units).
NOISE_SD: dict[str, float] = {"t_cell_activation": 1.5, "complement_activation": 0.015}
#: Bounds of the five box parameters (natural units), from the spec.
BOX_BOUNDS: tuple[tuple[float, float], ...] = tuple(
    (float(p["lower"]), float(p["upper"])) for p in SPEC.default_space["parameters"])  # type: ignore[index]
#: Relative slack on bounds and on the lipid sum when a design is checked.
_TOLERANCE = 1e-6


def t_cell_activation(X: Tensor) -> Tensor:
    r"""Noise-free T-cell activation (%), differentiable.

    Args:
        X: `batch_shape x 8` designs in natural units (:data:`FEATURES` order).

    Returns:
        `batch_shape` activations in [0, 80).
    """
    s, z, p, L, D, a, _, c = X.unbind(-1)
    hill = D**1.6 / (0.4**1.6 + D**1.6)
    size = torch.exp(-torch.log(s / 90.0) ** 2 / (2 * 0.35**2))
    charge = (0.35 + 0.65 * torch.sigmoid(z / 8.0)) * (1.0 - 0.5 * torch.sigmoid((z - 25.0) / 5.0))
    peg = 0.55 + 0.45 * torch.exp(-p / 0.03)
    ligand = 1.0 + 0.6 * L / (0.3 + L) - 0.15 * L
    lipids = torch.exp(-(a - 0.5) ** 2 / (2 * 0.15**2) - (c - 0.38) ** 2 / (2 * 0.2**2))
    return 60.0 * hill * size * charge * peg * ligand * lipids


def complement_activation(X: Tensor) -> Tensor:
    r"""Noise-free complement activation (fraction of a positive control), differentiable.

    Args:
        X: `batch_shape x 8` designs in natural units (:data:`FEATURES` order).

    Returns:
        `batch_shape` activations, ``> 0.02``.
    """
    s, z, p, L, D, a, _, _ = X.unbind(-1)
    exposure = D / (D + 1.0)
    charge_peg = 1.2 * torch.sigmoid(z / 6.0) * torch.exp(-p / 0.015)
    return 0.02 + exposure * (charge_peg + 0.12 * s / 100.0 + 1.5 * p + 0.15 * a + 0.03 * L)


def truth(X: Tensor) -> Tensor:
    """`batch_shape x 2` noise-free outcomes (:data:`OUTCOMES` order) of `batch_shape x 8`
    designs."""
    return torch.stack([t_cell_activation(X), complement_activation(X)], dim=-1)


@dataclass(frozen=True)
class ReferenceOptimum:
    """The best safe formulation found by the documented dense search.

    Attributes:
        value: Its T-cell activation (%), noise-free.
        complement: Its complement activation (``<= COMPLEMENT_THRESHOLD``).
        design: The formulation, name -> value.
    """

    value: float
    complement: float
    design: dict[str, float]


class NanoparticleProblem(Problem):
    r"""The lipid-nanoparticle lab: maximise ``t_cell_activation`` subject to
    ``complement_activation <= 0.3``.

    Args:
        noise_scale: Multiplies the measurement-noise sd (0: exact truth).
        seed: Seed of the noise generator.

    Example:
        >>> lab = NanoparticleProblem(noise_scale=0.0)
        >>> design = {"particle_size": 90.0, "zeta_potential": 0.0, "peg_fraction": 0.03,
        ...           "ligand_density": 0.8, "dose": 1.0, "ionizable_lipid": 0.5,
        ...           "phospholipid": 0.12, "cholesterol": 0.38}
        >>> [round(v, 3) for v in lab.evaluate([design])[0].values()]
        [30.89, 0.187]
    """

    spec: ClassVar[ProblemSpec] = SPEC
    threshold: ClassVar[float] = COMPLEMENT_THRESHOLD

    def __init__(self, noise_scale: float = 1.0, seed: int = 0) -> None:
        options = validate({"noise_scale": noise_scale, "seed": seed})
        self.noise_scale: float = options["noise_scale"]
        self.seed: int = options["seed"]
        self._generator = torch.Generator().manual_seed(self.seed)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> NanoparticleProblem:
        """The lab configured by ``{"noise_scale", "seed"}`` (both optional)."""
        return cls(**validate(dict(options)))

    def design_tensor(self, designs: Sequence[Mapping[str, Any]]) -> Tensor:
        r"""`n x 8` natural-unit designs, checked against the bounds and the lipid sum.

        Raises:
            DesignError: A value is not a finite number, lies outside its bounds, or the
                lipid fractions do not sum to 1 (tolerance 1e-6).
        """
        rows = []
        for index, design in enumerate(designs):
            try:
                rows.append([float(design[name]) for name in FEATURES])
            except (TypeError, ValueError) as exc:
                raise DesignError(f"design {index}: every parameter must be a number ({exc})") \
                    from None
        X = torch.tensor(rows, dtype=torch.float64).reshape(-1, len(FEATURES))
        self._check(X)
        return X

    def evaluate_tensor(self, X: Tensor, *, noisy: bool = True) -> Tensor:
        r"""Measured outcomes of a batch of designs.

        Args:
            X: `n x 8` natural-unit designs (see :meth:`design_tensor`).
            noisy: Add the measurement noise (``False``: the truth).

        Returns:
            `n x 2`: ``t_cell_activation`` then ``complement_activation``.
        """
        X = X.to(torch.float64)
        self._check(X)
        Y = truth(X)
        if noisy and self.noise_scale > 0:
            sd = torch.tensor([NOISE_SD[o] for o in OUTCOMES], dtype=torch.float64)
            noise = torch.randn(Y.shape, dtype=torch.float64, generator=self._generator)
            Y = Y + self.noise_scale * sd * noise
        return Y

    def _evaluate_true(self, designs: Sequence[Mapping[str, Any]]) -> list[dict[str, float]]:
        Y = self.evaluate_tensor(self.design_tensor(designs))
        return [dict(zip(OUTCOMES, row, strict=True)) for row in Y.tolist()]

    @staticmethod
    def reference_optimum() -> ReferenceOptimum:
        """The best safe formulation, from :func:`dense_search` (cached per process)."""
        return dense_search()

    @staticmethod
    def _check(X: Tensor) -> None:
        if X.dim() != 2 or X.shape[-1] != len(FEATURES):
            raise DesignError(f"expected designs of shape n x {len(FEATURES)}, got "
                              f"{tuple(X.shape)}")
        if not bool(torch.isfinite(X).all()):
            raise DesignError("design values must be finite")
        for k, (low, high) in enumerate(BOX_BOUNDS):
            slack = _TOLERANCE * max(1.0, abs(low), abs(high))
            bad = ((X[:, k] < low - slack) | (X[:, k] > high + slack)).nonzero()
            if bad.numel():
                raise DesignError(f"design {int(bad[0])}: {FEATURES[k]} = "
                                  f"{float(X[int(bad[0]), k])} lies outside [{low}, {high}]")
        lipids = X[:, 5:]
        bad = ((lipids < -_TOLERANCE).any(-1) | ((lipids.sum(-1) - 1.0).abs() > _TOLERANCE))
        if bool(bad.any()):
            row = int(bad.nonzero()[0])
            raise DesignError(f"design {row}: lipid fractions must be >= 0 and sum to 1, got "
                              f"{lipids[row].tolist()}")


# ------------------------------------------------------------------------- reference optimum

#: Sobol points of the dense search, and how many of the best feasible ones are refined.
DENSE_POINTS = 2**16
REFINED_STARTS = 16


def from_unit(u: Tensor) -> Tensor:
    r"""Natural-unit designs from search coordinates.

    Args:
        u: `n x 7` in ``[0, 1]``: the five box parameters (size and dose on a log scale), then
            the ionizable and cholesterol fractions as shares of the simplex, ``a = u5`` and
            ``c = u6 * (1 - a)``, so every point is a valid formulation (``b = 1 - a - c``).

    Returns:
        `n x 8` designs.
    """
    columns = []
    for k, (low, high) in enumerate(BOX_BOUNDS):
        if FEATURES[k] in ("particle_size", "dose"):
            lo, hi = np.log(low), np.log(high)
            columns.append(torch.exp(lo + u[:, k] * (hi - lo)))
        else:
            columns.append(low + u[:, k] * (high - low))
    a = u[:, 5]
    c = u[:, 6] * (1.0 - a)
    columns += [a, (1.0 - a - c).clamp_min(0.0), c]
    return torch.stack(columns, dim=-1)


def to_unit(X: Tensor) -> Tensor:
    r"""The search coordinates of natural-unit designs: the inverse of :func:`from_unit`.

    Args:
        X: `n x 8` designs.

    Returns:
        `n x 7` coordinates in ``[0, 1]`` (the cholesterol share is 0 when ``a = 1``).
    """
    columns = []
    for k, (low, high) in enumerate(BOX_BOUNDS):
        if FEATURES[k] in ("particle_size", "dose"):
            lo, hi = np.log(low), np.log(high)
            columns.append((torch.log(X[:, k]) - lo) / (hi - lo))
        else:
            columns.append((X[:, k] - low) / (high - low))
    a, c = X[:, 5], X[:, 7]
    columns += [a, torch.where(a < 1.0, c / (1.0 - a).clamp_min(1e-300), torch.zeros_like(c))]
    return torch.stack(columns, dim=-1).clamp(0.0, 1.0)


@functools.cache
def dense_search(points: int = DENSE_POINTS, starts: int = REFINED_STARTS) -> ReferenceOptimum:
    r"""The best safe formulation: a dense scrambled-Sobol search refined by SLSQP.

    1. ``points`` scrambled Sobol points (seed 0) of the 7 search coordinates of
       :func:`from_unit` (every one a valid formulation), evaluated noise-free;
    2. the ``starts`` best that meet ``complement <= 0.3`` are refined by SLSQP on the same
       coordinates with the constraint ``complement <= 0.3`` and the bounds, gradients by
       autograd, to a tolerance of 1e-12;
    3. the best refined point that is feasible (to 1e-9) wins.

    With the defaults this takes about a second; the answer (T = 45.98 %: size 89 nm, zeta
    +13.9 mV, PEG 0.027, ligand 0.70 mol %, dose 2.0 mg/kg, lipids 0.50 / 0.12 / 0.38, complement
    on the boundary 0.3) does not change with more points or starts (the tests check it).

    Returns:
        The optimum.
    """
    u = SobolEngine(7, scramble=True, seed=0).draw(points, dtype=torch.float64)
    with torch.no_grad():
        Y = truth(from_unit(u))
    feasible = Y[:, 1] <= COMPLEMENT_THRESHOLD
    order = torch.where(feasible, Y[:, 0], torch.full_like(Y[:, 0], -torch.inf))
    best = order.argsort(descending=True)[:starts]
    results = [_refine(u[i].numpy()) for i in best.tolist()]
    results.append(u[int(best[0])].numpy())
    X = from_unit(torch.tensor(np.stack(results), dtype=torch.float64).clamp(0.0, 1.0))
    with torch.no_grad():
        Y = truth(X)
    ok = Y[:, 1] <= COMPLEMENT_THRESHOLD + 1e-9
    winner = int(torch.where(ok, Y[:, 0], torch.full_like(Y[:, 0], -torch.inf)).argmax())
    design = dict(zip(FEATURES, X[winner].tolist(), strict=True))
    return ReferenceOptimum(value=float(Y[winner, 0]), complement=float(Y[winner, 1]),
                            design=design)


def _refine(u0: np.ndarray) -> np.ndarray:
    """SLSQP from one start: maximise T subject to complement <= threshold, in ``[0, 1]^7``."""

    def objective(v: np.ndarray) -> tuple[float, np.ndarray]:
        x = torch.tensor(v, dtype=torch.float64, requires_grad=True)
        value = -t_cell_activation(from_unit(x.unsqueeze(0)))[0]
        (grad,) = torch.autograd.grad(value, x)
        return float(value.detach()), grad.numpy()

    def slack(v: np.ndarray) -> float:
        with torch.no_grad():
            x = torch.tensor(v, dtype=torch.float64).unsqueeze(0)
            return COMPLEMENT_THRESHOLD - float(complement_activation(from_unit(x))[0])

    def slack_grad(v: np.ndarray) -> np.ndarray:
        x = torch.tensor(v, dtype=torch.float64, requires_grad=True)
        value = complement_activation(from_unit(x.unsqueeze(0)))[0]
        (grad,) = torch.autograd.grad(value, x)
        return -grad.numpy()

    result = minimize(objective, u0, jac=True, method="SLSQP", bounds=[(0.0, 1.0)] * 7,
                      constraints=[{"type": "ineq", "fun": slack, "jac": slack_grad}],
                      options={"maxiter": 300, "ftol": 1e-12})
    return np.clip(result.x, 0.0, 1.0)
