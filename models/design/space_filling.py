r"""Space-filling designs: the first rounds of a campaign, before any model exists.

Points come from one scrambled Sobol stream per campaign seed, decoded by
:meth:`models.space.space.Space.decode`. Linear constraints are met by rejection on that
stream, designs already pending or observed are skipped by their :func:`design_key`, and
``skip`` continues the stream where the previous round stopped, so the union of the rounds
is one low-discrepancy sequence rather than several overlapping ones.
"""

from __future__ import annotations

import math
import random
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from torch.quasirandom import SobolEngine

from models.errors import InfeasibleSpaceError, SpaceExhaustedError
from models.space.keys import design_key
from models.space.space import Space

#: Below this fraction of feasible points (measured on at least ``VERDICT_DRAWS`` points) the
#: linear constraints are taken to leave no usable region.
MIN_ACCEPTANCE_RATE = 1e-4
VERDICT_DRAWS = 2**16
#: The most points one call draws before it gives up looking for new designs.
MAX_DRAWS = 2**22
#: Finite spaces up to this many designs are listed, so that exhaustion is known exactly.
ENUMERATION_LIMIT = 2**16
# Bounds on one chunk of the stream: at least this many points, at most this many numbers.
_MIN_CHUNK = 256
_MAX_CHUNK_NUMBERS = 2**22


@dataclass(frozen=True)
class SpaceFillingResult:
    """The designs of one round, and where the stream stopped.

    Attributes:
        designs: The new designs, in stream order.
        next_skip: Position in the Sobol stream just after the last point used: pass it as
            ``skip`` next round to continue the same sequence.
        acceptance_rate: Fraction of the points drawn in this call that met the linear
            constraints (1.0 when nothing was drawn).
    """

    designs: list[dict[str, Any]]
    next_skip: int
    acceptance_rate: float


def space_filling_designs(
    space: Space,
    count: int,
    *,
    seed: int,
    skip: int = 0,
    exclude: Collection[str] = (),
) -> SpaceFillingResult:
    r"""Draw ``count`` new, distinct, feasible designs from a scrambled Sobol sequence.

    The same ``(space, count, seed, skip, exclude)`` always gives the same designs, and the
    designs of a call with ``skip=r.next_skip`` (excluding ``r``'s designs) are exactly the
    continuation of ``r``: one long call would have returned both, in order.

    Args:
        space: The design space.
        count: How many designs to return (``>= 0``).
        seed: Seed of the Sobol scrambling; keep it fixed for a campaign.
        skip: How many points of the stream earlier rounds used.
        exclude: :func:`design_key`\ s of designs never to return (pending or observed).

    Returns:
        The designs, the stream position to continue from, and the acceptance rate.

    Raises:
        InfeasibleSpaceError: Fewer than ``MIN_ACCEPTANCE_RATE`` of the points meet the linear
            constraints, or an infinite space's feasible region is too small to yield ``count``
            designs in ``MAX_DRAWS`` points (for a finite space small enough to list: no design
            meets them).
        SpaceExhaustedError: A finite space holds fewer than ``count`` feasible designs that
            are not excluded (known exactly up to ``ENUMERATION_LIMIT`` designs, else from the
            stream running dry after ``MAX_DRAWS`` points).

    A finite space small enough to list never fails for want of luck: if the stream stalls,
    the remaining designs are taken from the list in a seeded order.

    Example:
        >>> space = Space.from_dict({"parameters": [
        ...     {"type": "continuous", "name": "x", "lower": 0, "upper": 1},
        ...     {"type": "integer", "name": "n", "lower": 1, "upper": 8}]})
        >>> first = space_filling_designs(space, 4, seed=0)
        >>> len(first.designs), first.next_skip
        (4, 4)
        >>> second = space_filling_designs(space, 4, seed=0, skip=first.next_skip,
        ...                                exclude=[design_key(d) for d in first.designs])
    """
    if count < 0 or skip < 0:
        raise ValueError(f"count and skip must be non-negative, got {count} and {skip}")
    if count == 0:
        return SpaceFillingResult(designs=[], next_skip=skip, acceptance_rate=1.0)
    excluded = set(exclude)
    size = space.cardinality
    listable = size is not None and size <= ENUMERATION_LIMIT
    _check_supply(space, count, excluded)

    stream = _UniformStream(space.dimension, seed=seed, skip=skip)
    chosen: list[dict[str, Any]] = []
    chosen_keys: set[str] = set()
    drawn = accepted = 0
    while drawn < MAX_DRAWS:
        rate = accepted / drawn if drawn else 1.0
        u = stream.draw(_chunk_size(count - len(chosen), rate, space.dimension))
        mask = space.linear_constraint_mask(u)
        rows = mask.nonzero().squeeze(-1).tolist()
        for seen, (row, design) in enumerate(zip(rows, space.decode(u[mask]), strict=True)):
            key = design_key(design)
            if key in excluded or key in chosen_keys:
                continue
            chosen.append(design)
            chosen_keys.add(key)
            if len(chosen) == count:
                used = drawn + row + 1
                return SpaceFillingResult(designs=chosen, next_skip=skip + used,
                                          acceptance_rate=(accepted + seen + 1) / used)
        drawn += u.shape[0]
        accepted += len(rows)
        # A listable space's supply was counted exactly: a low rate there is no verdict.
        if not listable and drawn >= VERDICT_DRAWS and accepted / drawn < MIN_ACCEPTANCE_RATE:
            raise InfeasibleSpaceError(accepted / drawn, drawn)

    rate = accepted / drawn if drawn else 1.0
    if listable:
        # The stream reached the remaining designs too rarely (cells of tiny measure, or a
        # budget of draws spent): finish from the list of the space, in a seeded order.
        rest = [d for d in _supply(space, excluded) if design_key(d) not in chosen_keys]
        random.Random(seed).shuffle(rest)
        chosen.extend(rest[:count - len(chosen)])
        if len(chosen) == count:
            return SpaceFillingResult(designs=chosen, next_skip=skip + drawn,
                                      acceptance_rate=rate)
    message = f"found only {len(chosen)} new designs of the {count} requested in {drawn} draws"
    if size is None:
        # A continuous space never runs out of new designs: its feasible region is too small.
        raise InfeasibleSpaceError(rate, drawn, message + f" (acceptance rate {rate:.3g})")
    raise SpaceExhaustedError(count, len(chosen), message)


def _check_supply(space: Space, count: int, excluded: set[str]) -> None:
    """Fail fast when a finite space cannot supply ``count`` new feasible designs: exactly, by
    listing it, when it is small; by its size alone when it is large."""
    size = space.cardinality
    if size is None or (not space.linear_constraints and size - len(excluded) >= count):
        return  # infinite, or certainly large enough
    if size > ENUMERATION_LIMIT:
        if size < count:
            raise SpaceExhaustedError(count, size)
        return
    available = len(_supply(space, excluded))
    if available < count:
        raise SpaceExhaustedError(count, available)


def _supply(space: Space, excluded: set[str]) -> list[dict[str, Any]]:
    """Every feasible design of a small finite space that is not excluded, in listing order.

    Raises:
        InfeasibleSpaceError: No design of the space meets the linear constraints.
    """
    feasible = [d for d in space.iter_designs() if space.satisfies_linear_constraints(d)]
    if not feasible:
        raise InfeasibleSpaceError(0.0, space.cardinality or 0, "no design of the space meets "
                                   "the linear constraints")
    return [d for d in feasible if design_key(d) not in excluded]


def _chunk_size(needed: int, rate: float, dimension: int) -> int:
    """Points to draw next: about twice what the acceptance rate says is needed, within bounds
    on the chunk's memory."""
    wanted = 2 * needed / max(rate, MIN_ACCEPTANCE_RATE)
    size = max(_MIN_CHUNK, 2 ** math.ceil(math.log2(max(wanted, 1.0))))
    return max(1, min(size, _MAX_CHUNK_NUMBERS // dimension))


class _UniformStream:
    """A reproducible stream of points in ``[0, 1]^d`` that can start at any position.

    Scrambled Sobol up to its 21201 dimensions; beyond that (very long sequences) independent
    uniform points from a seeded generator, fast-forwarded by drawing and discarding.
    """

    def __init__(self, dimension: int, *, seed: int, skip: int) -> None:
        self._dimension = dimension
        self._sobol: SobolEngine | None = None
        if dimension <= SobolEngine.MAXDIM:
            self._sobol = SobolEngine(dimension, scramble=True, seed=seed)
            self._sobol.fast_forward(skip)
        else:
            self._generator = torch.Generator().manual_seed(seed)
            while skip > 0:
                step = min(skip, max(1, _MAX_CHUNK_NUMBERS // dimension))
                self.draw(step)
                skip -= step

    def draw(self, n: int) -> Tensor:
        """The next `n x d` points, in float64."""
        if self._sobol is not None:
            return self._sobol.draw(n, dtype=torch.float64)
        return torch.rand(n, self._dimension, dtype=torch.float64, generator=self._generator)
