"""Training, plots, reprocessing and export with weights through the client, against a real
API and a real worker."""

from __future__ import annotations

import time

import pytest

from service.client import Client
from service.client.errors import ValidationError
from service.client.insilico import BraninLab
from service.client.loop import closed_loop
from service.enums import JobStatus, ReprocessStatus

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

PNG = b"\x89PNG\r\n\x1a\n"


def test_a_lab_campaign_trains_plots_reprocesses_and_exports(client: Client,
                                                             worker: object) -> None:
    campaign = client.create_campaign(name="robot", problem="branin", seed=5)
    list(closed_loop(campaign, BraninLab(noise_sd=0.01, seed=2), rounds=2, batch=4))

    job = campaign.train("gp")
    assert job.status == JobStatus.succeeded, job.error
    (version,) = campaign.model_versions()
    assert version.kind == "gp" and set(version.metrics["quality"]) == {"value", "constraint"}

    for kind in ("convergence", "parity"):
        assert campaign.plot(kind).startswith(PNG), kind
    with pytest.raises(ValidationError, match="no design picture"):
        campaign.plot("design")  # Branin is an analytic benchmark: nothing to draw

    run = client.reprocess({"campaign_ids": [str(campaign.id)], "count": 2,
                            "strategy": {"kind": "space_filling"}})
    deadline = time.monotonic() + 120
    while run.status == ReprocessStatus.running and time.monotonic() < deadline:
        time.sleep(0.5)
        run = client.reprocess_run(run.id)
    assert run.status == ReprocessStatus.finished, run

    document = campaign.export(weights=True)
    (exported,) = document.model_versions
    assert exported.weights, "the gp version's weights travel with weights=true"
    assert campaign.export().model_versions[0].weights is None
