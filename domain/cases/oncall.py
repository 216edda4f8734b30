"""Engaging a service's on-call people in a case (`/…-engage-oncall` in a case channel)."""

from __future__ import annotations

from domain.cases.access import restricted_type
from domain.cases.cards import show_change
from domain.cases.paging import SEALED_SUMMARY
from domain.cases.service import CaseRuleError, add_case_participant, record_case_event
from domain.core.deps import Deps
from domain.core.vocabulary import CaseStatus
from domain.paging import SERVICE, request_page
from domain.response.notices import OncallEngaged
from domain.response.paging import send_page
from storage.case_models import Case


async def engage_case_oncall(deps: Deps, case_id: int, service: str, *, actor: str, page: bool = False) -> list[str]:
    """Make the service's on-call people participants of the case, invite them to its channel, say so there
    and on the timeline, and page the service when asked. Returns who was engaged."""
    ports = deps.ports
    users = await ports.oncall.resolve(service)
    async with deps.sessions() as session:
        case = await session.get(Case, case_id)
        if case is None:
            raise CaseRuleError("That case no longer exists.")
        if case.status == CaseStatus.CLOSED:
            raise CaseRuleError(f"{case.name} is Closed; reopen it first.")
        if case.incident_id is not None:
            raise CaseRuleError(f"{case.name} was escalated: engage on-call people from the incident's channel.")
        for user in users:
            await add_case_participant(session, case.id, user, f"On call for {service}")
        await record_case_event(session, case.id, f"{service} on-call engaged by <@{actor}>: "
                                + (", ".join(f"<@{u}>" for u in users) or "nobody on call") + (" (paged)" if page else ""),
                                author=actor, details={"service": service, "users": users, "paged": page})
        name, channel = case.name, case.channel_id
        row = None
        if page:  # recorded first, sent once (a pager's users outside a Restricted case's type see no title)
            summary = SEALED_SUMMARY if await restricted_type(session, case, deps.config) else case.title
            link = ports.conversation.message_link(case.card_channel_id, case.card_ts) \
                if case.card_channel_id and case.card_ts else ""
            row, _ = await request_page(session, None, name, SERVICE, service, case_id=case.id, reason=f"the {service} on-call",
                                        requested_by=actor, summary=summary[:1024], link=link)
        await session.commit()
    if channel:
        if users:
            await ports.conversation.invite(channel, users)
        await ports.conversation.post(channel, OncallEngaged(name, service, users, page, actor))
    if row is not None and row.sent_at is None:
        await send_page(deps, row.id)
    await show_change(deps, case_id)
    return users
