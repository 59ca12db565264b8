"""An open-loop HTTP/1.1 load generator: requests leave at a fixed rate whether or
not earlier ones have been answered, so a slow response cannot hide the requests
that would have queued behind it (the "coordinated omission" of closed-loop tools
such as wrk). Debian has no wrk2, hence this.

Several targets can share one schedule: the requests go to them in turn (each
round of turns in a fresh random order), so every target is measured at the same
moments, under the same background noise. That is what makes a difference of a
fraction of a millisecond between two targets measurable on a busy machine, where
separate runs a few seconds apart drift by more than that.

Each target has a fixed pool of keep-alive connections. A request whose time has
come but that finds all of its target's connections busy waits for one, and that
wait counts in its latency. Latency is measured with `time.perf_counter()` from
the moment the scheduler dispatches the request to the last byte of the response
body. (The event loop's timers have millisecond granularity, so a request may be
dispatched up to about a millisecond after its slot; that lag is the client's,
the same for every target, and is reported as `late_dispatch`.)
"""

from __future__ import annotations

import asyncio
import gc
import random
import time
from dataclasses import dataclass, field


@dataclass
class OpenLoopResult:
    rate: float  # requests/s, all targets together
    duration: float  # seconds measured, after the warm-up
    latencies: dict[str, list[float]] = field(default_factory=dict)  # seconds, per target
    errors: int = 0
    late_dispatch: float = 0.0  # worst lag of the scheduler behind the schedule, seconds


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer

    def close(self) -> None:
        self.writer.close()


async def _open(host: str, port: int) -> _Connection:
    reader, writer = await asyncio.open_connection(host, port)
    return _Connection(reader, writer)


async def _exchange(connection: _Connection, request: bytes) -> tuple[int, bool]:
    """Send one request and read its whole response; (status, the server keeps the connection)."""
    connection.writer.write(request)
    head = await connection.reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length, chunked, keep = 0, False, True
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif name == b"connection" and b"close" in value.lower():
            keep = False
    if chunked:
        while True:
            size = int((await connection.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await connection.reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await connection.reader.readexactly(length)
    return status, keep


class _Target:
    def __init__(self, name: str, host: str, port: int, path: str):
        self.name, self.host, self.port = name, host, port
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: commerce-bench\r\n"
            "Accept: application/json\r\n\r\n"
        ).encode()
        self.idle: asyncio.Queue[_Connection] = asyncio.Queue()

    async def connect(self, connections: int) -> None:
        for connection in await asyncio.gather(*(_open(self.host, self.port) for _ in range(connections))):
            self.idle.put_nowait(connection)

    async def get(self, dispatched: float) -> tuple[bool, float]:
        connection = await self.idle.get()
        try:
            status, keep = await _exchange(connection, self.request)
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            status, keep = 0, False
        done = time.perf_counter()
        if not keep:
            connection.close()
            try:
                connection = await _open(self.host, self.port)
            except OSError:
                connection = None
        if connection is not None:
            self.idle.put_nowait(connection)
        return status == 200, done - dispatched

    def close(self) -> None:
        while not self.idle.empty():
            self.idle.get_nowait().close()


async def _run(
    targets: list[_Target], rate: float, duration: float, warmup: float, connections: int, seed: int
) -> OpenLoopResult:
    for target in targets:
        await target.connect(connections)
    result = OpenLoopResult(rate=rate, duration=duration, latencies={t.name: [] for t in targets})
    pending: set[asyncio.Task] = set()
    shuffle = random.Random(seed).shuffle

    async def fire(target: _Target, dispatched: float, measured: bool) -> None:
        ok, latency = await target.get(dispatched)
        if measured:
            if ok:
                result.latencies[target.name].append(latency)
            else:
                result.errors += 1

    interval = 1.0 / rate
    total = int((warmup + duration) * rate)
    measured_from = int(warmup * rate)
    turns: list[_Target] = []
    start = time.perf_counter()
    index = 0
    while index < total:
        now = time.perf_counter()
        # Everything due by now leaves now; the scheduler never skips a request.
        while index < total and start + index * interval <= now:
            if not turns:
                turns = list(targets)
                shuffle(turns)
            measured = index >= measured_from
            if measured:
                result.late_dispatch = max(result.late_dispatch, now - (start + index * interval))
            task = asyncio.create_task(fire(turns.pop(), now, measured))
            pending.add(task)
            task.add_done_callback(pending.discard)
            index += 1
        if index < total:
            await asyncio.sleep(max(0.0, start + index * interval - time.perf_counter()))
    await asyncio.wait_for(asyncio.gather(*pending, return_exceptions=True), timeout=30)
    for target in targets:
        target.close()
    return result


def run_open_loop(
    targets: dict[str, int],
    path: str,
    *,
    rate: float,
    duration: float,
    warmup: float = 1.0,
    connections: int = 16,
    host: str = "127.0.0.1",
    seed: int = 1,
) -> OpenLoopResult:
    """`rate` requests/s in all, taking turns over `targets` ({name: port}), for
    `warmup + duration` seconds; the latencies of requests due in the last
    `duration` seconds are kept, per target."""
    try:
        import uvloop

        loop_factory = uvloop.new_event_loop
    except ImportError:  # pragma: no cover - uvloop is in requirements.txt
        loop_factory = None
    gc_was_enabled = gc.isenabled()
    gc.disable()  # a collection in the client would show up as server latency
    try:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            return runner.run(
                _run(
                    [_Target(name, host, port, path) for name, port in targets.items()],
                    rate,
                    duration,
                    warmup,
                    connections,
                    seed,
                )
            )
    finally:
        if gc_was_enabled:
            gc.enable()
