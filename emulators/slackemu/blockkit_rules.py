"""Block Kit rules Slack enforces, as pure functions returning Slack-style error strings (empty = valid).

Each error reads `[ERROR] <what> [json-pointer:<where>]`, like Slack's response_metadata.messages.
Covers limits (counts, lengths), required and allowed properties, allowed block/element types per
surface and container, text object types, id uniqueness, and initial values matching the options.
"""

from __future__ import annotations

import re
from typing import Any

MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100
MESSAGE_TEXT_MAX = 40000
TEXT_TYPES = {"plain_text", "mrkdwn"}

_COMMON = {"type", "block_id"}
BLOCK_KEYS: dict[str, set[str] | None] = {
    "section": _COMMON | {"text", "fields", "accessory", "expand"},
    "divider": _COMMON,
    "image": _COMMON | {"image_url", "slack_file", "alt_text", "title"},
    "actions": _COMMON | {"elements"},
    "context": _COMMON | {"elements"},
    "input": _COMMON | {"label", "element", "dispatch_action", "hint", "optional"},
    "header": _COMMON | {"text"},
    "file": _COMMON | {"external_id", "source"},
    "rich_text": _COMMON | {"elements"},
    "markdown": _COMMON | {"text"},
    "video": None,  # not checked property by property
}
VIEW_ONLY_BLOCKS = {"input"}
MESSAGE_ONLY_BLOCKS = {"markdown"}

_EL = {"type", "action_id", "confirm", "focus_on_load"}
_SELECT = _EL | {"placeholder"}
_TEXT_INPUT = {"type", "action_id", "placeholder", "initial_value", "dispatch_action_config", "focus_on_load"}
ELEMENT_KEYS: dict[str, set[str]] = {
    "button": {"type", "text", "action_id", "url", "value", "style", "confirm", "accessibility_label"},
    "static_select": _SELECT | {"options", "option_groups", "initial_option"},
    "multi_static_select": _SELECT | {"options", "option_groups", "initial_options", "max_selected_items"},
    "external_select": _SELECT | {"initial_option", "min_query_length"},
    "multi_external_select": _SELECT | {"initial_options", "min_query_length", "max_selected_items"},
    "users_select": _SELECT | {"initial_user"},
    "multi_users_select": _SELECT | {"initial_users", "max_selected_items"},
    "conversations_select": _SELECT | {"initial_conversation", "default_to_current_conversation",
                                       "response_url_enabled", "filter"},
    "multi_conversations_select": _SELECT | {"initial_conversations", "default_to_current_conversation",
                                             "max_selected_items", "filter"},
    "channels_select": _SELECT | {"initial_channel", "response_url_enabled"},
    "multi_channels_select": _SELECT | {"initial_channels", "max_selected_items"},
    "overflow": _EL | {"options"},
    "datepicker": _SELECT | {"initial_date"},
    "timepicker": _SELECT | {"initial_time", "timezone"},
    "datetimepicker": _EL | {"initial_date_time"},
    "checkboxes": _EL | {"options", "initial_options"},
    "radio_buttons": _EL | {"options", "initial_option"},
    "plain_text_input": _TEXT_INPUT | {"multiline", "min_length", "max_length"},
    "email_text_input": _TEXT_INPUT,
    "url_text_input": _TEXT_INPUT,
    "number_input": _TEXT_INPUT | {"is_decimal_allowed", "min_value", "max_value"},
    "rich_text_input": _TEXT_INPUT,
    "file_input": {"type", "action_id", "filetypes", "max_files"},
    "image": {"type", "image_url", "slack_file", "alt_text"},
    "workflow_button": {"type", "text", "workflow", "style", "accessibility_label", "action_id"},
}
SELECTS = {k for k in ELEMENT_KEYS if k.endswith("_select")}
INPUT_ELEMENTS = SELECTS | {"plain_text_input", "email_text_input", "url_text_input", "number_input", "checkboxes",
                            "radio_buttons", "datepicker", "timepicker", "datetimepicker", "rich_text_input",
                            "file_input"}
ACTIONS_ELEMENTS = SELECTS | {"button", "checkboxes", "datepicker", "datetimepicker", "overflow", "radio_buttons",
                              "timepicker", "workflow_button", "rich_text_input"}
ACCESSORY_ELEMENTS = SELECTS | {"button", "checkboxes", "datepicker", "image", "overflow", "radio_buttons",
                                "timepicker", "workflow_button"}
OPTION_LIMITS = {"static_select": 100, "multi_static_select": 100, "checkboxes": 10, "radio_buttons": 10,
                 "overflow": 5}
MODAL_KEYS = {"type", "title", "blocks", "close", "submit", "private_metadata", "callback_id", "clear_on_close",
              "notify_on_close", "external_id", "submit_disabled"}
HOME_KEYS = {"type", "blocks", "private_metadata", "callback_id", "external_id"}
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class _Checker:
    """Walks one surface (message or view), collecting errors; ids are unique per surface."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.block_ids: set[str] = set()
        self.action_ids: set[str] = set()

    def err(self, message: str, pointer: str) -> None:
        self.errors.append(f"[ERROR] {message} [json-pointer:{pointer}]")

    def keys(self, obj: dict, allowed: set[str], ptr: str) -> None:
        for key in obj:
            if key not in allowed:
                self.err(f"invalid additional property: {key}", ptr)

    def length(self, value: Any, maximum: int, ptr: str) -> None:
        if value is not None and len(str(value)) > maximum:
            self.err(f"must be less than {maximum + 1} characters", ptr)

    def text(self, obj: Any, ptr: str, *, max_len: int | None = None, plain_only: bool = False) -> None:
        if not isinstance(obj, dict) or obj.get("type") not in TEXT_TYPES:
            self.err("must be a text object of type plain_text or mrkdwn", ptr if not isinstance(obj, dict)
                     else f"{ptr}/type")
            return
        if plain_only and obj["type"] != "plain_text":
            self.err("must be a plain_text object", f"{ptr}/type")
        self.keys(obj, {"type", "text", "emoji"} if obj["type"] == "plain_text" else {"type", "text", "verbatim"}, ptr)
        text = obj.get("text")
        if not isinstance(text, str) or text == "":
            self.err("must be a non-empty string", f"{ptr}/text")
        elif max_len is not None and len(text) > max_len:
            self.err(f"must be less than {max_len + 1} characters", f"{ptr}/text")

    def action_id(self, element: dict, ptr: str) -> None:
        aid = element.get("action_id")
        if aid is None:
            return
        if not isinstance(aid, str) or not aid:
            self.err("must be a non-empty string", f"{ptr}/action_id")
            return
        self.length(aid, 255, f"{ptr}/action_id")
        if aid in self.action_ids:
            self.err(f"action_id `{aid}` already exists", f"{ptr}/action_id")
        self.action_ids.add(aid)

    def option(self, opt: Any, ptr: str, *, allow_url: bool = False) -> None:
        if not isinstance(opt, dict):
            self.err("must be an option object", ptr)
            return
        self.keys(opt, {"text", "value", "description"} | ({"url"} if allow_url else set()), ptr)
        self.text(opt.get("text"), f"{ptr}/text", max_len=75)
        if not opt.get("value"):
            self.err("must provide a value", f"{ptr}/value")
        self.length(opt.get("value"), 150, f"{ptr}/value")
        if "description" in opt:
            self.text(opt["description"], f"{ptr}/description", max_len=75)
        if "url" in opt:
            self.length(opt["url"], 3000, f"{ptr}/url")

    def confirm(self, obj: Any, ptr: str) -> None:
        if not isinstance(obj, dict):
            self.err("must be a confirmation dialog object", ptr)
            return
        self.keys(obj, {"title", "text", "confirm", "deny", "style"}, ptr)
        self.text(obj.get("title"), f"{ptr}/title", max_len=100, plain_only=True)
        self.text(obj.get("text"), f"{ptr}/text", max_len=300)
        self.text(obj.get("confirm"), f"{ptr}/confirm", max_len=30, plain_only=True)
        self.text(obj.get("deny"), f"{ptr}/deny", max_len=30, plain_only=True)

    def options(self, el: dict, ptr: str) -> list[dict]:
        kind = el["type"]
        if "option_groups" in el and kind in ("static_select", "multi_static_select"):
            groups = el["option_groups"] if isinstance(el["option_groups"], list) else []
            if "options" in el:
                self.err("must provide either options or option_groups", ptr)
            if not groups or len(groups) > 100:
                self.err("must provide between 1 and 100 items", f"{ptr}/option_groups")
            found: list[dict] = []
            for g, group in enumerate(groups):
                gptr = f"{ptr}/option_groups/{g}"
                if not isinstance(group, dict):
                    self.err("must be an option group object", gptr)
                    continue
                self.keys(group, {"label", "options"}, gptr)
                self.text(group.get("label"), f"{gptr}/label", max_len=75, plain_only=True)
                opts = group.get("options") if isinstance(group.get("options"), list) else []
                if not opts or len(opts) > 100:
                    self.err("must provide between 1 and 100 items", f"{gptr}/options")
                for i, opt in enumerate(opts):
                    self.option(opt, f"{gptr}/options/{i}")
                found += [o for o in opts if isinstance(o, dict)]
            return found
        opts = el.get("options") if isinstance(el.get("options"), list) else []
        limit = OPTION_LIMITS[kind]
        minimum = 2 if kind == "overflow" else 1
        if len(opts) < minimum:
            self.err(f"must provide at least {minimum} item{'s' if minimum > 1 else ''}", f"{ptr}/options")
        if len(opts) > limit:
            self.err(f"must provide at most {limit} items", f"{ptr}/options")
        for i, opt in enumerate(opts):
            self.option(opt, f"{ptr}/options/{i}", allow_url=kind == "overflow")
        return [o for o in opts if isinstance(o, dict)]

    def initial_options(self, el: dict, offered: list[dict], ptr: str) -> None:
        def same(a: Any, b: dict) -> bool:
            return isinstance(a, dict) and a.get("value") == b.get("value") and (
                (a.get("text") or {}).get("text") == (b.get("text") or {}).get("text"))

        if "initial_option" in el and not any(same(el["initial_option"], o) for o in offered):
            self.err("initial_option must exactly match one of the options", f"{ptr}/initial_option")
        for i, init in enumerate(el.get("initial_options") or []):
            if not any(same(init, o) for o in offered):
                self.err("initial_options must exactly match the options", f"{ptr}/initial_options/{i}")

    def element(self, el: Any, ptr: str, *, allowed: set[str]) -> None:
        if not isinstance(el, dict) or "type" not in el:
            self.err("must be an element object with a type", ptr)
            return
        kind = el["type"]
        if kind not in ELEMENT_KEYS:
            self.err(f"unsupported type `{kind}`", f"{ptr}/type")
            return
        if kind not in allowed:
            self.err(f"element type `{kind}` is not allowed here", f"{ptr}/type")
        self.keys(el, ELEMENT_KEYS[kind], ptr)
        self.action_id(el, ptr)
        if "confirm" in el:
            self.confirm(el["confirm"], f"{ptr}/confirm")
        if "placeholder" in el:
            self.text(el["placeholder"], f"{ptr}/placeholder", max_len=150, plain_only=True)
        if kind in ("button", "workflow_button"):
            self.text(el.get("text"), f"{ptr}/text", max_len=75, plain_only=True)
            self.length(el.get("value"), 2000, f"{ptr}/value")
            self.length(el.get("url"), 3000, f"{ptr}/url")
            if el.get("style") not in (None, "primary", "danger"):
                self.err("must be primary or danger", f"{ptr}/style")
        elif kind in OPTION_LIMITS:
            offered = self.options(el, ptr)
            if kind != "overflow":
                self.initial_options(el, offered, ptr)
        elif kind == "plain_text_input":
            maximum = el.get("max_length", 3000)
            if not isinstance(maximum, int) or not 1 <= maximum <= 3000:
                self.err("must be between 1 and 3000", f"{ptr}/max_length")
                maximum = 3000
            if el.get("min_length") is not None and not 0 <= el["min_length"] <= 3000:
                self.err("must be between 0 and 3000", f"{ptr}/min_length")
            self.length(el.get("initial_value"), maximum, f"{ptr}/initial_value")
        elif kind == "datepicker" and el.get("initial_date") is not None and not DATE.match(str(el["initial_date"])):
            self.err("must be in the format YYYY-MM-DD", f"{ptr}/initial_date")
        elif kind == "timepicker" and el.get("initial_time") is not None and not TIME.match(str(el["initial_time"])):
            self.err("must be in the format HH:mm", f"{ptr}/initial_time")
        elif kind == "image":
            if not el.get("image_url") and not el.get("slack_file"):
                self.err("must provide image_url or slack_file", ptr)
            self.length(el.get("alt_text") or "x", 2000, f"{ptr}/alt_text")
            if not el.get("alt_text"):
                self.err("must provide alt_text", f"{ptr}/alt_text")
        for key in ("max_selected_items",):
            if key in el and (not isinstance(el[key], int) or el[key] < 1):
                self.err("must be a positive integer", f"{ptr}/{key}")

    def block(self, block: Any, ptr: str, *, surface: str) -> None:
        if not isinstance(block, dict):
            self.err("must be a block object", ptr)
            return
        kind = block.get("type")
        if kind not in BLOCK_KEYS:
            self.err(f"unsupported type `{kind}`", f"{ptr}/type")
            return
        if (surface == "message" and kind in VIEW_ONLY_BLOCKS) or (surface != "message" and kind in MESSAGE_ONLY_BLOCKS):
            self.err(f"unsupported type `{kind}` in {surface}s", f"{ptr}/type")
        allowed_keys = BLOCK_KEYS[kind]
        if allowed_keys is not None:
            self.keys(block, allowed_keys, ptr)
        bid = block.get("block_id")
        if bid is not None:
            if not isinstance(bid, str) or not bid:
                self.err("must be a non-empty string", f"{ptr}/block_id")
            else:
                self.length(bid, 255, f"{ptr}/block_id")
                if bid in self.block_ids:
                    self.err(f"block_id `{bid}` already exists", f"{ptr}/block_id")
                self.block_ids.add(bid)
        getattr(self, f"_{kind}", lambda b, p: None)(block, ptr)

    def _section(self, block: dict, ptr: str) -> None:
        if "text" not in block and "fields" not in block:
            self.err("must provide text or fields", ptr)
        if "text" in block:
            self.text(block["text"], f"{ptr}/text", max_len=3000)
        fields = block.get("fields")
        if fields is not None:
            if not isinstance(fields, list) or not fields or len(fields) > 10:
                self.err("must provide between 1 and 10 items", f"{ptr}/fields")
                fields = fields if isinstance(fields, list) else []
            for i, f in enumerate(fields):
                self.text(f, f"{ptr}/fields/{i}", max_len=2000)
        if "accessory" in block:
            self.element(block["accessory"], f"{ptr}/accessory", allowed=ACCESSORY_ELEMENTS)

    def _header(self, block: dict, ptr: str) -> None:
        self.text(block.get("text"), f"{ptr}/text", max_len=150, plain_only=True)

    def _context(self, block: dict, ptr: str) -> None:
        elements = block.get("elements") if isinstance(block.get("elements"), list) else []
        if not elements or len(elements) > 10:
            self.err("must provide between 1 and 10 items", f"{ptr}/elements")
        for i, e in enumerate(elements):
            if isinstance(e, dict) and e.get("type") == "image":
                self.element(e, f"{ptr}/elements/{i}", allowed={"image"})
            else:
                self.text(e, f"{ptr}/elements/{i}")

    def _actions(self, block: dict, ptr: str) -> None:
        elements = block.get("elements") if isinstance(block.get("elements"), list) else []
        if not elements or len(elements) > 25:
            self.err("must provide between 1 and 25 items", f"{ptr}/elements")
        for i, e in enumerate(elements):
            self.element(e, f"{ptr}/elements/{i}", allowed=ACTIONS_ELEMENTS)

    def _input(self, block: dict, ptr: str) -> None:
        self.text(block.get("label"), f"{ptr}/label", max_len=2000, plain_only=True)
        if "hint" in block:
            self.text(block["hint"], f"{ptr}/hint", max_len=2000, plain_only=True)
        if "element" not in block:
            self.err("must provide an element", f"{ptr}/element")
        else:
            self.element(block["element"], f"{ptr}/element", allowed=INPUT_ELEMENTS)

    def _image(self, block: dict, ptr: str) -> None:
        if not block.get("image_url") and not block.get("slack_file"):
            self.err("must provide image_url or slack_file", ptr)
        self.length(block.get("image_url"), 3000, f"{ptr}/image_url")
        if not block.get("alt_text"):
            self.err("must provide alt_text", f"{ptr}/alt_text")
        self.length(block.get("alt_text"), 2000, f"{ptr}/alt_text")
        if "title" in block:
            self.text(block["title"], f"{ptr}/title", max_len=2000, plain_only=True)

    def _markdown(self, block: dict, ptr: str) -> None:
        if not isinstance(block.get("text"), str) or not block["text"]:
            self.err("must be a non-empty string", f"{ptr}/text")
        self.length(block.get("text"), 12000, f"{ptr}/text")

    def blocks(self, blocks: Any, ptr: str, *, surface: str, maximum: int) -> None:
        if not isinstance(blocks, list):
            self.err("must be an array", ptr)
            return
        if len(blocks) > maximum:
            self.err(f"must provide at most {maximum} items", ptr)
        for i, b in enumerate(blocks):
            self.block(b, f"{ptr}/{i}", surface=surface)


def check_message(text: str | None, blocks: Any) -> list[str]:
    """Errors Slack would report for a message's text (pointer /text) and blocks (/blocks/...)."""
    c = _Checker()
    if text and len(text) > MESSAGE_TEXT_MAX:
        c.err(f"must be less than {MESSAGE_TEXT_MAX + 1} characters", "/text")
    if blocks is not None:
        c.blocks(blocks, "/blocks", surface="message", maximum=MESSAGE_BLOCKS_MAX)
    return c.errors


def check_view(view: Any) -> list[str]:
    """Errors Slack would report for a modal or home view (pointers /view/...)."""
    c = _Checker()
    if not isinstance(view, dict):
        return ["[ERROR] must be a view object [json-pointer:/view]"]
    kind = view.get("type")
    if kind not in ("modal", "home"):
        c.err("must be modal or home", "/view/type")
        return c.errors
    c.keys(view, MODAL_KEYS if kind == "modal" else HOME_KEYS, "/view")
    blocks = view.get("blocks")
    c.blocks(blocks, "/view/blocks", surface=kind, maximum=VIEW_BLOCKS_MAX)
    if kind == "modal":
        c.text(view.get("title"), "/view/title", max_len=24, plain_only=True)
        for key in ("submit", "close"):
            if key in view:
                c.text(view[key], f"/view/{key}", max_len=24, plain_only=True)
        has_inputs = isinstance(blocks, list) and any(isinstance(b, dict) and b.get("type") == "input"
                                                      for b in blocks)
        if has_inputs and "submit" not in view:
            c.err("must provide submit when the view has input blocks", "/view/submit")
    c.length(view.get("private_metadata"), 3000, "/view/private_metadata")
    c.length(view.get("callback_id"), 255, "/view/callback_id")
    c.length(view.get("external_id"), 255, "/view/external_id")
    return c.errors
