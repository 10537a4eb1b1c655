r"""Floating point that is the same on every machine with AVX2: MKL's code path pinned.

torch's CPU build does its linear algebra (the Cholesky factors of every GP fit and
acquisition evaluation, matrix products) in Intel MKL, which by default picks the fastest code
path for the processor it finds: AVX-512, AVX2, SSE4.2, each rounding differently in the last
bits. Bayesian optimisation amplifies last-bit differences: the acquisition's optimiser stops
at a slightly different point, the next round fits slightly different data, and within a few
rounds the campaigns have parted. Measured here (``benchmarks/bayesopt_ablation.py --variants
default --seeds 2``, the same code and seeds, MKL's automatic path restricted with
``MKL_ENABLE_INSTRUCTIONS``): constrained Hartmann6's final regrets were 0.30 / 0.67 on this
machine's AVX-512 path, 0.74 / 0.75 on its AVX2 path and 0.68 / 1.49 on the compatible path; a
single suggestion (10 observations, ``q = 2``) already differed in its second design's second
decimal. So without a pinned path a stored suggestion's "seed and data hash replay it exactly"
held only on the processor that made it, and a benchmark's per-seed figures could not be
reproduced on another machine (the BO benchmark's committed ones were not, on the next
session's machine).

MKL's *conditional numerical reproducibility* fixes the path: with ``MKL_CBWR=AVX2`` it runs
its AVX2 kernels on every processor that has AVX2 (Intel since 2013, AMD since 2015), whatever
else the processor supports, and the results are the same bits (checked: this AVX-512 machine
and the same machine restricted to AVX2 give identical suggestions,
``tests/unit/models/test_numerics.py``). A processor without AVX2 falls back to another path
and its own bits. ``COMPATIBLE`` (SSE2 kernels everywhere) would cover those too, but it
doubles the cost of the neural networks' float32 products: training a 3-layer, 64-wide network
on 2000 points (forward, input gradient, backward; one thread) took 0.40 s on the automatic
path, 0.55 s on AVX2 and 0.97 s on the compatible path (medians of 3 runs); a GP's Cholesky
factor of 60 points cost the same on all three. MKL reads the variable at its first call, not
when torch is imported, so it is set when :mod:`models` is imported (:func:`pin_mkl_code_path`,
called from ``models/__init__``), before anything computes; an explicit ``MKL_CBWR`` in the
environment wins (``AUTO`` for the fastest path where bit-for-bit replay elsewhere does not
matter).

What it does not fix: a different torch, BoTorch or MKL version, another thread count (MKL's
reductions split by thread), or a GPU. :func:`numerics` lists these so a stored round records
what its replay needs.
"""

from __future__ import annotations

import os
from typing import Any

#: The MKL code path every designloop process uses unless its environment sets another.
MKL_CODE_PATH = "AVX2"
#: The environment variable MKL reads (Conditional Numerical Reproducibility, "CBWR").
MKL_ENV = "MKL_CBWR"


def pin_mkl_code_path() -> str:
    """Pin MKL's code path (unless the environment already chose one); the path in force.

    Must run before the process's first MKL call (any torch linear algebra) to take effect:
    MKL reads ``MKL_CBWR`` once, at its first call.
    """
    return os.environ.setdefault(MKL_ENV, MKL_CODE_PATH)


def numerics() -> dict[str, Any]:
    """What a bit-for-bit replay of a computation on the CPU depends on, beyond its inputs and
    seed: library versions, MKL's code path and torch's thread count."""
    import botorch
    import gpytorch
    import torch

    return {"torch": torch.__version__, "botorch": botorch.__version__,
            "gpytorch": gpytorch.__version__, "mkl_cbwr": os.environ.get(MKL_ENV),
            "torch_threads": torch.get_num_threads()}
