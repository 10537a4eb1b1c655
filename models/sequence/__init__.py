r"""Sequence-to-structure science on an exactly solvable lattice-protein model.

A chain of ``L = rows * cols`` residues folds into the compact conformations of a 2D square
``rows x cols`` grid (Hamiltonian paths, one per class of lattice symmetries); its energy is a
sum of letter-pair contact energies over non-bonded lattice neighbours. Everything is exact:

* :func:`compact_conformations` — the conformations, their contacts and contact maps
  (enumerated once per grid and cached on disk);
* :class:`Alphabet` / :func:`get_alphabet` — HP (Lau–Dill; Li et al. 1996) and the 20 amino
  acids with the Miyazawa–Jernigan 1996 contact energies;
* :class:`LatticeOracle` — exact ground state, degeneracy and energy gap of many sequences;
* :func:`designability` — how many sequences fold uniquely into each structure;
* :class:`StructurePredictor` / :class:`BoltzmannPredictor` — soft sequence -> differentiable
  contact map, exact at temperature ``T``; :class:`NeuralPredictor` — a learned one, trained
  on oracle data (:func:`train_neural_predictor`);
* :func:`design_sequences` — batched gradient design of sequences through a predictor, with
  :mod:`restraints <models.sequence.restraints>` added to the loss, every design then checked
  by :func:`verify_designs`; :class:`DecoySet` — the Boltzmann predictor on the conformations
  that compete with a target (large lattices);
* :func:`simulated_annealing` / :func:`random_search` — baselines directly on the oracle.

The ``sequence_design`` strategy is :func:`models.sequence.round.propose` (not imported here:
it depends on the ``sequence`` problem plug-in).

Nothing here touches the disk or builds tensors at import time.
"""

from models.sequence.alphabets import ALPHABETS, Alphabet, get_alphabet
from models.sequence.baselines import SearchResult, random_search, simulated_annealing
from models.sequence.conformations import (
    ConformationSet,
    clear_memory_cache,
    compact_conformations,
    default_cache_dir,
)
from models.sequence.decoys import DecoySet
from models.sequence.design import (
    DesignConfig,
    DesignConfigError,
    DesignResult,
    design_loss,
    design_sequences,
    structure_loss,
)
from models.sequence.designability import (
    Designability,
    all_sequences,
    designability,
    random_sequences,
)
from models.sequence.errors import InvalidConformationError, InvalidSequenceError, LatticeError
from models.sequence.lattice import Lattice
from models.sequence.neural_predictor import (
    NeuralPredictor,
    TrainingReport,
    load_predictor,
    save_predictor,
    train_neural_predictor,
)
from models.sequence.oracle import FoldingResult, LatticeOracle
from models.sequence.predictor import BoltzmannPredictor, StructurePredictor
from models.sequence.restraints import (
    CompositionRestraint,
    ContactRestraint,
    ExposedRestraint,
    LetterRestraint,
    NoContactRestraint,
    Restraint,
    RestraintError,
    parse_restraints,
    restraint_energy,
)
from models.sequence.targets import (
    Target,
    target_from_contacts,
    target_from_index,
    target_from_path,
)
from models.sequence.verify import Verification, verify_designs

__all__ = [
    "ALPHABETS",
    "Alphabet",
    "BoltzmannPredictor",
    "CompositionRestraint",
    "ConformationSet",
    "ContactRestraint",
    "DecoySet",
    "DesignConfig",
    "DesignConfigError",
    "DesignResult",
    "Designability",
    "ExposedRestraint",
    "FoldingResult",
    "InvalidConformationError",
    "InvalidSequenceError",
    "Lattice",
    "LatticeError",
    "LatticeOracle",
    "LetterRestraint",
    "NeuralPredictor",
    "NoContactRestraint",
    "Restraint",
    "RestraintError",
    "SearchResult",
    "StructurePredictor",
    "Target",
    "TrainingReport",
    "Verification",
    "all_sequences",
    "clear_memory_cache",
    "compact_conformations",
    "default_cache_dir",
    "design_loss",
    "design_sequences",
    "designability",
    "get_alphabet",
    "load_predictor",
    "parse_restraints",
    "random_search",
    "random_sequences",
    "restraint_energy",
    "save_predictor",
    "simulated_annealing",
    "structure_loss",
    "target_from_contacts",
    "target_from_index",
    "target_from_path",
    "train_neural_predictor",
    "verify_designs",
]
