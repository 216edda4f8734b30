"""Slow and greedy clients, over raw sockets: slowloris headers and trickled bodies are cut within their bounds
(one log line, no traceback), connections beyond the cap are closed at once, and a normal client is still served."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time

import aiohttp
import pytest

from bot.harness import running_warroom
from tests.signals.conftest import stored
from tests.signals.signal_config import BEARER_TOKEN, signal_config

HEADER_TIMEOUT = 0.6
BODY_TIMEOUT = 0.6
MAX_CONNECTIONS = 12
SLACK = 1.5  # scheduling allowance on a busy machine, on top of a bound
PATH = "/api/v1/acme/signals/instances"
BODY = json.dumps({"raw": {"name": "Disk full"}}).encode()


def request_head(port: int, content_length: int = len(BODY)) -> bytes:
    return (f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {BEARER_TOKEN}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {content_length}\r\n\r\n").encode()


@pytest.fixture
async def limited(slack, db_url, request):
    """warroom with small HTTP bounds (its worker stopped: these tests only look at what was stored);
    parametrize indirectly with a dict of settings to change some."""
    bounds = {"http_header_timeout": HEADER_TIMEOUT, "http_body_timeout": BODY_TIMEOUT,
              "http_max_connections": MAX_CONNECTIONS, **getattr(request, "param", {})}
    async with running_warroom(slack, db_url, signal_config(), **bounds) as runtime:
        await runtime.signal_worker.stop()
        yield runtime


async def connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> bytes:
    """Everything the server sent until it closed the connection; fails if it is still open after `seconds`."""
    received = b""
    async with asyncio.timeout(seconds):
        while True:
            try:
                chunk = await reader.read(4096)
            except ConnectionError:
                return received
            if not chunk:
                return received
            received += chunk


def close(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        writer.close()


def errors(caplog) -> list[logging.LogRecord]:
    """ERROR records of the HTTP server (aiohttp's and ours), not of unrelated background work."""
    return [r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith(("aiohttp", "bot."))]


async def wait_for_log(caplog, text: str, count: int = 1, timeout: float = 15.0) -> list[logging.LogRecord]:
    deadline = time.monotonic() + timeout
    while True:
        found = [r for r in caplog.records if text in r.getMessage()]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.05)


async def test_slowloris_headers_are_cut_within_the_bound(limited, caplog):
    caplog.set_level(logging.INFO)
    port = limited.http_port
    head = request_head(port)
    clients = [await connect(port) for _ in range(5)]
    started = time.monotonic()

    async def trickle(writer: asyncio.StreamWriter) -> bool:
        """True once the whole head was sent; False when the server cut the connection first."""
        try:
            for byte in head:  # one byte every 50 ms: the whole head would take several seconds
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(0.05)
        except ConnectionError:
            return False
        return True

    senders = [asyncio.create_task(trickle(writer)) for _, writer in clients]
    try:
        for reader, _ in clients:
            await closed_within(reader, HEADER_TIMEOUT + SLACK)
        assert time.monotonic() - started < HEADER_TIMEOUT + SLACK
        assert not any(task.done() and task.result() for task in senders), "cut before the head was complete"
    finally:
        for task in senders:
            task.cancel()
        for _, writer in clients:
            close(writer)
    dropped = await wait_for_log(caplog, "request headers", count=5)
    assert len(dropped) == 5 and all(r.levelno in (logging.INFO, logging.WARNING) and not r.exc_info for r in dropped)
    assert errors(caplog) == []
    assert await stored(limited) == []


async def test_silent_connection_is_cut_too(limited):
    reader, writer = await connect(limited.http_port)
    try:
        assert await closed_within(reader, HEADER_TIMEOUT + SLACK) == b""
    finally:
        close(writer)


async def test_trickled_body_gets_408_and_no_error_log(limited, caplog):
    caplog.set_level(logging.INFO)
    reader, writer = await connect(limited.http_port)
    try:
        writer.write(request_head(limited.http_port, content_length=1000))  # the head at once, then the body slowly
        started = time.monotonic()

        async def trickle() -> None:
            with contextlib.suppress(ConnectionError):
                for _ in range(1000):
                    writer.write(b" ")
                    await writer.drain()
                    await asyncio.sleep(0.05)

        sender = asyncio.create_task(trickle())
        try:
            reply = await closed_within(reader, BODY_TIMEOUT + HEADER_TIMEOUT + SLACK)
        finally:
            sender.cancel()
        assert time.monotonic() - started < BODY_TIMEOUT + HEADER_TIMEOUT + SLACK
    finally:
        close(writer)
    status_line, _, rest = reply.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 408 Request Timeout", reply
    body = json.loads(rest.partition(b"\r\n\r\n")[2])
    assert (body["error"], body["field"]) == ("body_timeout", "body")
    [dropped] = await wait_for_log(caplog, "body was not complete within")
    assert dropped.levelno == logging.INFO and not dropped.exc_info
    assert [r for r in caplog.records if r.name.startswith(("bot.", "aiohttp")) and r.levelno >= logging.INFO
            ] == [dropped], "one line for the dropped client"
    assert errors(caplog) == []
    assert await stored(limited) == []


async def test_body_abandoned_half_way_logs_one_line_and_no_error(limited, caplog):
    caplog.set_level(logging.INFO)
    for _ in range(10):
        _, writer = await connect(limited.http_port)
        writer.write(request_head(limited.http_port, content_length=1000) + b'{"raw": {"na')
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.close()
        await writer.wait_closed()
    dropped = await wait_for_log(caplog, "closed the connection before the body", count=10)
    assert len(dropped) == 10 and all(r.levelno == logging.INFO and not r.exc_info for r in dropped)
    assert errors(caplog) == []
    async with aiohttp.ClientSession() as http, http.post(
            f"http://127.0.0.1:{limited.http_port}{PATH}", data=BODY,
            headers={"Authorization": f"Bearer {BEARER_TOKEN}"}) as resp:
        assert resp.status == 202, "still serving"
    assert len(await stored(limited)) == 1


@pytest.mark.parametrize("limited", [{"http_header_timeout": 10}], indirect=True)  # the greedy ones stay
async def test_connections_beyond_the_cap_are_closed_at_once(limited, caplog):
    caplog.set_level(logging.INFO)
    port = limited.http_port
    url = f"http://127.0.0.1:{port}{PATH}"
    headers = {"Authorization": f"Bearer {BEARER_TOKEN}"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as http:
        async with http.post(url, data=BODY, headers=headers) as resp:
            assert resp.status == 202  # its kept-alive connection is one of the MAX_CONNECTIONS

        greedy = [await connect(port) for _ in range(MAX_CONNECTIONS - 1)]
        await asyncio.sleep(0.1)  # let the server take them all in
        try:
            started = time.monotonic()
            for _ in range(5):
                reader, writer = await connect(port)
                try:
                    assert await closed_within(reader, 0.5) == b"", "refused without an answer"
                finally:
                    close(writer)
            assert time.monotonic() - started < 0.5 * 5
            async with http.post(url, data=BODY, headers=headers) as resp:
                assert resp.status == 202, "the client within the cap is still served"
        finally:
            for _, writer in greedy:
                close(writer)

    refused = await wait_for_log(caplog, "refused")
    assert refused and all(r.levelno == logging.WARNING and not r.exc_info for r in refused)
    assert len(refused) < 5, "refusals are summarised, not logged one by one"
    await asyncio.sleep(0.1)  # the greedy connections' ends reach the server
    async with aiohttp.ClientSession() as http, http.post(url, data=BODY, headers=headers) as resp:
        assert resp.status == 202, "room again once they are gone"
    assert errors(caplog) == []
    assert len(await stored(limited)) == 3
