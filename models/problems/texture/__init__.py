r"""The surface-texture problem: the spec and its option checks, torch-free.

A textured bearing pad (a slider or one pad of a thrust bearing) faces a runner sliding at
speed :math:`U`; the lubricant film is solved by the Reynolds equation with mass-conserving
(JFO) cavitation (:mod:`models.physics.lubrication`). Find the texture with the least friction
that still carries the required load.

Everything is dimensionless (:mod:`models.physics.lubrication.scaling`): film thicknesses in
units of the minimum film :math:`h_\min` (the reference film :math:`h_\text{ref}`), lengths
in units of the pad length :math:`L`, and the outcomes

* ``load`` :math:`w = W h_\min^2 / (\mu U L^2 B)` (maximise, or keep above a floor);
* ``friction`` :math:`f = F h_\min / (\mu U L B)`, the friction force on the runner;
* ``friction_coefficient`` :math:`f / w = (F / W)(L / h_\min)`: multiply by
  :math:`h_\min / L` for the dimensional :math:`F / W`;
* ``min_film`` :math:`\min h`, the smallest film on the pad (1 by construction: a check).

Two parameterisations, chosen by ``problem_options["profile"]``:

``"dimples"`` (default) — a 2D pad of aspect ratio :math:`B/L` (``width_ratio``) with a plane
inclined base film :math:`h = 1 + K(1 - x)` (``inclination`` :math:`K = h_1/h_2 - 1`, default
1) carrying smooth-cap dimples on a square array from the leading edge: ``dimple_depth``
(units of :math:`h_\min`), ``dimple_radius`` (units of :math:`L`), ``area_density`` (dimpled
fraction of the textured area) and ``textured_fraction`` (fraction of the pad length that is
textured, from the leading edge: partial texturing). Solved on a ``grid`` of
``{"nx": 41, "nz": 21}`` nodes by default: fast enough for campaigns of hundreds of
simulations, but it under-resolves small dimples (on a square pad a dimple of radius 0.04
spans ~3 cells along it and ~2 across). Against an ``{"nx": 81, "nz": 41}`` grid, at depth
3, density 0.6 and fraction 0.95, the default grid's load is 1-3% low for radii of 0.12 to
0.15, 3-11% low for 0.06 to 0.12, and 13-21% low below 0.06; friction differs by at most
~2%. Pass a finer ``grid`` when small dimples matter. Load and friction oscillate along the
radius, with a period of about 0.01, as the dimple rows move across the pad's pressure
field. This is physics, not the grid: both grids put the peaks at the same radii.

``"free_form"`` — a 1D (infinitely wide) pad whose film is a free piecewise-constant profile
of ``nodes`` (32 to 64) cell values ``h_00 ... h_NN`` in :math:`[1, h_\max]` (units of
:math:`h_\min`; the lower bound *is* the minimum film). Solved on ``nodes + 1`` nodes by
default (cell edges on nodes: the finite volumes are then exact for the stepped film).

The default campaign minimises ``friction`` subject to ``load >= load_floor`` (0.06 for the
dimples, whose plain inclined base carries 0.069 on the default grid; 0.15 for the free form,
whose best film, Rayleigh's step, carries 0.2063). :func:`default_space` and
:func:`default_constraints` give the defaults for a campaign's options; :data:`SPEC` holds
those of the default options.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from models.problems.base import ProblemError, ProblemSpec

__all__ = [
    "DIMPLE_BOUNDS",
    "OUTCOMES",
    "SPEC",
    "default_constraints",
    "default_space",
    "free_form_names",
    "validate_options",
]

#: The outcomes every evaluation reports, in this order.
OUTCOMES: tuple[str, ...] = ("load", "friction", "friction_coefficient", "min_film")

#: Parameter -> (lower, upper, unit) of the dimple texture.
DIMPLE_BOUNDS: dict[str, tuple[float, float, str]] = {
    "dimple_depth": (0.1, 3.0, "h_min"),
    "dimple_radius": (0.04, 0.15, "L"),
    "area_density": (0.05, 0.6, "1"),
    "textured_fraction": (0.05, 1.0, "1"),
}

_COMMON_DEFAULTS: dict[str, Any] = {"cavitation": "jfo"}
_PROFILE_DEFAULTS: dict[str, dict[str, Any]] = {
    "dimples": {"inclination": 1.0, "width_ratio": 1.0, "grid": {"nx": 41, "nz": 21},
                "load_floor": 0.06},
    "free_form": {"nodes": 32, "h_max": 3.0, "load_floor": 0.15},
}
_CAVITATION = ("jfo", "reynolds")
_MAX_NX, _MAX_NZ = 801, 201


def free_form_names(nodes: int) -> list[str]:
    """Names of the free-form profile's cell values, leading edge first: ``h_00, h_01, ...``."""
    return [f"h_{k:02d}" for k in range(nodes)]


def validate_options(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check a campaign's ``problem_options`` and fill in the defaults (torch-free).

    Options: ``profile`` (``"dimples"`` | ``"free_form"``), ``cavitation`` (``"jfo"`` |
    ``"reynolds"``), ``load_floor`` (> 0, dimensionless load), ``grid`` (``{"nx", "nz"}`` for
    dimples, ``{"nx"}`` for the free form, ``nx - 1`` a multiple of ``nodes``); dimples only:
    ``inclination`` (:math:`K \\ge 0`), ``width_ratio`` (:math:`B/L > 0`); free form only:
    ``nodes`` (32..64), ``h_max`` (> 1, units of :math:`h_\\min`).

    Raises:
        ProblemError: Naming the first bad or unknown key.

    Example:
        >>> validate_options({"profile": "free_form"})["grid"]
        {'nx': 33}
    """
    given = dict(options or {})
    profile = given.get("profile", "dimples")
    if profile not in _PROFILE_DEFAULTS:
        raise ProblemError(f"texture option 'profile' must be one of "
                           f"{sorted(_PROFILE_DEFAULTS)}, got {profile!r}")
    defaults = {"profile": profile, **_COMMON_DEFAULTS, **_PROFILE_DEFAULTS[profile]}
    for key in given:
        if key not in defaults and key != "grid":
            raise ProblemError(f"texture option {key!r} is not known for profile {profile!r}; "
                               f"known: {sorted(set(defaults) | {'grid'})}")
    out = {**defaults, **{k: v for k, v in given.items() if k != "grid"}}
    if out["cavitation"] not in _CAVITATION:
        raise ProblemError(f"texture option 'cavitation' must be one of {list(_CAVITATION)}, "
                           f"got {out['cavitation']!r}")
    out["load_floor"] = _positive(out, "load_floor")
    if profile == "dimples":
        out["inclination"] = _number(out, "inclination", lower=0.0, upper=10.0)
        out["width_ratio"] = _positive(out, "width_ratio", upper=20.0)
        out["grid"] = _grid(given.get("grid"), {"nx": 41, "nz": 21}, two_d=True)
    else:
        nodes = out["nodes"]
        if isinstance(nodes, bool) or not isinstance(nodes, int) or not 32 <= nodes <= 64:
            raise ProblemError(f"texture option 'nodes' must be an integer in 32..64, "
                               f"got {nodes!r}")
        out["h_max"] = _number(out, "h_max", lower=1.0, upper=100.0, open_lower=True)
        out["grid"] = _grid(given.get("grid"), {"nx": nodes + 1}, two_d=False)
        if (out["grid"]["nx"] - 1) % nodes:
            raise ProblemError(f"texture option 'grid.nx' minus 1 must be a multiple of "
                               f"nodes={nodes} (cell edges on nodes), got {out['grid']['nx']}")
    return out


def default_space(options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The default space (API JSON shape) of a campaign with these ``problem_options``.

    The service should call it with the campaign's validated options when the request gives
    no space (the free form's space depends on ``nodes`` and ``h_max``).

    Example:
        >>> [p["name"] for p in default_space()["parameters"]]
        ['dimple_depth', 'dimple_radius', 'area_density', 'textured_fraction']
    """
    opts = validate_options(options)
    if opts["profile"] == "dimples":
        return {"parameters": [
            {"type": "continuous", "name": name, "lower": lo, "upper": hi, "unit": unit}
            for name, (lo, hi, unit) in DIMPLE_BOUNDS.items()]}
    return {"parameters": [
        {"type": "continuous", "name": name, "lower": 1.0, "upper": float(opts["h_max"]),
         "unit": "h_min"} for name in free_form_names(opts["nodes"])]}


def default_constraints(options: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """The default outcome constraint, ``load >= load_floor``, for these options."""
    opts = validate_options(options)
    return [{"name": "load", "op": ">=", "threshold": float(opts["load_floor"])}]


DEFAULT_OBJECTIVES: list[dict[str, Any]] = [{"name": "friction", "goal": "minimize"}]


def _number(opts: Mapping[str, Any], key: str, *, lower: float, upper: float,
            open_lower: bool = False) -> float:
    value = opts[key]
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (value > lower if open_lower else value >= lower) and value <= upper
    if not ok:
        bracket = "(" if open_lower else "["
        raise ProblemError(f"texture option {key!r} must be a number in "
                           f"{bracket}{lower:g}, {upper:g}], got {value!r}")
    return float(value)


def _positive(opts: Mapping[str, Any], key: str, upper: float = 1e6) -> float:
    return _number(opts, key, lower=0.0, upper=upper, open_lower=True)


def _grid(grid: Any, default: dict[str, int], *, two_d: bool) -> dict[str, int]:
    if grid is None:
        return dict(default)
    if not isinstance(grid, Mapping):
        raise ProblemError(f"texture option 'grid' must be an object like {default}, "
                           f"got {grid!r}")
    allowed = {"nx", "nz"} if two_d else {"nx"}
    for key in grid:
        if key not in allowed:
            raise ProblemError(f"texture option 'grid.{key}' is not known; known: "
                               f"{sorted(allowed)}")
    out = {**default, **grid}
    limits = {"nx": (11, _MAX_NX), "nz": (5, _MAX_NZ)}
    for key, value in out.items():
        lo, hi = limits[key]
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise ProblemError(f"texture option 'grid.{key}' must be an integer in "
                               f"{lo}..{hi}, got {value!r}")
    return {k: int(v) for k, v in out.items()}


SPEC = ProblemSpec(
    key="texture",
    title="Textured bearing pad: least friction at a load floor",
    description=(
        "A textured slider / thrust pad solved by the Reynolds equation with mass-conserving "
        "(JFO) cavitation. Default: a 2D inclined pad (K = h1/h2 - 1 = 1, B/L = 1) with "
        "dimples: dimple_depth (units of the minimum film h_min), dimple_radius (units of the "
        "pad length L), area_density (dimpled fraction of the textured area), "
        "textured_fraction (textured fraction of the pad, from the leading edge). Option "
        "profile='free_form': a 1D profile of 32..64 film values h_NN in [1, h_max] (units of "
        "h_min). Outcomes, dimensionless: load w = W h_min^2/(mu U L^2 B), friction "
        "f = F h_min/(mu U L B), friction_coefficient f/w = (F/W)(L/h_min), min_film (units "
        "of h_min). Minimise friction subject to load >= load_floor."),
    default_space=default_space(),
    default_objectives=DEFAULT_OBJECTIVES,
    default_constraints=default_constraints(),
    has_simulator=True,
    simulator_gradients=True,
    implementation="models.problems.texture.problem:TextureProblem",
    options_validator="models.problems.texture:validate_options",
    default_space_factory="models.problems.texture:default_space",
    default_constraints_factory="models.problems.texture:default_constraints",
    design_plot="models.problems.texture.plot:design_plot",
    strategies=("space_filling", "bayesian", "inverse_design"),
)
