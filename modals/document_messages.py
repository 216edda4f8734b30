"""Messages about an incident's Google resources (document, review document, video call)."""

from __future__ import annotations

from blockkit import Message, Section

from domain.documents import ResourceDelayed, ResourceReady
from modals.render import Rendered, render
from modals.text import escape, md, truncate


def _minutes(seconds: int) -> str:
    return f"{seconds} s" if seconds < 120 else f"{seconds // 60} min"


@render.register
def render_resource_delayed(notice: ResourceDelayed) -> Rendered:
    problem = "exists, but who may open it could not be updated yet" if notice.exists else "could not be made yet"
    text = (f":warning: The {notice.what} of {notice.incident_name} {problem}; warroom retries in about "
            f"{_minutes(notice.retry_in_seconds)} and says so here when it works.")
    msg = Message().add_block(Section(md(f"{escape(text)}\n> {escape(truncate(notice.error, 300))}")))
    return text, msg.build()["blocks"]


@render.register
def render_resource_ready(notice: ResourceReady) -> Rendered:
    text = f"The {notice.what} of {notice.incident_name} is ready: {notice.url}"
    msg = Message().add_block(Section(md(f":white_check_mark: The {escape(notice.what)} of "
                                         f"{escape(notice.incident_name)} is ready: <{notice.url}|open it>")))
    return text, msg.build()["blocks"]
