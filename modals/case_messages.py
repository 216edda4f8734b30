"""Render case notices (domain/cases/notices.py). Pure functions."""

from __future__ import annotations

from blockkit import Message, Section

from domain.cases.notices import CaseChannelOpened, CaseEscalated, CaseMovedToChannel, CaseOpened, EscalatedFromCase
from modals.messages import render
from modals.text import escape, md, truncate


def _section(text: str) -> list[dict]:
    return Message().add_block(Section(md(truncate(text, 3000)))).build()["blocks"]


@render.register
def _(n: CaseOpened) -> tuple[str, list[dict]]:
    where = f"<{n.card_link}|see its card>" if n.card_link else "its card will be posted in a moment"
    text = f":white_check_mark: *{escape(n.case_name)}* opened: {escape(n.title)} ({where})"
    if n.channel_id:
        text += f"; it is worked in <#{n.channel_id}>"
    return f"{n.case_name} opened: {n.title}", _section(text + ".")


@render.register
def _(n: CaseMovedToChannel) -> tuple[str, list[dict]]:
    text = f":speech_balloon: *{escape(n.case_name)}* is now worked in <#{n.channel_id}>."
    return f"{n.case_name} is now worked in its own channel", _section(text)


@render.register
def _(n: CaseChannelOpened) -> tuple[str, list[dict]]:
    back = f" It started in <{n.thread_link}|this thread>." if n.thread_link else ""
    text = f":file_folder: This channel works *{escape(n.case_name)}*: {escape(n.title)}.{back}"
    return f"This channel works {n.case_name}: {n.title}", _section(text)


@render.register
def _(n: CaseEscalated) -> tuple[str, list[dict]]:
    if n.incident_name is None:
        return f"{n.case_name} was escalated", _section(f":rotating_light: *{escape(n.case_name)}* was escalated to an incident.")
    where = f" in <#{n.channel_id}>" if n.channel_id else ""
    text = f":rotating_light: Escalated to *{escape(n.incident_name)}*{where}."
    return f"Escalated to {n.incident_name}", _section(text)


@render.register
def _(n: EscalatedFromCase) -> tuple[str, list[dict]]:
    card = f" (<{n.card_link}|case card>)" if n.card_link else ""
    text = f":link: Escalated from *{escape(n.case_name)}*{card}: {escape(n.title)}"
    return f"Escalated from {n.case_name}", _section(text)
