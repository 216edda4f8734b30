"""Messages about an incident's tracker ticket (Jira)."""

from __future__ import annotations

from blockkit import Message, Section

from domain.tickets import TicketDelayed, TicketReady
from modals.render import Rendered, render
from modals.text import escape, md, truncate


def _minutes(seconds: int) -> str:
    return f"{seconds} s" if seconds < 120 else f"{seconds // 60} min"


@render.register
def render_ticket_delayed(notice: TicketDelayed) -> Rendered:
    text = (f":warning: The Jira ticket of {notice.incident_name} could not be created or updated yet; warroom "
            f"retries in about {_minutes(notice.retry_in_seconds)} and says so here when it works.")
    msg = Message().add_block(Section(md(f"{escape(text)}\n> {escape(truncate(notice.error, 300))}")))
    return text, msg.build()["blocks"]


@render.register
def render_ticket_ready(notice: TicketReady) -> Rendered:
    text = f"The Jira ticket of {notice.incident_name} is ready: {notice.key}"
    msg = Message().add_block(Section(md(f":white_check_mark: The Jira ticket of {escape(notice.incident_name)} "
                                         f"is ready: <{notice.url}|{escape(notice.key)}>")))
    return text, msg.build()["blocks"]
