"""A reported incident from submission to set-up: the form stored in the inbox before the ack
(`domain.core.inbox`), the incident created from it right after, then its channel set up.

Creating the incident is idempotent on the view id, so a replay (a crash between storing and
processing) never makes a second one; a set-up left unfinished is the set-up resume's work.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from domain.core.deps import Deps
from domain.core.inbox import Arrival, claim_replays, inbox_item, mark_processed, record_failure
from domain.core.outage import is_database_outage
from domain.incidents.service import ReportIncidentForm, report_incident
from domain.response.setup import setup_incident
from storage.db import write_gate

log = logging.getLogger(__name__)
REPORT = "report_incident"
QUICK_RETRIES = 2  # a locked or briefly unreachable database, before the replay takes over


def _payload(form: ReportIncidentForm) -> dict[str, Any]:
    return dataclasses.asdict(form)


def _form(payload: dict[str, Any]) -> ReportIncidentForm:
    known = {f.name for f in dataclasses.fields(ReportIncidentForm)}
    values = {k: v for k, v in payload.items() if k in known}
    return ReportIncidentForm(**{**values, "tags": tuple(values.get("tags") or ())})


async def accept_report(deps: Deps, form: ReportIncidentForm, *, key: str, user_id: str,
                        user_name: str | None) -> Arrival | None:
    """Store the submitted report (one statement, shared with concurrent ones); None for a double submit of
    the same view. The modal may close once this returns."""
    arrival = Arrival(REPORT, key, user_id, user_name, _payload(form))
    return arrival if await deps.inbox.accept(arrival) else None


async def process_report(deps: Deps, key: str, arrival: Arrival | None = None) -> None:
    """Create the incident a stored report asks for (once, whatever the replays), then set up its channel.
    A database that is busy or away is tried again shortly, then left to the replay (the item is stored
    and leased); nothing the person typed is lost. `arrival`: the report as this process stored it a moment
    ago (under its lease), so it is not read back."""
    await deps.ack_first.quiet()  # a burst of reports is acked before any of them is worked on
    for attempt in range(QUICK_RETRIES + 1):
        try:
            # On SQLite, reports take the write lock in turn (first come, first served) instead of polling
            # for it against each other and the set-ups they start.
            async with write_gate(deps.sessions.kw["bind"]), deps.sessions() as session:
                stored = arrival or await _unprocessed(session, key)
                if stored is None:
                    return
                reported = await report_incident(
                    session, _form(stored.payload), reporter_user_id=stored.user_id, reporter_name=stored.user_name,
                    idempotency_key=key, config=deps.config, setup_holder=deps.holder)
                if not await mark_processed(session, key):  # commits the incident with it
                    await session.rollback()  # processed elsewhere meanwhile
                    return
            break
        except Exception as exc:
            outage = is_database_outage(exc)
            if outage and attempt < QUICK_RETRIES:
                await asyncio.sleep(0.5 * 2 ** attempt)
                continue
            (log.warning if outage else log.exception)("report %s not processed yet: %r", key, exc)
            try:
                async with deps.sessions() as session:
                    await record_failure(session, key, repr(exc))
            except Exception:  # the lease set when it was stored brings it back anyway
                log.warning("could not record the failure of report %s", key)
            return
    if reported.created:
        await setup_incident(deps, reported.incident.id, reported=reported)
    else:
        log.info("report %s was already processed (%s)", key, reported.incident.name)


async def _unprocessed(session: AsyncSession, key: str) -> Arrival | None:
    item = await inbox_item(session, key)
    if item is None or item.processed_at is not None:
        return None
    return Arrival(item.kind, key, item.user_id, item.user_name, item.payload)


async def replay_reports(deps: Deps, *, own_only: bool = False) -> int:
    """Process stored reports left unprocessed: at start-up those an earlier boot of this replica left
    (`own_only`), in the resume job any whose lease ended. Returns how many were taken."""
    async with deps.sessions() as session:
        keys = await claim_replays(session, REPORT, deps.holder, instance=deps.instance if own_only else None)
    for key in keys:
        await process_report(deps, key)
    if keys:
        log.info("replayed %s stored report(s)", len(keys))
    return len(keys)
