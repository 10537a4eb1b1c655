"""The feature encoding: exact round trips for every parameter kind, constraints that agree
with the space's own check, and readable refusals of bad designs."""

from __future__ import annotations

import math

import pytest
import torch

from models.bo.encoding import Encoder
from models.bo.errors import BadObservationError, UnsupportedSpaceError
from models.space.space import Space

MIXED = {
    "parameters": [
        {"type": "continuous", "name": "size", "lower": 20.0, "upper": 200.0},
        {"type": "continuous", "name": "dose", "lower": 0.01, "upper": 10.0, "log_scale": True},
        {"type": "integer", "name": "n", "lower": -2, "upper": 5},
        {"type": "categorical", "name": "ligand", "choices": ["A", "B", "C"]},
        {"type": "sequence", "name": "peptide", "alphabet": "ACDEK", "length": 4},
    ],
    "compositions": [
        {"name": "lipids", "components": ["l1", "l2", "l3"], "total": 1.0},
        {"name": "salts", "components": [f"s{i}" for i in range(7)], "total": 2.5},
    ],
    "linear_constraints": [
        {"coefficients": {"size": 0.01, "n": 1.0}, "upper": 5.0},
        {"coefficients": {"l1": 1.0, "s0": -1.0}, "lower": -1.0, "upper": 0.5},
    ],
}


@pytest.fixture
def space() -> Space:
    return Space.from_dict(MIXED)


def _same(a: dict, b: dict) -> bool:
    if a.keys() != b.keys():
        return False
    for key, value in a.items():
        if isinstance(value, float):
            if not math.isclose(value, b[key], rel_tol=1e-12, abs_tol=1e-12):
                return False
        elif value != b[key] or type(value) is not type(b[key]):
            return False
    return True


def test_decode_encode_round_trip_every_kind(space: Space) -> None:
    encoder = Encoder(space)
    designs = space.decode(torch.rand(200, space.dimension, dtype=torch.float64,
                                      generator=torch.Generator().manual_seed(0)))
    X = encoder.encode(designs)
    back = encoder.decode(X)
    assert all(_same(a, b) for a, b in zip(designs, back, strict=True))
    for design in back:
        assert math.isclose(sum(design[c] for c in ("l1", "l2", "l3")), 1.0, abs_tol=1e-12)
        assert math.isclose(sum(design[f"s{i}"] for i in range(7)), 2.5, abs_tol=1e-12)
        assert isinstance(design["n"], int) and isinstance(design["peptide"], str)


def test_encode_decode_is_snap(space: Space) -> None:
    encoder = Encoder(space)
    bounds = encoder.bounds
    u = torch.rand(100, encoder.dimension, dtype=torch.float64,
                   generator=torch.Generator().manual_seed(1))
    X = bounds[0] + u * (bounds[1] - bounds[0])
    snapped = encoder.snap(X)
    assert torch.allclose(encoder.encode(encoder.decode(X)), snapped, rtol=0, atol=1e-12)
    assert torch.equal(encoder.snap(snapped).round(decimals=12), snapped.round(decimals=12))
    discrete = list(encoder.discrete_dims) + list(encoder.cat_dims)
    assert torch.equal(snapped[:, discrete], snapped[:, discrete].round())
    violation = encoder.constraint_violation(snapped)
    # Equalities hold after snapping (inequalities may not: snap does not project on them).
    for idx, coef, rhs in encoder.equality_constraints:
        assert torch.allclose((snapped[:, idx] * coef).sum(-1),
                              torch.full((100,), rhs, dtype=torch.float64), atol=1e-12)
    assert violation.shape == (100,)


def test_structure(space: Space) -> None:
    encoder = Encoder(space)
    assert encoder.dimension == 5 + 3 + 3 + 7
    assert encoder.discrete_dims == {2: [float(v) for v in range(-2, 6)]}
    assert set(encoder.cat_dims) == {3, 4, 5, 6, 7}
    assert encoder.cat_dims[3] == [0.0, 1.0, 2.0]
    log = encoder.columns[1]
    assert (log.lower, log.upper) == (math.log(0.01), math.log(10.0))
    assert len(encoder.equality_constraints) == 2
    assert len(encoder.inequality_constraints) == 3  # one upper, one two-sided


def test_linear_constraints_agree_with_space(space: Space) -> None:
    encoder = Encoder(space)
    designs = space.decode(torch.rand(500, space.dimension, dtype=torch.float64,
                                      generator=torch.Generator().manual_seed(2)))
    ours = (encoder.constraint_violation(encoder.encode(designs)) <= 1e-9).tolist()
    theirs = [space.satisfies_linear_constraints(d) for d in designs]
    assert ours == theirs
    assert 0 < sum(ours) < len(ours)  # both outcomes occur


def test_encode_partial_fixes_a_whole_sequence(space: Space) -> None:
    encoder = Encoder(space)
    fixed = encoder.encode_partial({"peptide": "KADE", "dose": 1.0, "ligand": "C"})
    assert fixed == {4: 4.0, 5: 0.0, 6: 2.0, 7: 3.0, 1: 0.0, 3: 2.0}


@pytest.mark.parametrize(("change", "message"), [
    ({"ligand": "Z"}, "must be one of"),
    ({"n": 2.5}, "must be an integer"),
    ({"size": 250.0}, "outside"),
    ({"dose": float("nan")}, "finite"),
    ({"peptide": "AAA"}, "string of 4"),
    ({"size": "big"}, "must be a number"),
])
def test_bad_designs_are_refused(space: Space, change: dict, message: str) -> None:
    design = {**space.decode(torch.full((1, space.dimension), 0.5, dtype=torch.float64))[0],
              **change}
    with pytest.raises(BadObservationError, match=message) as info:
        Encoder(space).encode([design])
    assert info.value.details["parameter"] in change


def test_missing_parameter_is_refused(space: Space) -> None:
    design = space.decode(torch.full((1, space.dimension), 0.5, dtype=torch.float64))[0]
    del design["l2"]
    with pytest.raises(BadObservationError, match="lacks parameters"):
        Encoder(space).encode([design])


def test_linear_constraint_on_log_parameter_is_unsupported() -> None:
    space = Space.from_dict({
        "parameters": [
            {"type": "continuous", "name": "dose", "lower": 0.1, "upper": 10, "log_scale": True},
            {"type": "continuous", "name": "x", "lower": 0, "upper": 1}],
        "linear_constraints": [{"coefficients": {"dose": 1, "x": 1}, "upper": 5}]})
    with pytest.raises(UnsupportedSpaceError) as info:
        Encoder(space)
    assert info.value.details["parameter"] == "dose"
