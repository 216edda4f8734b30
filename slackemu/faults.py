"""Fault injection: latency on every call, and scripted failures per Web API method."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Injection:
    method: str  # a Web API method name, or "*" for any method
    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    times: int = 1


@dataclass
class Faults:
    latency: float = 0.0  # seconds added to every Web API call
    injections: list[Injection] = field(default_factory=list)

    def take(self, method: str) -> Injection | None:
        """The next scripted failure for `method`, consuming one use of it."""
        for inj in self.injections:
            if inj.method in (method, "*") and inj.times > 0:
                inj.times -= 1
                return inj
        return None

    def clear(self) -> None:
        self.latency = 0.0
        self.injections.clear()
