"""Deliberately plain reference implementations, sharing no code with ``models.sequence``.

Slow Python loops over lattice coordinates: what the vectorised code must agree with.
"""

from __future__ import annotations

from collections.abc import Sequence


def directed_hamiltonian_paths(rows: int, cols: int) -> set[tuple[int, ...]]:
    """Every directed Hamiltonian path of the grid, by unpruned depth-first search."""
    n = rows * cols
    paths: set[tuple[int, ...]] = set()

    def neighbours(site: int) -> list[int]:
        r, c = divmod(site, cols)
        steps = [(r + dr, c + dc) for dr, dc in ((0, 1), (0, -1), (1, 0), (-1, 0))]
        return [rr * cols + cc for rr, cc in steps if 0 <= rr < rows and 0 <= cc < cols]

    def grow(path: list[int], used: set[int]) -> None:
        if len(path) == n:
            paths.add(tuple(path))
            return
        for site in neighbours(path[-1]):
            if site not in used:
                path.append(site)
                used.add(site)
                grow(path, used)
                used.remove(site)
                path.pop()

    for start in range(n):
        grow([start], {start})
    return paths


def symmetric_images(path: Sequence[int], rows: int, cols: int) -> list[tuple[int, ...]]:
    """The images of a path under the rectangle's (or square's) isometries, by coordinates."""
    maps = [lambda r, c: (r, c), lambda r, c: (rows - 1 - r, c),
            lambda r, c: (r, cols - 1 - c), lambda r, c: (rows - 1 - r, cols - 1 - c)]
    if rows == cols:
        maps += [lambda r, c: (c, r), lambda r, c: (cols - 1 - c, r),
                 lambda r, c: (c, rows - 1 - r), lambda r, c: (cols - 1 - c, rows - 1 - r)]
    images = []
    for transform in maps:
        moved = [transform(*divmod(site, cols)) for site in path]
        images.append(tuple(r * cols + c for r, c in moved))
    return images


def contacts(path: Sequence[int], cols: int) -> list[tuple[int, int]]:
    """Non-bonded residue pairs on neighbouring sites, by comparing all coordinates."""
    where = [divmod(site, cols) for site in path]
    found = []
    for i in range(len(path)):
        for j in range(i + 2, len(path)):
            if abs(where[i][0] - where[j][0]) + abs(where[i][1] - where[j][1]) == 1:
                found.append((i, j))
    return found


def energy(sequence: Sequence[int], path: Sequence[int], cols: int,
           table: Sequence[Sequence[float]]) -> float:
    """Contact energy of a sequence in a path: a plain loop."""
    return sum(table[sequence[i]][sequence[j]] for i, j in contacts(path, cols))


def fold(sequence: Sequence[int], paths: Sequence[Sequence[int]], cols: int,
         table: Sequence[Sequence[float]], tolerance: float = 1e-9) -> dict:
    """Ground energy, first ground state, degeneracy and gap, by scanning every path."""
    energies = [energy(sequence, path, cols, table) for path in paths]
    lowest = min(energies)
    ground = [k for k, e in enumerate(energies) if e <= lowest + tolerance]
    higher = [e for e in energies if e > lowest + tolerance]
    return {"energy": lowest, "ground_state": ground[0], "degeneracy": len(ground),
            "gap": (min(higher) - lowest) if higher else float("inf"), "energies": energies}
