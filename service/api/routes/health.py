"""Liveness and readiness.

``/healthz`` touches nothing: it answers while the process can serve HTTP at all, so an
orchestrator restarts only a wedged process. ``/readyz`` checks what a request needs (the
database and the broker), each under a short timeout so a hung dependency makes the probe
fail fast instead of hang; 503 names the dependency that is down.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from fastapi import APIRouter
from sqlalchemy import text

from service.api.deps import SettingsDep
from service.db.engine import get_engine
from service.errors import ServiceUnavailable
from service.queue import broker_reachable
from service.schemas.health import DependencyCheck, Liveness, Readiness

CHECK_TIMEOUT_S = 2.0

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> Liveness:
    return Liveness()


@router.get("/readyz", responses={503: {"description": "A dependency is down (named in "
                                        "`error.details`)."}})
async def readyz(settings: SettingsDep) -> Readiness:
    url = settings.resolved_database_url
    database, broker = await asyncio.gather(
        _check(lambda: _database_answers(url)),
        _check(lambda: broker_reachable(CHECK_TIMEOUT_S)))
    checks = {"database": database, "broker": broker}
    down = [name for name, check in checks.items() if not check.ok]
    if down:
        raise ServiceUnavailable(f"not ready: {', '.join(down)} unavailable",
                                 details={n: c.model_dump() for n, c in checks.items()})
    return Readiness(status="ready", checks=checks)


def _database_answers(url: str) -> tuple[bool, str]:
    engine = get_engine(url)
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return True, engine.dialect.name


async def _check(probe: Callable[[], tuple[bool, str]]) -> DependencyCheck:
    """Run a blocking probe in a thread, giving up after :data:`CHECK_TIMEOUT_S` (the thread
    is left to finish on its own: a probe must never hold up the answer)."""
    try:
        ok, detail = await asyncio.wait_for(asyncio.to_thread(probe), CHECK_TIMEOUT_S)
    except TimeoutError:
        return DependencyCheck(ok=False, detail=f"no answer within {CHECK_TIMEOUT_S} s")
    except Exception as exc:  # noqa: BLE001 - whatever the failure, the answer is "not ready"
        return DependencyCheck(ok=False, detail=f"{type(exc).__name__}: {exc}"[:500])
    return DependencyCheck(ok=ok, detail=detail)
