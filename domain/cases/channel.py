"""Moving a case from its card's thread to a channel of its own (`case-<n>-<slug>`).

Resumable and safe to repeat: the right to create the channel is claimed with a timeline entry
(a unique dedupe key, taken over only once its holder looks dead), the channel id is committed
as soon as the channel exists, and every later step runs at most once per case.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.cases.access import restricted_type
from domain.cases.cards import channel_card_key, show_change
from domain.cases.notices import CaseChannelOpened, CaseMovedToChannel
from domain.cases.service import CaseRuleError, case_facts, case_participants, record_case_event
from domain.config.schema import WarroomConfig
from domain.core.deps import Deps
from domain.core.ports import ChannelRef, ConversationPort, NameTaken, PortError, Ports
from domain.incidents import naming
from domain.incidents.service import MAX_NAME_ATTEMPTS
from storage.case_models import Case, CaseEvent
from storage.rows import must_get
from storage.types import utcnow

CHANNEL_PREFIX = "case"


CLAIM_LEASE = timedelta(minutes=2)


INTERNAL_SOURCE = "warroom-internal"  # bookkeeping entries of case flows, never copied to an incident


@dataclass(frozen=True)
class MigrateResult:
    case_name: str
    channel_id: str | None
    created: bool  # this call created the channel
    busy: bool = False  # another attempt is creating it right now


async def _claim(session: AsyncSession, case_id: int, actor: str | None) -> bool:
    """Take the right to create the case's channel; commits. A claim older than CLAIM_LEASE is taken over."""
    key = f"case:{case_id}:channel-claim"
    if await record_case_event(session, case_id, f"Own channel requested by <@{actor}>" if actor else
                               "Own channel requested", author=actor, dedupe_key=key):
        await session.commit()
        return True
    now = utcnow()
    result = await session.execute(update(CaseEvent).where(col(CaseEvent.dedupe_key) == key,
                                                           col(CaseEvent.started_at) < now - CLAIM_LEASE)
                                   .values(started_at=now).execution_options(synchronize_session=False))
    await session.commit()
    return (cast(CursorResult[Any], result).rowcount or 0) == 1


async def give_case_channel(deps: Deps, case_id: int, *, actor: str | None) -> MigrateResult:
    """Create the case's own channel, invite its participants, post its card there (pinned) and link
    the thread and the channel both ways. Raises CaseRuleError when the case cannot have one."""
    conv = deps.ports.conversation
    created = False
    async with deps.sessions() as session:
        case = await session.get(Case, case_id)
        if case is None:
            raise CaseRuleError("That case no longer exists.")
        if case.channel_id is None:
            if case.incident_id is not None:
                raise CaseRuleError(f"{case.name} was escalated: it is worked in the incident channel.")
            if not await _claim(session, case.id, actor):
                return MigrateResult(case.name, None, False, busy=True)
            private = await restricted_type(session, case, deps.config)
            await session.commit()
            channel = await _create_channel(conv, case, private)
            case.channel_id, case.channel_name, case.updated_at = channel.id, channel.name, utcnow()
            await record_case_event(session, case.id, f"Own channel #{channel.name} created", author=actor,
                                    dedupe_key=f"case:{case.id}:channel")
            await session.commit()
            created = True
        name, channel_id = case.name, case.channel_id
        people = await case_participants(session, case.id)
        if case.assignee and case.assignee not in people:
            people.append(case.assignee)
        await session.commit()
    if people:
        await conv.invite(channel_id, people)
    await _post_once(deps, case_id, "channel-card", _post_card_in_channel)
    await _post_once(deps, case_id, "thread-link", _link_thread_to_channel)
    await show_change(deps, case_id)
    return MigrateResult(name, channel_id, created)


async def _create_channel(conv: ConversationPort, case: Case, private: bool) -> ChannelRef:
    for attempt in range(MAX_NAME_ATTEMPTS):
        try:
            return await conv.create_channel(naming.channel_name(CHANNEL_PREFIX, case.number, case.title, attempt),
                                             private=private)
        except NameTaken:
            continue
    raise PortError("name_taken", f"no free channel name after {MAX_NAME_ATTEMPTS} attempts")


# A step run once the case has its own channel: (session, case, its channel id, ports, config).
ChannelStep = Callable[[AsyncSession, Case, str, Ports, WarroomConfig], Awaitable[None]]


async def _post_once(deps: Deps, case_id: int, step: str, post: ChannelStep) -> None:
    """Run `post(session, case, channel_id, ports, config)` unless this step already ran for the case."""
    async with deps.sessions() as session:
        case = await must_get(session, Case, case_id)
        channel_id = case.channel_id
        if channel_id is None:  # (the steps run once the channel exists)
            raise CaseRuleError(f"{case.name} has no channel of its own.")
        first = await record_case_event(session, case_id, f"Channel step done: {step}", source=INTERNAL_SOURCE,
                                        dedupe_key=_step_key(case_id, step))
        await session.commit()
        if first:
            await post(session, case, channel_id, deps.ports, deps.config)


async def _post_card_in_channel(session: AsyncSession, case: Case, channel_id: str, ports: Ports,
                                config: WarroomConfig) -> None:
    conv = ports.conversation
    thread = conv.message_link(case.card_channel_id, case.card_ts) if case.card_channel_id and case.card_ts else None
    await conv.post(channel_id, CaseChannelOpened(case.name, case.title, thread))
    facts = await case_facts(session, case, config, thread)
    await session.commit()
    card = await conv.post(channel_id, facts)
    # Remembered on the step's entry, so every later change edits this copy too (see show_change).
    await session.execute(update(CaseEvent).where(col(CaseEvent.dedupe_key) == _step_key(case.id, "channel-card"))
                          .values(details={"channel": channel_id, "ts": card.ts})
                          .execution_options(synchronize_session=False))
    await session.commit()
    await conv.pin(channel_id, card.ts)


def _step_key(case_id: int, step: str) -> str:
    return channel_card_key(case_id) if step == "channel-card" else f"case:{case_id}:migrate:{step}"


async def _link_thread_to_channel(session: AsyncSession, case: Case, channel_id: str, ports: Ports,
                                  config: WarroomConfig) -> None:
    if case.card_channel_id and case.card_ts:
        await ports.conversation.post(case.card_channel_id, CaseMovedToChannel(case.name, channel_id),
                                      thread_ts=case.card_ts)
