"""Observations as CSV, the lab's spreadsheet: one row per observation.

Columns, in this order (see :class:`CsvLayout`):

* one per parameter (composition components included), typed by the campaign's space;
* one per outcome (objectives, then constraints), empty on a failed row;
* ``<outcome>_sd``: the measurement noise standard deviation, same units, optional;
* ``failed`` (``true``/``false``), ``failure_reason``, ``suggestion_id`` (the suggestion the
  row answers, optional), ``posted_by`` and ``created_at`` (written on export, ignored on
  import: the uploader and the time of the upload are what is stored).

Reading turns text into typed :class:`~service.schemas.observation.ObservationCreate` values
and reports *every* problem it finds, each with its row (the header is row 1, as in a
spreadsheet), its column and a message. Whether a design lies in the space, an outcome is
missing or a suggestion is still pending is not decided here: the importer hands the rows to
:func:`service.repositories.observations.add_observations`, the one home of those rules.

Pure text in and values out: no database, no HTTP.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import ValidationError

from service.errors import InvalidInput
from service.schemas.campaign import CampaignSpec
from service.schemas.observation import ObservationBatch, ObservationCreate
from service.schemas.space import (
    CategoricalParameter,
    ContinuousParameter,
    IntegerParameter,
    SequenceParameter,
)

SD_SUFFIX = "_sd"
FAILED, FAILURE_REASON, SUGGESTION_ID = "failed", "failure_reason", "suggestion_id"
POSTED_BY, CREATED_AT = "posted_by", "created_at"
TRAILING = (FAILED, FAILURE_REASON, SUGGESTION_ID, POSTED_BY, CREATED_AT)
MAX_ROWS: int = next(m.max_length for m in ObservationBatch.model_fields["observations"].metadata
                     if getattr(m, "max_length", None) is not None)
MAX_REPORTED_ERRORS = 500

_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f", ""}


class ObservationLike(Protocol):
    """What :func:`write_csv` reads: a stored row or an :class:`ObservationRead`."""

    parameters: dict[str, Any]
    outcomes: dict[str, Any]
    noise_sd: dict[str, Any]
    failed: bool
    failure_reason: str | None
    suggestion_id: uuid.UUID | None
    posted_by: str
    created_at: dt.datetime


@dataclass(frozen=True)
class RowError:
    """One problem of an uploaded CSV: ``row`` counts the header as 1; ``column`` is ``None``
    when the problem is the row (or the file) as a whole."""

    row: int
    column: str | None
    message: str

    def detail(self) -> dict[str, Any]:
        loc: list[str | int] = ["row", self.row]
        if self.column:
            loc.append(self.column)
        return {"loc": loc, "msg": self.message, "row": self.row, "column": self.column}


class CsvRowsInvalid(InvalidInput):
    """An uploaded CSV with bad rows (answered 422, nothing stored): ``details`` lists every
    :class:`RowError` found, up to :data:`MAX_REPORTED_ERRORS`."""

    def __init__(self, errors: list[RowError]) -> None:
        errors = sorted(errors, key=lambda e: (e.row, e.column or ""))
        first = errors[0]
        where = f"row {first.row}" + (f", column {first.column!r}" if first.column else "")
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"the CSV was rejected, nothing was stored: {where}: "
                         f"{first.message}{more}", field=first.detail()["loc"])
        self.details = [e.detail() for e in errors[:MAX_REPORTED_ERRORS]]
        self.row_errors = errors


@dataclass(frozen=True)
class CsvLayout:
    """The columns of a campaign's CSV and the type of each parameter column."""

    parameters: tuple[str, ...]
    outcomes: tuple[str, ...]
    kinds: Mapping[str, str]  # parameter -> "float" | "int" | "str"

    @classmethod
    def of(cls, spec: CampaignSpec) -> CsvLayout:
        """The layout of ``spec``.

        Raises:
            InvalidInput: two columns would share a name (e.g. a parameter named ``failed``
                or ``yield_sd`` next to an outcome ``yield``): use the JSON API instead.
        """
        kinds: dict[str, str] = {}
        for p in spec.space.parameters:
            if isinstance(p, ContinuousParameter):
                kinds[p.name] = "float"
            elif isinstance(p, IntegerParameter):
                kinds[p.name] = "int"
            elif isinstance(p, CategoricalParameter | SequenceParameter):
                kinds[p.name] = "str"
        for group in spec.space.compositions:
            kinds.update(dict.fromkeys(group.components, "float"))
        layout = cls(parameters=tuple(spec.space.all_names()),
                     outcomes=tuple(spec.outcome_names()), kinds=kinds)
        columns = layout.columns
        clashes = sorted({c for c in columns if columns.count(c) > 1})
        if clashes:
            raise InvalidInput(f"this campaign's CSV columns would clash: {clashes} name two "
                               "columns each; use the JSON API", field="spec")
        return layout

    @property
    def columns(self) -> list[str]:
        return [*self.parameters, *self.outcomes, *(o + SD_SUFFIX for o in self.outcomes),
                *TRAILING]


def write_csv(spec: CampaignSpec, observations: Iterable[ObservationLike]) -> str:
    """The observations as CSV text (header first). Floats are written in their shortest
    exact form, so reading the text back gives the very same numbers."""
    layout = CsvLayout.of(spec)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(layout.columns)
    for obs in observations:
        writer.writerow([
            *(_cell(obs.parameters.get(name)) for name in layout.parameters),
            *(_cell(obs.outcomes.get(name)) for name in layout.outcomes),
            *(_cell(obs.noise_sd.get(name)) for name in layout.outcomes),
            _cell(obs.failed), _cell(obs.failure_reason), _cell(obs.suggestion_id),
            _cell(obs.posted_by), _cell(obs.created_at)])
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class CsvRow:
    """One data row that parsed: its row number and the observation it holds."""

    row: int
    observation: ObservationCreate


@dataclass(frozen=True)
class ParsedCsv:
    rows: list[CsvRow]
    errors: list[RowError]
    #: The header (or the file as a whole) is wrong: no row could be read.
    fatal: bool = False


def read_csv(spec: CampaignSpec, text: str, *, link_suggestions: bool = True) -> ParsedCsv:
    """Typed observations from CSV text, and every problem found on the way.

    Args:
        spec: The campaign's definition: which columns exist and how each is typed.
        text: The CSV (comma-separated, first row the header, any column order).
        link_suggestions: Read the ``suggestion_id`` column; ``False`` ignores it (e.g. to
            load another campaign's observations, whose suggestions do not exist here).
    """
    layout = CsvLayout.of(spec)
    records = [r for r in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in r)]
    if not records:
        return ParsedCsv([], [RowError(1, None, "the CSV is empty: no header")], fatal=True)
    header = [cell.strip() for cell in records[0]]
    header_errors = _header_errors(layout, header)
    if len(records) - 1 > MAX_ROWS:
        header_errors.append(RowError(1, None, f"the CSV has {len(records) - 1} rows; at "
                                      f"most {MAX_ROWS} go in one upload"))
    if len(records) == 1:
        header_errors.append(RowError(1, None, "the CSV has a header but no rows"))
    if header_errors:
        return ParsedCsv([], header_errors, fatal=True)
    rows: list[CsvRow] = []
    errors: list[RowError] = []
    answered: dict[uuid.UUID, int] = {}
    for number, record in enumerate(records[1:], start=2):
        if len(record) != len(header):
            errors.append(RowError(number, None, f"has {len(record)} cells; the header has "
                                   f"{len(header)}"))
            continue
        cells = {name: cell.strip() for name, cell in zip(header, record, strict=True)}
        row, row_errors = _parse_row(layout, number, cells, link_suggestions)
        errors += row_errors
        if row is None:
            continue
        sid = row.observation.suggestion_id
        if sid is not None and sid in answered:
            errors.append(RowError(number, SUGGESTION_ID,
                                   f"suggestion {sid} is answered by row {answered[sid]} too"))
            continue
        if sid is not None:
            answered[sid] = number
        rows.append(row)
    return ParsedCsv(rows, errors)


def _header_errors(layout: CsvLayout, header: list[str]) -> list[RowError]:
    errors = [RowError(1, name, "this column appears more than once")
              for name in sorted({h for h in header if header.count(h) > 1})]
    known = set(layout.columns)
    errors += [RowError(1, name or None, f"unknown column {name!r}; this campaign's columns "
                        f"are {layout.columns}") for name in header if name not in known]
    errors += [RowError(1, name, "required column is missing")
               for name in (*layout.parameters, *layout.outcomes) if name not in header]
    return errors


def _parse_row(layout: CsvLayout, number: int, cells: dict[str, str],
               link_suggestions: bool) -> tuple[CsvRow | None, list[RowError]]:
    errors: list[RowError] = []
    body: dict[str, Any] = {"parameters": {}, "outcomes": {}, "noise_sd": {}}

    def typed(column: str, kind: str) -> Any:
        cell = cells.get(column, "")
        if cell == "":
            return None
        try:
            return _parse(cell, kind)
        except ValueError as exc:
            errors.append(RowError(number, column, str(exc)))
            return None

    for name in layout.parameters:
        value = typed(name, layout.kinds[name])
        if value is not None:  # an empty cell is a missing parameter: add_observations says so
            body["parameters"][name] = value
    for name in layout.outcomes:
        for target, column in (("outcomes", name), ("noise_sd", name + SD_SUFFIX)):
            value = typed(column, "float")
            if value is not None:
                body[target][name] = value
    failed = cells.get(FAILED, "").lower()
    if failed not in _TRUE | _FALSE:
        errors.append(RowError(number, FAILED, f"{cells[FAILED]!r} is not true or false"))
    body["failed"] = failed in _TRUE
    body["failure_reason"] = cells.get(FAILURE_REASON) or None
    if link_suggestions and cells.get(SUGGESTION_ID):
        try:
            body["suggestion_id"] = uuid.UUID(cells[SUGGESTION_ID])
        except ValueError:
            errors.append(RowError(number, SUGGESTION_ID, "is not a suggestion id (a UUID)"))
    if errors:
        return None, errors
    try:
        return CsvRow(number, ObservationCreate.model_validate(body)), []
    except ValidationError as exc:
        return None, [RowError(number, _column(error["loc"]), _message(error))
                      for error in exc.errors()]


def _parse(cell: str, kind: str) -> Any:
    if kind == "str":
        return cell
    if kind == "int":
        try:
            return int(cell)
        except ValueError:
            number = _float(cell, "an integer")
            if not number.is_integer():
                raise ValueError(f"{cell!r} is not an integer") from None
            return int(number)
    return _float(cell, "a number")


def _float(cell: str, what: str) -> float:
    try:
        number = float(cell)
    except ValueError:
        raise ValueError(f"{cell!r} is not {what}") from None
    if not math.isfinite(number):
        raise ValueError(f"{cell!r} is not a finite number")
    return number


def _column(loc: tuple[Any, ...]) -> str | None:
    """The CSV column of a validation error's location in an :class:`ObservationCreate`."""
    if len(loc) >= 2 and loc[0] in ("parameters", "outcomes"):
        return str(loc[1])
    if len(loc) >= 2 and loc[0] == "noise_sd":
        return f"{loc[1]}{SD_SUFFIX}"
    if loc and loc[0] in (FAILED, FAILURE_REASON, SUGGESTION_ID):
        return str(loc[0])
    return None


def _message(error: Any) -> str:
    return str(error.get("msg", "")).removeprefix("Value error, ")


def batch_error_column(loc: list[Any]) -> str | None:
    """The CSV column of an error located in an :class:`ObservationBatch` posted from CSV
    (``["observations", i, "parameters", name]`` and the like); see :func:`_column`."""
    return _column(tuple(loc[2:]))
