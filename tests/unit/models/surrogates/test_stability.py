"""Lanczos and power iteration on Hessian-vector products against known spectra, and the
2/lambda bound."""

from __future__ import annotations

import math

import pytest
import torch

from models.surrogates.mlp import init_parameters
from models.surrogates.stability import (
    hessian_vector_product,
    lanczos,
    largest_hessian_eigenvalue,
    power_iteration,
    stable_learning_rate,
)
from models.surrogates.training import member_losses


def symmetric(eigenvalues: list[float], seed: int = 0) -> torch.Tensor:
    """Q diag(eigenvalues) Q^T with a random orthogonal Q."""
    n = len(eigenvalues)
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=torch.float64))
    return q @ torch.diag(torch.tensor(eigenvalues, dtype=torch.float64)) @ q.T


def quadratic(a: torch.Tensor):
    return lambda p: 0.5 * p[0] @ a @ p[0]


def test_quadratic_loss_largest_eigenvalue() -> None:
    a = symmetric([10.0, 6.0, 1.0, 0.1, 0.01])
    x = torch.randn(5, dtype=torch.float64)
    est = largest_hessian_eigenvalue(quadratic(a), [x], iterations=500, rtol=1e-12,
                                     generator=torch.Generator().manual_seed(1))
    assert est.converged and not est.shifted
    assert float(est.value) == pytest.approx(10.0, rel=1e-8)
    # The eigenvector too.
    top = torch.linalg.eigh(a).eigenvectors[:, -1]
    assert abs(float(est.vector[0] @ top)) == pytest.approx(1.0, abs=1e-6)


def test_dominant_negative_eigenvalue_does_not_hide_the_largest() -> None:
    # |-20| dominates: plain power iteration would report -20; the largest is 3.
    a = symmetric([-20.0, 3.0, 1.0, -1.0], seed=2)
    est = largest_hessian_eigenvalue(quadratic(a), [torch.zeros(4, dtype=torch.float64)],
                                     iterations=2000, rtol=1e-12,
                                     generator=torch.Generator().manual_seed(0))
    assert float(est.value) == pytest.approx(3.0, rel=1e-6)
    assert est.converged and not est.shifted
    # The same with the shifted power iteration (kept for operators without this structure).
    power = power_iteration(lambda v: [a @ v[0]], [torch.ones(4, dtype=torch.float64)],
                            iterations=2000, rtol=1e-12)
    assert power.shifted and float(power.value) == pytest.approx(3.0, rel=1e-6)


def test_lanczos_finds_the_top_beside_a_far_larger_negative_eigenvalue() -> None:
    """The spectrum of a Sobolev loss on steep simulator gradients: mu = -240 dominates,
    lambda_max = 30 sits just above a bulk up to 25. With the training's budget (30 products,
    rtol 1e-3) the shifted power pass stops near the bulk's shifted top, far below
    lambda_max (a step far too long); Lanczos gets lambda_max."""
    g = torch.Generator().manual_seed(4)
    bulk = (2 * torch.rand(47, generator=g, dtype=torch.float64) - 1).tolist()
    a = symmetric([-240.0, 30.0, 25.0, *bulk], seed=5)
    start = [torch.randn(50, generator=g, dtype=torch.float64)]
    ours = lanczos(lambda v: [a @ v[0]], start, iterations=30, rtol=1e-3)
    assert float(ours.value) == pytest.approx(30.0, rel=1e-3)
    top = torch.linalg.eigh(a).eigenvectors[:, -1]
    assert abs(float(ours.vector[0] @ top)) == pytest.approx(1.0, abs=1e-3)
    power = power_iteration(lambda v: [a @ v[0]], start, iterations=30, rtol=1e-3,
                            generator=torch.Generator().manual_seed(0))
    assert float(power.value) < 0.9 * 30.0


def test_blocks_get_their_own_eigenvalue() -> None:
    spectra = [[4.0, 1.0, 0.5], [0.3, 0.2, 0.1], [50.0, 49.0, -3.0]]
    mats = torch.stack([symmetric(s, seed=i) for i, s in enumerate(spectra)])

    def loss(p):  # sum of independent per-block quadratics
        x = p[0]
        return 0.5 * torch.einsum("bi,bij,bj->", x, mats, x)

    est = largest_hessian_eigenvalue(loss, [torch.zeros(3, 3, dtype=torch.float64)],
                                     block_dims=1, iterations=3000, rtol=1e-12,
                                     generator=torch.Generator().manual_seed(3))
    assert est.value.shape == (3,)
    torch.testing.assert_close(est.value, torch.tensor([4.0, 0.3, 50.0], dtype=torch.float64),
                               rtol=1e-6, atol=0.0)


def test_power_iteration_on_a_plain_matrix() -> None:
    a = symmetric([2.0, -0.5, 0.25], seed=5)
    est = power_iteration(lambda v: [a @ v[0]], [torch.ones(3, dtype=torch.float64)],
                          iterations=1000, rtol=1e-12)
    assert float(est.value) == pytest.approx(2.0, rel=1e-9)


def test_network_loss_matches_the_dense_hessian() -> None:
    """A real (non-quadratic) MLP loss: Hessian-vector power iteration vs eigvalsh of the
    dense Hessian."""
    g = torch.Generator().manual_seed(0)
    u = torch.rand(20, 2, generator=g, dtype=torch.float64)
    z = torch.sin(3 * u[:, :1])
    params = init_parameters(1, 2, 1, 6, 1, seeds=[7])
    shapes = [p.shape for p in params]

    def loss(p):
        return member_losses(list(p), u, z, None, "tanh", 1e-3).sum()

    def flat_loss(v):
        parts, i = [], 0
        for s in shapes:
            n = math.prod(s)
            parts.append(v[i:i + n].reshape(s))
            i += n
        return loss(parts)

    dense = torch.autograd.functional.hessian(flat_loss, torch.cat([p.flatten() for p in params]))
    truth = float(torch.linalg.eigvalsh(dense)[-1])
    est = largest_hessian_eigenvalue(loss, params, iterations=1000, rtol=1e-12,
                                     generator=torch.Generator().manual_seed(0))
    assert float(est.value) == pytest.approx(truth, rel=1e-6)


def test_hessian_vector_product_is_the_hessian_times_v() -> None:
    a = symmetric([3.0, 2.0, 1.0], seed=9)
    x = torch.randn(3, dtype=torch.float64, requires_grad=True)
    loss = 0.5 * x @ a @ x + (x**3).sum()  # H = A + diag(6 x)
    v = torch.randn(3, dtype=torch.float64)
    (hv,) = hessian_vector_product(loss, [x])([v])
    torch.testing.assert_close(hv, (a + torch.diag(6 * x.detach())) @ v)


def test_rate_below_two_over_lambda_is_stable_and_above_is_not() -> None:
    """Gradient descent on the quadratic: the rate from the bound converges, 1.05 x the bound
    diverges."""
    a = symmetric([25.0, 4.0, 1.0, 0.5], seed=4)
    est = largest_hessian_eigenvalue(quadratic(a), [torch.zeros(4, dtype=torch.float64)],
                                     iterations=500, rtol=1e-12,
                                     generator=torch.Generator().manual_seed(0))
    rate = float(stable_learning_rate(est.value, 0.9))
    assert rate < 2.0 / 25.0

    def descend(lr: float) -> float:
        x = torch.ones(4, dtype=torch.float64)
        for _ in range(1000):
            x = x - lr * (a @ x)
        return float(x.norm())

    assert descend(rate) < 1e-6
    assert descend(1.05 * 2.0 / 25.0) > 1e3


def test_stable_learning_rate_rules() -> None:
    rates = stable_learning_rate(torch.tensor([4.0, -1.0, 0.0]), 0.5, max_rate=3.0)
    torch.testing.assert_close(rates, torch.tensor([0.25, 3.0, 3.0]))
    with pytest.raises(ValueError, match="fraction"):
        stable_learning_rate(torch.tensor([1.0]), 1.0)
