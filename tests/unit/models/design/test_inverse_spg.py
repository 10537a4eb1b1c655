"""The batched projected-gradient solver on box-constrained quadratics with known solutions."""

from __future__ import annotations

import itertools

import torch

from models.design.inverse_spg import projected_gradient_norm, spg_minimize

F64 = torch.float64


def test_each_row_solves_its_own_box_constrained_quadratic() -> None:
    # phi_i(u) = 0.5 (u - c_i)^T A (u - c_i) with an ill-conditioned A: the solution of row i
    # is the box projection only when A is diagonal; use a diagonal A to know it exactly.
    g = torch.Generator().manual_seed(0)
    n, d = 16, 5
    targets = 2.0 * torch.rand(n, d, generator=g, dtype=F64) - 0.5  # some outside [0, 1]
    scales = torch.logspace(0, 3, d, dtype=F64)  # condition number 1000

    def fun(u):
        return 0.5 * (scales * (u - targets) ** 2).sum(-1)

    res = spg_minimize(fun, torch.rand(n, d, generator=g, dtype=F64), max_iter=500, tol=1e-10)
    assert bool(res.converged.all())
    torch.testing.assert_close(res.u, targets.clamp(0.0, 1.0), atol=1e-9, rtol=0)
    assert bool((projected_gradient_norm(res.u, res.grad) <= 1e-10).all())


def test_rows_do_not_wait_for_each_other_to_move() -> None:
    # Row 0 starts at its optimum, row 1 far away: row 0 never moves.
    target = torch.tensor([[0.25, 0.75], [0.6, 0.1]], dtype=F64)
    start = torch.tensor([[0.25, 0.75], [1.0, 1.0]], dtype=F64)
    res = spg_minimize(lambda u: ((u - target) ** 2).sum(-1), start, tol=1e-12)
    assert torch.equal(res.u[0], start[0])
    torch.testing.assert_close(res.u[1], target[1], atol=1e-10, rtol=0)


def test_max_step_bounds_every_move() -> None:
    seen: list[torch.Tensor] = []

    def fun(u):
        seen.append(u.detach().clone())
        return ((u - 1.0) ** 2).sum(-1)

    res = spg_minimize(fun, torch.zeros(1, 3, dtype=F64), max_step=0.1, tol=1e-12,
                       max_iter=100)
    moves = torch.stack([b - a for a, b in itertools.pairwise(seen)])
    assert float(moves.abs().max()) <= 0.1 + 1e-15
    torch.testing.assert_close(res.u, torch.ones(1, 3, dtype=F64))


def test_non_finite_trial_points_are_rejected() -> None:
    # The merit is NaN beyond 0.8: the line search backs off and the solver stops at 0.8's
    # side of it, never returning a NaN value.
    def fun(u):
        value = -u.sum(-1)
        return torch.where(u.sum(-1) > 0.8, torch.full_like(value, float("nan")), value)

    res = spg_minimize(fun, torch.zeros(2, 1, dtype=F64), max_iter=100)
    assert bool(torch.isfinite(res.value).all())
    assert bool((res.u <= 0.8).all())
