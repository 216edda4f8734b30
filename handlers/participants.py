"""Listeners of list-participants, update-participant, notifications-group and list-incidents."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from domain.cases.access import case_for_command_of
from domain.cases.chat import case_people
from domain.core.deps import Deps
from domain.incidents.detail import notifications_group, set_notifications_group
from domain.incidents.notices import IncidentList, IncidentRef
from domain.incidents.queries import incident_costs, listed_incidents, project_id_named
from domain.incidents.tags import list_filters, tags_of_incidents
from domain.participants import active_participants, update_participant
from domain.response.profiles import participants_with_profiles
from handlers.incident_context import incident_here, say, still_allowed
from handlers.registry import Check, Errors, Registry, Submission
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


def register(reg: Registry, deps: Deps) -> None:
    commands = deps.config.commands

    @reg.command(commands.list_participants, "List the participants of this incident (or case)")
    async def on_list(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond) -> None:
        await ack()
        case = await case_for_command_of(deps, None, body.get("channel_id"), body["user_id"])
        if case is not None and case.incident_id is None:  # a case's own channel
            people = await case_people(deps, case.id)
            await client.views_open(trigger_id=body["trigger_id"], view=list_participants_modal(case.name, people))
            return
        incident = await incident_here(deps, body, respond, managing=False)
        if incident is not None:
            people = await participants_with_profiles(deps, incident.id)
            await client.views_open(trigger_id=body["trigger_id"], view=list_participants_modal(incident.name, people))

    @reg.command(commands.update_participant, "Record why a participant is here and their expertise")
    async def on_update(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond) -> None:
        await ack()
        incident = await incident_here(deps, body, respond, managing=False)
        if incident is not None:
            async with deps.sessions() as session:
                people = await active_participants(session, incident.id)
            await client.views_open(trigger_id=body["trigger_id"],
                                    view=update_participant_modal(incident.id, incident.name, people))

    @reg.submission(UPDATE_PARTICIPANT_ID, parse_update_participant, store_first=True,
                    check=still_allowed(deps, lambda form: form[0], managing=False))
    async def on_update_submit(sub: Submission[tuple[int, int, str, str]]) -> Errors | None:
        async with deps.sessions() as session:
            ok = await update_participant(session, *sub.form, sub.user_id)
        return None if ok else {"participant": "Not a participant of this incident."}

    @reg.command(commands.notifications_group, "Edit who receives stakeholder updates", "[INC-n]")
    async def on_group(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond) -> None:
        await ack()
        incident = await incident_here(deps, body, respond, managing=True)
        if incident is not None:
            async with deps.sessions() as session:
                users, emails = await notifications_group(session, incident.id)
                await session.commit()
            await client.views_open(trigger_id=body["trigger_id"], view=notifications_group_modal(incident.id, users, emails))

    refused_group_edit: Check[tuple[int, list[str], list[str]]] = still_allowed(deps, lambda form: form[0], managing=True)

    @reg.submission(NOTIFICATIONS_GROUP_ID, parse_notifications_group, check=refused_group_edit)
    async def on_group_submit(sub: Submission[tuple[int, list[str], list[str]]]) -> None:
        incident_id, users, emails = sub.form
        async with deps.sessions() as session:
            await set_notifications_group(session, incident_id, users, emails, sub.user_id)

    @reg.command(commands.list_incidents, "List active, stable and recently closed incidents", "[project] [tag:name]")
    async def on_list_incidents(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        name, tag = list_filters(body.get("text") or "")
        async with deps.sessions() as session:
            project_id = None
            if name:
                project_id = await project_id_named(session, name)
                if project_id is None:
                    await respond(response_type="ephemeral", text=f"No project called {escape(name)}.")
                    return
            rows = await listed_incidents(session, body["user_id"], deps.config, project_id=project_id, tag=tag)
            tags = await tags_of_incidents(session, [i.id for i in rows])
            costs = await incident_costs(session, [i.id for i in rows], deps.config)
        refs = [IncidentRef(i.name, i.title, i.status, i.channel_id, tags=tuple(tags.get(i.id, [])),
                            response_cost=costs.get(i.id)) for i in rows]
        await say(respond, IncidentList(refs, name, tag))
