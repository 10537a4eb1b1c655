r"""Errors of gradient inverse design (:mod:`models.design.inverse`), with their numbers.

They are :class:`models.errors.ScienceError` subclasses, so a worker stores them on a failed
job with their ``details``.
"""

from __future__ import annotations

from models.errors import ScienceError


class InverseDesignError(ScienceError):
    r"""The model handed to inverse design cannot be optimised as asked.

    Raised for a ``predict`` that returns the wrong shapes, NaN/inf at the starting designs,
    or outputs that do not depend differentiably on the design.

    Args:
        message: What is wrong, for a person.
        details: E.g. ``{"expected_shape": [32, 2], "shape": [32]}`` or
            ``{"non_finite_starts": 3}``.
    """
