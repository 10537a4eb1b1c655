"""The queue seen from the service: Celery configuration and publishing job ids by task name.

The API never imports task code: it sends ``designloop.<kind>`` by name with the job id as the
only argument, after the transaction that created the job row has committed. A failed send is
logged, not raised: the job row stays queued and the reaper publishes it again.
"""

from __future__ import annotations

import functools
import logging
import uuid
from typing import Any

from celery import Celery
from kombu import Exchange, Queue

from service.config import Settings, get_settings
from service.enums import JobKind

log = logging.getLogger(__name__)

QUEUES = ("cpu", "gpu")
# One quick retry (a reconnect after a broker restart), then give up: the caller must not
# hang on a broker outage, and the reaper republishes from the job row.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5,
                        "interval_max": 0.5}
TASK_NAMES = {kind: f"designloop.{kind.value}" for kind in JobKind}


def celery_config(settings: Settings) -> dict[str, Any]:
    """Configuration shared by the publisher and the workers."""
    transport_options: dict[str, Any] = {
        "visibility_timeout": settings.broker_visibility_timeout_s,
    }
    if settings.is_filesystem_broker:
        folder = settings.broker_folder
        for sub in ("queue", "processed", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        transport_options = {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            # Exchange tables live here; kombu's default is a folder relative to the cwd.
            "control_folder": str(folder / "control"),
            "store_processed": False,
            # The folder is polled: a short interval keeps the embedded loop responsive.
            "polling_interval": 0.2,
        }
    else:
        transport_options.update({"socket_connect_timeout": 3, "socket_timeout": 10,
                                  "retry_on_timeout": True})
    return {
        # kombu warns on every connection to a URL without a host; the folder broker has none.
        "broker_url": ("filesystem://localhost//" if settings.is_filesystem_broker
                       else settings.resolved_broker_url),
        "broker_transport_options": transport_options,
        "broker_connection_retry_on_startup": True,
        "broker_connection_timeout": 3,
        "task_ignore_result": True,
        "result_backend": None,
        "task_serializer": "json",
        "accept_content": ["json"],
        "task_default_queue": "cpu",
        # Explicit direct queues, the same for publisher and workers (routing by queue name).
        "task_queues": [Queue(name, Exchange(name, type="direct"), routing_key=name)
                        for name in QUEUES],
        "task_acks_late": True,
        "task_reject_on_worker_lost": False,  # the reaper, not the broker, re-runs lost jobs
        "worker_prefetch_multiplier": 1,
        "task_soft_time_limit": settings.job_soft_time_limit_s,
        "task_time_limit": settings.job_time_limit_s,
        "worker_hijack_root_logger": False,
        "worker_send_task_events": False,
        # Remote control needs fanout delivery, which the filesystem broker only emulates by
        # polling one more folder per worker; the embedded default does without it.
        "worker_enable_remote_control": not settings.is_filesystem_broker,
        # The Job row, not Celery, records outcomes: there is no result backend to fill.
        "task_store_errors_even_if_ignored": False,
        "enable_utc": True,
    }


@functools.cache
def _publisher(url: str, folder: str) -> Celery:
    app = Celery("designloop-publisher", set_as_current=False)
    app.conf.update(celery_config(get_settings()))
    return app


def reset_publisher() -> None:
    """Forget cached publisher apps (after a fork: a broker connection must not be shared)."""
    _publisher.cache_clear()


def publisher() -> Celery:
    """A Celery app used only to send messages (cached per broker)."""
    settings = get_settings()
    return _publisher(settings.resolved_broker_url, str(settings.broker_folder))


def publish(job_id: uuid.UUID, kind: JobKind, queue: str) -> bool:
    """Send the job id to its queue by task name; ``False`` (logged) when the broker refused."""
    try:
        publisher().send_task(TASK_NAMES[kind], args=[str(job_id)], queue=queue,
                              retry=True, retry_policy=PUBLISH_RETRY_POLICY)
    except Exception:  # the broker is down: the reaper republishes from the job row
        log.warning("could not publish job %s to %s; the reaper will retry", job_id, queue,
                    exc_info=True)
        return False
    return True


def broker_reachable(timeout_s: float = 2.0) -> tuple[bool, str]:
    """Whether the broker answers now (for ``/readyz``)."""
    settings = get_settings()
    if settings.is_filesystem_broker:
        folder = settings.broker_folder / "queue"
        ok = folder.is_dir()
        return ok, "filesystem broker" if ok else f"{folder} missing"
    import redis  # a light client, imported only where the broker is Redis

    try:
        client = redis.Redis.from_url(settings.resolved_broker_url,
                                      socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", with its reason
        return False, f"{type(exc).__name__}: {exc}"
    return True, "redis"
