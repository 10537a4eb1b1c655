"""Observations as CSV text: the layout, exact numbers both ways, and every cell problem."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from service.errors import InvalidInput
from service.observations_csv import CsvLayout, CsvRowsInvalid, RowError, read_csv, write_csv
from service.schemas.campaign import CampaignSpec
from service.schemas.observation import ObservationRead

SPEC = CampaignSpec.model_validate({
    "space": {"parameters": [
        {"type": "continuous", "name": "t", "lower": 0, "upper": 100},
        {"type": "integer", "name": "n", "lower": 1, "upper": 9},
        {"type": "categorical", "name": "solvent", "choices": ["water", "dmso"]},
        {"type": "sequence", "name": "seq", "alphabet": "HP", "length": 4}],
        "compositions": [{"name": "mix", "components": ["a", "b"]}]},
    "objectives": [{"name": "y", "goal": "maximize"}],
    "constraints": [{"name": "tox", "op": "<=", "threshold": 0.3}],
    "strategy": {"kind": "space_filling"}, "evaluator": {"kind": "lab"}})
HEADER = "t,n,solvent,seq,a,b,y,tox,y_sd,tox_sd,failed,failure_reason,suggestion_id," \
         "posted_by,created_at"


def _read(*rows: str, header: str = HEADER, **kwargs: Any) -> Any:
    return read_csv(SPEC, "\r\n".join([header, *rows]) + "\r\n", **kwargs)


def _stored(**changes: Any) -> ObservationRead:
    return ObservationRead.model_validate({
        "id": uuid.uuid4(), "campaign_id": uuid.uuid4(), "suggestion_id": None,
        "parameters": {"t": 0.1, "n": 3, "solvent": "dmso", "seq": "HPPH", "a": 1 / 3,
                       "b": 2 / 3},
        "outcomes": {"y": 1e-300, "tox": -0.0}, "noise_sd": {"y": 0.5}, "failed": False,
        "failure_reason": None, "posted_by": "key:abc",
        "created_at": dt.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC), **changes})


def test_the_layout() -> None:
    assert CsvLayout.of(SPEC).columns == HEADER.split(",")


def test_clashing_columns_are_refused() -> None:
    clash = SPEC.model_copy(update={"space": SPEC.space.model_copy(update={
        "parameters": [*SPEC.space.parameters[:1], SPEC.space.parameters[1].model_copy(
            update={"name": "y_sd"})]})})
    with pytest.raises(InvalidInput, match="y_sd"):
        CsvLayout.of(clash)


def test_write_then_read_gives_the_same_values() -> None:
    sid = uuid.uuid4()
    stored = [_stored(), _stored(suggestion_id=sid, outcomes={}, noise_sd={}, failed=True,
                                 failure_reason='said "no",\nthen stopped')]
    text = write_csv(SPEC, stored)
    lines = text.split("\r\n")
    assert lines[0] == HEADER
    assert lines[1] == (f"0.1,3,dmso,HPPH,{1 / 3!r},{2 / 3!r},1e-300,-0.0,0.5,,false,,,key:abc,"
                        "2026-01-02T03:04:05.000006+00:00")
    parsed = read_csv(SPEC, text)
    assert parsed.errors == [] and not parsed.fatal
    assert [r.row for r in parsed.rows] == [2, 3]
    for original, row in zip(stored, parsed.rows, strict=True):
        fields = ("parameters", "outcomes", "noise_sd", "failed", "failure_reason",
                  "suggestion_id")
        assert row.observation.model_dump(include=set(fields)) == original.model_dump(
            include=set(fields))
        assert isinstance(row.observation.parameters["n"], int)
    assert read_csv(SPEC, text, link_suggestions=False).rows[1].observation.suggestion_id \
        is None


def test_cells_are_typed_by_the_space() -> None:
    parsed = _read("  5 , 4.0 ,water,PPPP,0.5,0.5,1,0.1,,,,,,,",
                   "1e1,2,dmso,HHHH,1,0,2,0.2,0,0,FALSE,,,,", header=HEADER.replace(",", " ,"))
    assert parsed.errors == []
    first, second = (r.observation for r in parsed.rows)
    assert first.parameters == {"t": 5.0, "n": 4, "solvent": "water", "seq": "PPPP",
                                "a": 0.5, "b": 0.5}
    assert second.parameters["t"] == 10.0 and second.noise_sd == {"y": 0.0, "tox": 0.0}


def test_every_cell_problem_is_reported_with_row_and_column() -> None:
    parsed = _read("x,1,water,HPHP,0.5,0.5,1,0.1,,,,,,,",       # 2: t not a number
                   "1,1.5,water,HPHP,0.5,0.5,1,0.1,,,,,,,",     # 3: n not an integer
                   "1,1,water,HPHP,0.5,0.5,nan,0.1,,,,,,,",     # 4: y not finite
                   "1,1,water,HPHP,0.5,0.5,1,0.1,-2,,,,,,",     # 5: negative sd
                   "1,1,water,HPHP,0.5,0.5,1,0.1,,,perhaps,,,,",  # 6: not a boolean
                   "1,1,water,HPHP,0.5,0.5,1,0.1,,,,,oops,,",   # 7: not a UUID
                   "1,1,water,HPHP,0.5,0.5,,,,,true,gone,,,",   # 8: fine (failed)
                   "1,1,water,HPHP,0.5,0.5,1,,,,true,,,,",      # 9: failed with outcomes
                   "1,1,water",                                 # 10: too few cells
                   ",,,,,,,,,,,,,,")                            # blank: skipped
    assert [(e.row, e.column) for e in parsed.errors] == [
        (2, "t"), (3, "n"), (4, "y"), (5, "y_sd"), (6, "failed"), (7, "suggestion_id"),
        (9, None), (10, None)]
    assert [r.row for r in parsed.rows] == [8]


def test_a_suggestion_answered_twice_in_one_file() -> None:
    sid = uuid.uuid4()
    parsed = _read(f"1,1,water,HPHP,0.5,0.5,1,0.1,,,,,{sid},,",
                   f"2,1,water,HPHP,0.5,0.5,1,0.1,,,,,{sid},,")
    assert parsed.errors == [RowError(3, "suggestion_id",
                                      f"suggestion {sid} is answered by row 2 too")]


@pytest.mark.parametrize(("text", "columns"), [
    ("", [None]),
    (HEADER, [None]),                                             # no rows
    (HEADER.replace(",tox,", ",tax,") + "\r\n1", ["tax", "tox"]),  # typo: unknown + missing
    (HEADER + ",t\r\n1", ["t"]),                                   # twice
])
def test_a_bad_header_is_fatal(text: str, columns: list[str | None]) -> None:
    parsed = read_csv(SPEC, text)
    assert parsed.fatal and parsed.rows == []
    assert sorted(e.column or "" for e in parsed.errors) == sorted(c or "" for c in columns)
    assert {e.row for e in parsed.errors} == {1}


def test_only_the_measured_columns_are_required() -> None:
    parsed = _read("1,1,water,HPHP,0.5,0.5,1,0.1", header="t,n,solvent,seq,a,b,y,tox")
    assert parsed.errors == [] and parsed.rows[0].observation.failed is False


def test_the_error_lists_rows_in_order() -> None:
    error = CsvRowsInvalid([RowError(7, "t", "bad"), RowError(2, None, "short"),
                            RowError(2, "n", "worse")])
    assert [(d["row"], d["column"]) for d in error.details] == [(2, None), (2, "n"), (7, "t")]
    assert error.details[1]["loc"] == ["row", 2, "n"]
    assert error.message.startswith("the CSV was rejected, nothing was stored: row 2: short")
    assert "(and 2 more)" in error.message
