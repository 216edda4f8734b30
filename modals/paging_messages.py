"""Messages about pages and on-call lookups."""

from __future__ import annotations

from blockkit import Message, Section

from domain.paging import PageFailed, PageSent
from domain.response.paging import AlreadyPaged, OncallLookupFailed
from modals.render import Rendered, render
from modals.text import escape, md, truncate


def _minutes(seconds: int) -> str:
    return f"{seconds} s" if seconds < 120 else f"{seconds // 60} min"


def _section(text: str) -> Rendered:
    return text, Message().add_block(Section(md(escape(truncate(text, 3000))))).build()["blocks"]


@render.register
def render_page_failed(n: PageFailed) -> Rendered:
    return _section(f"⚠️ The page of {n.target} for {n.incident_name} could not be sent: {n.error}. It is kept, and "
                    f"warroom retries it in about {_minutes(n.retry_in_seconds)} (then until it goes out); "
                    "nobody needs to click again.")


@render.register
def render_page_sent(n: PageSent) -> Rendered:
    ref = f" ({n.reference})" if n.reference else ""
    return _section(f"✅ The page of {n.target} for {n.incident_name} went out{ref}.")


@render.register
def render_oncall_lookup_failed(n: OncallLookupFailed) -> Rendered:
    page = (" Your page is recorded and sent on its own (retried while the pager is down)." if n.paging else "")
    return _section(f"⚠️ Could not find who is on call for {n.service}: {n.error}. Nobody was invited; run the "
                    f"engage command again in a minute.{page}")


@render.register
def render_already_paged(n: AlreadyPaged) -> Rendered:
    return _section(f"{n.service} was already paged for {n.incident_name} ({n.reference}); "
                    "one page per incident and service, so it was not paged again.")
