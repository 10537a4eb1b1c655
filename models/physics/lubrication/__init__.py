"""A differentiable hydrodynamic lubrication simulator for textured sliders and thrust pads.

Steady, incompressible, isoviscous Reynolds equation, 1D (infinitely wide pad) or 2D, by
conservative finite volumes on a node grid, with three cavitation laws (none, the Reynolds
condition as an LCP, mass-conserving JFO / Elrod–Adams), written in torch so that load,
friction and pressure are differentiable w.r.t. the film's design parameters.

Modules, one concept each: :mod:`.scaling` (the dimensionless form and SI units),
:mod:`.grid`, :mod:`.film` (link-averaged film coefficients), :mod:`.stencil` (five-point
operators and their solves), :mod:`.reynolds` (the discrete equation), :mod:`.cavitation`,
:mod:`.outputs`, :mod:`.solver`, :mod:`.textures`, :mod:`.analytic` (closed forms).

Example:
    >>> import torch
    >>> from models.physics.lubrication import Grid, RayleighStep, simulate
    >>> sol = simulate(RayleighStep(1.866, 0.718), Grid.line(501))
    >>> round(float(sol.load), 4)
    0.2063
"""

from .cavitation import (
    CAVITATION_MODELS,
    CavitationConvergenceError,
    CavitationModel,
    ElrodAdams,
    FullSommerfeld,
    ReynoldsCondition,
    get_cavitation_model,
)
from .film import Film, Texture, sample_film
from .grid import Grid
from .scaling import BearingScales
from .solver import LubricationSolution, simulate, solve_film
from .textures import (
    DimpleTexture,
    FreeFormProfile,
    GrooveTexture,
    InclinedPad,
    RayleighStep,
)

__all__ = [
    "CAVITATION_MODELS",
    "BearingScales",
    "CavitationConvergenceError",
    "CavitationModel",
    "DimpleTexture",
    "ElrodAdams",
    "Film",
    "FreeFormProfile",
    "FullSommerfeld",
    "Grid",
    "GrooveTexture",
    "InclinedPad",
    "LubricationSolution",
    "RayleighStep",
    "ReynoldsCondition",
    "Texture",
    "get_cavitation_model",
    "sample_film",
    "simulate",
    "solve_film",
]
