"""Render case notices (domain/cases/notices.py). Pure functions."""

from __future__ import annotations

from blockkit import Message, Section

from domain.cases.notices import CaseChannelOpened, CaseEscalated, CaseMovedToChannel, CaseOpened, EscalatedFromCase
from modals.render import Rendered, render
from modals.text import escape, md, truncate


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
