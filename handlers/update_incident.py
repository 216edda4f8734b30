"""Listeners of /dispatch-update-incident: open the pre-filled modal, apply the submission."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from domain.core.deps import Deps
from domain.incidents.update import UpdateIncidentForm, update_options
from domain.response.update import update_incident, update_refusals
from handlers.incident_context import incident_here
from handlers.registry import Errors, Registry, Submission
from modals.update_incident import CALLBACK_ID, parse_update_submission, update_incident_modal

log = logging.getLogger(__name__)
Update = tuple[int, UpdateIncidentForm]  # (incident id, form)


def parse_update(view: dict[str, Any]) -> tuple[Update | None, Errors]:
    """`parse_update_submission` in the registry's (form, errors) shape."""
    incident_id, form, errors = parse_update_submission(view)
    if errors or incident_id is None or form is None:
        return None, errors
    return (incident_id, form), errors


def register(reg: Registry, deps: Deps) -> None:
    @reg.command(deps.config.commands.update_incident, "Update the incident of this channel", "[INC-n]")
    async def on_command(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond) -> None:
        await ack()
        incident = await incident_here(deps, body, respond, managing=True)
        if incident is None:
            return
        async with deps.sessions() as session:
            options = await update_options(session, incident)
        await client.views_open(trigger_id=body["trigger_id"], view=update_incident_modal(options, incident.name))

    async def refused_update(sub: Submission[Update]) -> Errors:
        incident_id, form = sub.form
        return await update_refusals(deps, incident_id, form, sub.user_id)

    @reg.submission(CALLBACK_ID, parse_update, check=refused_update)
    async def on_submit(sub: Submission[Update]) -> None:
        incident_id, form = sub.form
        await update_incident(deps, incident_id, form, actor=sub.user_id)
