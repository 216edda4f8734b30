"""Listeners of /dispatch-engage-oncall (in incident and case channels) and of the announcement buttons (Join,
Subscribe)."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from domain.cases.access import case_for_command_of
from domain.cases.oncall import engage_case_oncall
from domain.cases.service import CaseRuleError
from domain.core.deps import Deps
from domain.core.notices import PlainNotice
from domain.response.membership import join_from_announcement, subscribe_from_announcement
from domain.response.paging import engage_oncall, oncall_overview, oncall_services
from handlers.incident_context import incident_here, still_allowed
from handlers.registry import Registry, Submission
from modals.command_messages import JOIN_ACTION, SUBSCRIBE_ACTION
from modals.engage_oncall import CALLBACK_ID, CASE_CALLBACK_ID, engage_oncall_modal, parse_engage_oncall
from modals.renderers import render


def register(reg: Registry, deps: Deps) -> None:
    @reg.command(deps.config.commands.engage_oncall, "Engage a service's on-call in this incident")
    async def on_command(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond) -> None:
        await ack()
        case = await case_for_command_of(deps, None, body.get("channel_id"), body["user_id"])
        if case is not None and case.incident_id is None:  # a case's own channel (not taken over by an incident)
            target, callback = case.id, CASE_CALLBACK_ID
        else:
            incident = await incident_here(deps, body, respond, managing=False)
            if incident is None:
                return
            target, callback = incident.id, CALLBACK_ID
        services = oncall_services(deps.config)
        if not services:
            await respond(response_type="ephemeral",
                          text="No on-call services are configured (pagerduty.services or oncall.schedules).")
            return
        overview = await oncall_overview(deps, services)
        await client.views_open(trigger_id=body["trigger_id"],
                                view=engage_oncall_modal(target, services, overview, callback_id=callback))

    @reg.submission(CALLBACK_ID, parse_engage_oncall, check=still_allowed(deps, lambda form: form[0], managing=False))
    async def on_submit(sub: Submission[tuple[int, str, bool]]) -> None:
        incident_id, service, page = sub.form
        await engage_oncall(deps, incident_id, service, actor=sub.user_id, page=page)

    @reg.submission(CASE_CALLBACK_ID, parse_engage_oncall)
    async def on_case_submit(sub: Submission[tuple[int, str, bool]]) -> None:
        case_id, service, page = sub.form
        try:
            await engage_case_oncall(deps, case_id, service, actor=sub.user_id, page=page)
        except CaseRuleError as exc:
            await deps.ports.conversation.send_direct(sub.user_id, PlainNotice(str(exc)))

    # Announcements use JOIN_ACTION; the daily summary, with several Join buttons in one message,
    # suffixes each one (action ids must be unique within a message).
    @reg.action(re.compile(rf"^{JOIN_ACTION}(_[a-z0-9-]+)?$"))
    async def on_join(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        notice = await join_from_announcement(deps, body["actions"][0]["value"], body["user"]["id"])
        text, blocks = render(notice)
        await respond(response_type="ephemeral", replace_original=False, text=text, blocks=blocks)

    @reg.action(SUBSCRIBE_ACTION)
    async def on_subscribe(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        answer = await subscribe_from_announcement(deps, body["actions"][0]["value"], body["user"]["id"])
        await respond(response_type="ephemeral", replace_original=False, text=answer)
