"""Buttons of the follow-up DM of a Stable incident: *Close it* (the update form, status Closed) and
*Remind me next week*."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from domain.core.deps import Deps
from domain.response.follow_up import close_form, snooze_follow_up
from handlers.registry import Registry
from modals.follow_up import CLOSE_ACTION, SNOOZE_ACTION
from modals.update_incident import update_incident_modal

NOT_AVAILABLE = "That incident is not available to you, or is closed already."


def _incident_id(body: dict[str, Any]) -> int | None:
    value = str(body["actions"][0].get("value") or "")
    return int(value) if value.isdigit() else None


def register(reg: Registry, deps: Deps) -> None:
    @reg.action(CLOSE_ACTION)
    async def on_close(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond) -> None:
        await ack()
        incident_id = _incident_id(body)
        found = await close_form(deps, incident_id, body["user"]["id"]) if incident_id is not None else None
        if found is None:
            await respond(response_type="ephemeral", replace_original=False, text=NOT_AVAILABLE)
            return
        name, options = found
        await client.views_open(trigger_id=body["trigger_id"], view=update_incident_modal(options, name))

    @reg.action(SNOOZE_ACTION)
    async def on_snooze(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        incident_id = _incident_id(body)
        snoozed = await snooze_follow_up(deps, incident_id, body["user"]["id"]) if incident_id is not None else None
        if snoozed is None:
            await respond(response_type="ephemeral", replace_original=False, text=NOT_AVAILABLE)
            return
        container = body.get("container") or {}
        if container.get("channel_id") and container.get("message_ts"):
            await deps.ports.conversation.update(container["channel_id"], container["message_ts"], snoozed)
