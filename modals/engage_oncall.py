"""Engage-oncall modal: who is on call for each service, the service to engage, "page them". Pure builder and parser."""

from __future__ import annotations

from typing import Any

from blockkit import Checkboxes, Context, Input, Modal, Option, Section, StaticSelect

from domain.core.ports import OnCallPerson
from modals.text import escape, md, plain, truncate

CALLBACK_ID = "engage_oncall"
CASE_CALLBACK_ID = "case_engage_oncall"  # the same form in a case's channel; its metadata is the case id
SHOWN_SERVICES = 40  # on-call lines shown (a modal holds 100 blocks; the select lists up to 100 services)


def _person(p: OnCallPerson) -> str:
    who = f"<@{p.user_id}>" if p.user_id else escape(p.name)
    extra = [f"level {p.level}"] + ([escape(p.schedule)] if p.schedule else [])
    return f"{who} ({', '.join(extra)})"


def oncall_line(service: str, found: list[OnCallPerson] | str) -> str:
    if isinstance(found, str):
        return f"*{escape(service)}*: _{escape(found)}_"
    people = ", ".join(_person(p) for p in found) or "_nobody is on call_"
    return f"*{escape(service)}*: {people}"


def engage_oncall_modal(incident_id: int, services: list[str],
                        overview: dict[str, list[OnCallPerson] | str] | None = None, *,
                        callback_id: str = CALLBACK_ID) -> dict:
    select = StaticSelect().action_id("service")
    for name in services[:100]:
        select.add_option(Option(plain(name, 75), name))
    page = Checkboxes().action_id("page").add_option(Option(plain("Page them"), "page"))
    modal = Modal().title(plain("Engage on-call")).submit(plain("Engage")).close(plain("Cancel")) \
        .callback_id(callback_id).private_metadata(str(incident_id))
    if overview:
        lines = [oncall_line(s, overview[s]) for s in services[:SHOWN_SERVICES] if s in overview]
        modal.add_block(Section(md(truncate("*On call now*\n" + "\n".join(lines), 3000))))
        if len(services) > SHOWN_SERVICES:
            modal.add_block(Context().add_element(md(f"and {len(services) - SHOWN_SERVICES} more services")))
    return (
        modal.add_block(Input(plain("Service")).block_id("service").element(select))
        .add_block(Input(plain("Paging")).block_id("page").optional(True).element(page))
        .build()
    )


def parse_engage_oncall(view: dict) -> tuple[tuple[int, str, bool] | None, dict[str, str]]:
    values = view.get("state", {}).get("values", {})
    service = (((values.get("service") or {}).get("service") or {}).get("selected_option") or {}).get("value")
    block: dict[str, Any] = next((b for b in view.get("blocks", []) if b.get("block_id") == "service"), {})
    if service is None or service not in {o["value"] for o in block.get("element", {}).get("options", [])}:
        return None, {"service": "Pick one of the listed services."}
    page = any(o.get("value") == "page" for o in ((values.get("page") or {}).get("page") or {}).get("selected_options") or [])
    return (int(view["private_metadata"]), service, page), {}
