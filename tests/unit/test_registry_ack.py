"""Registered listeners hand Bolt back control at their ack (the app runs with `process_before_response`):
no ack waits on Bolt's 10 ms poll, and what a listener does after its ack goes on, tracked for `drain`."""

from __future__ import annotations

import asyncio

import pytest

from handlers.registry import Registry


class FakeApp:
    def __init__(self) -> None:
        self.commands: dict = {}

    def command(self, name: str):
        return lambda fn: self.commands.setdefault(name, fn)


class Ack:
    def __init__(self, log: list) -> None:
        self.log, self.response = log, None

    async def __call__(self, **kwargs) -> None:
        self.log.append("ack")
        self.response = kwargs


async def test_bolt_gets_control_back_at_the_ack_and_the_rest_runs_on():
    app, log = FakeApp(), []
    reg = Registry(app)
    release = asyncio.Event()

    @reg.command("/slow", "slow")
    async def slow(ack, body) -> None:
        await ack()
        await release.wait()  # e.g. Slack calls after the ack
        log.append("done")

    ack = Ack(log)
    await asyncio.wait_for(app.commands["/slow"](ack=ack, body={}), 1)
    assert log == ["ack"] and ack.response == {}
    release.set()
    await reg.drain()
    assert log == ["ack", "done"]


async def test_a_failure_before_the_ack_reaches_bolt():
    app = FakeApp()
    reg = Registry(app)

    @reg.command("/broken", "broken")
    async def broken(ack, body) -> None:
        raise ValueError("bad body")

    with pytest.raises(ValueError, match="bad body"):
        await app.commands["/broken"](ack=Ack([]), body={})


async def test_a_failure_after_the_ack_is_kept_from_bolt(caplog):
    app, log = FakeApp(), []
    reg = Registry(app)

    @reg.command("/late", "late")
    async def late(ack, body) -> None:
        await ack()
        raise ValueError("after the ack")

    assert await app.commands["/late"](ack=Ack(log), body={}) is None
    await reg.drain()
    assert log == ["ack"] and "failed after acknowledging" in caplog.text
