"""Modal inputs as Slack's client handles them: `view.state.values` and client-side validation.

A person's simple values ({block_id: value} or {block_id: {action_id: value}}) become Slack's state
entries, looked up against the elements actually in the view; what Slack's client refuses to submit
(empty required input, too long, not a number, an option that is not offered...) raises DriverError.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date
from datetime import time as dtime
from typing import Any

TEXT_INPUTS = {"plain_text_input", "email_text_input", "url_text_input", "number_input"}
SINGLE_OPTION = {"static_select", "external_select", "radio_buttons"}
MULTI_OPTION = {"multi_static_select", "multi_external_select", "checkboxes"}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
URL = re.compile(r"^https?://[^\s/$.?#].[^\s]*$", re.I)
MISSING = object()


class DriverError(AssertionError):
    """The scripted person did something Slack's UI would not let them do."""


def elements(blocks: list[dict] | None) -> Iterator[tuple[dict, dict]]:
    """(block, element) pairs for every interactive element in `blocks`."""
    for block in blocks or []:
        if block.get("type") == "input" and block.get("element"):
            yield block, block["element"]
        elif block.get("type") == "actions":
            for el in block.get("elements", []):
                yield block, el
        elif block.get("type") == "section" and block.get("accessory"):
            yield block, block["accessory"]


def options_of(el: dict) -> list[dict]:
    if "option_groups" in el:
        return [o for g in el["option_groups"] for o in g.get("options", [])]
    return el.get("options", [])


def find_option(el: dict, value: Any) -> dict:
    """The offered option whose value is `value` (or an option dict); external selects take any value."""
    external = el["type"] in ("external_select", "multi_external_select")
    if isinstance(value, dict):
        if external:
            return value
        value = value.get("value")
    if external:
        return {"text": {"type": "plain_text", "text": str(value)}, "value": str(value)}
    for opt in options_of(el):
        if opt.get("value") == value:
            return opt
    offered = [o.get("value") for o in options_of(el)]
    raise DriverError(f"{el.get('action_id')}: {value!r} is not one of the offered options {offered}")


def _empty(entry: dict) -> bool:
    values = [v for k, v in entry.items() if k != "type"]
    return all(v in (None, "", []) for v in values)


def state_entry(el: dict, value: Any, *, initial: bool, known_user: Callable[[str], bool] = lambda _: True,
                known_channel: Callable[[str], bool] = lambda _: True) -> dict:
    """Slack's state entry for element `el` holding `value` (or its initial value when `initial`)."""
    kind = el["type"]
    entry: dict[str, Any] = {"type": kind}
    if kind in TEXT_INPUTS:
        entry["value"] = el.get("initial_value") if initial else (None if value in (None, "") else str(value))
    elif kind in SINGLE_OPTION:
        entry["selected_option"] = el.get("initial_option") if initial else (
            None if value is None else find_option(el, value))
    elif kind in MULTI_OPTION:
        entry["selected_options"] = list(el.get("initial_options", [])) if initial else [
            find_option(el, v) for v in _as_list(value)]
    elif kind == "users_select":
        entry["selected_user"] = el.get("initial_user") if initial else _known(value, known_user, "user")
    elif kind == "multi_users_select":
        entry["selected_users"] = list(el.get("initial_users", [])) if initial else [
            _known(v, known_user, "user") for v in _as_list(value)]
    elif kind in ("conversations_select", "channels_select"):
        key = "selected_conversation" if kind == "conversations_select" else "selected_channel"
        init = "initial_conversation" if kind == "conversations_select" else "initial_channel"
        entry[key] = el.get(init) if initial else _known(value, known_channel, "channel")
    elif kind in ("multi_conversations_select", "multi_channels_select"):
        key = "selected_conversations" if kind == "multi_conversations_select" else "selected_channels"
        init = "initial_conversations" if kind == "multi_conversations_select" else "initial_channels"
        entry[key] = list(el.get(init, [])) if initial else [_known(v, known_channel, "channel") for v in _as_list(value)]
    elif kind == "datepicker":
        entry["selected_date"] = el.get("initial_date") if initial else _checked(value, date.fromisoformat, "date")
    elif kind == "timepicker":
        entry["selected_time"] = el.get("initial_time") if initial else _checked(value, _time, "time")
        if el.get("timezone"):
            entry["timezone"] = el["timezone"]
    elif kind == "datetimepicker":
        entry["selected_date_time"] = el.get("initial_date_time") if initial else (None if value is None else int(value))
    else:
        raise DriverError(f"{el.get('action_id')}: cannot fill a {kind} element")
    return entry


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple, set)) else [value]


def _known(value: Any, exists: Callable[[str], bool], what: str) -> Any:
    if value is not None and not exists(value):
        raise DriverError(f"no such {what} {value!r} to pick")
    return value


def _time(value: str) -> dtime:
    if not re.fullmatch(r"\d{2}:\d{2}", value):
        raise ValueError(value)
    return dtime.fromisoformat(value)


def _checked(value: Any, parse: Callable[[str], Any], what: str) -> Any:
    if value is None:
        return None
    try:
        parse(str(value))
    except ValueError:
        raise DriverError(f"{value!r} is not a {what} Slack's picker can produce") from None
    return str(value)


def client_checks(block: dict, el: dict, entry: dict) -> str | None:
    """What Slack's client says before submitting (None when it lets the value through)."""
    if _empty(entry):
        return None if block.get("optional") else "Please fill out this field."
    kind = el["type"]
    value = entry.get("value")
    if kind == "plain_text_input":
        if el.get("min_length") and len(value) < el["min_length"]:
            return f"Use at least {el['min_length']} characters."
        if len(value) > el.get("max_length", 3000):
            return f"Use at most {el.get('max_length', 3000)} characters."
    elif kind == "number_input":
        try:
            number = float(value) if el.get("is_decimal_allowed") else int(value)
        except ValueError:
            return "Enter a whole number." if not el.get("is_decimal_allowed") else "Enter a number."
        if el.get("min_value") is not None and number < float(el["min_value"]):
            return f"Enter a number of at least {el['min_value']}."
        if el.get("max_value") is not None and number > float(el["max_value"]):
            return f"Enter a number of at most {el['max_value']}."
    elif kind == "email_text_input" and not EMAIL.match(value):
        return "Enter a valid email address."
    elif kind == "url_text_input" and not URL.match(value):
        return "Enter a valid URL."
    for key in ("selected_options", "selected_users", "selected_conversations", "selected_channels"):
        if key in entry and el.get("max_selected_items") and len(entry[key]) > el["max_selected_items"]:
            return f"Select at most {el['max_selected_items']} items."
    return None
