"""App Home tab: pure builder."""

from __future__ import annotations

from collections.abc import Sequence

from blockkit import Actions, Button, Context, Divider, Header, Home, Section

from domain.cases.service import CaseRef
from domain.incidents.notices import IncidentRef
from modals.text import escape, md, plain, truncate

REPORT_ACTION = "home_report_incident"


def _line(ref: IncidentRef) -> Section:
    where = f"<#{ref.channel_id}>" if ref.channel_id else "_no channel_"
    cost = f" · cost {escape(ref.response_cost)}" if ref.response_cost else ""
    ticket = f" · ticket <{ref.ticket_url}|{escape(ref.ticket_key)}>" if ref.ticket_key and ref.ticket_url else ""
    return Section(md(f"*{escape(ref.name)}* {escape(truncate(ref.title, 150))}\n"
                      f"{escape(ref.status)} · you: {escape(ref.role or 'participant')} · {where}{cost}{ticket}"))


def _case_line(ref: CaseRef, link: str | None) -> Section:
    name = f"<{link}|{escape(ref.name)}>" if link else escape(ref.name)
    where = f" · <#{ref.channel_id}>" if ref.channel_id else ""
    who = "assigned to you" if ref.assigned else "you work on it"
    return Section(md(f"*{name}* {escape(truncate(ref.title, 150))}\n"
                      f"{escape(ref.status)} · {escape(ref.priority)} · {who}{where}"))


def home_view(active: list[IncidentRef], recent: list[IncidentRef],
              cases: Sequence[tuple[CaseRef, str | None]] = ()) -> dict:
    """Report button, active incidents, open cases (with their card link), recent incidents. At most 100 blocks."""
    view = (Home()
            .add_block(Actions(elements=[Button(plain("Report incident"), action_id=REPORT_ACTION, style="primary")]))
            .add_block(Header(plain("Your active incidents"))))
    for ref in active[:30]:
        view.add_block(_line(ref))
    if not active:
        view.add_block(Context().add_element(md("You are not in any active incident.")))
    view.add_block(Divider()).add_block(Header(plain("Your open cases")))
    for case_ref, link in list(cases)[:15]:
        view.add_block(_case_line(case_ref, link))
    if not cases:
        view.add_block(Context().add_element(md("No open case is assigned to you or worked by you.")))
    view.add_block(Divider()).add_block(Header(plain("Your recent incidents")))
    for ref in recent[:30]:
        view.add_block(_line(ref))
    if not recent:
        view.add_block(Context().add_element(md("Nothing yet.")))
    return view.build()
