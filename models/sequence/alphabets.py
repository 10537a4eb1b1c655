r"""Alphabets of residue types and their pairwise contact energies.

The energy of a sequence ``s`` in a conformation is the sum over its contacts ``(i, j)`` of
``energies[s_i, s_j]``. Energies are in the alphabet's own unit (:attr:`Alphabet.units`), and
temperatures used with an alphabet are in the same unit (Boltzmann's constant is 1).

Built-in alphabets (:data:`ALPHABETS`, looked up with :func:`get_alphabet`):

* ``"hp"`` — the two-letter HP model of Lau & Dill (*Macromolecules* 22:3986, 1989):
  ``E_HH = -1``, ``E_HP = E_PP = 0``; energy unit ``|E_HH|``.
* ``"hp_li1996"`` — the HP energies of Li, Helling, Tang & Wingreen (*Science* 273:666, 1996):
  ``E_HH = -2.3``, ``E_HP = -1``, ``E_PP = 0``, chosen so that H residues are buried and
  unlike residues segregate (``2 E_HP > E_HH + E_PP``); same dimensionless unit.
* ``"mj1996"`` — the 20 amino acids with the Miyazawa–Jernigan (1996) contact energies
  ``e_ij`` (Table 3), in units of ``RT``; letters in alphabetical one-letter order
  ``ACDEFGHIKLMNPQRSTVWY`` (see :mod:`models.sequence.mj1996`).

Every built-in energy is a multiple of its :attr:`Alphabet.resolution` (1, 0.1 and 0.01), which
lets the oracle add energies exactly (see :mod:`models.sequence.oracle`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from models.errors import ScienceError
from models.sequence import mj1996
from models.sequence.errors import InvalidSequenceError


@dataclass(frozen=True, eq=False)
class Alphabet:
    r"""Residue letters and their symmetric contact-energy matrix.

    Args:
        name: Registry key, e.g. ``"hp"``.
        letters: One character per residue type, in index order.
        energies: `A x A` symmetric contact energies, ``float64``, in :attr:`units`.
        units: The energy unit, e.g. ``"RT"``.
        reference: Where the numbers come from.
        resolution: A grid every energy lies on (e.g. ``0.01``), or ``None``; when given, sums
            of energies are computed exactly in integer multiples of it.

    Example:
        >>> hp = get_alphabet("hp")
        >>> hp.encode(["HPPH"]).tolist(), hp.decode(torch.tensor([[1, 0]]))
        ([[0, 1, 1, 0]], ['PH'])
    """

    name: str
    letters: str
    energies: Tensor
    units: str
    reference: str
    resolution: float | None = None

    def __post_init__(self) -> None:
        size = len(self.letters)
        if len(set(self.letters)) != size or size < 1:
            raise ScienceError(f"alphabet {self.name!r} has repeated or no letters",
                               {"letters": self.letters})
        energies = torch.as_tensor(self.energies, dtype=torch.float64)
        if energies.shape != (size, size) or not torch.equal(energies, energies.T):
            raise ScienceError(f"alphabet {self.name!r} needs a symmetric {size} x {size} "
                               f"energy matrix", {"shape": list(energies.shape)})
        object.__setattr__(self, "energies", energies)
        if self.resolution is not None:
            _check_on_grid(self.name, energies, self.resolution)

    @property
    def size(self) -> int:
        """Number of letters ``A``."""
        return len(self.letters)

    def encode(self, sequences: str | Sequence[str]) -> Tensor:
        r"""Letter indices of one or more equally long sequences.

        Args:
            sequences: A string, or a list of strings of one length.

        Returns:
            `batch x L` ``long`` indices (``batch = 1`` for a single string).

        Raises:
            InvalidSequenceError: On an unknown letter or unequal lengths.
        """
        batch = [sequences] if isinstance(sequences, str) else list(sequences)
        lengths = sorted({len(sequence) for sequence in batch})
        if len(lengths) > 1:
            raise InvalidSequenceError("sequences of one batch must have one length",
                                       {"lengths": lengths})
        unknown = sorted({letter for seq in batch for letter in seq} - set(self.letters))
        if unknown:
            raise InvalidSequenceError(
                f"letters {unknown} are not in alphabet {self.name!r} ({self.letters})",
                {"unknown_letters": unknown, "alphabet": self.name})
        index = {letter: k for k, letter in enumerate(self.letters)}
        rows = [[index[letter] for letter in sequence] for sequence in batch]
        return torch.tensor(rows, dtype=torch.long).reshape(len(batch), -1)

    def decode(self, indices: Tensor) -> list[str]:
        r"""Strings of `batch x L` letter indices."""
        return ["".join(self.letters[k] for k in row) for row in indices.reshape(
            -1, indices.shape[-1]).tolist()]

    def energy(self, first: str, second: str) -> float:
        """The contact energy of two letters, in :attr:`units`."""
        index = self.encode([first + second])[0]
        return float(self.energies[index[0], index[1]])


def _check_on_grid(name: str, energies: Tensor, resolution: float) -> None:
    steps = energies / resolution
    if resolution <= 0 or (steps - steps.round()).abs().max() > 1e-9:
        raise ScienceError(f"alphabet {name!r}: energies are not multiples of {resolution}",
                           {"resolution": resolution})


def hp() -> Alphabet:
    """The Lau–Dill HP model: ``E_HH = -1``, all else 0 (letters ``H``, ``P``)."""
    return Alphabet("hp", "HP", _matrix([[-1.0, 0.0], [0.0, 0.0]]), units="|E_HH|",
                    reference="K. F. Lau and K. A. Dill, Macromolecules 22:3986 (1989)",
                    resolution=1.0)


def hp_li1996() -> Alphabet:
    """Li et al.'s HP energies: ``E_HH = -2.3``, ``E_HP = -1``, ``E_PP = 0``."""
    return Alphabet("hp_li1996", "HP", _matrix([[-2.3, -1.0], [-1.0, 0.0]]),
                    units="dimensionless (Li et al. 1996)",
                    reference="H. Li, R. Helling, C. Tang and N. Wingreen, Science 273:666 "
                              "(1996)", resolution=0.1)


def _matrix(rows: list[list[float]]) -> Tensor:
    return torch.tensor(rows, dtype=torch.float64)


def mj1996_alphabet() -> Alphabet:
    """The 20 amino acids with the Miyazawa–Jernigan (1996) ``e_ij``, letters alphabetical."""
    published = torch.zeros(20, 20, dtype=torch.float64)
    for row, values in enumerate(mj1996.UPPER_TRIANGLE):
        published[row, row:] = torch.tensor(values, dtype=torch.float64)
    published = torch.triu(published) + torch.triu(published, diagonal=1).T
    letters = "".join(sorted(mj1996.ORDER))
    order = torch.tensor([mj1996.ORDER.index(letter) for letter in letters])
    return Alphabet("mj1996", letters, published[order][:, order], units="RT",
                    reference=mj1996.CITATION, resolution=0.01)


#: Built-in alphabets by registry key.
ALPHABETS: dict[str, Callable[[], Alphabet]] = {
    "hp": hp,
    "hp_li1996": hp_li1996,
    "mj1996": mj1996_alphabet,
}


def get_alphabet(name: str) -> Alphabet:
    """The built-in alphabet registered under ``name``.

    Raises:
        ScienceError: If no alphabet has that name (the known names are in ``details``).
    """
    try:
        return ALPHABETS[name]()
    except KeyError:
        raise ScienceError(f"unknown alphabet {name!r}; known: {sorted(ALPHABETS)}",
                           {"alphabet": name, "known": sorted(ALPHABETS)}) from None
