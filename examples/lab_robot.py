"""A lab robot driving a designloop campaign: ask for a batch, run it, post the results, repeat.

The robot here is in silico: it "measures" the constrained Branin benchmark (minimise the
Branin function inside the disc (x1 - 2.5)^2 + (x2 - 7.5)^2 <= 50; the optimum is 0.397887 at
(pi, 2.275)) with measurement noise, and now and then a run fails. Swap ``BraninRobot.run``
for the real instrument and the rest stays as it is.

Only the HTTP client is used (httpx + pydantic; no torch, no database), so this script can run
on the robot's own computer. Against the embedded default, in three terminals::

    designloop migrate && designloop project create my-lab      # prints an API key, once
    designloop serve                                            # the API on :8000
    designloop worker                                           # computes the suggestions
    python examples/lab_robot.py --key dl_... --rounds 5

Run it again and the same campaign (found by name) goes on. Every post of results carries an
Idempotency-Key (the client adds one per call and re-sends it on each retry), so a result
posted over a flaky network is stored once, never twice.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from service.client import Campaign, Client, ClientError


class BraninRobot:
    """The constrained Branin benchmark on a noisy, occasionally failing bench.

    Args:
        noise_sd: Standard deviation of the Gaussian measurement noise (both outcomes).
        failure_rate: Probability that a run gives no measurement.
        seed: Seed of the noise and the failures.
    """

    def __init__(self, noise_sd: float = 0.05, failure_rate: float = 0.1, seed: int = 0) -> None:
        self.noise_sd = noise_sd
        self.failure_rate = failure_rate
        self.rng = np.random.default_rng(seed)

    def run(self, x1: float, x2: float) -> dict[str, float] | None:
        """The measured outcomes, or ``None`` when the run failed."""
        if self.rng.random() < self.failure_rate:
            return None
        b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
        value = (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * np.cos(x1) + 10
        slack = (x1 - 2.5) ** 2 + (x2 - 7.5) ** 2 - 50.0  # feasible when <= 0
        noise = self.rng.normal(0.0, self.noise_sd, size=2)
        return {"value": float(value + noise[0]), "constraint": float(slack + noise[1])}


def find_or_create(client: Client, name: str) -> Campaign:
    """The project's Branin campaign called ``name``, or a new one measured by the lab."""
    for campaign in client.campaigns(problem="branin"):
        if campaign.name == name:
            return campaign
    return client.create_campaign(name=name, problem="branin", evaluator={"kind": "lab"},
                                  seed=0)


def run_round(campaign: Campaign, robot: BraninRobot, batch: int,
              progress: bool) -> list[dict[str, Any]]:
    """One round: ask for ``batch`` designs, run each on the robot, post all the results."""
    suggestions = campaign.suggest(batch, progress=progress)  # waits for the worker's job
    results = []
    for suggestion in suggestions:
        outcomes = robot.run(**suggestion.parameters)
        if outcomes is None:
            results.append(suggestion.result(failed=True, failure_reason="robot: plate dropped"))
        else:
            results.append(suggestion.result(outcomes, noise_sd={
                "value": robot.noise_sd, "constraint": robot.noise_sd}))
    campaign.observe(results)  # all or nothing, one Idempotency-Key for the whole round
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("DESIGNLOOP_URL",
                                                        "http://127.0.0.1:8000"))
    parser.add_argument("--key", default=os.environ.get("DESIGNLOOP_API_KEY"),
                        help="the project's API key (default: $DESIGNLOOP_API_KEY)")
    parser.add_argument("--campaign", default="lab-robot", help="campaign name")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--noise", type=float, default=0.05)
    parser.add_argument("--failure-rate", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if not args.key:
        parser.error("give --key or set DESIGNLOOP_API_KEY")

    console = Console()
    summary = None
    robot = BraninRobot(args.noise, args.failure_rate, args.seed)
    table = Table("round", "designs", "failed", "best of round", "best feasible so far",
                  title="lab robot on the constrained Branin benchmark (optimum 0.397887)")
    try:
        with Client(args.url, args.key) as client:
            campaign = find_or_create(client, args.campaign)
            console.print(f"campaign {campaign.id} ({campaign.name})")
            for number in range(1, args.rounds + 1):
                results = run_round(campaign, robot, args.batch, not args.no_progress)
                measured = [r["outcomes"]["value"] for r in results if not r["failed"]]
                summary = campaign.refresh().summary
                best = summary.best["value"] if summary and summary.best else None
                table.add_row(str(number), str(len(results)),
                              str(sum(r["failed"] for r in results)),
                              f"{min(measured):.4f}" if measured else "-",
                              "-" if best is None else f"{best:.4f}")
    except ClientError as exc:
        console.print(table)
        console.print(f"[red]error:[/red] {exc}")
        return 1
    console.print(table)
    if summary is not None:
        console.print(f"{summary.observations} observations ({summary.failed_observations} "
                      f"failed), {summary.pending_suggestions} pending")
    return 0


if __name__ == "__main__":
    sys.exit(main())
