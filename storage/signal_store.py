"""Storing signal instances in bulk, the fast way each database allows (ingestion's hot path)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.signal_models import SignalSignature
from storage.upsert import upsert_insert

# One statement, one round trip, atomic and durable on return (autocommit): the rows travel as
# arrays, so its text (and asyncpg's prepared statement) is the same whatever the batch size.
_PG_INSERT = """
INSERT INTO signal_instance (id, organization, project, definition, source, raw, overrides,
                             received_at, status, attempts, next_attempt_at)
SELECT u.id, u.organization, u.project, u.definition, u.source, u.raw::json, u.overrides::json,
       $8, 'pending', 0, $8
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
     AS u(id, organization, project, definition, source, raw, overrides)
ON CONFLICT (id) DO NOTHING
RETURNING id
"""


async def insert_pending_postgres(conn: AsyncConnection, rows: list[dict[str, Any]], now: datetime) -> set[str]:
    """Insert pending instances (dicts with id, organization, project, definition, source, raw, overrides)
    with asyncpg directly, outside any transaction; returns the ids inserted (not already stored)."""
    driver = (await conn.get_raw_connection()).driver_connection
    columns = [[r[k] for r in rows] for k in ("id", "organization", "project", "definition", "source")]
    raws = [json.dumps(r["raw"]) for r in rows]  # ASCII escapes: lone surrogates and NULs survive
    overrides = [json.dumps(r["overrides"]) if r["overrides"] is not None else None for r in rows]
    records = await driver.fetch(_PG_INSERT, *columns, raws, overrides, now)
    return {r["id"] for r in records}


async def claim_signature(conn: AsyncConnection, signature: str, source: str, expires_at: datetime,
                          now: datetime) -> bool:
    """Record `signature` as used until `expires_at`; False when it is recorded already and not expired.

    One INSERT … ON CONFLICT on the primary key, so of two processes claiming the same signature at
    once exactly one wins (an expired row is taken over, not counted as a replay)."""
    table = SignalSignature.__table__
    insert = upsert_insert(conn, table).values(signature=signature, source=source, expires_at=expires_at)
    statement = insert.on_conflict_do_update(
        index_elements=[table.c.signature],
        set_={"source": insert.excluded.source, "expires_at": insert.excluded.expires_at},
        where=table.c.expires_at <= now,
    ).returning(table.c.signature)
    return (await conn.execute(statement)).first() is not None


async def release_signature(conn: AsyncConnection, signature: str) -> None:
    """Forget a claimed signature (its request could not be stored after all: the sender may retry it)."""
    table = SignalSignature.__table__
    await conn.execute(delete(table).where(table.c.signature == signature))


async def purge_signatures(conn: AsyncConnection, now: datetime) -> int:
    """Delete the signatures expired at `now`; returns how many."""
    table = SignalSignature.__table__
    return (await conn.execute(delete(table).where(table.c.expires_at <= now))).rowcount
