r"""Five-point operators on the interior nodes, and their (differentiable) linear solves.

An operator maps a field :math:`u` of shape `batch x nxi x nzi` to

.. math::

    (S u)_{ij} = c_{ij} u_{ij} + w_{ij} u_{i-1,j} + e_{ij} u_{i+1,j}
                 + s_{ij} u_{i,j-1} + n_{ij} u_{i,j+1},

with neighbours outside the interior taken as zero (they are Dirichlet nodes whose values are
already in the right-hand side). Ordered x-major, the matrix is block tridiagonal: blocks of
one x-column (``nzi`` nodes, tridiagonal in z), coupled to the next column by diagonal blocks.

Solves are plain torch, so autograd differentiates through them:

* small systems (``nxi * nzi <= DENSE_LIMIT``) are assembled densely and solved by LU
  (:func:`torch.linalg.solve`, one system at a time: :func:`solve_each`);
* larger 1D (tridiagonal) systems by parallel cyclic reduction: :math:`\lceil \log_2 n \rceil`
  vectorised elimination sweeps, :math:`O(n \log n)` work and no Python loop over nodes;
* larger 2D systems by block-tridiagonal (block Thomas) elimination: ``nxi`` dense solves of
  ``nzi x nzi`` blocks.

Both eliminations are exact, and stable without pivoting on the matrices met here: M-matrices
or matrices whose Schur complements stay M-matrices (the Reynolds and Elrod–Adams operators
are Z-matrices with nonnegative column sums, connected to a Dirichlet edge).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import torch
from torch import Tensor

DENSE_LIMIT = 400
"""Largest system solved densely. Beyond it cyclic reduction (1D: ~2 ms at any size up to
thousands of nodes, against ~50 ms for a dense LU at 800) and block Thomas (2D: ~12 ms against
~270 ms dense for the 62 x 30 interior of a 64 x 32 grid) are faster; one thread."""


@dataclass(frozen=True)
class Stencil:
    """A batch of five-point operators, coefficients of shape `batch_shape x nxi x nzi`."""

    centre: Tensor
    west: Tensor
    east: Tensor
    south: Tensor
    north: Tensor

    @property
    def shape(self) -> torch.Size:
        return self.centre.shape

    def __add__(self, other: Stencil) -> Stencil:
        return Stencil(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def detach(self) -> Stencil:
        return Stencil(*(getattr(self, f.name).detach() for f in fields(self)))

    def to(self, dtype: torch.dtype) -> Stencil:
        return Stencil(*(getattr(self, f.name).to(dtype) for f in fields(self)))

    def matvec(self, u: Tensor) -> Tensor:
        """:math:`S u` for ``u`` of shape `batch_shape x nxi x nzi`."""
        return (self.centre * u + self.west * shift(u, -1, 0) + self.east * shift(u, 1, 0)
                + self.south * shift(u, -1, 1) + self.north * shift(u, 1, 1))

    def scale_columns(self, s: Tensor) -> Stencil:
        """The operator :math:`S\\,\\mathrm{diag}(s)` (each column times the node's ``s``)."""
        return Stencil(centre=self.centre * s, west=self.west * shift(s, -1, 0),
                       east=self.east * shift(s, 1, 0), south=self.south * shift(s, -1, 1),
                       north=self.north * shift(s, 1, 1))

    def scale_rows(self, s: Tensor) -> Stencil:
        """The operator :math:`\\mathrm{diag}(s)\\,S`."""
        return Stencil(*(getattr(self, f.name) * s for f in fields(self)))

    def plus_diagonal(self, d: Tensor) -> Stencil:
        """:math:`S + \\mathrm{diag}(d)`."""
        return replace(self, centre=self.centre + d)

    def to_dense(self) -> Tensor:
        """The matrix, `batch_shape x n x n` with ``n = nxi * nzi`` in x-major order."""
        *batch, nxi, nzi = self.shape
        n = nxi * nzi
        flat = {f.name: getattr(self, f.name).reshape(*batch, n) for f in fields(self)}
        j = torch.arange(n) % nzi
        north = flat["north"] * (j < nzi - 1)
        south = flat["south"] * (j > 0)
        matrix = torch.diag_embed(flat["centre"])
        if n > 1:
            matrix = (matrix + torch.diag_embed(north[..., :-1], offset=1)
                      + torch.diag_embed(south[..., 1:], offset=-1))
        if nxi > 1:
            matrix = (matrix + torch.diag_embed(flat["east"][..., : n - nzi], offset=nzi)
                      + torch.diag_embed(flat["west"][..., nzi:], offset=-nzi))
        return matrix

    def solve(self, rhs: Tensor) -> Tensor:
        """:math:`S^{-1} r` for ``rhs`` of shape `batch_shape x nxi x nzi`, differentiable."""
        *_, nxi, nzi = self.shape
        if nxi * nzi <= DENSE_LIMIT:
            return self._solve_dense(rhs)
        if nzi == 1:
            return self._solve_cyclic_reduction(rhs)
        return self._solve_block_thomas(rhs)

    def _solve_cyclic_reduction(self, rhs: Tensor) -> Tensor:
        shape = torch.broadcast_shapes(self.shape, rhs.shape)
        a, b, c, d = (torch.broadcast_to(t, shape)[..., 0]
                      for t in (self.west, self.centre, self.east, rhs))
        n = shape[-2]
        a = torch.cat([torch.zeros_like(a[..., :1]), a[..., 1:]], dim=-1)
        c = torch.cat([c[..., :-1], torch.zeros_like(c[..., :1])], dim=-1)
        step = 1
        while step < n:
            am, bm, cm, dm = (_pad_shift(t, -step, fill) for t, fill in
                              ((a, 0.0), (b, 1.0), (c, 0.0), (d, 0.0)))
            ap, bp, cp, dp = (_pad_shift(t, step, fill) for t, fill in
                              ((a, 0.0), (b, 1.0), (c, 0.0), (d, 0.0)))
            alpha, gamma = -a / bm, -c / bp
            a, c = alpha * am, gamma * cp
            b = b + alpha * cm + gamma * ap
            d = d + alpha * dm + gamma * dp
            step *= 2
        return (d / b)[..., None]

    def _solve_dense(self, rhs: Tensor) -> Tensor:
        shape = torch.broadcast_shapes(self.shape, rhs.shape)
        matrix = self.to_dense()
        r = torch.broadcast_to(rhs, shape).reshape(*shape[:-2], -1, 1)
        return solve_each(matrix, r).reshape(shape)

    def _solve_block_thomas(self, rhs: Tensor) -> Tensor:
        shape = torch.broadcast_shapes(self.shape, rhs.shape)
        c, w, e, s, nn = (torch.broadcast_to(getattr(self, f.name), shape) for f in fields(self))
        r = torch.broadcast_to(rhs, shape)
        blocks = _tridiagonal(s[..., 1:], c, nn[..., :-1])  # batch x nxi x nzi x nzi
        uppers = torch.diag_embed(e)
        ratios: list[Tensor] = []  # D'_i^{-1} diag(e_i)
        partial: list[Tensor] = []  # D'_i^{-1} (r_i - w_i * y_{i-1})
        for i in range(shape[-2]):
            block, y = blocks[..., i, :, :], r[..., i, :]
            if i > 0:
                block = block - w[..., i, :, None] * ratios[-1]
                y = y - w[..., i, :] * partial[-1]
            sol = torch.linalg.solve(block, torch.cat([uppers[..., i, :, :], y[..., None]], -1))
            ratios.append(sol[..., :-1])
            partial.append(sol[..., -1])
        out = [partial[-1]]
        for i in range(shape[-2] - 2, -1, -1):
            out.append(partial[i] - (ratios[i] @ out[-1][..., None])[..., 0])
        return torch.stack(out[::-1], dim=-2)


def solve_each(matrix: Tensor, rhs: Tensor) -> Tensor:
    """``torch.linalg.solve`` one matrix at a time over the batch dimensions.

    Why not one batched call: with torch 2.13's CPU build (MKL), once a process has called
    ``torch.set_num_threads(n)`` with ``n > 1`` (a worker or a test restoring its thread
    count), a batched LU solve of matrices of a couple of hundred rows fails ("Pivots given to
    lu_solve must all be greater or equal to 1"; MKL: "Parameter 6 was incorrect on entry to
    DLASWP"), while single solves are right; and the loop is no slower (8 systems of 231
    unknowns: 7.1 ms against 7.9 ms batched, one thread).
    """
    if matrix.dim() == 2:
        return torch.linalg.solve(matrix, rhs)
    batch = torch.broadcast_shapes(matrix.shape[:-2], rhs.shape[:-2])
    A = torch.broadcast_to(matrix, (*batch, *matrix.shape[-2:])).reshape(-1, *matrix.shape[-2:])
    b = torch.broadcast_to(rhs, (*batch, *rhs.shape[-2:])).reshape(-1, *rhs.shape[-2:])
    solved = [torch.linalg.solve(a, c) for a, c in zip(A, b, strict=True)]
    if not solved:
        return rhs.new_zeros(*batch, *rhs.shape[-2:])
    return torch.stack(solved).reshape(*batch, *rhs.shape[-2:])


def shift(u: Tensor, step: int, axis: int) -> Tensor:
    """``v[i] = u[i + step]`` along the x (``axis=0``) or z (``axis=1``) interior axis, zero
    where ``i + step`` falls outside."""
    dim = -2 if axis == 0 else -1
    n = u.shape[dim]
    if n <= abs(step):
        return torch.zeros_like(u)
    zeros = torch.zeros_like(u.narrow(dim, 0, abs(step)))
    if step > 0:
        return torch.cat([u.narrow(dim, step, n - step), zeros], dim=dim)
    return torch.cat([zeros, u.narrow(dim, 0, n + step)], dim=dim)


def _pad_shift(t: Tensor, step: int, fill: float) -> Tensor:
    """``v[i] = t[i + step]`` along the last axis, ``fill`` outside."""
    n = t.shape[-1]
    pad = torch.full_like(t[..., : min(abs(step), n)], fill)
    if abs(step) >= n:
        return torch.full_like(t, fill)
    if step > 0:
        return torch.cat([t[..., step:], pad], dim=-1)
    return torch.cat([pad, t[..., : n + step]], dim=-1)


def _tridiagonal(sub: Tensor, diag: Tensor, sup: Tensor) -> Tensor:
    matrix = torch.diag_embed(diag)
    if diag.shape[-1] > 1:
        matrix = matrix + torch.diag_embed(sub, offset=-1) + torch.diag_embed(sup, offset=1)
    return matrix
