"""A small HTTP/1.1 load generator on asyncio streams.

A general client (httpx, aiohttp) spends more CPU per request than the server we are
measuring can spare on a 2-core machine; this one writes prepared bytes on keep-alive
connections and reads back only the status line, the headers and ``Content-Length``
bytes. A server that answers ``Connection: close`` gets a new connection for the next
request. The request count is fixed: it stops by itself."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from bench.stack import HOST


@dataclass(frozen=True)
class Request:
    path: str
    body: bytes
    headers: dict[str, str]

    def encode(self, port: int) -> bytes:
        head = [f"POST {self.path} HTTP/1.1", f"Host: {HOST}:{port}", "Connection: keep-alive"]
        head += [f"{k}: {v}" for k, v in self.headers.items()]
        head.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(head) + "\r\n\r\n").encode() + self.body


@dataclass(frozen=True)
class Result:
    status: int
    seconds: float


@dataclass
class Run:
    results: list[Result]
    wall_seconds: float
    client_cpu_seconds: float
    connections_opened: int

    @property
    def ok(self) -> list[Result]:
        return [r for r in self.results if r.status == 200]


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    close = lines[0].startswith("HTTP/1.0")
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection":
            close = value.strip().lower() == "close"
    if length:
        await reader.readexactly(length)
    return status, close


async def _client(
    port: int, work: Iterator[bytes], results: list[Result], opened: list[int], timeout: float
) -> None:
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    for raw in work:
        started = time.perf_counter()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(HOST, port)
                opened.append(1)
            assert reader is not None
            writer.write(raw)
            # A deadline on the running task: ``wait_for`` would make a task a request.
            async with asyncio.timeout(timeout):
                status, close = await _read_response(reader)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            status, close = 0, True
        results.append(Result(status, time.perf_counter() - started))
        if close and writer is not None:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


async def _run(port: int, requests: Iterable[Request], concurrency: int, timeout: float) -> Run:
    work = iter([r.encode(port) for r in requests])
    results: list[Result] = []
    opened: list[int] = []
    cpu = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(
        *(_client(port, work, results, opened, timeout) for _ in range(concurrency))
    )
    return Run(
        results=results,
        wall_seconds=time.perf_counter() - started,
        client_cpu_seconds=time.process_time() - cpu,
        connections_opened=len(opened),
    )


def post_all(
    *, port: int, requests: Iterable[Request], concurrency: int, timeout: float = 30.0
) -> Run:
    """Send every request once over ``concurrency`` connections; the answers in order of
    completion with their time from write to the last byte of the response."""
    return asyncio.run(_run(port, requests, concurrency, timeout))
