"""Listeners of /dispatch-engage-oncall and of the announcement buttons (Join, Subscribe)."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from domain.core.deps import Deps
from domain.response.engagement import engage_oncall, oncall_services
from domain.response.membership import join_from_announcement, subscribe_from_announcement
from handlers.incident_context import incident_here, still_allowed
from handlers.registry import Registry, Submission
from modals.command_messages import JOIN_ACTION, SUBSCRIBE_ACTION
from modals.engage_oncall import CALLBACK_ID, engage_oncall_modal, parse_engage_oncall
from modals.renderers import render


def register(reg: Registry, deps: Deps) -> None:
    @reg.command(deps.config.commands.engage_oncall, "Engage a service's on-call in this incident")
    async def on_command(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond) -> None:
        await ack()
        incident = await incident_here(deps, body, respond, managing=False)
        if incident is None:
            return
        services = oncall_services(deps.config)
        if not services:
            await respond(response_type="ephemeral", text="No on-call services are configured (oncall.schedules).")
            return
        await client.views_open(trigger_id=body["trigger_id"], view=engage_oncall_modal(incident.id, services))

    @reg.submission(CALLBACK_ID, parse_engage_oncall, check=still_allowed(deps, lambda form: form[0], managing=False))
    async def on_submit(sub: Submission[tuple[int, str, bool]]) -> None:
        incident_id, service, page = sub.form
        await engage_oncall(deps, incident_id, service, actor=sub.user_id, page=page)

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
