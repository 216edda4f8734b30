"""Render incident notices (domain/incidents/notices.py) and plain notices. Pure functions."""

from __future__ import annotations

from blockkit import Context, Divider, Header, Message, Section

from domain.core.notices import PlainNotice
from domain.incidents.notices import IncidentFacts, IncidentReported, IncidentSummary, SetupDelayed
from modals.render import Rendered, render
from modals.text import escape, md, mention, plain, truncate

# Commands advertised in the incident summary, by config key. Only commands warroom actually
# registers belong here (the summary must never advertise something that answers nothing).
COMMAND_HELP: dict[str, str] = {
    "update_incident": "update it",
    "assign_role": "assign a role",
    "engage_oncall": "engage on-call",
    "create_task": "add a task",
    "add_timeline_event": "add to the timeline",
    "report_tactical": "tactical report",
    "run_workflow": "run a workflow",
    "report_incident": "report another incident",
}


def incident_fields(facts: IncidentFacts) -> list:
    """The facts of an incident as the fields of a section (summary, announcement, changes)."""
    return [
        md(f"*Status*\n{escape(facts.status)}"),
        md(f"*Priority*\n{escape(facts.priority)}"),
        md(f"*Type*\n{escape(facts.incident_type)}"),
        md(f"*Severity*\n{escape(facts.severity)}"),
        md(f"*Commander*\n{mention(facts.commander)}"),
        md(f"*Reporter*\n{mention(facts.reporter)}"),
        md(f"*Visibility*\n{escape(facts.visibility)}"),
        md(f"*Project*\n{escape(facts.project)}"),
    ]


@render.register
def render_incident_summary(notice: IncidentSummary) -> Rendered:
    f = notice.facts
    msg = (
        Message()
        .add_block(Header(plain(f"{f.name}: {f.title}", 150)))
        .add_block(Section(md(truncate(escape(f.description), 3000))))
        .add_block(Section(fields=incident_fields(f)))
    )
    if notice.tags:
        msg.add_block(Context().add_element(md(truncate(f"*Tags:* {escape(', '.join(notice.tags))}", 3000))))
    costs = [f"*Response cost* {escape(notice.response_cost)}"] if notice.response_cost is not None else []
    costs += [f"*{escape(name)}*{escape(rest)}" for name, _, rest in (c.partition(":") for c in notice.custom_costs)]
    if costs:
        msg.add_block(Context().add_element(md(truncate(" · ".join(costs), 3000))))
    if notice.ticket_key and notice.ticket_url:
        msg.add_block(Context().add_element(md(f"Ticket: <{notice.ticket_url}|{escape(notice.ticket_key)}>")))
    if notice.links:
        msg.add_block(Context().add_element(md("  ·  ".join(f"<{url}|{escape(title)}>" for title, url in notice.links))))
    help_lines = [
        f"`{notice.commands[key]}` {what}" for key, what in COMMAND_HELP.items() if notice.commands.get(key)
    ]
    if help_lines:
        msg.add_block(Divider()).add_block(Context().add_element(md("  ·  ".join(help_lines))))
    return f"{f.name}: {f.title}", msg.build()["blocks"]


@render.register
def render_incident_reported(notice: IncidentReported) -> Rendered:
    f = notice.facts
    text = f"{f.name} reported: <#{f.channel_id}> is ready and you are its incident commander."
    msg = (
        Message()
        .add_block(Section(md(f":white_check_mark: *{escape(f.name)}* reported: <#{f.channel_id}> is ready "
                              f"and you are its incident commander.")))
        .add_block(Context().add_element(md(f"*{escape(truncate(f.title, 200))}* · {escape(f.priority)} · "
                                            f"{escape(f.incident_type)} · <{notice.channel_url}|open channel>")))
    )
    return text, msg.build()["blocks"]


@render.register
def render_setup_delayed(notice: SetupDelayed) -> Rendered:
    text = (
        f":warning: {notice.incident_name} ({notice.title}) is recorded, but its channel is not ready yet "
        f"({notice.error}). warroom retries automatically; nothing you entered is lost."
    )
    return text, Message().add_block(Section(md(escape(text)))).build()["blocks"]


@render.register
def render_plain_notice(notice: PlainNotice) -> Rendered:
    return notice.text, Message().add_block(Section(md(truncate(notice.text, 3000)))).build()["blocks"]
