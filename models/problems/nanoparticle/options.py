r"""The nanoparticle lab's ``problem_options``, checked without torch (the API calls this).

* ``noise_scale`` — multiplies the lab's measurement-noise standard deviations (a float
  ``>= 0``; 0 gives the noise-free truth). Default 1.
* ``seed`` — seeds the lab's noise (an integer ``>= 0``). Default 0.
"""

from __future__ import annotations

import math
from typing import Any

from models.problems.base import ProblemError

DEFAULTS: dict[str, Any] = {"noise_scale": 1.0, "seed": 0}


def validate(options: dict[str, Any]) -> dict[str, Any]:
    """The options with defaults filled in.

    Raises:
        ProblemError: An unknown key, or a value of the wrong type or range (named).

    Example:
        >>> validate({"noise_scale": 0.5})
        {'noise_scale': 0.5, 'seed': 0}
    """
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        raise ProblemError(f"nanoparticle: unknown options {unknown}; known: {sorted(DEFAULTS)}")
    out = {**DEFAULTS, **options}
    scale = out["noise_scale"]
    if isinstance(scale, bool) or not isinstance(scale, int | float) \
            or not math.isfinite(scale) or scale < 0:
        raise ProblemError(f"nanoparticle: noise_scale must be a finite number >= 0, got {scale!r}")
    seed = out["seed"]
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ProblemError(f"nanoparticle: seed must be an integer >= 0, got {seed!r}")
    out["noise_scale"] = float(scale)
    return out
