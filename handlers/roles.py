"""Listeners of /dispatch-assign-role."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from domain.core.deps import Deps
from domain.response.roles import AssignRoleForm, assign_role
from handlers.incident_context import incident_here, still_allowed
from handlers.registry import Errors, Registry, Submission
from modals.assign_role import CALLBACK_ID, assign_role_modal, parse_assign_role


def register(reg: Registry, deps: Deps) -> None:
    @reg.command(deps.config.commands.assign_role, "Assign an incident role (commander, scribe...)", "[INC-n]")
    async def on_command(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond) -> None:
        await ack()
        incident = await incident_here(deps, body, respond, managing=True)
        if incident is not None:
            await client.views_open(trigger_id=body["trigger_id"],
                                    view=assign_role_modal(incident.id, incident.name, deps.config.roles))

    async def refused_person(sub: Submission[AssignRoleForm]) -> Errors | None:
        return {"person": "warroom itself cannot hold a role."} if sub.form.user_id == sub.bot_user_id else None

    refused_assignment = still_allowed(deps, lambda form: form.incident_id, managing=True, then=refused_person)

    @reg.submission(CALLBACK_ID, parse_assign_role, check=refused_assignment)
    async def on_submit(sub: Submission[AssignRoleForm]) -> None:
        await assign_role(deps, sub.form, actor=sub.user_id)
