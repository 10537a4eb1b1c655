r"""Lipid-nanoparticle formulations for a T-cell vaccine: the spec, torch-free.

A formulation is a particle size (nm), a surface (zeta) potential (mV), a PEG-lipid mole
fraction, a targeting-ligand density (mol % of lipid), a dose (mg/kg) and the molar fractions
of the three structural lipids (ionizable lipid, phospholipid, cholesterol; they sum to 1).
Two outcomes are measured: ``t_cell_activation`` (% of antigen-specific CD8+ T cells
activated; maximise) and ``complement_activation`` (C3a generation relative to a
zymosan positive control, 0..1; must stay ``<= 0.3``: complement activation-related
pseudoallergy is the safety risk of nanoparticles in the clinic).

The in-silico lab (:mod:`models.problems.nanoparticle.problem`, imports torch) has smooth,
documented ground truths with measurement noise: the efficacy saturates in dose while the
complement response keeps rising, positive charge helps uptake but activates complement unless
PEG shields it, and PEG shields at a cost in uptake. The best safe formulation therefore sits
on the complement boundary. Its reference optimum comes from a documented dense search
(:meth:`~models.problems.nanoparticle.problem.NanoparticleProblem.reference_optimum`), so
tests and benchmarks can measure regret.

Options (``problem_options``, checked by :func:`models.problems.nanoparticle.options.validate`):
``noise_scale`` (multiplies the measurement noise sd, default 1; 0 gives the exact truth) and
``seed`` (of the lab's noise, default 0).
"""

from __future__ import annotations

from models.problems.base import ProblemSpec

#: The safety threshold of complement activation (fraction of the positive control).
COMPLEMENT_THRESHOLD = 0.3

SPEC = ProblemSpec(
    key="nanoparticle",
    title="Lipid-nanoparticle formulation (in-silico lab)",
    description="Maximise T-cell activation (%) of a lipid-nanoparticle vaccine over particle "
    "size, zeta potential, PEG fraction, ligand density, dose and the structural-lipid "
    f"composition, subject to complement activation <= {COMPLEMENT_THRESHOLD} (fraction of a "
    "positive control). A simulated lab with measurement noise: dose saturates the efficacy, "
    "charge activates complement unless PEG shields it, and the best safe formulation lies on "
    "the complement boundary.",
    default_space={
        "parameters": [
            {"type": "continuous", "name": "particle_size", "lower": 40.0, "upper": 250.0,
             "log_scale": True, "unit": "nm"},
            {"type": "continuous", "name": "zeta_potential", "lower": -40.0, "upper": 40.0,
             "unit": "mV"},
            {"type": "continuous", "name": "peg_fraction", "lower": 0.0, "upper": 0.1,
             "unit": "mol fraction"},
            {"type": "continuous", "name": "ligand_density", "lower": 0.0, "upper": 2.0,
             "unit": "mol %"},
            {"type": "continuous", "name": "dose", "lower": 0.05, "upper": 5.0,
             "log_scale": True, "unit": "mg/kg"},
        ],
        "compositions": [
            {"name": "lipids", "components": ["ionizable_lipid", "phospholipid", "cholesterol"],
             "total": 1.0},
        ],
    },
    default_objectives=[{"name": "t_cell_activation", "goal": "maximize", "unit": "%"}],
    default_constraints=[{"name": "complement_activation", "op": "<=",
                          "threshold": COMPLEMENT_THRESHOLD}],
    has_simulator=True,
    implementation="models.problems.nanoparticle.problem:NanoparticleProblem",
    options_validator="models.problems.nanoparticle.options:validate",
    design_plot="models.problems.nanoparticle.plot:design_plot",
    strategies=("space_filling", "bayesian"),
)
