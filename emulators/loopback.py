"""What every HTTP emulator shares: served on a loopback port, started and stopped the same way, with
latency and scripted failures per operation."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web


@dataclass
class Fault:
    """A scripted failure: calls of `operation` (an emulator's operation name, or "*") are answered `times`
    times with `status` (and Retry-After when `retry_after` is set)."""

    operation: str = "*"
    status: int = 503
    retry_after: int | None = None
    times: int = 1


class LoopbackServer:
    """Serves `_build_app()` on 127.0.0.1; `port` 0 takes any free port (read it from `self.port` after start)."""

    _runner: web.AppRunner | None = None
    port: int | None = None
    fail_status = 503  # what `fail()` answers unless told
    faults: list[Fault]
    latency: float

    def fail(self, operation: str = "*", status: int | None = None, *, times: int = 1,
             retry_after: int | None = None) -> Fault:
        """Answer the next `times` calls of `operation` with `status` (default `fail_status`)."""
        fault = Fault(operation, status or self.fail_status, retry_after, times)
        self.faults.append(fault)
        return fault

    def heal(self) -> None:
        self.faults.clear()
        self.latency = 0.0

    def _take_fault(self, operation: str) -> Fault | None:
        """The scripted failure this call of `operation` gets (one use of it), if any."""
        for fault in self.faults:
            if fault.times > 0 and fault.operation in (operation, "*"):
                fault.times -= 1
                return fault
        return None

    def _build_app(self) -> web.Application:
        raise NotImplementedError

    async def start(self, port: int = 0) -> None:
        self._runner = web.AppRunner(self._build_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()
            self._runner = None
