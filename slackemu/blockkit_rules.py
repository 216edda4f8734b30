"""Block Kit limits Slack enforces, as pure functions returning error strings (empty = valid)."""

from __future__ import annotations

from typing import Any

MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100
MESSAGE_TEXT_MAX = 40000

BLOCK_TYPES = {
    "section", "divider", "image", "actions", "context", "input", "header", "file", "rich_text", "video",
    "markdown",
}
MESSAGE_ONLY_FORBIDDEN = {"input"}
TEXT_TYPES = {"plain_text", "mrkdwn"}
SELECTS = {
    "static_select", "multi_static_select", "external_select", "multi_external_select", "users_select",
    "multi_users_select", "conversations_select", "multi_conversations_select", "channels_select",
    "multi_channels_select",
}
OPTION_LISTS = {"static_select", "multi_static_select", "checkboxes", "radio_buttons", "overflow"}


class _Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []
        self.block_ids: set[str] = set()
        self.action_ids: set[str] = set()

    def err(self, message: str, pointer: str) -> None:
        self.errors.append(f"[ERROR] {message} [json-pointer:{pointer}]")

    def text(self, obj: Any, ptr: str, *, max_len: int | None = None, plain_only: bool = False) -> None:
        if not isinstance(obj, dict) or obj.get("type") not in TEXT_TYPES:
            self.err("must be a text object of type plain_text or mrkdwn", ptr)
            return
        if plain_only and obj["type"] != "plain_text":
            self.err("must be a plain_text object", f"{ptr}/type")
        text = obj.get("text")
        if not isinstance(text, str) or text == "":
            self.err("text must be a non-empty string", f"{ptr}/text")
        elif max_len is not None and len(text) > max_len:
            self.err(f"must be less than {max_len + 1} characters", f"{ptr}/text")

    def action_id(self, element: dict, ptr: str) -> None:
        aid = element.get("action_id")
        if aid is None:
            return
        if len(aid) > 255:
            self.err("must be less than 256 characters", f"{ptr}/action_id")
        if aid in self.action_ids:
            self.err(f"action_id {aid!r} already exists", f"{ptr}/action_id")
        self.action_ids.add(aid)

    def option(self, opt: Any, ptr: str) -> None:
        if not isinstance(opt, dict):
            self.err("option must be an object", ptr)
            return
        self.text(opt.get("text"), f"{ptr}/text", max_len=75)
        value = opt.get("value")
        if value is not None and len(str(value)) > 150:
            self.err("must be less than 151 characters", f"{ptr}/value")
        if "description" in opt:
            self.text(opt["description"], f"{ptr}/description", max_len=75)

    def element(self, el: Any, ptr: str) -> None:
        if not isinstance(el, dict) or "type" not in el:
            self.err("element must be an object with a type", ptr)
            return
        kind = el["type"]
        self.action_id(el, ptr)
        if kind == "button":
            self.text(el.get("text"), f"{ptr}/text", max_len=75, plain_only=True)
            if el.get("value") is not None and len(el["value"]) > 2000:
                self.err("must be less than 2001 characters", f"{ptr}/value")
        if kind in OPTION_LISTS:
            options = el.get("options") or []
            if kind in ("static_select", "multi_static_select") and "option_groups" in el:
                options = [o for g in el["option_groups"] for o in g.get("options", [])]
            if kind != "overflow" and not options:
                self.err("must provide at least one option", f"{ptr}/options")
            limit = 5 if kind == "overflow" else (10 if kind in ("checkboxes", "radio_buttons") else 100)
            if len(options) > limit:
                self.err(f"must provide at most {limit} items", f"{ptr}/options")
            for i, opt in enumerate(options):
                self.option(opt, f"{ptr}/options/{i}")
        if kind in SELECTS and "placeholder" in el:
            self.text(el["placeholder"], f"{ptr}/placeholder", max_len=150, plain_only=True)
        if kind == "plain_text_input" and "placeholder" in el:
            self.text(el["placeholder"], f"{ptr}/placeholder", max_len=150, plain_only=True)

    def block(self, block: Any, ptr: str, *, surface: str) -> None:
        if not isinstance(block, dict):
            self.err("block must be an object", ptr)
            return
        kind = block.get("type")
        if kind not in BLOCK_TYPES:
            self.err(f"unsupported type `{kind}`", f"{ptr}/type")
            return
        if surface == "message" and kind in MESSAGE_ONLY_FORBIDDEN:
            self.err(f"unsupported type `{kind}` in messages", f"{ptr}/type")
        bid = block.get("block_id")
        if bid is not None:
            if len(bid) > 255:
                self.err("must be less than 256 characters", f"{ptr}/block_id")
            if bid in self.block_ids:
                self.err(f"block_id {bid!r} already exists", f"{ptr}/block_id")
            self.block_ids.add(bid)
        if kind == "section":
            if "text" not in block and "fields" not in block:
                self.err("must provide text or fields", ptr)
            if "text" in block:
                self.text(block["text"], f"{ptr}/text", max_len=3000)
            fields = block.get("fields") or []
            if len(fields) > 10:
                self.err("must provide at most 10 items", f"{ptr}/fields")
            for i, f in enumerate(fields):
                self.text(f, f"{ptr}/fields/{i}", max_len=2000)
            if "accessory" in block:
                self.element(block["accessory"], f"{ptr}/accessory")
        elif kind == "header":
            self.text(block.get("text"), f"{ptr}/text", max_len=150, plain_only=True)
        elif kind == "context":
            elements = block.get("elements") or []
            if not elements or len(elements) > 10:
                self.err("must provide between 1 and 10 elements", f"{ptr}/elements")
            for i, e in enumerate(elements):
                if isinstance(e, dict) and e.get("type") in TEXT_TYPES:
                    self.text(e, f"{ptr}/elements/{i}")
        elif kind == "actions":
            elements = block.get("elements") or []
            if not elements or len(elements) > 25:
                self.err("must provide between 1 and 25 elements", f"{ptr}/elements")
            for i, e in enumerate(elements):
                self.element(e, f"{ptr}/elements/{i}")
        elif kind == "input":
            self.text(block.get("label"), f"{ptr}/label", max_len=2000, plain_only=True)
            if "hint" in block:
                self.text(block["hint"], f"{ptr}/hint", max_len=2000, plain_only=True)
            self.element(block.get("element"), f"{ptr}/element")


def check_message(text: str | None, blocks: Any) -> list[str]:
    """Errors Slack would report for a message's text and blocks."""
    c = _Checker()
    if text and len(text) > MESSAGE_TEXT_MAX:
        c.err(f"text must be less than {MESSAGE_TEXT_MAX + 1} characters", "/text")
    if blocks is None:
        return c.errors
    if not isinstance(blocks, list):
        c.err("blocks must be an array", "/blocks")
        return c.errors
    if len(blocks) > MESSAGE_BLOCKS_MAX:
        c.err(f"must provide at most {MESSAGE_BLOCKS_MAX} items", "/blocks")
    for i, b in enumerate(blocks):
        c.block(b, f"/blocks/{i}", surface="message")
    return c.errors


def check_view(view: Any) -> list[str]:
    """Errors Slack would report for a modal or home view."""
    c = _Checker()
    if not isinstance(view, dict):
        return ["[ERROR] view must be an object [json-pointer:/view]"]
    kind = view.get("type")
    if kind not in ("modal", "home"):
        c.err("type must be modal or home", "/view/type")
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        c.err("blocks must be an array", "/view/blocks")
        blocks = []
    if len(blocks) > VIEW_BLOCKS_MAX:
        c.err(f"must provide at most {VIEW_BLOCKS_MAX} items", "/view/blocks")
    if kind == "modal":
        c.text(view.get("title"), "/view/title", max_len=24, plain_only=True)
        for key in ("submit", "close"):
            if key in view:
                c.text(view[key], f"/view/{key}", max_len=24, plain_only=True)
        if any(isinstance(b, dict) and b.get("type") == "input" for b in blocks) and "submit" not in view:
            c.err("a modal with input blocks must have a submit button", "/view/submit")
    if len(view.get("private_metadata") or "") > 3000:
        c.err("must be less than 3001 characters", "/view/private_metadata")
    if len(view.get("callback_id") or "") > 255:
        c.err("must be less than 256 characters", "/view/callback_id")
    for i, b in enumerate(blocks):
        c.block(b, f"/view/blocks/{i}", surface="view")
    return c.errors
