"""Space-filling designs: validity, exclusion, continuation, quality, and the two failures."""

from __future__ import annotations

import pickle

import pytest
import torch
from scipy.stats import qmc

from models.design import space_filling
from models.design.space_filling import SpaceFillingResult, space_filling_designs
from models.errors import InfeasibleSpaceError, ScienceError, SpaceExhaustedError
from models.space.keys import design_key
from models.space.space import Space

MIXED = Space.from_dict({
    "parameters": [
        {"type": "continuous", "name": "x", "lower": -1.0, "upper": 1.0},
        {"type": "continuous", "name": "rate", "lower": 1e-4, "upper": 1.0, "log_scale": True},
        {"type": "integer", "name": "n", "lower": 0, "upper": 9},
        {"type": "categorical", "name": "mode", "choices": ["a", "b", "c"]},
        {"type": "sequence", "name": "seq", "alphabet": "ACGT", "length": 4},
    ],
    "compositions": [{"name": "mix", "components": ["p", "q", "r"], "total": 1.0}],
    "linear_constraints": [
        {"coefficients": {"x": 1.0, "n": 0.1}, "upper": 0.5},
        {"coefficients": {"p": 1.0, "q": 1.0}, "lower": 0.2, "upper": 0.9},
    ],
})
UNIT_SQUARE = Space.from_dict({"parameters": [
    {"type": "continuous", "name": "a", "lower": 0.0, "upper": 1.0},
    {"type": "continuous", "name": "b", "lower": 0.0, "upper": 1.0}]})
TINY = Space.from_dict({"parameters": [
    {"type": "integer", "name": "k", "lower": 0, "upper": 2},
    {"type": "categorical", "name": "c", "choices": ["u", "v"]}]})


def _keys(designs: list[dict]) -> list[str]:
    return [design_key(d) for d in designs]


def test_designs_are_valid_distinct_and_feasible() -> None:
    result = space_filling_designs(MIXED, 300, seed=11)
    assert isinstance(result, SpaceFillingResult) and len(result.designs) == 300
    for d in result.designs:
        assert -1.0 <= d["x"] <= 1.0 and 1e-4 <= d["rate"] <= 1.0
        assert type(d["n"]) is int and 0 <= d["n"] <= 9
        assert d["mode"] in ("a", "b", "c")
        assert len(d["seq"]) == 4 and set(d["seq"]) <= set("ACGT")
        assert abs(d["p"] + d["q"] + d["r"] - 1.0) <= 1e-12
        assert MIXED.satisfies_linear_constraints(d)
        assert d["x"] + 0.1 * d["n"] <= 0.5 + 1e-9 and 0.2 - 1e-9 <= d["p"] + d["q"] <= 0.9 + 1e-9
    assert len(set(_keys(result.designs))) == 300
    assert 0.0 < result.acceptance_rate < 1.0
    assert result.next_skip >= 300  # rejected points were consumed too


def test_same_seed_and_skip_give_the_same_designs() -> None:
    first = space_filling_designs(MIXED, 40, seed=3, skip=17)
    again = space_filling_designs(MIXED, 40, seed=3, skip=17)
    other = space_filling_designs(MIXED, 40, seed=4, skip=17)
    assert first == again
    assert not set(_keys(first.designs)) & set(_keys(other.designs))


def test_continuation_is_the_tail_of_one_long_draw() -> None:
    whole = space_filling_designs(MIXED, 60, seed=5)
    head = space_filling_designs(MIXED, 25, seed=5)
    tail = space_filling_designs(MIXED, 35, seed=5, skip=head.next_skip,
                                 exclude=_keys(head.designs))
    assert head.designs + tail.designs == whole.designs
    assert tail.next_skip == whole.next_skip
    assert not set(_keys(head.designs)) & set(_keys(tail.designs))


def test_excluded_designs_are_never_returned() -> None:
    # A small discrete space, so the stream offers the excluded designs again and again.
    space = Space.from_dict({"parameters": [
        {"type": "integer", "name": "k", "lower": 1, "upper": 6},
        {"type": "categorical", "name": "c", "choices": ["a", "b", "c", "d"]}]})
    everything = space_filling_designs(space, 24, seed=0)
    assert len(set(_keys(everything.designs))) == 24  # the whole space, once each
    excluded = set(_keys(everything.designs[::2]))
    result = space_filling_designs(space, 12, seed=0, exclude=excluded)
    keys = _keys(result.designs)
    assert len(set(keys)) == 12 and not set(keys) & excluded
    assert set(keys) == set(_keys(everything.designs[1::2]))


def test_sobol_stratifies_every_dimension() -> None:
    # The first 2^m scrambled Sobol points put exactly one point in each of the 2^m equal
    # slices of every coordinate; i.i.d. points leave about 1/e of the slices empty.
    result = space_filling_designs(UNIT_SQUARE, 256, seed=2)
    for name in ("a", "b"):
        slices = sorted(int(d[name] * 256) for d in result.designs)
        assert slices == list(range(256))
    iid = torch.rand(256, 2, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    assert len(set((iid[:, 0] * 256).long().tolist())) < 200


def test_space_filling_beats_iid_uniform_on_discrepancy() -> None:
    result = space_filling_designs(UNIT_SQUARE, 512, seed=9)
    sobol = torch.tensor([[d["a"], d["b"]] for d in result.designs]).numpy()
    iid = torch.rand(512, 2, generator=torch.Generator().manual_seed(9),
                     dtype=torch.float64).numpy()
    # Centered L2 discrepancy: Sobol is O(log n / n), i.i.d. is O(1 / sqrt n).
    assert qmc.discrepancy(sobol) < 0.1 * qmc.discrepancy(iid)


def test_a_tiny_discrete_space_is_exhausted_promptly() -> None:
    assert len(space_filling_designs(TINY, 6, seed=1).designs) == 6
    with pytest.raises(SpaceExhaustedError) as info:
        space_filling_designs(TINY, 7, seed=1)
    assert (info.value.requested, info.value.available) == (7, 6)
    two = _keys(space_filling_designs(TINY, 2, seed=1).designs)
    with pytest.raises(SpaceExhaustedError) as info:
        space_filling_designs(TINY, 5, seed=1, exclude=two)
    assert info.value.available == 4
    rest = space_filling_designs(TINY, 4, seed=1, exclude=two)
    assert len(rest.designs) == 4 and not set(_keys(rest.designs)) & set(two)


def test_linear_constraints_count_against_a_finite_space() -> None:
    space = Space.from_dict({
        "parameters": [{"type": "integer", "name": "i", "lower": 0, "upper": 9},
                       {"type": "integer", "name": "j", "lower": 0, "upper": 9}],
        "linear_constraints": [{"coefficients": {"i": 1, "j": 1}, "upper": 2}]})
    assert len(space_filling_designs(space, 6, seed=0).designs) == 6  # (0,0) ... (2,0)
    with pytest.raises(SpaceExhaustedError) as info:
        space_filling_designs(space, 7, seed=0)
    assert info.value.available == 6
    impossible = Space.from_dict({
        "parameters": [{"type": "integer", "name": "i", "lower": 0, "upper": 9}],
        "linear_constraints": [{"coefficients": {"i": 1}, "lower": 20}]})
    with pytest.raises(InfeasibleSpaceError) as infeasible:
        space_filling_designs(impossible, 1, seed=0)
    assert infeasible.value.acceptance_rate == 0.0


def test_large_finite_spaces_fail_fast_without_listing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(space_filling, "ENUMERATION_LIMIT", 4)
    with pytest.raises(SpaceExhaustedError) as info:
        space_filling_designs(TINY, 7, seed=0)
    assert info.value.available == 6


def test_a_listed_space_is_completed_when_the_stream_stalls(
        monkeypatch: pytest.MonkeyPatch) -> None:
    first = _keys(space_filling_designs(TINY, 1, seed=0).designs)
    monkeypatch.setattr(space_filling, "MAX_DRAWS", 0)  # the stream yields nothing
    result = space_filling_designs(TINY, 5, seed=0, exclude=first)
    keys = _keys(result.designs)
    assert len(set(keys)) == 5 and not set(keys) & set(first)
    assert result == space_filling_designs(TINY, 5, seed=0, exclude=first)
    assert result.next_skip == 0


def test_running_out_of_draws_names_the_right_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(space_filling, "MAX_DRAWS", 0)
    monkeypatch.setattr(space_filling, "ENUMERATION_LIMIT", 0)
    with pytest.raises(SpaceExhaustedError) as exhausted:  # finite, too large to list
        space_filling_designs(TINY, 3, seed=0)
    assert exhausted.value.available == 0
    with pytest.raises(InfeasibleSpaceError):  # a continuous space never runs out
        space_filling_designs(UNIT_SQUARE, 3, seed=0)


def test_a_tiny_feasible_region_raises_infeasible() -> None:
    space = Space.from_dict({
        "parameters": UNIT_SQUARE_PARAMETERS,
        "linear_constraints": [{"coefficients": {"a": 1.0, "b": 1.0}, "upper": 1e-3}]})
    with pytest.raises(InfeasibleSpaceError) as info:
        space_filling_designs(space, 1, seed=0)
    # The feasible triangle has area 5e-7: the measured rate says so.
    assert info.value.acceptance_rate < 1e-4
    assert info.value.draws >= space_filling.VERDICT_DRAWS


def test_a_small_but_usable_region_is_sampled() -> None:
    space = Space.from_dict({
        "parameters": UNIT_SQUARE_PARAMETERS,
        "linear_constraints": [{"coefficients": {"a": 1.0, "b": 1.0}, "upper": 0.05}]})
    result = space_filling_designs(space, 20, seed=0)
    assert len(result.designs) == 20
    assert all(d["a"] + d["b"] <= 0.05 for d in result.designs)
    assert result.acceptance_rate == pytest.approx(0.05**2 / 2, rel=0.3)


def test_beyond_sobol_dimensions_the_stream_still_continues() -> None:
    long = Space.from_dict({"parameters": [
        {"type": "sequence", "name": "s", "alphabet": "ab", "length": 21202}]})
    whole = space_filling_designs(long, 3, seed=1)
    head = space_filling_designs(long, 1, seed=1)
    tail = space_filling_designs(long, 2, seed=1, skip=head.next_skip)
    assert head.designs + tail.designs == whole.designs
    assert len({d["s"] for d in whole.designs}) == 3


def test_count_and_skip_are_checked() -> None:
    empty = space_filling_designs(MIXED, 0, seed=0, skip=5)
    assert (empty.designs, empty.next_skip) == ([], 5)
    with pytest.raises(ValueError):
        space_filling_designs(MIXED, -1, seed=0)
    with pytest.raises(ValueError):
        space_filling_designs(MIXED, 1, seed=0, skip=-1)


@pytest.mark.parametrize("error", [InfeasibleSpaceError(2e-5, 65536),
                                   SpaceExhaustedError(7, 6)])
def test_science_errors_carry_their_data_across_pickling(error: ScienceError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error) and isinstance(copy, ScienceError)
    assert (str(copy), copy.details) == (str(error), error.details)
    assert copy.details and all(isinstance(v, int | float) for v in copy.details.values())


UNIT_SQUARE_PARAMETERS = [
    {"type": "continuous", "name": "a", "lower": 0.0, "upper": 1.0},
    {"type": "continuous", "name": "b", "lower": 0.0, "upper": 1.0}]
