"""Case channels behave like incident channels: messages go on the case timeline (the timeline reaction or
the "Add to timeline" shortcut, in a case's own channel or its card's thread), joining or leaving a
case's own channel makes or unmakes a participant, and list-participants lists who works the case.

Each flow tries the incident first (domain/response/), so a case channel that became an incident's
channel is the incident's.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.cases.cards import show_change
from domain.cases.service import add_case_participant, case_by_channel, case_of_thread, record_case_event
from domain.core.deps import Deps
from domain.core.ports import ChatMessage, PortError, UserProfile
from domain.core.vocabulary import CaseStatus
from domain.participants import ParticipantView
from domain.response.capture import (
    CONFIRM_REACTION,
    add_message,
    delete_incident_entries,
    message_key,
    message_time,
    remove_message_if_unmarked,
)
from domain.response.membership import member_joined, member_left
from domain.response.profiles import LOOKUP_SECONDS
from storage.case_models import Case, CaseEvent, CaseParticipant
from storage.types import utcnow

log = logging.getLogger(__name__)


async def case_of_message(deps: Deps, channel_id: str, ts: str, thread_ts: str | None) -> Case | None:
    """The case whose own channel this is, or whose card's thread the message is in (or is the card)."""
    async with deps.sessions() as session:
        case = await case_by_channel(session, channel_id)
        await session.commit()
    return case or await case_of_thread(deps.sessions, channel_id, thread_ts or ts)


async def capture_message(deps: Deps, channel_id: str, ts: str, *, added_by: str, marked_with: str | None = None,
                          message: ChatMessage | None = None) -> str:
    """Put the message on its incident's timeline, else its case's; returns what happened: "added",
    "duplicate" (incident), "case_added", "case_duplicate", "not_incident" (neither an incident's nor a case's
    message), "gone" or "unmarked" (see `add_message`). `message`: the message as a shortcut's payload carries it
    (nothing to fetch, nothing Slack may refuse)."""
    outcome = await add_message(deps, channel_id, ts, added_by=added_by, marked_with=marked_with, message=message)
    if outcome != "not_incident":
        return outcome
    conv = deps.ports.conversation
    async with deps.sessions() as session:
        own = await case_by_channel(session, channel_id)
        await session.commit()
    if own is None and not await _maybe_card_thread(deps, channel_id):
        return "not_incident"
    message = message or await conv.get_message(channel_id, ts)
    if message is None or not message.user:
        return "gone" if own is not None else "not_incident"
    case = own or await case_of_message(deps, channel_id, ts, message.thread_ts)
    if case is None:
        return "not_incident"
    if marked_with and not (message.reactions or {}).get(marked_with):
        return "unmarked"
    author = await conv.get_user(message.user)
    async with deps.sessions() as session:
        added = await record_case_event(
            session, case.id, message.text, source=f"Slack message from {author.name}", author=message.user,
            started_at=message_time(ts), dedupe_key=message_key(channel_id, ts),
            details={"channel": channel_id, "ts": ts, "thread_ts": message.thread_ts, "added_by": added_by,
                     "permalink": conv.message_link(channel_id, ts)})
        await session.commit()
    if added:
        await conv.react(channel_id, ts, CONFIRM_REACTION)
    return "case_added" if added else "case_duplicate"


async def _maybe_card_thread(deps: Deps, channel_id: str) -> bool:
    """Whether any case card was posted in the channel (so a message there may be in a card's thread)."""
    async with deps.sessions() as session:
        found = (await session.execute(select(col(Case.id)).where(col(Case.card_channel_id) == channel_id).limit(1))).first()
        await session.commit()
    return found is not None


async def uncapture_message(deps: Deps, channel_id: str, ts: str) -> bool:
    """Take the message off its incident's and case's timelines once nobody's timeline reaction remains on it."""
    return await remove_message_if_unmarked(deps, channel_id, ts, delete_entries=_delete_timeline_entries)


async def _delete_timeline_entries(session: AsyncSession, key: str) -> int:
    cases = cast(CursorResult[Any], await session.execute(delete(CaseEvent).where(col(CaseEvent.dedupe_key) == key)))
    return await delete_incident_entries(session, key) + (cases.rowcount or 0)


async def joined_channel(deps: Deps, channel_id: str, user_id: str, *, at: datetime | None = None) -> bool:
    """Someone joined an incident channel (see `member_joined`) or a case's own channel: they work the case
    now (a Closed case is left alone). Returns whether someone was added."""
    joined = await member_joined(deps, channel_id, user_id, at=at)
    if joined is not None:
        return joined
    async with deps.sessions() as session:
        case = await case_by_channel(session, channel_id)
        if case is None or case.incident_id is not None or case.status == CaseStatus.CLOSED:
            await session.commit()
            return False
        added = await add_case_participant(session, case.id, user_id, "Joined the channel")
        back = (await session.execute(update(CaseParticipant).where(
            col(CaseParticipant.case_id) == case.id, col(CaseParticipant.user_id) == user_id,
            col(CaseParticipant.left_at).is_not(None),
            *([col(CaseParticipant.left_at) < at] if at else [])).values(left_at=None)  # not a join delivered late
            .execution_options(synchronize_session=False)))
        rejoined = bool(cast(CursorResult[Any], back).rowcount)
        if added or rejoined:
            await record_case_event(session, case.id, f"<@{user_id}> joined the case channel", author=user_id)
        case_id = case.id
        await session.commit()
    if added:
        try:
            await show_change(deps, case_id)
        except PortError as exc:
            log.warning("card of case %s not refreshed after a join: %s", case_id, exc)
    return added or rejoined


async def left_channel(deps: Deps, channel_id: str, user_id: str, *, at: datetime | None = None) -> str:
    """Someone left an incident channel (see `member_left`) or a case's own channel: they no longer work the
    case (they stay on its history, as an incident's past participants do). Returns what was done."""
    done = await member_left(deps, channel_id, user_id, at=at)
    if done != "ignored":
        return done
    async with deps.sessions() as session:
        case = await case_by_channel(session, channel_id)
        if case is None or case.incident_id is not None:
            await session.commit()
            return "ignored"
        result = await session.execute(update(CaseParticipant).where(
            col(CaseParticipant.case_id) == case.id, col(CaseParticipant.user_id) == user_id,
            col(CaseParticipant.left_at).is_(None)).values(left_at=min(at, utcnow()) if at else utcnow())
            .execution_options(synchronize_session=False))
        if not cast(CursorResult[Any], result).rowcount:
            await session.commit()
            return "ignored"
        await record_case_event(session, case.id, f"<@{user_id}> left the case channel", author=user_id)
        await session.commit()
    return "left"



async def case_people(deps: Deps, case_id: int) -> list[ParticipantView]:
    """Who works the case now (not those who left its channel): assignee and reporter first, with why they are
    here; team and department read from their Slack profiles when `profile_fields` is set (at most
    LOOKUP_SECONDS)."""
    async with deps.sessions() as session:
        case = await session.get(Case, case_id)
        rows = (await session.execute(select(CaseParticipant).where(
            col(CaseParticipant.case_id) == case_id, col(CaseParticipant.left_at).is_(None))
            .order_by(col(CaseParticipant.id)))).scalars().all()
        await session.commit()
    if case is None:
        return []
    profiles: dict[str, UserProfile] = {}
    lookups = ([asyncio.ensure_future(deps.ports.conversation.get_user(r.user_id)) for r in rows]
               if deps.config.profile_fields.wanted else [])
    if lookups:
        done, pending = await asyncio.wait(lookups, timeout=LOOKUP_SECONDS)
        for task in pending:
            task.cancel()
        profiles = {p.user_id: p for p in (t.result() for t in done if t.exception() is None)}

    def roles(user: str) -> list[str]:
        return [r for r, who in (("assignee", case.assignee), ("reporter", case.reporter)) if who == user]

    people = [ParticipantView(r.id, r.user_id, profiles[r.user_id].name if r.user_id in profiles else r.user_id,
                              roles(r.user_id), profiles[r.user_id].team if r.user_id in profiles else None,
                              r.reason or None, None, profiles[r.user_id].department if r.user_id in profiles else None)
              for r in rows]
    return sorted(people, key=lambda p: ("assignee" not in p.roles, not p.roles, p.participant_id))
