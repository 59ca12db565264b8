"""The platform's health as the gateway sees it: Redis answers, every service's own
/health/ answers 200, and every event worker's heartbeat is fresh in Redis and
reports no problem (an outbox that stopped draining, a consumer that cannot record
what it receives, a broker it cannot reach: commerce_core.events.heartbeat).

All checks run concurrently, each bounded by a short timeout, so one hung
service costs /health about that timeout and not the sum of them.
"""

import asyncio
import weakref

import redis.asyncio as aioredis
from django.conf import settings
from proxy import client
from proxy.connection import UpstreamTimeout

from commerce_core.events.heartbeat import WorkerStatus, heartbeat_key
from commerce_core.settings.topology import PROJECTS, SERVICES, Project

OK = "ok"

_redis_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis]" = weakref.WeakKeyDictionary()


def _redis(timeout: float) -> aioredis.Redis:
    """The running loop's client (a pooled client is bound to the loop that made it)."""
    loop = asyncio.get_running_loop()
    redis = _redis_clients.get(loop)
    if redis is None:
        redis = _redis_clients[loop] = aioredis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=timeout, socket_connect_timeout=timeout
        )
    return redis


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | UpstreamTimeout):
        return "timeout"
    return f"unreachable: {exc or type(exc).__name__}"[:200]


async def _check_service(project: Project, timeout: float) -> str:
    try:
        status, _ = await client.get(f"{project.url}/health/", timeout=timeout)
    except Exception as exc:  # whatever went wrong, it is this component's failure to report
        return _reason(exc)
    return OK if status == 200 else f"unhealthy: HTTP {status}"


async def _check_redis_and_workers(timeout: float) -> dict[str, str]:
    workers = [f"worker:{project.name}" for project in PROJECTS]
    try:
        async with asyncio.timeout(timeout):
            pipe = _redis(timeout).pipeline(transaction=False)
            pipe.ping()
            for project in PROJECTS:
                pipe.get(heartbeat_key(project.name))
            _, *beats = await pipe.execute()
    except Exception as exc:  # Redis down or slow: the workers cannot be vouched for either
        return {"redis": _reason(exc), **{worker: "unknown: redis unavailable" for worker in workers}}
    return {"redis": OK, **{worker: _worker_health(beat) for worker, beat in zip(workers, beats, strict=True)}}


def _worker_health(beat: bytes | None) -> str:
    if not beat:
        return "no heartbeat"
    try:
        problems = WorkerStatus.from_json(beat).problems
    except (ValueError, TypeError):
        return "unreadable heartbeat"
    return f"unhealthy: {'; '.join(problems)}"[:300] if problems else OK


async def platform_health() -> tuple[bool, dict[str, str]]:
    """(healthy, {component: "ok" or a short reason}) for Redis, each service and each worker."""
    timeout = settings.GATEWAY["HEALTH_TIMEOUT"]
    redis_and_workers, *services = await asyncio.gather(
        _check_redis_and_workers(timeout), *(_check_service(project, timeout) for project in SERVICES)
    )
    components = {"redis": redis_and_workers.pop("redis")}
    components.update((project.name, result) for project, result in zip(SERVICES, services, strict=True))
    components.update(redis_and_workers)
    return all(result == OK for result in components.values()), components
