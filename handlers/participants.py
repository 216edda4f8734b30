"""Listeners of list-participants, update-participant, notifications-group and list-incidents."""

from __future__ import annotations

from sqlalchemy import select

from domain.core.deps import Deps
from domain.incidents.detail import notifications_group, set_notifications_group
from domain.incidents.notices import IncidentList, IncidentRef
from domain.incidents.queries import listed_incidents, may_manage
from domain.participants import active_participants, update_participant
from handlers.incident_context import incident_here, say
from handlers.registry import Registry
from modals.participants import (
    NOTIFICATIONS_GROUP_ID,
    UPDATE_PARTICIPANT_ID,
    list_participants_modal,
    notifications_group_modal,
    parse_notifications_group,
    parse_update_participant,
    update_participant_modal,
)
from modals.text import escape
from storage.models import Incident, Project


def register(reg: Registry, deps: Deps) -> None:
    commands = deps.config.commands

    @reg.command(commands.list_participants, "List the participants of this incident")
    async def on_list(ack, body, client, respond):
        await ack()
        incident = await incident_here(deps, body, respond, managing=False)
        if incident is not None:
            async with deps.sessions() as session:
                people = await active_participants(session, incident.id)
            await client.views_open(trigger_id=body["trigger_id"], view=list_participants_modal(incident.name, people))

    @reg.command(commands.update_participant, "Record why a participant is here and their expertise")
    async def on_update(ack, body, client, respond):
        await ack()
        incident = await incident_here(deps, body, respond, managing=False)
        if incident is not None:
            async with deps.sessions() as session:
                people = await active_participants(session, incident.id)
            await client.views_open(trigger_id=body["trigger_id"],
                                    view=update_participant_modal(incident.id, incident.name, people))

    @reg.view(UPDATE_PARTICIPANT_ID)
    async def on_update_submit(ack, body, view):
        parsed, errors = parse_update_participant(view)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        async with deps.sessions() as session:
            ok = await update_participant(session, *parsed, body["user"]["id"])
        await ack(**({} if ok else {"response_action": "errors", "errors": {"participant": "Not a participant of this incident."}}))

    @reg.command(commands.notifications_group, "Edit who receives stakeholder updates", "[INC-n]")
    async def on_group(ack, body, client, respond):
        await ack()
        incident = await incident_here(deps, body, respond, managing=True)
        if incident is not None:
            async with deps.sessions() as session:
                users, emails = await notifications_group(session, incident.id)
                await session.commit()
            await client.views_open(trigger_id=body["trigger_id"], view=notifications_group_modal(incident.id, users, emails))

    @reg.view(NOTIFICATIONS_GROUP_ID)
    async def on_group_submit(ack, body, view):
        parsed, errors = parse_notifications_group(view)
        if not errors:
            async with deps.sessions() as session:
                incident = await session.get(Incident, parsed[0])
                if not (await may_manage(session, incident, body["user"]["id"], deps.config)).allowed:
                    errors = {"people": "You are no longer allowed to edit this group."}
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        async with deps.sessions() as session:
            await set_notifications_group(session, parsed[0], parsed[1], parsed[2], body["user"]["id"])

    @reg.command(commands.list_incidents, "List active, stable and recently closed incidents", "[project]")
    async def on_list_incidents(ack, body, respond):
        await ack()
        name = (body.get("text") or "").strip() or None
        async with deps.sessions() as session:
            project = None
            if name:
                project = (await session.execute(select(Project).where(Project.name == name))).scalar_one_or_none()
                if project is None:
                    await respond(response_type="ephemeral", text=f"No project called {escape(name)}.")
                    return
            rows = await listed_incidents(session, body["user_id"], deps.config, project.id if project else None)
        await say(respond, IncidentList([IncidentRef(i.name, i.title, i.status, i.channel_id) for i in rows], name))
