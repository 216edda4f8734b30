"""Each timestamped HMAC signature is accepted once: a replay of a captured request is refused.

The signatures accepted are rows of `signal_signature` (primary key: the signature), kept until their
timestamp leaves the signature window, after which authentication refuses the request as stale
anyway. Being in the database, the check holds across every process sharing it (replicas on
Postgres). A signature is claimed just before its instance is stored and released if storing fails,
so a request that got a 503 can be sent again as it was.
"""

from __future__ import annotations

import time

from sqlalchemy.ext.asyncio import AsyncEngine

from domain.signals.auth import Verified
from domain.signals.errors import IngestError
from storage.db import write_gate
from storage.signal_store import claim_signature, purge_signatures, release_signature
from storage.types import utcnow

PURGE_INTERVAL = 60.0  # seconds between two deletions of expired signatures (per process)


def replayed(verified: Verified) -> IngestError:
    return IngestError(401, "replayed_request", "this signed request was received before: a timestamped signature "
                       "is accepted once. Sign each request, retries included, as it is sent (and give raw.id, "
                       "so that a retry of an alert already stored is answered as a duplicate)",
                       verified.source.signature_header)


class SignatureLedger:
    """`await claim(verified)` -> first use? `await release(verified)` after a failed store."""

    def __init__(self, engine: AsyncEngine, purge_interval: float = PURGE_INTERVAL) -> None:
        self.engine, self.purge_interval = engine, purge_interval
        self._next_purge = 0.0

    async def claim(self, verified: Verified) -> bool:
        assert verified.signature is not None and verified.expires_at is not None
        now = utcnow()
        async with write_gate(self.engine), self.engine.begin() as conn:
            if time.monotonic() >= self._next_purge:
                self._next_purge = time.monotonic() + self.purge_interval
                await purge_signatures(conn, now)
            return await claim_signature(conn, verified.signature, verified.source.name, verified.expires_at, now)

    async def release(self, verified: Verified) -> None:
        assert verified.signature is not None
        async with write_gate(self.engine), self.engine.begin() as conn:
            await release_signature(conn, verified.signature)
