r"""Errors of the lattice-protein science, each carrying the numbers that explain it.

They are :class:`models.errors.ScienceError` subclasses, so a worker or the API reports them
with their ``details`` like any other science error.
"""

from __future__ import annotations

from models.errors import ScienceError


class LatticeError(ScienceError):
    r"""A lattice that cannot be used (too small, too large to enumerate, malformed data).

    Args:
        message: What is wrong with the lattice, for a person.
        details: E.g. ``{"rows": 7, "cols": 7, "max_sites": 36}``.
    """


class InvalidSequenceError(ScienceError):
    r"""A sequence that does not fit the lattice or the alphabet.

    Args:
        message: What is wrong, for a person.
        details: E.g. ``{"expected_length": 25, "length": 24}`` or ``{"unknown_letters": ["X"]}``.
    """


class InvalidConformationError(ScienceError):
    r"""A conformation (a path on the lattice) that is not one of the compact conformations.

    Args:
        message: What is wrong, for a person.
        details: E.g. ``{"length": 16, "reason": "steps 3 -> 4 are not lattice neighbours"}``.
    """

