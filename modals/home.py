"""App Home tab: pure builder."""

from __future__ import annotations

from blockkit import Actions, Button, Context, Divider, Header, Home, Section

from domain.command_notices import IncidentRef
from modals.text import escape, md, plain, truncate

REPORT_ACTION = "home_report_incident"


def _line(ref: IncidentRef) -> Section:
    where = f"<#{ref.channel_id}>" if ref.channel_id else "_no channel_"
    return Section(md(f"*{escape(ref.name)}* {escape(truncate(ref.title, 150))}\n"
                      f"{escape(ref.status)} · you: {escape(ref.role or 'participant')} · {where}"))


def home_view(active: list[IncidentRef], recent: list[IncidentRef]) -> dict:
    view = (Home()
            .add_block(Actions(elements=[Button(plain("Report incident"), action_id=REPORT_ACTION, style="primary")]))
            .add_block(Header(plain("Your active incidents"))))
    for ref in active[:40]:
        view.add_block(_line(ref))
    if not active:
        view.add_block(Context().add_element(md("You are not in any active incident.")))
    view.add_block(Divider()).add_block(Header(plain("Your recent incidents")))
    for ref in recent[:40]:
        view.add_block(_line(ref))
    if not recent:
        view.add_block(Context().add_element(md("Nothing yet.")))
    return view.build()
