"""Cases follow the incident they were escalated to: closing the incident closes them.

An incident watcher (`Deps.incident_watchers`, wired in bot/runtime.py): incidents never import cases.
Each case is closed once per closing of its incident (a timeline entry with a unique key claims it, so
two processes publishing the same update close it once), then its card, thread and own channel say so.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlmodel import col

from domain.cases.cards import show_change
from domain.cases.channel import INTERNAL_SOURCE
from domain.cases.notices import CaseClosedWithIncident
from domain.cases.service import record_case_event, set_status
from domain.core.deps import Deps
from domain.core.ports import PortError
from domain.core.vocabulary import CaseStatus, IncidentStatus, ResolutionReason, Visibility
from storage.case_models import Case
from storage.models import Incident

log = logging.getLogger(__name__)


async def close_with_incident(deps: Deps, incident_id: int, changed: frozenset[str]) -> None:
    """When the incident's status changed to Closed, close the cases escalated into it (reason Escalated)."""
    if "Status" not in changed:
        return
    closed: list[int] = []
    async with deps.sessions() as session:
        incident = await session.get(Incident, incident_id)
        if incident is None or incident.status != IncidentStatus.CLOSED or incident.closed_at is None:
            await session.commit()
            return
        restricted = incident.visibility == Visibility.RESTRICTED
        cases = (await session.execute(select(Case).where(col(Case.incident_id) == incident_id,
                                                          col(Case.status) != CaseStatus.CLOSED)
                                       .order_by(col(Case.id)))).scalars().all()
        when = incident.closed_at.isoformat()
        for case in cases:
            key = f"case:{case.id}:closed-with:{incident.id}:{when}"
            if not await record_case_event(session, case.id, f"Closed with {incident.name}", source=INTERNAL_SOURCE,
                                           dedupe_key=key):
                continue  # another process is closing it
            await set_status(session, case, CaseStatus.CLOSED, None)
            case.resolution_reason = ResolutionReason.ESCALATED
            case.resolution = ("Its incident was closed." if restricted else
                               f"{incident.name} was closed" + (f": {incident.resolution}" if incident.resolution else "."))
            await record_case_event(session, case.id, f"Closed because {incident.name} was closed"
                                    if not restricted else "Closed because its incident was closed")
            closed.append(case.id)
        name = None if restricted else incident.name
        incident_channel = incident.channel_id
        await session.commit()
    for case_id in closed:
        try:
            await _say_closed(deps, case_id, name, incident_channel)
            await show_change(deps, case_id)
        except PortError as exc:  # the case is Closed; only the message or the card lags
            log.warning("case %s closed with incident %s, but Slack failed: %s", case_id, incident_id, exc)


async def _say_closed(deps: Deps, case_id: int, incident_name: str | None, incident_channel: str | None) -> None:
    """"Closed with INC-n" in the card's thread and in a case channel the incident did not take over."""
    conv = deps.ports.conversation
    async with deps.sessions() as session:
        case = await session.get(Case, case_id)
        await session.commit()
    if case is None:
        return
    notice = CaseClosedWithIncident(case.name, incident_name)
    if case.card_channel_id and case.card_ts:
        await conv.post(case.card_channel_id, notice, thread_ts=case.card_ts)
    if case.channel_id and case.channel_id != incident_channel:
        await conv.post(case.channel_id, notice)
