"""Listeners for incident tasks."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timezone

from domain.core.deps import Deps
from domain.core.notices import PlainNotice
from domain.tasks import TaskList, add_card, create_task, incident_tasks, my_tasks, set_resolved
from handlers.incident_context import incident_here, say
from handlers.registry import Registry
from modals.tasks import (
    CALLBACK_ID,
    REOPEN_ACTION,
    RESOLVE_ACTION,
    create_task_modal,
    parse_create_task,
    task_list_modal,
)
from storage.models import Incident


def register(reg: Registry, deps: Deps) -> None:
    """create-task, list-tasks, list-my-tasks, and the Resolve / Re-open buttons on every card."""
    conv = deps.ports.conversation
    commands = deps.config.commands

    @reg.command(commands.create_task, "Create a task in this incident", "[INC-n]")
    async def on_create(ack, body, client, respond):
        await ack()
        incident = await incident_here(deps, body, respond, managing=True)
        if incident is not None:
            view = create_task_modal(incident.id, body["channel_id"], datetime.now(timezone.utc).date())
            await client.views_open(trigger_id=body["trigger_id"], view=view)

    @reg.view(CALLBACK_ID)
    async def on_submit(ack, body, view):
        form, errors = parse_create_task(view)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        async with deps.sessions() as session:
            incident = await session.get(Incident, form["incident"])
            task = await create_task(session, incident, body["user"]["id"], form["description"], form["assignees"],
                                     form["priority"], form["due_at"])
        card = await conv.post(form["channel"], task)
        async with deps.sessions() as session:
            await add_card(session, task.id, card.channel_id, card.ts)
        notice = PlainNotice(f"<@{task.creator}> assigned you a task: {task.description}")
        await asyncio.gather(*(conv.post_ephemeral(form["channel"], u, notice) for u in task.assignees),
                             return_exceptions=True)  # an assignee outside the channel just misses the notice

    @reg.command(commands.list_tasks, "List this incident's tasks")
    async def on_list(ack, body, client, respond):
        await ack()
        incident = await incident_here(deps, body, respond, managing=False)
        if incident is None:
            return
        async with deps.sessions() as session:
            tasks = await incident_tasks(session, incident)
        await client.views_open(trigger_id=body["trigger_id"], view=task_list_modal(incident.name, incident.id, tasks))

    @reg.command(commands.list_my_tasks, "List the open tasks you created or are assigned")
    async def on_mine(ack, body, respond):
        await ack()
        async with deps.sessions() as session:
            tasks = await my_tasks(session, body["user_id"])
        await say(respond, TaskList("Your open tasks", tasks))

    async def change(ack, body, client, resolved: bool):
        await ack()
        task_id = int(body["actions"][0]["value"])
        async with deps.sessions() as session:
            task, cards = await set_resolved(session, task_id, resolved, body["user"]["id"])
        await asyncio.gather(*(conv.update(channel, ts, task) for channel, ts in cards))
        if body.get("view"):  # clicked in the task list modal: show the new state there too
            async with deps.sessions() as session:
                incident = await session.get(Incident, task.incident_id)
                tasks = await incident_tasks(session, incident)
            await client.views_update(view_id=body["view"]["id"], view=task_list_modal(incident.name, incident.id, tasks))

    @reg.action(re.compile(f"^{RESOLVE_ACTION}_\\d+$"))
    async def on_resolve(ack, body, client):
        await change(ack, body, client, True)

    @reg.action(re.compile(f"^{REOPEN_ACTION}_\\d+$"))
    async def on_reopen(ack, body, client):
        await change(ack, body, client, False)

