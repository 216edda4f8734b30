"""Fault injection: latency on every call, scripted failures per Web API method, and hangs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Injection:
    method: str  # a Web API method name, or "*" for any method
    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    times: int = 1
    when: Callable[[dict], bool] | None = None  # only calls whose arguments pass this fail


@dataclass
class Hang:
    """A call of `method` that never gets its answer: the app is left mid-call (to be killed, say).

    `after=False`: Slack never acts on the request. `after=True`: Slack does the work (the channel
    is created, the message posted...), then the reply is lost. `reached` is set when a call hangs;
    `release()` lets the hung request end (with an error, to an app that is usually gone by then).
    """

    method: str
    after: bool = False
    times: int = 1
    when: Callable[[dict], bool] | None = None  # only calls whose arguments pass this hang
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)
    params: dict | None = None  # the hung call's arguments

    async def wait_reached(self, timeout: float = 10.0) -> dict:
        """Wait until a call hangs; returns its arguments."""
        await asyncio.wait_for(self.reached.wait(), timeout)
        return self.params or {}

    def release(self) -> None:
        self.released.set()


@dataclass
class Faults:
    latency: float = 0.0  # seconds added to every Web API call
    injections: list[Injection] = field(default_factory=list)
    hangs: list[Hang] = field(default_factory=list)

    def take(self, method: str, params: dict | None = None) -> Injection | None:
        """The next scripted failure for this call of `method`, consuming one use of it."""
        for inj in self.injections:
            if inj.method in (method, "*") and inj.times > 0 and (inj.when is None or inj.when(params or {})):
                inj.times -= 1
                return inj
        return None

    def take_hang(self, method: str, params: dict) -> Hang | None:
        """The next scripted hang for this call of `method`, consuming one use of it."""
        for hang in self.hangs:
            if hang.method in (method, "*") and hang.times > 0 and (hang.when is None or hang.when(params)):
                hang.times -= 1
                return hang
        return None

    def release_hangs(self) -> None:
        for hang in self.hangs:
            hang.release()

    def clear(self) -> None:
        self.latency = 0.0
        self.injections.clear()
        self.release_hangs()
        self.hangs.clear()
