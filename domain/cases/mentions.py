"""@mentions in a case's thread or own channel: someone mentioned who does not work the case is offered to the
case's assignee (else its reporter), once per person, with an "Add them" button."""

from __future__ import annotations

import logging
import re

from domain.cases.access import access_of, who_can_add
from domain.cases.cards import show_change
from domain.cases.channel import INTERNAL_SOURCE
from domain.cases.notices import AddMentionedOffer
from domain.cases.service import (
    CaseRuleError,
    add_case_participant,
    case_by_channel,
    case_of_thread,
    case_participants,
    record_case_event,
)
from domain.core.deps import Deps
from domain.core.notices import PlainNotice
from domain.core.ports import PortError
from domain.core.vocabulary import CaseStatus
from storage.case_models import Case

log = logging.getLogger(__name__)
MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
MAX_OFFERS = 5  # per message


def mentioned_users(text: str) -> list[str]:
    return list(dict.fromkeys(MENTION.findall(text or "")))


async def offer_mentioned(deps: Deps, channel_id: str, thread_ts: str | None, author: str, text: str, *,
                          bot_user: str | None = None) -> list[str]:
    """For a message in a case card's thread (`thread_ts`) or a case's own channel: offer each mentioned person
    who does not work the (open, not escalated) case to its assignee. Returns who was offered."""
    people = [u for u in mentioned_users(text) if u != bot_user][:MAX_OFFERS]
    if not people:
        return []
    card_case = await case_of_thread(deps.sessions, channel_id, thread_ts) if thread_ts else None
    async with deps.sessions() as session:
        case = await session.get(Case, card_case.id) if card_case else await case_by_channel(session, channel_id)
        if case is None or case.status == CaseStatus.CLOSED or case.incident_id is not None:
            await session.commit()
            return []
        working = set(await case_participants(session, case.id)) | {case.assignee}
        owner = case.assignee or case.reporter
        offered = []
        for user in people:
            if user in working or owner is None:
                continue
            if await record_case_event(session, case.id, f"<@{user}> mentioned by <@{author}>: offered to <@{owner}>",
                                       source=INTERNAL_SOURCE, dedupe_key=f"case:{case.id}:mention-offer:{user}"):
                offered.append(user)
        case_id, name = case.id, case.name
        await session.commit()
    if owner is None:
        return []
    conv = deps.ports.conversation
    for user in offered:
        notice = AddMentionedOffer(case_id, name, user, author)
        try:
            await conv.post_ephemeral(channel_id, owner, notice)
        except PortError:  # the assignee is not in this channel: a DM instead
            await conv.send_direct(owner, notice)
    return offered


async def add_mentioned(deps: Deps, case_id: int, user: str, *, actor: str) -> tuple[Case, bool]:
    """The "Add them" button: `user` works the case now (invited to its own channel). Only someone working the
    case may add people; a sealed case's outsiders are refused, naming whom to ask."""
    found = await access_of(deps.sessions, case_id, actor, deps.config, deps.ports.conversation)
    if found is None:
        raise CaseRuleError("That case no longer exists.")
    case, access = found
    async with deps.sessions() as session:
        insider = actor in deps.config.admins or actor in await case_participants(session, case_id) \
            or actor == case.assignee
        await session.commit()
    if access.shut_out or not insider:
        raise CaseRuleError(f"Only the people working {case.name} can add someone to it: ask {who_can_add(case)}.")
    if case.status == CaseStatus.CLOSED or case.incident_id is not None:
        raise CaseRuleError(f"{case.name} is {case.status}: nobody is added to it any more.")
    async with deps.sessions() as session:
        added = await add_case_participant(session, case_id, user, f"Mentioned; added by <@{actor}>")
        if added:
            await record_case_event(session, case_id, f"<@{user}> added by <@{actor}> after a mention", author=actor)
        await session.commit()
        # The case as it is once they are stored (see `lifecycle.join`): a channel created meanwhile missed them.
        case = await session.get(Case, case_id) or case
        await session.commit()
    if case.channel_id:
        await deps.ports.conversation.invite(case.channel_id, [user])
    if added:
        await show_change(deps, case_id)
        try:
            await deps.ports.conversation.send_direct(user, PlainNotice(
                f"<@{actor}> added you to {case.name}: {case.title}."
                + (f" It is worked in <#{case.channel_id}>." if case.channel_id else "")))
        except PortError as exc:
            log.info("could not tell %s they were added to %s: %s", user, case.name, exc.code)
    return case, added
