"""Participants' team and department, read from their Slack profile (`profile_fields`)."""

from __future__ import annotations

import asyncio
import logging

from domain.core.deps import Deps
from domain.core.ports import PortError, UserProfile
from domain.participants import ParticipantView, active_participants, set_profile_fields

log = logging.getLogger(__name__)
LOOKUP_SECONDS = 1.5  # the list opens in a modal: its trigger expires 3 s after the command


async def participants_with_profiles(deps: Deps, incident_id: int) -> list[ParticipantView]:
    """Active participants; those whose team and department are not known yet are looked up in Slack first (at
    most LOOKUP_SECONDS, concurrently; whoever answers in time is stored, the others on a later call)."""
    async with deps.sessions() as session:
        people = await active_participants(session, incident_id)
        await session.commit()
    unknown = [p.user_id for p in people if p.team is None and p.department is None]
    if not deps.config.profile_fields.wanted or not unknown:
        return people
    lookups = [asyncio.ensure_future(deps.ports.conversation.get_user(u)) for u in unknown]
    done, pending = await asyncio.wait(lookups, timeout=LOOKUP_SECONDS)
    for task in pending:
        task.cancel()
    profiles: list[UserProfile] = []
    for task in done:
        if isinstance(task.exception(), PortError):
            log.info("no profile for a participant of incident %s: %s", incident_id, task.exception())
            continue
        profiles.append(task.result())
    if not profiles:
        return people
    async with deps.sessions() as session:
        changed = await set_profile_fields(session, incident_id, profiles)
        await session.commit()
        return await active_participants(session, incident_id) if changed else people

