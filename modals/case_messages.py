"""Render case notices (domain/cases/notices.py). Pure functions."""

from __future__ import annotations

from datetime import timedelta

from blockkit import Actions, Button, Message, Section
from blockkit.core import ActionElement

from domain.cases.feedback import CaseFeedbackRequest
from domain.cases.notices import (
    AddMentionedOffer,
    CaseChannelOpened,
    CaseClosedWithIncident,
    CaseEscalated,
    CaseMovedToChannel,
    CaseOpened,
    CaseReminder,
    EscalatedFromCase,
)
from domain.core.vocabulary import CaseStatus
from modals.case_card import ADD_MENTIONED_ACTION, EDIT_ACTION, FEEDBACK_ACTION, TRIAGE_ACTION
from modals.render import Rendered, render
from modals.text import escape, md, mention, plain, truncate


def _section(text: str) -> list[dict]:
    return Message().add_block(Section(md(truncate(text, 3000)))).build()["blocks"]


@render.register
def render_case_opened(n: CaseOpened) -> Rendered:
    where = f"<{n.card_link}|see its card>" if n.card_link else "its card will be posted in a moment"
    text = f":white_check_mark: *{escape(n.case_name)}* opened: {escape(n.title)} ({where})"
    if n.channel_id:
        text += f"; it is worked in <#{n.channel_id}>"
    return f"{n.case_name} opened: {n.title}", _section(text + ".")


@render.register
def render_case_moved_to_channel(n: CaseMovedToChannel) -> Rendered:
    text = f":speech_balloon: *{escape(n.case_name)}* is now worked in <#{n.channel_id}>."
    return f"{n.case_name} is now worked in its own channel", _section(text)


@render.register
def render_case_channel_opened(n: CaseChannelOpened) -> Rendered:
    back = f" It started in <{n.thread_link}|this thread>." if n.thread_link else ""
    text = f":file_folder: This channel works *{escape(n.case_name)}*: {escape(n.title)}.{back}"
    return f"This channel works {n.case_name}: {n.title}", _section(text)


@render.register
def render_case_escalated(n: CaseEscalated) -> Rendered:
    if n.incident_name is None:
        return f"{n.case_name} was escalated", _section(f":rotating_light: *{escape(n.case_name)}* was escalated to an incident.")
    where = f" in <#{n.channel_id}>" if n.channel_id else ""
    text = f":rotating_light: Escalated to *{escape(n.incident_name)}*{where}."
    return f"Escalated to {n.incident_name}", _section(text)


@render.register
def render_escalated_from_case(n: EscalatedFromCase) -> Rendered:
    card = f" (<{n.card_link}|case card>)" if n.card_link else ""
    text = f":link: Escalated from *{escape(n.case_name)}*{card}: {escape(n.title)}"
    return f"Escalated from {n.case_name}", _section(text)


@render.register
def render_case_closed_with_incident(n: CaseClosedWithIncident) -> Rendered:
    which = f"*{escape(n.incident_name)}*" if n.incident_name else "its incident"
    text = f":white_circle: {which} was closed, so *{escape(n.case_name)}* is Closed too (resolution: Escalated)."
    return f"{n.case_name} closed with {n.incident_name or 'its incident'}", _section(text)


def _waited(waited: timedelta) -> str:
    hours = waited.total_seconds() / 3600
    return f"{int(hours)} h" if hours < 48 else f"{int(hours // 24)} days"


@render.register
def render_case_reminder(n: CaseReminder) -> Rendered:
    if n.status == CaseStatus.NEW:
        what = f"has been New for {_waited(n.waited)}: triage it, or give it to someone who will"
    else:
        what = f"has been {escape(n.status)} without a change for {_waited(n.waited)}: move it on, or close it"
    where = [f"<{n.card_link}|card>"] if n.card_link else []
    if n.channel_id:
        where.append(f"<#{n.channel_id}>")
    text = (f":alarm_clock: *{escape(n.case_name)}* · {escape(truncate(n.title, 200))} {what}."
            + (f" ({', '.join(where)})" if where else ""))
    if n.assignee is None:
        text += " Nobody is assigned to it."
    elif n.card_link is None:
        text += f" Assigned to {mention(n.assignee)}."
    value = str(n.case_id)
    buttons: list[ActionElement] = []
    if n.status == CaseStatus.NEW:
        buttons.append(Button(plain("Triage"), TRIAGE_ACTION, value=value, style="primary"))
    buttons.append(Button(plain("Edit"), EDIT_ACTION, value=value))
    blocks = Message().add_block(Section(md(truncate(text, 3000)))).add_block(Actions(elements=buttons)).build()["blocks"]
    return f"Reminder: {n.case_name} is waiting ({n.status})", blocks


@render.register
def render_add_mentioned_offer(n: AddMentionedOffer) -> Rendered:
    text = (f"<@{n.by}> mentioned <@{n.mentioned}> about *{escape(n.case_name)}*, which they do not work on. "
            "Add them to the case?")
    button = Button(plain("Add them"), ADD_MENTIONED_ACTION, value=f"{n.case_id}:{n.mentioned}", style="primary")
    blocks = Message().add_block(Section(md(text))).add_block(Actions(elements=[button])).build()["blocks"]
    return f"Add the person mentioned to {n.case_name}?", blocks


@render.register
def render_case_feedback_request(n: CaseFeedbackRequest) -> Rendered:
    text = f"{n.case_name} is closed. How was it handled? Your feedback improves the next one."
    button = Button(plain("Give feedback"), FEEDBACK_ACTION, value=str(n.case_id), style="primary")
    blocks = (Message().add_block(Section(md(f"*{escape(n.case_name)}* · {escape(truncate(n.title, 200))}\n{escape(text)}")))
              .add_block(Actions(elements=[button])).build()["blocks"])
    return text, blocks
