"""Render the command center's notices (domain/command_notices.py). Pure functions."""

from __future__ import annotations

from blockkit import Actions, Button, Context, Header, Message, Section
from blockkit.core import ActionElement

from domain.announcements.daily_summary import DailySummary
from domain.announcements.service import Announcement
from domain.core.vocabulary import IncidentStatus
from domain.incidents.notices import (
    ClosingSummary,
    IncidentChanged,
    IncidentList,
    IncidentRef,
    NotAllowed,
    NotInIncidentChannel,
)
from domain.response.notices import (
    CommanderGuide,
    CommanderHandoff,
    CommanderReinvited,
    EngagementSuggestion,
    JoinedFromAnnouncement,
    OncallEngaged,
    ReinvitedForOpenTasks,
    RoleAssigned,
    Welcome,
)
from modals.incident_messages import incident_fields
from modals.render import Rendered, render
from modals.text import escape, md, mention, plain, truncate

JOIN_ACTION, SUBSCRIBE_ACTION = "announcement_join", "announcement_subscribe"

# What each participant can run, by config key (only commands warroom registers).
PARTICIPANT_COMMANDS: dict[str, str] = {
    "update_incident": "change the incident (commander, scribe, admins)",
    "assign_role": "assign a role (commander, scribe, admins)",
    "engage_oncall": "engage a service's on-call",
    "list_participants": "see who is here",
    "update_participant": "record why someone is here",
    "notifications_group": "edit who gets stakeholder updates",
    "create_task": "add a task (commander, scribe, admins)",
    "add_timeline_event": "add an event to the timeline",
    "report_tactical": "write a tactical report (commander, scribe, admins)",
    "list_workflows": "see the workflows and their runs",
    "run_workflow": "run a workflow (commander, scribe, admins)",
    "list_incidents": "list incidents",
}


def _simple(text: str, extra: list | None = None) -> tuple[str, list[dict]]:
    msg = Message().add_block(Section(md(truncate(text, 3000))))
    for block in extra or []:
        msg.add_block(block)
    return text, msg.build()["blocks"]


def _ref_line(ref: IncidentRef) -> str:
    where = f"<#{ref.channel_id}>" if ref.channel_id else "_no channel_"
    role = f" · you: {escape(ref.role)}" if ref.role else ""
    tags = f" · tags: {escape(', '.join(ref.tags))}" if ref.tags else ""
    cost = f" · cost {escape(ref.response_cost)}" if ref.response_cost else ""
    return f"• *{escape(ref.name)}* {escape(truncate(ref.title, 120))} · {escape(ref.status)} · {where}{role}{tags}{cost}"


def _command_help(commands: dict[str, str]) -> str:
    return "\n".join(f"`{commands[k]}` {what}" for k, what in PARTICIPANT_COMMANDS.items() if commands.get(k))


@render.register
def render_not_in_incident_channel(n: NotInIncidentChannel) -> Rendered:
    head = f"Run `{n.command}` in an incident channel."
    if not n.incidents:
        return _simple(f"{head} You are not in any active incident.")
    return _simple(head + " Your active incidents:\n" + "\n".join(_ref_line(r) for r in n.incidents[:40]))


@render.register
def render_not_allowed(n: NotAllowed) -> Rendered:
    who = ", ".join(f"<@{u}>" for u in n.who_can) or "nobody holds those roles right now"
    admins = " and warroom admins" if n.admins else ""
    return _simple(f"Only the incident commander, scribes{admins} can run `{n.command}` here: {who}.")


@render.register
def render_incident_changed(n: IncidentChanged) -> Rendered:
    lines = [f"• *{escape(f)}*: {escape(truncate(old or '—', 300))} → {escape(truncate(new or '—', 300))}"
             for f, old, new in n.changes]
    return _simple(f"<@{n.actor}> updated {escape(n.name)}:\n" + "\n".join(lines))


@render.register
def render_closing_summary(n: ClosingSummary) -> Rendered:
    f = n.facts
    text = f"{f.name} is closed after {n.duration}."
    if n.response_cost is not None:
        text += f" Response cost: {n.response_cost}."
    if n.custom_costs:
        text += " " + "; ".join(n.custom_costs) + "."
    msg = (
        Message()
        .add_block(Header(plain(f"{f.name} closed: {f.title}", 150)))
        .add_block(Section(md(f"*Resolution*\n{escape(truncate(n.resolution or 'Not recorded.', 2900))}")))
        .add_block(Section(fields=incident_fields(f)))
        .add_block(Context().add_element(md(escape(text))))
    )
    if n.ai_summary:
        msg.add_block(Section(md(f"*AI summary*\n{escape(truncate(n.ai_summary, 2900))}")))
        msg.add_block(Context().add_element(md("_Written by AI from the channel, timeline, tasks and reports._")))
    elif n.ai_note:
        msg.add_block(Context().add_element(md(escape(f"AI summary: {n.ai_note}"))))
    return text, msg.build()["blocks"]


@render.register
def render_commander_handoff(n: CommanderHandoff) -> Rendered:
    prev = f"from {mention(n.previous)} " if n.previous else ""
    return _simple(f":arrows_counterclockwise: Incident command of {escape(n.name)} handed {prev}to <@{n.new}> "
                   f"(by <@{n.actor}>).")


@render.register
def render_role_assigned(n: RoleAssigned) -> Rendered:
    return _simple(f"<@{n.user}> is now {escape(n.role)} of {escape(n.name)} (assigned by <@{n.actor}>).")


@render.register
def render_commander_guide(n: CommanderGuide) -> Rendered:
    f = n.facts
    text = (f"You are now the incident commander (IC) of *{escape(f.name)}* {escape(truncate(f.title, 200))} "
            f"in <#{f.channel_id}>.\n1. Assess impact and set the severity.\n2. Assign a scribe and engage "
            f"who you need.\n3. Keep the status current; mark it Stable, then Closed with a resolution.")
    help_text = _command_help(n.commands)
    return _simple(text, [Context().add_element(md(truncate(help_text, 2900)))] if help_text else None)


@render.register
def render_welcome(n: Welcome) -> Rendered:
    f = n.facts
    text = f"Welcome to {f.name}: {f.title}"
    msg = (
        Message()
        .add_block(Section(md(f":wave: Welcome to *{escape(f.name)}* {escape(truncate(f.title, 200))} "
                              f"(<#{f.channel_id}>)")))
        .add_block(Section(md(truncate(escape(f.description), 2900) or "_no description_")))
        .add_block(Section(fields=incident_fields(f)))
    )
    if n.conference_url:
        msg.add_block(Section(md(f":video_camera: Video call: <{n.conference_url}|join>")))
    help_text = _command_help(n.commands)
    if help_text:
        msg.add_block(Context().add_element(md(truncate(help_text, 2900))))
    return text, msg.build()["blocks"]


@render.register
def render_commander_reinvited(n: CommanderReinvited) -> Rendered:
    return _simple(f"You left <#{n.channel_id}> but you are the commander of {escape(n.name)}, so you were "
                   f"invited back. Hand command over with the assign-role command before leaving.")


@render.register
def render_reinvited_for_open_tasks(n: ReinvitedForOpenTasks) -> Rendered:
    listed = "; ".join(escape(t) for t in n.open_tasks[:5]) + (" …" if len(n.open_tasks) > 5 else "")
    return _simple(f"You were added back to <#{n.channel_id}> ({escape(n.name)}) because you still have "
                   f"{len(n.open_tasks)} open task(s): {listed}. Resolve or hand them over before leaving.")


@render.register
def render_joined_from_announcement(n: JoinedFromAnnouncement) -> Rendered:
    return _simple(f"You are already in <#{n.channel_id}>." if n.already else f"You joined <#{n.channel_id}>.")


@render.register
def render_incident_list(n: IncidentList) -> Rendered:
    scope = (f" in {escape(n.project)}" if n.project else "") + (f" tagged {escape(n.tag)}" if n.tag else "")
    if not n.incidents:
        return _simple(f"No active, stable or recently closed incidents{scope}.")
    return _simple(f"Incidents{scope}:\n" + "\n".join(_ref_line(r) for r in n.incidents[:40]))


@render.register
def render_announcement(n: Announcement) -> Rendered:
    f = n.facts
    text = f"{f.name}: {f.title} ({f.status})"
    msg = (
        Message()
        .add_block(Header(plain(f"{f.name}: {f.title}", 150)))
        .add_block(Section(md(truncate(escape(f.description), 2900) or "_no description_")))
        .add_block(Section(fields=incident_fields(f)))
    )
    if f.status != IncidentStatus.CLOSED:
        buttons: list[ActionElement] = [Button(plain("Subscribe"), action_id=SUBSCRIBE_ACTION, value=f.name)]
        if n.allow_join:
            buttons.insert(0, Button(plain("Join"), action_id=JOIN_ACTION, value=f.name, style="primary"))
        msg.add_block(Actions(elements=buttons))
    return text, msg.build()["blocks"]


@render.register
def render_engagement_suggestion(n: EngagementSuggestion) -> Rendered:
    people = "\n".join(f"• {escape(name)} <mailto:{escape(email)}|{escape(email)}>" for name, email in n.contacts)
    return _simple(f"Suggested external contacts for {escape(n.name)}:\n{people}")


@render.register
def render_oncall_engaged(n: OncallEngaged) -> Rendered:
    who = ", ".join(f"<@{u}>" for u in n.users) or "nobody (no one is on call)"
    paged = " and paged" if n.paged else ""
    return _simple(f"<@{n.actor}> engaged the {escape(n.service)} on-call{paged}: {who}.")


@render.register
def render_daily_summary(notice: DailySummary) -> Rendered:
    msg = Message().add_block(Header(plain("Incident summary")))
    for f in notice.incidents[:45]:
        line = (f"*{escape(f.name)}* {escape(truncate(f.title, 200))}\n{escape(f.status)} · {escape(f.priority)} · "
                f"commander {mention(f.commander)}")
        if f.name in notice.costs:
            line += f" · cost {escape(notice.costs[f.name])}"
        section = Section(md(line))
        if f.status != IncidentStatus.CLOSED:
            section.accessory(Button(plain("Join"), f"{JOIN_ACTION}_{f.name.lower()}", value=f.name))
        msg.add_block(section)
    if len(notice.incidents) > 45:
        msg.add_block(Context().add_element(md(f"…and {len(notice.incidents) - 45} more")))
    return f"Incident summary: {len(notice.incidents)} incidents", msg.build()["blocks"]
