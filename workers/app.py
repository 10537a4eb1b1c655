"""The one Celery app of designloop, its process signals, and a way to run a worker.

Importing this module reads no settings and touches no database, broker, CUDA or file: the
configuration is :func:`service.queue.celery_config` of the settings *of the process that
starts the worker*, loaded when Celery first needs it. The publisher (the API, the CLI) uses
the same configuration without importing this module.

Process signals:

* ``worker_process_init`` (each prefork child): forget the database engines and broker
  connections inherited from the parent, so no pooled socket is shared across ``fork``;
* ``worker_ready`` / ``worker_shutdown`` (the worker's main process): start / stop the reaper
  thread, which requeues and republishes lost jobs every ``reaper_interval_s``;
* ``setup_logging``: plain :mod:`logging` at the worker's ``--loglevel`` (Celery does not
  hijack the root logger).

Usage::

    python -m celery -A workers.app worker -Q cpu,gpu -c 1 --pool prefork \\
        --without-mingle --without-gossip --without-heartbeat

or, from Python (what ``designloop worker`` calls)::

    from workers.app import run_worker
    run_worker(["cpu", "gpu"], concurrency=1, pool="prefork")
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

from celery import Celery
from celery.signals import setup_logging, worker_process_init, worker_ready, worker_shutdown

from service.config import get_settings
from service.db.engine import dispose_engines
from service.queue import QUEUES, celery_config, reset_publisher

log = logging.getLogger(__name__)

app = Celery("designloop", include=["workers.tasks"], set_as_current=False)
# A promise: evaluated when the configuration is first read, not at import.
app.add_defaults(lambda: celery_config(get_settings()))

LOG_FORMAT = "%(asctime)s %(levelname)s %(processName)s %(name)s: %(message)s"


class Reaper(threading.Thread):
    """Runs :func:`service.jobs.reap_once` every ``interval_s`` until stopped.

    Every error is caught and logged (a traceback for the first of a streak, one line for the
    rest): an outage of the database or the broker must not kill the thread, because the
    reaper is what repairs the jobs the outage lost.
    """

    def __init__(self, interval_s: float) -> None:
        super().__init__(name="designloop-reaper", daemon=True)
        self.interval_s = interval_s
        self._stop_event = threading.Event()
        self.passes = 0

    def run(self) -> None:
        from service.jobs import reap_once

        failing = False
        while True:
            try:
                reap_once()
                if failing:
                    log.warning("reaper: recovered")
                failing = False
            except Exception as exc:  # the reaper must outlive any outage
                log.warning("reaper pass failed: %s: %s", type(exc).__name__, exc,
                            exc_info=not failing)
                failing = True
            self.passes += 1
            if self._stop_event.wait(self.interval_s):
                return

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout_s)


_reaper: Reaper | None = None


@worker_process_init.connect
def _forget_inherited_connections(**_: Any) -> None:
    dispose_engines()
    reset_publisher()


@worker_ready.connect
def _start_reaper(**_: Any) -> None:
    global _reaper
    _reaper = Reaper(get_settings().reaper_interval_s)
    _reaper.start()
    log.info("worker ready; reaper every %g s", _reaper.interval_s)


@worker_shutdown.connect
def _stop_reaper(**_: Any) -> None:
    if _reaper is not None:
        _reaper.stop()


@setup_logging.connect
def _setup_logging(loglevel: int | str | None = None, **_: Any) -> None:
    logging.basicConfig(level=loglevel or logging.INFO, format=LOG_FORMAT)


def worker_argv(queues: Sequence[str] | str | None = None, *, concurrency: int = 1,
                pool: str = "prefork", loglevel: str = "INFO",
                hostname: str | None = None) -> list[str]:
    """Arguments of ``celery -A workers.app`` for a designloop worker.

    Mingle, gossip and worker heartbeats are off: the Job rows, not worker-to-worker chatter,
    coordinate designloop workers, and they only slow start-up (and need fanout delivery,
    which the embedded filesystem broker emulates by polling).
    """
    if queues is None:
        queues = get_settings().worker_queues
    names = [q.strip() for q in (queues.split(",") if isinstance(queues, str) else queues)]
    unknown = sorted(set(names) - set(QUEUES))
    if unknown or not names:
        raise ValueError(f"unknown queues {unknown}; designloop queues are {list(QUEUES)}")
    argv = ["worker", "--queues", ",".join(names), "--concurrency", str(concurrency),
            "--pool", pool, "--loglevel", loglevel,
            "--without-mingle", "--without-gossip", "--without-heartbeat"]
    if hostname:
        argv += ["--hostname", hostname]
    return argv


def run_worker(queues: Sequence[str] | str | None = None, concurrency: int = 1,
               pool: str = "prefork", loglevel: str = "INFO") -> None:
    """Run a worker in this process until it is stopped (blocks).

    Args:
        queues: ``cpu``, ``gpu`` or both (default: ``DESIGNLOOP_WORKER_QUEUES``).
        concurrency: Pool size: jobs run at once by this worker.
        pool: ``prefork`` (isolation, Celery's time limits), ``solo`` or ``threads`` (the
            in-task deadline still bounds each job).
        loglevel: Logging level name.
    """
    app.worker_main(worker_argv(queues, concurrency=concurrency, pool=pool, loglevel=loglevel))
