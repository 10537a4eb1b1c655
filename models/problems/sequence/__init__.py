"""The ``sequence`` problem: sequence-to-structure inverse design on a lattice protein, torch-free.

A campaign names a target structure (a compact conformation of a ``rows x cols`` grid, by
index, path or contact map), an alphabet (HP or the 20 amino acids with Miyazawa-Jernigan
energies) and optional restraints (:mod:`models.problems.sequence.options`). Designs are
strings of the ``sequence`` parameter; the simulator is the exact lattice oracle, so every
outcome is exact:

* ``target_gap`` (maximise, the default objective): the target's energy margin, in the
  alphabet's unit — the gap to the next level when the target is the unique ground state
  (``> 0``), else ``E_ground - E_target <= 0``;
* ``success``: 1 when the target is the unique ground state, else 0;
* ``contact_overlap``: fraction of the target's contacts in the ground state;
* ``energy_gap``: the ground state's gap to the next level (0 when every conformation ties);
* ``degeneracy``: number of ground states; ``restraints_met``: fraction of restraints met.

The space depends on the options (length ``rows * cols``, the alphabet's letters): the
service builds it with :func:`default_space` (``SPEC.default_space`` is the one of the default
options, a 4 x 4 HP chain).
"""

from __future__ import annotations

from models.problems.base import ProblemSpec
from models.problems.sequence.options import default_space, validate_options

__all__ = ["SPEC", "default_space", "validate_options"]

SPEC = ProblemSpec(
    key="sequence",
    title="Sequence-to-structure design on a lattice protein",
    description="Find sequences whose unique ground state is a target compact conformation "
    "of a 2D lattice protein (HP or Miyazawa-Jernigan contact energies). The exact folding "
    "oracle is the simulator; the sequence_design strategy designs by gradient descent "
    "through a differentiable structure predictor and verifies every design with the oracle.",
    default_space=default_space(validate_options({})),
    default_objectives=[{"name": "target_gap", "goal": "maximize"}],
    has_simulator=True,
    implementation="models.problems.sequence.problem:SequenceProblem",
    options_validator="models.problems.sequence.options:validate_options",
    default_space_factory="models.problems.sequence.options:default_space",
    design_plot="models.problems.sequence.plot:design_plot",
    strategies=("space_filling", "sequence_design"),
)
