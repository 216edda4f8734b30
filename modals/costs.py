"""The update-cost modal: one amount per custom cost type. Pure builder and parser."""

from __future__ import annotations

import json

from blockkit import Context, Input, Modal, PlainTextInput

from domain.config.costs import CustomCostTypeConfig
from domain.custom_costs import CustomCostForm, parse_amount
from modals.text import escape, md, plain, truncate

UPDATE_COST_ID = "update_cost"


def _block(i: int) -> str:
    return f"cost_{i}"


def update_cost_modal(incident_id: int, incident_name: str, types: list[CustomCostTypeConfig],
                      current: dict[str, float], currency: str, response_cost: str | None) -> dict:
    """One optional amount per type (pre-filled; blank clears it)."""
    meta = json.dumps({"incident": incident_id, "types": [t.name for t in types], "currency": currency})
    modal = (Modal().title(plain(f"{incident_name} costs", 24)).submit(plain("Save")).close(plain("Cancel"))
             .callback_id(UPDATE_COST_ID).private_metadata(meta))
    said = f"Response cost so far: *{escape(response_cost)}* (from the responders' time). " if response_cost else ""
    modal.add_block(Context().add_element(md(f"{said}Other costs of this incident, in {escape(currency)}; "
                                             "leave one blank to clear it.")))
    for i, t in enumerate(types[:50]):
        field = PlainTextInput().action_id(_block(i)).max_length(30)
        if t.name in current:
            field.initial_value(f"{current[t.name]:,.2f}")
        block = Input(plain(t.name, 2000)).block_id(_block(i)).optional(True).element(field)
        if t.description:
            block.hint(plain(truncate(t.description, 2000)))
        modal.add_block(block)
    return modal.build()


def parse_update_cost(view: dict) -> tuple[CustomCostForm | None, dict[str, str]]:
    meta = json.loads(view["private_metadata"])
    values = view.get("state", {}).get("values", {})
    amounts: dict[str, float | None] = {}
    errors: dict[str, str] = {}
    for i, name in enumerate(meta["types"]):
        text = ((values.get(_block(i)) or {}).get(_block(i)) or {}).get("value") or ""
        try:
            amounts[name] = parse_amount(text, meta.get("currency", "$"))
        except ValueError as exc:
            errors[_block(i)] = str(exc)
    if errors:
        return None, errors
    return CustomCostForm(int(meta["incident"]), amounts), {}
