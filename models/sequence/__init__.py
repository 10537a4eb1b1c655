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
  contact map, exact at temperature ``T``.

Nothing here touches the disk or builds tensors at import time.
"""

from models.sequence.alphabets import ALPHABETS, Alphabet, get_alphabet
from models.sequence.conformations import (
    ConformationSet,
    clear_memory_cache,
    compact_conformations,
    default_cache_dir,
)
from models.sequence.designability import (
    Designability,
    all_sequences,
    designability,
    random_sequences,
)
from models.sequence.errors import InvalidConformationError, InvalidSequenceError, LatticeError
from models.sequence.lattice import Lattice
from models.sequence.oracle import FoldingResult, LatticeOracle
from models.sequence.predictor import BoltzmannPredictor, StructurePredictor

__all__ = [
    "ALPHABETS",
    "Alphabet",
    "BoltzmannPredictor",
    "ConformationSet",
    "Designability",
    "FoldingResult",
    "InvalidConformationError",
    "InvalidSequenceError",
    "Lattice",
    "LatticeError",
    "LatticeOracle",
    "StructurePredictor",
    "all_sequences",
    "clear_memory_cache",
    "compact_conformations",
    "default_cache_dir",
    "designability",
    "get_alphabet",
    "random_sequences",
]
