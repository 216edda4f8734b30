"""Block Kit rules as pure functions: every limit Slack enforces, reported at the right JSON pointer."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulators.slackemu.blockkit_rules import check_message, check_view


def plain(text: str) -> dict:
    return {"type": "plain_text", "text": text}


def section(text: str = "x", **extra) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def button(action_id: str = "go", text: str = "Go", **extra) -> dict:
    return {"type": "button", "action_id": action_id, "text": plain(text), **extra}


def option(value: str, text: str | None = None) -> dict:
    return {"text": plain(text if text is not None else value), "value": value}


def select(options: list[dict], **extra) -> dict:
    return {"type": "static_select", "action_id": "s", "options": options, **extra}


def actions(*elements: dict, **extra) -> dict:
    return {"type": "actions", "elements": list(elements), **extra}


def text_input(block_id: str = "t", **element) -> dict:
    return {"type": "input", "block_id": block_id, "label": plain("Title"),
            "element": {"type": "plain_text_input", "action_id": block_id, **element}}


def modal(**overrides) -> dict:
    view = {"type": "modal", "title": plain("Report"), "submit": plain("Go"), "blocks": [text_input()]}
    view.update(overrides)
    return view


def pointers(errors: list[str]) -> list[str]:
    return [e.rsplit("[json-pointer:", 1)[1].rstrip("]") for e in errors]


MESSAGE_CASES = [
    ("51 blocks", [section()] * 51, "/blocks"),
    ("section text > 3000", [section("x" * 3001)], "/blocks/0/text/text"),
    ("11 section fields", [{"type": "section", "fields": [plain("f")] * 11}], "/blocks/0/fields"),
    ("section field > 2000", [{"type": "section", "fields": [plain("f" * 2001)]}], "/blocks/0/fields/0/text"),
    ("header > 150", [{"type": "header", "text": plain("h" * 151)}], "/blocks/0/text/text"),
    ("mrkdwn header", [{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}], "/blocks/0/text/type"),
    ("option text > 75", [actions(select([option("v", "o" * 76)]))], "/blocks/0/elements/0/options/0/text/text"),
    ("option value > 150", [actions(select([option("v" * 151, "o")]))], "/blocks/0/elements/0/options/0/value"),
    ("101 options", [actions(select([option(str(i)) for i in range(101)]))], "/blocks/0/elements/0/options"),
    ("11 checkboxes", [actions({"type": "checkboxes", "action_id": "c", "options": [option(str(i)) for i in range(11)]})],
     "/blocks/0/elements/0/options"),
    ("button text > 75", [actions(button(text="b" * 76))], "/blocks/0/elements/0/text/text"),
    ("mrkdwn button", [actions({"type": "button", "action_id": "b", "text": {"type": "mrkdwn", "text": "b"}})],
     "/blocks/0/elements/0/text/type"),
    ("block_id > 255", [section(block_id="b" * 256)], "/blocks/0/block_id"),
    ("duplicate block_id", [section(block_id="a"), section(block_id="a")], "/blocks/1/block_id"),
    ("action_id > 255", [actions(button("a" * 256))], "/blocks/0/elements/0/action_id"),
    ("duplicate action_id across blocks", [actions(button("go")), actions(button("go"))],
     "/blocks/1/elements/0/action_id"),
    ("input in a message", [text_input()], "/blocks/0/type"),
    ("unknown block type", [{"type": "bogus"}], "/blocks/0/type"),
    ("bad text type", [{"type": "section", "text": {"type": "markdown", "text": "x"}}], "/blocks/0/text/type"),
    ("empty text", [section("")], "/blocks/0/text/text"),
    ("unknown property", [section(colour="red")], "/blocks/0"),
    ("emoji on mrkdwn", [{"type": "section", "text": {"type": "mrkdwn", "text": "x", "emoji": True}}],
     "/blocks/0/text"),
    ("initial_option not offered", [actions(select([option("a")], initial_option=option("b")))],
     "/blocks/0/elements/0/initial_option"),
    ("input element in actions", [actions({"type": "plain_text_input", "action_id": "p"})],
     "/blocks/0/elements/0/type"),
    ("26 elements in actions", [actions(*[button(f"b{i}") for i in range(26)])], "/blocks/0/elements"),
    ("bad button style", [actions(button(style="green"))], "/blocks/0/elements/0/style"),
    ("image without alt_text", [{"type": "image", "image_url": "https://x.test/a.png"}], "/blocks/0/alt_text"),
]


@pytest.mark.parametrize("blocks, pointer", [c[1:] for c in MESSAGE_CASES], ids=[c[0] for c in MESSAGE_CASES])
def test_message_rules(blocks, pointer):
    errors = check_message("fallback", blocks)
    assert pointer in pointers(errors), errors
    assert all(e.startswith("[ERROR] ") for e in errors)


def test_message_text_over_40000_chars():
    assert pointers(check_message("x" * 40001, None)) == ["/text"]
    assert check_message("x" * 40000, None) == []


VIEW_CASES = [
    ("title > 24", modal(title=plain("x" * 25)), "/view/title/text"),
    ("no title", {k: v for k, v in modal().items() if k != "title"}, "/view/title"),
    ("mrkdwn title", modal(title={"type": "mrkdwn", "text": "x"}), "/view/title/type"),
    ("submit > 24", modal(submit=plain("x" * 25)), "/view/submit/text"),
    ("close > 24", modal(close=plain("x" * 25)), "/view/close/text"),
    ("mrkdwn close", modal(close={"type": "mrkdwn", "text": "x"}), "/view/close/type"),
    ("101 blocks", modal(blocks=[{"type": "divider"}] * 101), "/view/blocks"),
    ("inputs without submit", {k: v for k, v in modal().items() if k != "submit"}, "/view/submit"),
    ("private_metadata > 3000", modal(private_metadata="x" * 3001), "/view/private_metadata"),
    ("callback_id > 255", modal(callback_id="x" * 256), "/view/callback_id"),
    ("label > 2000", modal(blocks=[{**text_input(), "label": plain("l" * 2001)}]), "/view/blocks/0/label/text"),
    ("mrkdwn label", modal(blocks=[{**text_input(), "label": {"type": "mrkdwn", "text": "l"}}]),
     "/view/blocks/0/label/type"),
    ("input max_length > 3000", modal(blocks=[text_input(max_length=3001)]), "/view/blocks/0/element/max_length"),
    ("initial_value > max_length", modal(blocks=[text_input(max_length=5, initial_value="123456")]),
     "/view/blocks/0/element/initial_value"),
    ("button as input element", modal(blocks=[{**text_input(), "element": button()}]),
     "/view/blocks/0/element/type"),
    ("bad initial_date", modal(blocks=[{"type": "input", "block_id": "d", "label": plain("D"), "element": {
        "type": "datepicker", "action_id": "d", "initial_date": "25/12/2026"}}]), "/view/blocks/0/element/initial_date"),
    ("duplicate action_id", modal(blocks=[text_input("a"), {**text_input("b"), "element": {
        "type": "plain_text_input", "action_id": "a"}}]), "/view/blocks/1/element/action_id"),
    ("unknown view property", modal(colour="red"), "/view"),
    ("markdown block in a modal", modal(blocks=[{"type": "markdown", "text": "x"}]), "/view/blocks/0/type"),
]


@pytest.mark.parametrize("view, pointer", [c[1:] for c in VIEW_CASES], ids=[c[0] for c in VIEW_CASES])
def test_view_rules(view, pointer):
    assert pointer in pointers(check_view(view))


def test_valid_surfaces_pass():
    assert check_view(modal(close=plain("Cancel"), private_metadata="x" * 3000, callback_id="c" * 255)) == []
    assert check_view({"type": "home", "blocks": [section(), actions(button())]}) == []
    assert check_message("t", [section(accessory=button()), {"type": "divider"},
                               {"type": "context", "elements": [plain("c")]},
                               actions(select([option("a")], initial_option=option("a")))]) == []


limits = st.sampled_from([("header", 150), ("section", 3000), ("button", 75), ("option", 75)])


@settings(max_examples=60, deadline=None)
@given(limits, st.integers(min_value=1, max_value=4000))
def test_text_limits_hold_exactly_at_the_boundary(kind_limit, n):
    kind, limit = kind_limit
    text = "x" * n
    blocks = {
        "header": [{"type": "header", "text": plain(text)}],
        "section": [section(text)],
        "button": [actions(button(text=text))],
        "option": [actions(select([option("v", text)]))],
    }[kind]
    assert (check_message(None, blocks) == []) == (n <= limit)
