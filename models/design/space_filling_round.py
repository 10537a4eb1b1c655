r"""The ``space_filling`` strategy: each round continues one scrambled Sobol stream.

The stream position lives in the round state (``sobol_skip``), so the union of all rounds is
one low-discrepancy sequence (see :mod:`models.design.space_filling`). Strategies that start
with space filling (Bayesian optimisation, inverse design) call :func:`space_filling_round`
with their own state, so they continue the same stream.
"""

from __future__ import annotations

from models.design.rounds import ProposedDesign, RoundRequest, RoundResult
from models.design.space_filling import space_filling_designs

STATE_KEY = "sobol_skip"


def space_filling_round(request: RoundRequest, count: int | None = None) -> RoundResult:
    """``count`` (default ``request.count``) new Sobol designs, skipping taken ones.

    Returns:
        The designs (predictions carry nothing: no model has seen data), the state with the
        stream position, and the acceptance rate of the linear constraints in ``info``.
    """
    result = space_filling_designs(
        request.space, request.count if count is None else count, seed=request.seed,
        skip=int(request.state.get(STATE_KEY, 0)), exclude=request.taken)
    return RoundResult(
        designs=[ProposedDesign(parameters=d) for d in result.designs],
        state={**request.state, STATE_KEY: result.next_skip},
        info={"acceptance_rate": result.acceptance_rate, "phase": "space_filling"})


def propose(request: RoundRequest) -> RoundResult:
    """The ``space_filling`` strategy's round."""
    return space_filling_round(request)
