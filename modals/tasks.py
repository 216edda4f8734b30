"""Task modal (builder + parser), task cards and task lists. Pure functions."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta

from blockkit import (
    Button,
    Context,
    DatePicker,
    Header,
    Input,
    Message,
    Modal,
    MultiUsersSelect,
    Option,
    PlainTextInput,
    Section,
    StaticSelect,
)

from domain.core.vocabulary import TaskPriority, TaskStatus
from domain.tasks import TaskList, TaskOverdue, TaskView
from modals.render import Rendered, render
from modals.text import escape, md, plain, truncate

CALLBACK_ID = "create_task"
RESOLVE_ACTION, REOPEN_ACTION = "task_resolve", "task_reopen"
DESCRIPTION_MAX = 1000


def create_task_modal(incident_id: int, channel_id: str, today: date) -> dict:
    """Description, assignees, priority and due date (tomorrow by default)."""
    medium = Option(plain(TaskPriority.MEDIUM), TaskPriority.MEDIUM)
    priority = StaticSelect().action_id("priority").initial_option(medium)
    for p in TaskPriority:
        priority.add_option(Option(plain(p), p))
    return (
        Modal().title(plain("Create task")).submit(plain("Create")).close(plain("Cancel")).callback_id(CALLBACK_ID)
        .private_metadata(json.dumps({"incident": incident_id, "channel": channel_id}))
        .add_block(Input(plain("Task")).block_id("description").element(
            PlainTextInput().action_id("description").multiline(True).max_length(DESCRIPTION_MAX)))
        .add_block(Input(plain("Assignees")).block_id("assignees").element(MultiUsersSelect().action_id("assignees")))
        .add_block(Input(plain("Priority")).block_id("priority").element(priority))
        .add_block(Input(plain("Due")).block_id("due").element(
            DatePicker().action_id("due").initial_date((today + timedelta(days=1)).isoformat())))
        .build()
    )


def parse_create_task(view: dict) -> tuple[dict | None, dict[str, str]]:
    values = view.get("state", {}).get("values", {})

    def get(block: str) -> dict:
        return (values.get(block) or {}).get(block) or {}

    meta = json.loads(view.get("private_metadata") or "{}")
    description = (get("description").get("value") or "").strip()
    assignees = get("assignees").get("selected_users") or []
    priority = (get("priority").get("selected_option") or {}).get("value") or TaskPriority.MEDIUM
    errors: dict[str, str] = {}
    if not description:
        errors["description"] = "Say what needs doing."
    if not assignees:
        errors["assignees"] = "Pick at least one person."
    due_at = None
    if get("due").get("selected_date"):
        due_at = datetime.combine(date.fromisoformat(get("due")["selected_date"]), time(23, 59), tzinfo=UTC)
    if errors:
        return None, errors
    return {"incident": meta["incident"], "channel": meta["channel"], "description": description,
            "assignees": assignees, "priority": priority, "due_at": due_at}, {}


def _line(task: TaskView) -> str:
    due = f" · due {task.due_at:%Y-%m-%d}" if task.due_at else ""
    who = ", ".join(f"<@{u}>" for u in task.assignees) or "_nobody_"
    mark = ":white_check_mark:" if task.status != TaskStatus.OPEN else ":white_circle:"
    return truncate(f"{mark} *{escape(task.description)}*\n{task.priority} · {who}{due} · {task.incident_name}", 3000)


def _button(task: TaskView) -> Button:
    if task.status == TaskStatus.OPEN:
        return Button(plain("Resolve"), f"{RESOLVE_ACTION}_{task.id}", value=str(task.id), style="primary")
    return Button(plain("Re-open"), f"{REOPEN_ACTION}_{task.id}", value=str(task.id))


def task_list_blocks(tasks: list[TaskView]) -> list:
    blocks: list = []
    for status in TaskStatus:
        group = [t for t in tasks if t.status == status]
        blocks.append(Header(plain(f"{status} ({len(group)})")))
        for t in group[:20]:
            blocks.append(Section(md(_line(t))).accessory(_button(t)))
        if len(group) > 20:
            blocks.append(Context().add_element(md(f"…and {len(group) - 20} more")))
    return blocks


def task_list_modal(incident_name: str, incident_id: int, tasks: list[TaskView]) -> dict:
    modal = Modal().title(plain(truncate(f"{incident_name} tasks", 24))).close(plain("Close")).callback_id("task_list")
    modal.private_metadata(json.dumps({"incident": incident_id}))
    for block in task_list_blocks(tasks) or [Section(md("_No tasks yet._"))]:
        modal.add_block(block)
    return modal.build()


@render.register
def render_task_card(task: TaskView) -> Rendered:
    msg = Message().add_block(Section(md(_line(task))).accessory(_button(task)))
    msg.add_block(Context().add_element(md(f"Task created by <@{task.creator}>")))
    return f"Task: {task.description}", msg.build()["blocks"]


@render.register
def render_task_list(notice: TaskList) -> Rendered:
    msg = Message().add_block(Section(md(f"*{escape(notice.heading)}*")))
    if not notice.tasks:
        msg.add_block(Section(md("_No open tasks._")))
    for t in notice.tasks[:40]:
        msg.add_block(Section(md(_line(t))).accessory(_button(t)))
    if len(notice.tasks) > 40:
        msg.add_block(Context().add_element(md(f"…and {len(notice.tasks) - 40} more")))
    return notice.heading, msg.build()["blocks"]


@render.register
def render_task_overdue(notice: TaskOverdue) -> Rendered:
    text = f"Overdue task in {notice.task.incident_name}: {notice.task.description}"
    msg = Message().add_block(Section(md(":alarm_clock: *Overdue*\n" + _line(notice.task))).accessory(_button(notice.task)))
    return text, msg.build()["blocks"]
