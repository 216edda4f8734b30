"""Engage-oncall modal: service + "page them". Pure builder and parser."""

from __future__ import annotations

from typing import Any

from blockkit import Checkboxes, Input, Modal, Option, StaticSelect

from modals.text import plain

CALLBACK_ID = "engage_oncall"


def engage_oncall_modal(incident_id: int, services: list[str]) -> dict:
    select = StaticSelect().action_id("service")
    for name in services[:100]:
        select.add_option(Option(plain(name, 75), name))
    page = Checkboxes().action_id("page").add_option(Option(plain("Page them"), "page"))
    return (
        Modal().title(plain("Engage on-call")).submit(plain("Engage")).close(plain("Cancel"))
        .callback_id(CALLBACK_ID).private_metadata(str(incident_id))
        .add_block(Input(plain("Service")).block_id("service").element(select))
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
