"""What the AI helpers post: thinking, the answer (labelled as AI-written), a failure. Pure functions."""

from __future__ import annotations

from blockkit import Context, Message, Section

from domain.core.ai_notices import AIAnswer, AIFailed, AIThinking
from modals.render import Rendered, render
from modals.text import escape, md, plain, truncate

SECTION_MAX = 3000


@render.register
def render_ai_thinking(notice: AIThinking) -> Rendered:
    text = f":hourglass_flowing_sand: Thinking… (asking the AI for {notice.what})"
    return text, Message().add_block(Section(md(escape(text)))).build()["blocks"]


@render.register
def render_ai_answer(notice: AIAnswer) -> Rendered:
    msg = Message().add_block(Section(md(f"*{escape(notice.title)}*")))
    body = notice.text
    while body and len(msg.build()["blocks"]) < 8:  # long answers span a few sections
        chunk, body = body[:SECTION_MAX], body[SECTION_MAX:]
        msg.add_block(Section(plain(chunk)))
    msg.add_block(Context().add_element(md("_Written by AI from this channel, its timeline, tasks and reports: "
                                           "check before relying on it._")))
    return f"{notice.title}: {truncate(notice.text, 300)}", msg.build()["blocks"]


@render.register
def render_ai_failed(notice: AIFailed) -> Rendered:
    text = f"{notice.title}: no AI answer. {notice.reason}"
    return text, Message().add_block(Section(md(f":warning: *{escape(notice.title)}*: no AI answer. "
                                                f"{escape(notice.reason)}"))).build()["blocks"]
