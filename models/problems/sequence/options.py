r"""Torch-free checks of a ``sequence`` campaign's ``problem_options`` (the API runs these).

Options (defaults filled in by :func:`validate_options`)::

    {
      "rows": 4, "cols": 4,          # the compact grid; the chain has rows * cols residues
      "alphabet": "hp",              # "hp" (Lau-Dill), "hp_li1996", "mj1996"; aliases HP, MJ
      "target": 0,                   # a conformation index, or {"index": k},
                                     # {"path": [sites...]}, {"contacts": [[i, j], ...]}
                                     # or {"contact_map": L x L 0/1}
      "restraints": [],              # e.g. [{"type": "contact", "i": 0, "j": 5}]
      "predictor": "boltzmann",      # structure predictor of the sequence_design strategy
      "temperature": 0.3             # the Boltzmann predictor's T, alphabet energy units
    }

Everything that can be checked without the enumeration is checked here (shapes, ranges,
letters, that a path is a Hamiltonian path of the grid, that contacts join residues an odd
number >= 3 apart and that there are as many as a compact conformation has); whether a
contact map belongs to exactly one conformation is checked by
:meth:`models.problems.sequence.problem.SequenceProblem.from_options`.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from models.problems.base import ProblemError

#: Alphabet registry keys and their letters; aliases map to keys.
ALPHABET_LETTERS: dict[str, str] = {"hp": "HP", "hp_li1996": "HP",
                                    "mj1996": "ACDEFGHIKLMNPQRSTVWY"}
ALPHABET_ALIASES: dict[str, str] = {"HP": "hp", "MJ": "mj1996", "mj": "mj1996"}
PREDICTORS = ("boltzmann", "neural")

#: Compact conformations (one per symmetry class) of every ``rows x cols`` grid, ``rows <=
#: cols``, 2 <= rows, at most 36 sites, from :func:`models.sequence.compact_conformations`
#: (checked against the enumeration in the tests).
CONFORMATION_COUNTS: dict[tuple[int, int], int] = {
    (2, 2): 1, (2, 3): 4, (2, 4): 7, (2, 5): 11, (2, 6): 16, (2, 7): 22, (2, 8): 29,
    (2, 9): 37, (2, 10): 46, (2, 11): 56, (2, 12): 67, (2, 13): 79, (2, 14): 92, (2, 15): 106,
    (2, 16): 121, (2, 17): 137, (2, 18): 154, (3, 3): 5, (3, 4): 31, (3, 5): 66, (3, 6): 168,
    (3, 7): 344, (3, 8): 789, (3, 9): 1595, (3, 10): 3451, (3, 11): 6939, (3, 12): 14519,
    (4, 4): 69, (4, 5): 503, (4, 6): 1805, (4, 7): 6005, (4, 8): 19492, (4, 9): 61094,
    (5, 5): 1081, (5, 6): 13498, (5, 7): 54861, (6, 6): 57337,
}

#: Restraint kinds and their required fields (the torch side is
#: :mod:`models.sequence.restraints`).
RESTRAINT_FIELDS: dict[str, tuple[str, ...]] = {
    "contact": ("i", "j"), "no_contact": ("i", "j"), "exposed": ("start", "end"),
    "letter": ("position", "letter"), "composition": ("letter", "fraction")}

DEFAULTS: dict[str, Any] = {"rows": 4, "cols": None, "alphabet": "hp", "target": 0,
                            "restraints": [], "predictor": "boltzmann", "temperature": 0.3}


def _fail(key: str, message: str) -> ProblemError:
    return ProblemError(f"problem_options.{key}: {message}")


def n_conformations(rows: int, cols: int) -> int:
    """Number of compact conformations of the grid (either orientation)."""
    return CONFORMATION_COUNTS[(min(rows, cols), max(rows, cols))]


def validate_options(options: Mapping[str, Any]) -> dict[str, Any]:
    r"""Check ``problem_options`` and fill in the defaults (see the module docstring).

    Raises:
        ProblemError: Naming the bad key, e.g. ``problem_options.target.path: ...``.
    """
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        raise _fail(unknown[0], f"unknown option; known: {sorted(DEFAULTS)}")
    merged = {**DEFAULTS, **options}
    rows = _integer("rows", merged["rows"])
    cols = rows if merged["cols"] is None else _integer("cols", merged["cols"])
    if (min(rows, cols), max(rows, cols)) not in CONFORMATION_COUNTS:
        raise _fail("rows", f"a {rows} x {cols} grid is not supported: rows and cols >= 2 and "
                    "at most 36 sites")
    alphabet = ALPHABET_ALIASES.get(merged["alphabet"], merged["alphabet"])
    if alphabet not in ALPHABET_LETTERS:
        raise _fail("alphabet", f"unknown alphabet {merged['alphabet']!r}; known: "
                    f"{sorted(ALPHABET_LETTERS)} or {sorted(ALPHABET_ALIASES)}")
    if merged["predictor"] not in PREDICTORS:
        raise _fail("predictor", f"unknown predictor {merged['predictor']!r}; known: "
                    f"{list(PREDICTORS)}")
    temperature = merged["temperature"]
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) \
            or not temperature > 0:
        raise _fail("temperature", "a positive number (alphabet energy units)")
    length = rows * cols
    target = _check_target(merged["target"], rows, cols)
    restraints = _check_restraints(merged["restraints"], length, ALPHABET_LETTERS[alphabet])
    return {"rows": rows, "cols": cols, "alphabet": alphabet, "target": target,
            "restraints": restraints, "predictor": merged["predictor"],
            "temperature": float(temperature)}


def _integer(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(key, f"an integer, got {value!r}")
    return value


def _check_target(target: Any, rows: int, cols: int) -> dict[str, Any]:
    """The target in dict form, checked as far as can be done without the enumeration."""
    if isinstance(target, int) and not isinstance(target, bool):
        target = {"index": target}
    if not isinstance(target, Mapping) or len(target) != 1:
        raise _fail("target", "a conformation index or one of {'index': k}, {'path': [...]}, "
                    "{'contacts': [[i, j], ...]}, {'contact_map': [[...]]}")
    (kind, value), = target.items()
    length = rows * cols
    if kind == "index":
        count = n_conformations(rows, cols)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < count:
            raise _fail("target.index", f"an integer in [0, {count}) for the {rows} x {cols} "
                        "grid")
    elif kind == "path":
        _check_path(value, rows, cols)
    elif kind == "contacts":
        _check_contacts(_pairs(value, length), rows, cols)
    elif kind == "contact_map":
        _check_contacts(_map_pairs(value, length), rows, cols)
    else:
        raise _fail("target", f"unknown target kind {kind!r}; use index, path, contacts or "
                    "contact_map")
    return {kind: value}


def _check_path(path: Any, rows: int, cols: int) -> None:
    length = rows * cols
    if not isinstance(path, Sequence) or isinstance(path, str) or len(path) != length:
        raise _fail("target.path", f"a list of the {length} sites (row * cols + col) the chain "
                    "visits, in order")
    if any(isinstance(s, bool) or not isinstance(s, int) for s in path) \
            or sorted(path) != list(range(length)):
        raise _fail("target.path", f"must visit each site 0..{length - 1} exactly once")
    for step, (a, b) in enumerate(itertools.pairwise(path)):
        if abs(a // cols - b // cols) + abs(a % cols - b % cols) != 1:
            raise _fail("target.path", f"residues {step} and {step + 1} (sites {a}, {b}) are "
                        "not lattice neighbours: not a valid conformation")


def _pairs(value: Any, length: int) -> list[tuple[int, int]]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise _fail("target.contacts", "a list of residue pairs [i, j]")
    pairs = []
    for pair in value:
        if not isinstance(pair, Sequence) or isinstance(pair, str) or len(pair) != 2 or any(
                isinstance(r, bool) or not isinstance(r, int) or not 0 <= r < length
                for r in pair):
            raise _fail("target.contacts", f"pairs [i, j] of residues in [0, {length}), got "
                        f"{pair!r}")
        pairs.append((min(pair), max(pair)))
    return pairs


def _map_pairs(value: Any, length: int) -> list[tuple[int, int]]:
    rows_ok = isinstance(value, Sequence) and len(value) == length and all(
        isinstance(row, Sequence) and len(row) == length for row in value)
    if not rows_ok:
        raise _fail("target.contact_map", f"a {length} x {length} matrix of 0 and 1 (wrong "
                    "length)")
    for i in range(length):
        for j in range(length):
            if value[i][j] not in (0, 1) or value[i][j] != value[j][i] or (i == j and value[i][j]):
                raise _fail("target.contact_map", "symmetric, 0 or 1, zero diagonal")
    return [(i, j) for i in range(length) for j in range(i + 1, length) if value[i][j]]


def _check_contacts(pairs: list[tuple[int, int]], rows: int, cols: int) -> None:
    length = rows * cols
    expected = 2 * rows * cols - rows - cols - (length - 1)
    if len(set(pairs)) != len(pairs):
        raise _fail("target.contacts", "a contact is listed twice")
    bad = [p for p in pairs if p[1] - p[0] < 3 or (p[1] - p[0]) % 2 == 0]
    if bad:
        raise _fail("target.contacts", f"{list(bad[0])} can never be a contact on the square "
                    "lattice (contacts join residues an odd number >= 3 apart)")
    if len(pairs) != expected:
        raise _fail("target.contacts", f"a compact {rows} x {cols} conformation has {expected} "
                    f"contacts, got {len(pairs)}")


def _check_restraints(items: Any, length: int, letters: str) -> list[dict[str, Any]]:
    if not isinstance(items, Sequence) or isinstance(items, str):
        raise _fail("restraints", "a list of restraints")
    checked = []
    for index, item in enumerate(items):
        key = f"restraints[{index}]"
        if not isinstance(item, Mapping) or item.get("type") not in RESTRAINT_FIELDS:
            raise _fail(key, f"an object with a type in {sorted(RESTRAINT_FIELDS)}")
        fields = RESTRAINT_FIELDS[item["type"]]
        extra = sorted(set(item) - {"type", "weight", *fields})
        missing = [f for f in fields if f not in item]
        if extra or missing:
            raise _fail(key, f"a {item['type']!r} restraint has fields {list(fields)} and an "
                        f"optional weight (missing {missing}, unknown {extra})")
        _check_restraint_values(key, item, length, letters)
        checked.append(dict(item))
    return checked


def _check_restraint_values(key: str, item: Mapping[str, Any], length: int,
                            letters: str) -> None:
    weight = item.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight < 0:
        raise _fail(f"{key}.weight", "a non-negative number")
    for field in ("i", "j", "start", "end", "position"):
        if field in item:
            value = item[field]
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < length:
                raise _fail(f"{key}.{field}", f"a residue index in [0, {length})")
    if "letter" in item and (not isinstance(item["letter"], str) or len(item["letter"]) != 1
                             or item["letter"] not in letters):
        raise _fail(f"{key}.letter", f"one letter of {letters!r}")
    if "fraction" in item and (isinstance(item["fraction"], bool) or not isinstance(
            item["fraction"], (int, float)) or not 0 <= item["fraction"] <= 1):
        raise _fail(f"{key}.fraction", "a number in [0, 1]")
    if item["type"] in ("contact", "no_contact"):
        gap = abs(item["i"] - item["j"])
        if gap < 3 or gap % 2 == 0:
            raise _fail(f"{key}.j", "residues i and j can never be in contact on the square "
                        "lattice (an odd number >= 3 apart along the chain)")
    if item["type"] == "exposed" and item["end"] < item["start"]:
        raise _fail(f"{key}.end", "start <= end")


def default_space(options: Mapping[str, Any]) -> dict[str, Any]:
    r"""The campaign's space for (validated) options: one ``sequence`` parameter.

    Example:
        >>> default_space(validate_options({"rows": 3, "cols": 4}))
        {'parameters': [{'type': 'sequence', 'name': 'sequence', 'alphabet': 'HP', 'length': 12}]}
    """
    return {"parameters": [{"type": "sequence", "name": "sequence",
                            "alphabet": ALPHABET_LETTERS[options["alphabet"]],
                            "length": int(options["rows"]) * int(options["cols"])}]}
