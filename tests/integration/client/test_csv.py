"""Observations as CSV through the API: export, round trip, row-level errors, all or nothing."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from service.cli.main import app
from service.client import Client, ValidationError
from service.enums import SuggestionStatus
from tests.integration.api.helpers import CAMPAIGN, DESIGN, add_suggestions, stored
from tests.integration.client.conftest import ApiServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

HEADER = ["temperature", "cycles", "solvent", "a", "b", "c", "yield", "toxicity", "yield_sd",
          "toxicity_sd", "failed", "failure_reason", "suggestion_id", "posted_by",
          "created_at"]
MEASURED = ("parameters", "outcomes", "noise_sd", "failed", "failure_reason")


def _observations() -> list[dict[str, Any]]:
    """A history with awkward values: tiny and long floats, a failure with a reason that
    needs quoting, noise on one outcome only."""
    return [
        {"parameters": {**DESIGN, "temperature": 20.0}, "outcomes": {"yield": 0.1,
                                                                    "toxicity": 1e-7}},
        {"parameters": {"temperature": 89.99999999999, "cycles": 10, "solvent": "ethanol",
                        "a": 1 / 3, "b": 1 / 3, "c": 1 / 3},
         "outcomes": {"yield": -2.5e10, "toxicity": 0.3}, "noise_sd": {"yield": 0.05}},
        {"parameters": {**DESIGN, "cycles": 1}, "failed": True,
         "failure_reason": 'pump "B" stalled, again\nsecond line'},
    ]


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _measured(campaign: Any) -> list[dict[str, Any]]:
    return [o.model_dump(include=set(MEASURED)) for o in campaign.observations()]


def test_export_columns_and_cells(client: Client, api_key: str) -> None:
    campaign = client.create_campaign(CAMPAIGN)
    created = campaign.observe(_observations())

    text = campaign.observations_csv()
    assert next(csv.reader(io.StringIO(text))) == HEADER
    rows = _rows(text)
    assert len(rows) == 3
    assert rows[0]["temperature"] == "20.0" and rows[0]["toxicity"] == "1e-07"
    assert rows[1]["yield_sd"] == "0.05" and rows[1]["toxicity_sd"] == ""
    assert rows[2]["failed"] == "true" and rows[2]["yield"] == rows[2]["toxicity"] == ""
    assert rows[2]["failure_reason"] == 'pump "B" stalled, again\nsecond line'
    assert [r["created_at"] for r in rows] == [o.created_at.isoformat() for o in created]
    assert {r["posted_by"] for r in rows} == {f"key:{api_key.split('_')[1]}"}


def test_round_trip_into_a_fresh_campaign(client: Client) -> None:
    source = client.create_campaign(CAMPAIGN)
    source.observe(_observations())
    text = source.observations_csv()

    fresh = client.create_campaign(CAMPAIGN)
    created = fresh.import_observations_csv(text, link_suggestions=False)

    assert len(created) == 3
    assert _measured(fresh) == _measured(source)
    # Its own export is the same sheet but for who posted each row and when.
    again, original = _rows(fresh.observations_csv()), _rows(text)
    for row in (*again, *original):
        del row["posted_by"], row["created_at"]
    assert again == original


def test_one_bad_row_rejects_the_whole_file(client: Client) -> None:
    campaign = client.create_campaign(CAMPAIGN)
    source = client.create_campaign(CAMPAIGN)
    source.observe([{"parameters": {**DESIGN, "temperature": 20.0 + i},
                     "outcomes": {"yield": 0.1 * i, "toxicity": 0.1}} for i in range(5)])
    text = source.observations_csv().replace("\r\n23.0,", "\r\n230.0,")  # 4th data row

    with pytest.raises(ValidationError) as caught:
        campaign.import_observations_csv(text, link_suggestions=False)

    error = caught.value
    assert [(e.row, e.column) for e in error.errors] == [(5, "temperature")]
    assert "230.0 is outside [20.0, 90.0]" in error.errors[0].message
    assert error.field == "row.5.temperature"
    assert "row 5" in error.message and "nothing was stored" in error.message
    assert list(campaign.observations()) == []


def test_every_bad_row_is_reported(client: Client) -> None:
    campaign = client.create_campaign(CAMPAIGN)
    (pending,) = add_suggestions(str(campaign.id), [DESIGN])
    good = "50,3,water,0.2,0.3,0.5,0.7,0.1,,,false,,,,"
    lines = [
        ",".join(HEADER),
        good,                                                      # row 2: fine
        "warm,3,water,0.2,0.3,0.5,0.7,0.1,,,false,,,,",            # row 3: not a number
        "50,2.5,water,0.2,0.3,0.5,0.7,0.1,,,false,,,,",            # row 4: not an integer
        "50,3,brine,0.2,0.3,0.5,0.7,0.1,,,false,,,,",              # row 5: not a choice
        "50,3,water,0.2,0.3,0.4,0.7,0.1,,,false,,,,",              # row 6: sums to 0.9
        "50,4,water,0.2,0.3,0.5,,0.1,,,false,,,,",                 # row 7: yield missing
        "50,5,water,0.2,0.3,0.5,0.7,0.1,-1,,false,,,,",            # row 8: negative sd
        f"50,6,water,0.2,0.3,0.5,0.7,0.1,,,false,,{uuid.uuid4()},,",  # row 9: no such one
        f"50,7,water,0.2,0.3,0.5,0.7,0.1,,,false,,{pending},,",    # row 10: fine
        f"50,8,water,0.2,0.3,0.5,0.7,0.1,,,false,,{pending},,",    # row 11: answered twice
        "50,9,water,0.2,0.3,0.5,0.7,0.1,,,maybe,,,,",              # row 12: not a boolean
        "50,9,water,0.2,0.3,0.5,0.7,0.1,,,true,,,,",               # row 13: failed, outcomes
        "50,9,water",                                              # row 14: too short
    ]
    with pytest.raises(ValidationError) as caught:
        campaign.import_observations_csv("\n".join(lines))

    found = [(e.row, e.column) for e in caught.value.errors]
    assert found == [(3, "temperature"), (4, "cycles"), (5, "solvent"), (6, "a"),
                     (7, "yield"), (8, "yield_sd"), (9, "suggestion_id"),
                     (11, "suggestion_id"), (12, "failed"), (13, None), (14, None)]
    assert stored()["observations"] == 0
    assert [s.status for s in campaign.suggestions()] == [SuggestionStatus.pending]


def test_a_bad_header_is_reported_as_row_1(client: Client) -> None:
    campaign = client.create_campaign(CAMPAIGN)
    header = [h for h in HEADER if h != "toxicity"] + ["colour"]
    with pytest.raises(ValidationError) as caught:
        campaign.import_observations_csv(",".join(header) + "\n" + ",".join("1" * len(header)))
    assert {(e.row, e.column) for e in caught.value.errors} == {(1, "colour"),
                                                                (1, "toxicity")}


def test_rows_answer_their_suggestions(client: Client) -> None:
    campaign = client.create_campaign(CAMPAIGN)
    ids = add_suggestions(str(campaign.id), [DESIGN, {**DESIGN, "cycles": 4}])
    sheet = "\ufeff" + ",".join(["suggestion_id", *HEADER[:8]]) + "\r\n" + "".join(
        f"{sid},{DESIGN['temperature']},{cycles},water,0.2,0.3,0.5,0.6,0.1\r\n"
        for sid, cycles in zip(ids, (3, 4), strict=True))  # any column order, a BOM

    created = campaign.import_observations_csv(sheet.encode(), idempotency_key="sheet-1")
    replayed = campaign.import_observations_csv(sheet.encode(), idempotency_key="sheet-1")

    assert [o.suggestion_id for o in created] == ids
    assert [o.id for o in replayed] == [o.id for o in created]
    assert stored()["observations"] == 2
    assert campaign.pending() == []


def test_designloop_lab_observations_export_and_import(api_server: ApiServer, client: Client,
                                                       api_key: str, tmp_path: Path) -> None:
    source = client.create_campaign(CAMPAIGN)
    source.observe(_observations())
    target = client.create_campaign(CAMPAIGN)
    sheet = tmp_path / "sheet.csv"
    common = ["--url", api_server.url, "--key", api_key]

    exported = CliRunner().invoke(app, ["lab", "observations", "export", str(source.id),
                                        str(sheet), *common])
    assert exported.exit_code == 0, exported.output
    imported = CliRunner().invoke(app, ["lab", "observations", "import", str(target.id),
                                        str(sheet), "--ignore-suggestion-ids", *common])
    assert imported.exit_code == 0, imported.output
    assert _measured(target) == _measured(source)

    sheet.write_text(sheet.read_text().replace("ethanol", "brine"))
    refused = CliRunner().invoke(app, ["lab", "observations", "import", str(target.id),
                                       str(sheet), "--ignore-suggestion-ids", *common])
    assert refused.exit_code == 1
    assert "row 3, column solvent" in refused.output
