"""`page_assignee` (on a case type or a case priority): the assignee is paged, once per case and assignee,
when the case gets one."""

from __future__ import annotations

import logging

from domain.cases.access import restricted_type
from domain.cases.service import record_case_event
from domain.config.schema import WarroomConfig
from domain.contacts import update_contact
from domain.core.deps import Deps
from domain.core.ports import PortError, UserProfile
from domain.core.vocabulary import CaseStatus
from domain.paging import PERSON, request_page
from domain.response.paging import send_page
from storage.case_models import Case

log = logging.getLogger(__name__)
SEALED_SUMMARY = "Restricted case (details in Slack)"


def pages_assignee(config: WarroomConfig, case: Case) -> bool:
    """Whether the case's type or priority pages its assignee."""
    return config.cases.type(case.case_type).page_assignee or config.cases.priority(case.priority).page_assignee


async def page_assignee_if_needed(deps: Deps, case_id: int) -> None:
    """Page the case's assignee when its type or priority says so, the case is open and its card is posted."""
    conv = deps.ports.conversation
    async with deps.sessions() as session:
        case = await session.get(Case, case_id)
        if case is None or case.assignee is None or case.status == CaseStatus.CLOSED or case.card_ts is None:
            return
        if not pages_assignee(deps.config, case):
            return
        by_type = deps.config.cases.type(case.case_type).page_assignee
        why = f"{case.case_type} cases" if by_type else f"{case.priority} priority"
        assignee = case.assignee
        await session.commit()
    try:  # the pager knows people by email: ask Slack for it (outside any transaction)
        profile: UserProfile | None = await conv.get_user(assignee)
    except PortError as exc:
        log.warning("profile of %s not found (%s): paging the service's escalation policy", assignee, exc)
        profile = None
    async with deps.sessions() as session:
        case = await session.get(Case, case_id)
        if case is None or case.assignee != assignee:
            return  # reassigned meanwhile: that edit pages the new assignee
        if profile is not None:
            await update_contact(session, profile)
        # A pager's users are outside a case that escalates to a Restricted incident: its title stays in Slack.
        summary = SEALED_SUMMARY if await restricted_type(session, case, deps.config) else case.title
        link = conv.message_link(case.card_channel_id, case.card_ts) if case.card_channel_id and case.card_ts else ""
        row, new = await request_page(session, None, case.name, PERSON, assignee, case_id=case.id,
                                      reason=f"the assignee of {case.name}", email=profile.email if profile else None,
                                      summary=summary[:1024], link=link)
        if new:
            await record_case_event(session, case.id, f"Paged the assignee <@{assignee}> ({why})")
        await session.commit()
    if row.sent_at is None:
        await send_page(deps, row.id)
