"""The case card: the message (top of its thread) that shows a case and offers its buttons. Pure functions."""

from __future__ import annotations

from blockkit import Actions, Button, Context, Message, Section
from blockkit.core import ActionElement

from domain.cases.service import CaseFacts
from domain.core.vocabulary import CaseStatus
from modals.render import Rendered, render
from modals.text import escape, md, mention, plain, truncate

# Button action ids; each button's value is the case id.
TRIAGE_ACTION = "case_triage"
EDIT_ACTION = "case_edit"
RESOLVE_ACTION = "case_resolve"
REOPEN_ACTION = "case_reopen"
ESCALATE_ACTION = "case_escalate"
CHANNEL_ACTION = "case_create_channel"
JOIN_ACTION = "case_join"
SNOOZE_ACTION = "case_snooze"
FEEDBACK_ACTION = "case_feedback_open"  # on the feedback request DM'd when a case is closed; value: the case id
ADD_MENTIONED_ACTION = "case_add_mentioned"  # on the offer sent to the assignee; value "<case id>:<user id>"
CASE_ACTIONS = (TRIAGE_ACTION, EDIT_ACTION, RESOLVE_ACTION, REOPEN_ACTION, ESCALATE_ACTION, CHANNEL_ACTION,
                JOIN_ACTION, SNOOZE_ACTION)

_STATUS_EMOJI: dict[str, str] = {CaseStatus.NEW: ":large_blue_circle:", CaseStatus.TRIAGE: ":large_yellow_circle:",
                 CaseStatus.ESCALATED: ":red_circle:", CaseStatus.STABLE: ":large_green_circle:",
                 CaseStatus.CLOSED: ":white_circle:"}


def case_buttons(case: CaseFacts) -> list[ActionElement]:
    """The buttons that make sense for the case's current state."""
    value = str(case.id)
    buttons: list[ActionElement] = []
    if case.status == CaseStatus.NEW:
        buttons.append(Button(plain("Triage"), TRIAGE_ACTION, value=value, style="primary"))
    if case.status != CaseStatus.CLOSED:
        buttons += [Button(plain("Edit"), EDIT_ACTION, value=value),
                    Button(plain("Resolve"), RESOLVE_ACTION, value=value)]
        if case.status != CaseStatus.ESCALATED and not case.escalated:
            buttons.append(Button(plain("Escalate"), ESCALATE_ACTION, value=value, style="danger"))
        if case.channel_id is None and not case.escalated:
            buttons.append(Button(plain("Create channel"), CHANNEL_ACTION, value=value))
    else:
        buttons += [Button(plain("Edit"), EDIT_ACTION, value=value), Button(plain("Reopen"), REOPEN_ACTION, value=value)]
    if not case.escalated:  # once escalated, the card links the incident instead (or, if restricted, says only that)
        buttons.append(Button(plain("Join"), JOIN_ACTION, value=value))
    if case.snoozable:
        buttons.append(Button(plain("Snooze"), SNOOZE_ACTION, value=value))
    return buttons


def case_card_blocks(case: CaseFacts) -> list[dict]:
    """Header line, description, fields, signal details, links and buttons."""
    emoji = _STATUS_EMOJI.get(case.status, "")
    msg = Message().add_block(Section(md(truncate(f"{emoji} *{case.name}* · {escape(case.title)}", 3000))))
    if case.description:
        msg.add_block(Section(md(truncate(escape(case.description), 3000))))
    fields = [md(f"*Status*\n{escape(case.status)}"), md(f"*Assignee*\n{mention(case.assignee)}"),
              md(f"*Type*\n{escape(case.case_type)}"), md(f"*Priority*\n{escape(case.priority)}"),
              md(f"*Severity*\n{escape(case.severity)}")]
    if case.signal_definition:
        fields.append(md(f"*Alerts*\n{case.alert_count}"))
    msg.add_block(Section(fields=fields))
    if case.signal_definition:
        lines = [f"*Signal:* {escape(case.signal_definition)}"]
        if case.runbook:
            lines.append(f"*Runbook:* <{escape(case.runbook)}|open>")
        if case.entities:
            shown = ", ".join(f"{escape(t)}: `{escape(truncate(v, 80))}`" for t, v in case.entities)
            lines.append(f"*Entities:* {shown}")
        msg.add_block(Section(md(truncate("\n".join(lines), 3000))))
    if case.tags:
        msg.add_block(Context().add_element(md(truncate(f"*Tags:* {escape(', '.join(case.tags))}", 3000))))
    if case.response_cost is not None:
        msg.add_block(Context().add_element(md(f"*Response cost* {escape(case.response_cost)}")))
    if case.resolution_reason:
        text = f"*Resolution:* {escape(case.resolution_reason)}"
        if case.resolution:
            text += f" — {escape(case.resolution)}"
        msg.add_block(Section(md(truncate(text, 3000))))
    links = []
    if case.incident_hidden:
        links.append(":rotating_light: Escalated to an incident")
    elif case.incident_name:
        where = f" in <#{case.incident_channel_id}>" if case.incident_channel_id else ""
        links.append(f":rotating_light: Escalated to *{escape(case.incident_name)}*{where}")
    if case.channel_id:
        links.append(f":speech_balloon: Worked in <#{case.channel_id}>")
    if case.ticket_key and case.ticket_url:
        links.append(f":ticket: <{case.ticket_url}|{escape(case.ticket_key)}>")
    reporter = f"Reported by {mention(case.reporter)}" if case.reporter else "Opened from a signal"
    links.append(f"{reporter} · <!date^{int(case.created_at.timestamp())}^{{date_short_pretty}} {{time}}|{case.created_at:%Y-%m-%d %H:%M} UTC>")
    msg.add_block(Context().add_element(md(" · ".join(links))))
    msg.add_block(Actions(elements=case_buttons(case)))
    return msg.build()["blocks"]


@render.register
def render_case_card(case: CaseFacts) -> Rendered:
    return f"{case.name}: {case.title} ({case.status})", case_card_blocks(case)
