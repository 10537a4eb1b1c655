"""``python -m workers``: run a designloop worker (what ``designloop worker`` and the demo start).

The service's command line starts workers through this module rather than importing worker
code, which keeps the layer rule "service/ never imports workers/" true.
"""

from __future__ import annotations

import argparse

from workers.app import run_worker


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m workers", description=__doc__)
    parser.add_argument("--queues", default=None, help="cpu, gpu or both (default: settings)")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--pool", default="prefork", choices=["prefork", "solo", "threads"])
    parser.add_argument("--loglevel", default="INFO")
    args = parser.parse_args(argv)
    run_worker(args.queues, concurrency=args.concurrency, pool=args.pool, loglevel=args.loglevel)


if __name__ == "__main__":
    main()
