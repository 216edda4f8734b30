"""Listeners of /dispatch-assign-role."""

from __future__ import annotations

from domain.core.deps import Deps
from domain.incidents.queries import may_manage
from domain.response.roles import assign_role
from handlers.incident_context import incident_here
from handlers.registry import Registry
from modals.assign_role import CALLBACK_ID, assign_role_modal, parse_assign_role
from storage.models import Incident


def register(reg: Registry, deps: Deps) -> None:
    @reg.command(deps.config.commands.assign_role, "Assign an incident role (commander, scribe...)", "[INC-n]")
    async def on_command(ack, body, client, respond):
        await ack()
        incident = await incident_here(deps, body, respond, managing=True)
        if incident is not None:
            await client.views_open(trigger_id=body["trigger_id"],
                                    view=assign_role_modal(incident.id, incident.name, deps.config.roles))

    @reg.view(CALLBACK_ID)
    async def on_submit(ack, body, view, context):
        form, errors = parse_assign_role(view, context.get("bot_user_id"))
        if not errors:
            async with deps.sessions() as session:
                incident = await session.get(Incident, form.incident_id)
                if not (await may_manage(session, incident, body["user"]["id"], deps.config)).allowed:
                    errors = {"person": "You are no longer allowed to assign roles in this incident."}
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        await assign_role(deps.sessions, form, body["user"]["id"], deps.ports, deps.config)
