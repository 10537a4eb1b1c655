r"""The errors of Bayesian optimisation, each a :class:`models.errors.ScienceError`.

A worker stores them on the failed job with their ``details``; the API maps each type to a
status code in its one handler table. None of them is raised for a programming mistake (those
stay ``ValueError`` / ``TypeError``): each means the *data or the request* cannot be served.
"""

from __future__ import annotations

from models.errors import ScienceError


class BOError(ScienceError):
    r"""Base of the Bayesian-optimisation errors."""


class BadObservationError(BOError):
    r"""An observation that cannot enter a model: a missing parameter, a value outside the
    space, an unknown label, a non-finite outcome.

    Args:
        message: What is wrong, for a person.
        details: E.g. ``{"observation": 3, "outcome": "yield", "value": "nan"}``.
    """


class UnsupportedSpaceError(BOError):
    r"""A space the optimiser cannot search as declared (e.g. a linear constraint on a
    log-scale parameter, which is not linear in the model's inputs).

    Args:
        message: What is unsupported, for a person.
        details: E.g. ``{"parameter": "dose", "reason": "log scale in a linear constraint"}``.
    """


class NotEnoughDataError(BOError):
    r"""Too few usable observations to fit a model of an outcome.

    Args:
        message: What is missing, for a person.
        details: E.g. ``{"outcome": "yield", "observations": 1, "required": 2}``.
    """


class ModelFitError(BOError):
    r"""Fitting a surrogate failed for numerical reasons even after the fallbacks.

    Args:
        message: What failed, for a person.
        details: E.g. ``{"outcome": "yield", "error": "NotPSDError: ..."}``.
    """


class NoSafeDesignError(BOError):
    r"""With a risk level set, no design found meets ``P(constraint met) >= 1 - alpha``.

    Args:
        message: What was asked and what was found, for a person.
        details: E.g. ``{"required": 0.95, "best_probability": 0.71, "candidates": 4096}``.
    """


class InfeasibleRequestError(BOError):
    r"""The request leaves no design to suggest: fixed features that break a linear
    constraint or a composition sum, or no new feasible design left to propose.

    Args:
        message: What conflicts, for a person.
        details: E.g. ``{"constraint": 0, "violation": 0.2}``.
    """
