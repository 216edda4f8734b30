"""Listeners for incident tasks."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from domain.core.deps import Deps
from domain.core.notices import PlainNotice
from domain.tasks import TaskList, add_task, change_task, incident_tasks, my_tasks, task_list, task_refusals
from handlers.incident_context import incident_here, say, still_allowed
from handlers.registry import Registry, Submission
from modals.tasks import (
    CALLBACK_ID,
    REOPEN_ACTION,
    RESOLVE_ACTION,
    create_task_modal,
    parse_create_task,
    task_list_modal,
)


def register(reg: Registry, deps: Deps) -> None:
    """create-task, list-tasks, list-my-tasks, and the Resolve / Re-open buttons on every card."""
    commands = deps.config.commands

    @reg.command(commands.create_task, "Create a task in this incident", "[INC-n]")
    async def on_create(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond) -> None:
        await ack()
        incident = await incident_here(deps, body, respond, managing=True)
        if incident is not None:
            view = create_task_modal(incident.id, body["channel_id"], datetime.now(UTC).date())
            await client.views_open(trigger_id=body["trigger_id"], view=view)

    async def refused_assignees(sub: Submission[dict[str, Any]]) -> dict[str, str]:
        async with deps.sessions() as session:
            return await task_refusals(session, sub.form["incident"], sub.form["assignees"], deps.config)

    refused_task = still_allowed(deps, lambda form: form["incident"], managing=True, then=refused_assignees)

    @reg.submission(CALLBACK_ID, parse_create_task, check=refused_task)
    async def on_submit(sub: Submission[dict[str, Any]]) -> None:
        form = sub.form
        await add_task(deps, form["incident"], channel=form["channel"], creator=sub.user_id,
                       description=form["description"], assignees=form["assignees"], priority=form["priority"],
                       due_at=form["due_at"])

    @reg.command(commands.list_tasks, "List this incident's tasks")
    async def on_list(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond) -> None:
        await ack()
        incident = await incident_here(deps, body, respond, managing=False)
        if incident is None:
            return
        async with deps.sessions() as session:
            tasks = await incident_tasks(session, incident)
        await client.views_open(trigger_id=body["trigger_id"], view=task_list_modal(incident.name, incident.id, tasks))

    @reg.command(commands.list_my_tasks, "List the open tasks you created or are assigned")
    async def on_mine(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        async with deps.sessions() as session:
            tasks = await my_tasks(session, body["user_id"])
        await say(respond, TaskList("Your open tasks", tasks))

    async def change(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, resolved: bool) -> None:
        await ack()
        task_id, user = int(body["actions"][0]["value"]), body["user"]["id"]
        message, channel = body.get("message") or {}, body.get("channel") or {}
        clicked = (channel["id"], message["ts"]) if message.get("ts") and channel.get("id") else None
        task = await change_task(deps, task_id, resolved=resolved, actor=user, clicked=clicked)
        if task is None:  # no such task, or one of a Restricted incident this person is outside of: the same answer
            if body.get("channel"):
                await deps.ports.conversation.post_ephemeral(
                    body["channel"]["id"], user, PlainNotice("That task is not available to you."))
            return
        if body.get("view"):  # clicked in the task list modal: show the new state there too
            async with deps.sessions() as session:
                name, tasks = await task_list(session, task.incident_id)
            await client.views_update(view_id=body["view"]["id"], view=task_list_modal(name, task.incident_id, tasks))

    @reg.action(re.compile(f"^{RESOLVE_ACTION}_\\d+$"))
    async def on_resolve(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await change(ack, body, client, True)

    @reg.action(re.compile(f"^{REOPEN_ACTION}_\\d+$"))
    async def on_reopen(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await change(ack, body, client, False)

