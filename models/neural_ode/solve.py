r"""Solve a neural ODE: torchdiffeq adaptive solvers, direct or adjoint gradients, a stiff
fallback, and statistics.

* ``adjoint=False`` backpropagates through the solver's operations (fast, memory grows with
  the number of steps); ``adjoint=True`` solves the adjoint ODE backwards (constant memory,
  about twice the evaluations, gradients accurate to the solver tolerance).
* When the adaptive solver's step size underflows or its step budget runs out (a stiff
  system), :class:`~.errors.StiffSolverError` is raised — or, with ``fallback`` set, the
  solve is repeated with the L-stable implicit :func:`~.implicit.sdirk2` (or a fixed-step
  torchdiffeq method such as ``"rk4"``) and counted in the statistics.
* A model that produces NaN/inf is not stiff: before a failure is called stiffness, the
  parameters, the state where the solver got stuck and the derivative there are checked, and a
  non-finite one raises :class:`~.errors.NonFiniteFieldError` (whatever ``fallback`` says).
  No trajectory with NaN/inf is ever returned, by the adaptive solver or the fallback.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch
from torch import Tensor
from torchdiffeq import odeint, odeint_adjoint

from .errors import NonFiniteFieldError, StiffSolverError
from .field import ODEField
from .implicit import sdirk2

__all__ = ["SolverOptions", "solve"]


@dataclass(frozen=True)
class SolverOptions:
    """How to integrate.

    Attributes:
        method: torchdiffeq method (adaptive: ``"dopri5"``, ``"bosh3"``, ...).
        rtol: Relative tolerance.
        atol: Absolute tolerance.
        adjoint: Adjoint-method gradients instead of direct backpropagation.
        max_steps: Step budget of the adaptive solver per solve.
        fallback: ``None`` (raise), ``"sdirk2"`` or a fixed-step torchdiffeq method.
        fallback_step: Step size of the fallback (time units).
        time_dtype: Precision of time and step size inside the adaptive solver: ``None``
            follows the state (a float32 network steps in float32 time, where
            ``t + dt == t`` once ``dt < 6e-8 t``); ``"float64"`` is torchdiffeq's own default.
    """

    method: str = "dopri5"
    rtol: float = 1e-6
    atol: float = 1e-8
    adjoint: bool = False
    max_steps: int = 100_000
    fallback: str | None = "sdirk2"
    fallback_step: float = 0.05
    time_dtype: str | None = None
    step_size: float | None = None


def _classify(error: AssertionError) -> str | None:
    text = str(error)
    if "underflow in dt" in text:
        return "step-size underflow"
    if "max_num_steps exceeded" in text:
        return "too many steps"
    if "non-finite values in state" in text:
        return "non-finite state"
    return None


def _finite(x: Tensor) -> bool:
    return bool(torch.isfinite(x).all())


def _check_model(field: ODEField, y0: Tensor, t: Tensor, method: str) -> None:
    """Raise :class:`NonFiniteFieldError` if the parameters, the initial state, the state where
    the solver got stuck or the derivative there is NaN/inf (a failure that is not stiffness).
    """
    bad = [name for name, p in field.named_parameters() if not _finite(p.detach())]
    if bad:
        raise NonFiniteFieldError("parameters", method, parameters=bad)
    if not _finite(y0):
        raise NonFiniteFieldError("initial state", method, float(t[0]))
    t_last, y_last = field.last_state or (t[0].detach(), y0.detach())
    if not _finite(y_last):
        raise NonFiniteFieldError("state", method, float(t_last))
    with torch.no_grad():
        derivative = field.rhs(t_last.to(y_last.dtype), y_last)
    if not _finite(derivative) or field.met_non_finite():
        # at the stuck state, or in the (tiny) last steps tried from it: not an overflow of a
        # large trial step, the model's own output
        raise NonFiniteFieldError("derivative", method, float(t_last))


def _check_trajectory(field: ODEField, t: Tensor, states: Tensor, method: str) -> Tensor:
    """``states``, if finite; else :class:`NonFiniteFieldError` (never returned silently)."""
    finite = torch.isfinite(states.detach().reshape(len(t), -1)).all(dim=1)
    if bool(finite.all()):
        return states
    bad = [name for name, p in field.named_parameters() if not _finite(p.detach())]
    first = int((~finite).nonzero()[0, 0])
    raise NonFiniteFieldError("parameters" if bad else "trajectory", method,
                              None if bad else float(t[first]), parameters=bad)


def _adaptive(field: ODEField, y0: Tensor, t: Tensor, options: SolverOptions) -> Tensor:
    integrate = odeint_adjoint if options.adjoint else odeint
    time_dtype = y0.dtype if options.time_dtype is None else getattr(torch, options.time_dtype)
    solver_options: dict[str, object] = {"max_num_steps": options.max_steps,
                                         "dtype": time_dtype}
    if options.step_size is not None:
        solver_options = {"step_size": options.step_size}
    kwargs = {"rtol": options.rtol, "atol": options.atol, "method": options.method,
              "options": solver_options}
    if options.adjoint:
        kwargs["adjoint_options"] = dict(solver_options)
        kwargs["adjoint_params"] = tuple(field.parameters())
    with warnings.catch_warnings():
        # fixed-grid methods take no accept/reject callbacks: their steps are all accepted
        warnings.filterwarnings("ignore", message="Solver .* does not support callbacks")
        result: Tensor = integrate(field, y0, t, **kwargs)  # type: ignore[operator]
    return result


def _fallback(field: ODEField, y0: Tensor, t: Tensor, options: SolverOptions) -> Tensor:
    assert options.fallback is not None
    if options.fallback == "sdirk2":
        return sdirk2(field, y0, t, options.fallback_step)
    result: Tensor = odeint(field, y0, t, method=options.fallback,
                            options={"step_size": options.fallback_step})
    return result


def solve(field: ODEField, y0: Tensor, t: Tensor, options: SolverOptions | None = None
          ) -> Tensor:
    """States `len(t) x *y0.shape` at the increasing times ``t``.

    Raises:
        StiffSolverError: The adaptive solver failed (a stiff system) and no fallback is set.
        NonFiniteFieldError: The model produced NaN/inf (parameters, state, derivative or the
            trajectory of the solver or of the fallback), with or without a fallback.

    Example:
        >>> import torch
        >>> from models.neural_ode.field import ODEField
        >>> class Decay(ODEField):
        ...     def rhs(self, t, y): return -y
        >>> y = solve(Decay(), torch.ones(1, dtype=torch.float64),
        ...           torch.tensor([0.0, 1.0], dtype=torch.float64))
        >>> abs(float(y[-1, 0]) - 0.36787944) < 1e-6
        True
    """
    options = options or SolverOptions()
    field.reset_watch()
    try:
        states = _adaptive(field, y0, t, options)
    except AssertionError as error:
        reason = _classify(error)
        if reason is None:
            raise
        try:
            _check_model(field, y0, t, options.method)
        except NonFiniteFieldError as non_finite:
            raise non_finite from error
        if reason == "non-finite state":     # not seen by the checks: still never stiffness
            raise NonFiniteFieldError("state", options.method) from error
        if options.fallback is None:
            raise StiffSolverError(reason, options.method, str(error)) from error
        field.stats.fallbacks += 1
        states = _fallback(field, y0, t, options)
        return _check_trajectory(field, t, states, f"{options.fallback} fallback")
    finally:
        field.reset_watch()
    return _check_trajectory(field, t, states, options.method)


def solver_device(t: Tensor) -> torch.device:
    """Where a solve runs (the device of its times)."""
    return t.device
