"""The driver acting as people against a real Bolt app: what Slack's client allows, and the events
Slack sends for the bot's own actions."""

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from emulators.slackemu import DriverError


def plain(text: str) -> dict:
    return {"type": "plain_text", "text": text}


FORM = {
    "type": "modal", "callback_id": "form", "title": plain("Form"), "submit": plain("Save"),
    "blocks": [
        {"type": "input", "block_id": "name", "label": plain("Name"),
         "element": {"type": "plain_text_input", "action_id": "name", "max_length": 10}},
        {"type": "input", "block_id": "email", "optional": True, "label": plain("Email"),
         "element": {"type": "email_text_input", "action_id": "email"}},
        {"type": "input", "block_id": "count", "optional": True, "label": plain("Count"),
         "element": {"type": "number_input", "action_id": "count", "is_decimal_allowed": False, "max_value": "5"}},
        {"type": "input", "block_id": "tags", "optional": True, "label": plain("Tags"),
         "element": {"type": "checkboxes", "action_id": "tags",
                     "options": [{"text": plain(t), "value": t} for t in ("a", "b")]}},
        {"type": "input", "block_id": "who", "optional": True, "label": plain("Who"),
         "element": {"type": "multi_users_select", "action_id": "who"}},
        {"type": "input", "block_id": "when", "optional": True, "label": plain("When"),
         "element": {"type": "datepicker", "action_id": "when"}},
    ],
}


@pytest.fixture
async def form_app(emu, app, connect):
    """/form opens FORM; submissions ack with whatever `replies` holds next (default: close)."""
    seen = {"submissions": [], "events": [], "replies": []}

    @app.command("/form")
    async def form(ack, body, client):
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=FORM)

    @app.command("/loud")
    async def loud(ack):
        await ack(response_type="in_channel", text="everyone sees this")

    @app.view("form")
    async def submitted(ack, view):
        seen["submissions"].append(view["state"]["values"])
        await ack(**(seen["replies"].pop(0) if seen["replies"] else {}))

    @app.action("approve")
    async def approve(ack, respond):
        await ack()
        await respond(replace_original=True, text="approved")

    @app.event("message")
    async def message(ack, event):
        await ack()
        seen["events"].append(event)

    await connect(app)
    return seen


async def open_form(emu, user, channel):
    await emu.slash_command(user, "/form", channel=channel)
    return (await emu.wait_for(lambda: emu.open_views(user)))[-1]


async def test_values_become_slack_state_and_unset_inputs_are_null(emu, form_app):
    alice, bob = emu.add_user("alice"), emu.add_user("bob")
    view = await open_form(emu, alice, emu.add_channel("general", members=[alice]))
    await emu.submit_view(alice, view.id, {"name": "Ada", "count": "3", "tags": ["b"], "who": [bob],
                                           "when": "2026-12-01"})
    values = form_app["submissions"][0]
    assert values["name"]["name"] == {"type": "plain_text_input", "value": "Ada"}
    assert values["email"]["email"]["value"] is None
    assert values["tags"]["tags"]["selected_options"] == [{"text": plain("b"), "value": "b"}]
    assert values["who"]["who"]["selected_users"] == [bob]
    assert values["when"]["when"]["selected_date"] == "2026-12-01"
    assert emu.views[view.id].state == "closed"


@pytest.mark.parametrize("values, block", [
    ({}, "name"),  # required input left empty
    ({"name": "x" * 11}, "name"),  # over max_length
    ({"name": "Ada", "email": "not-an-email"}, "email"),
    ({"name": "Ada", "count": "2.5"}, "count"),  # decimals not allowed
    ({"name": "Ada", "count": "6"}, "count"),  # above max_value
])
async def test_slack_client_shows_input_errors_without_sending(emu, form_app, values, block):
    alice = emu.add_user("alice")
    view = await open_form(emu, alice, emu.add_channel("general", members=[alice]))
    result = await emu.submit_view(alice, view.id, values)
    assert not result.sent and list(result.ack_payload["errors"]) == [block]
    assert form_app["submissions"] == [] and emu.views[view.id].state == "open"
    assert emu.client_rejections[-1]["view_id"] == view.id
    emu.client_validation = False
    await emu.submit_view(alice, view.id, values)
    assert len(form_app["submissions"]) == 1, "with client_validation off the app gets to judge"


@pytest.mark.parametrize("values", [
    {"name": "Ada", "tags": ["c"]},  # not an offered option
    {"name": "Ada", "who": ["U404"]},  # nobody to pick
    {"name": "Ada", "when": "01/12/2026"},  # not what a date picker produces
    {"nope": "x"},  # no such block
])
async def test_impossible_input_is_a_script_error(emu, form_app, values):
    alice = emu.add_user("alice")
    view = await open_form(emu, alice, emu.add_channel("general", members=[alice]))
    with pytest.raises(DriverError):
        await emu.submit_view(alice, view.id, values)
    assert form_app["submissions"] == []


async def test_response_actions(emu, form_app):
    alice, bob = emu.add_user("alice"), emu.add_user("bob")
    view = await open_form(emu, alice, emu.add_channel("general", members=[alice]))
    with pytest.raises(DriverError):
        await emu.submit_view(bob, view.id, {"name": "Ada"})  # not bob's modal
    form_app["replies"] = [{"response_action": "errors", "errors": {"name": "taken"}},
                           {"response_action": "update", "view": {**FORM, "title": plain("Again")}},
                           {"response_action": "push", "view": FORM},
                           {"response_action": "clear"}]
    bad = await emu.submit_view(alice, view.id, {"name": "Ada"})
    assert bad.ack_payload["errors"] == {"name": "taken"} and emu.views[view.id].state == "open"
    await emu.submit_view(alice, view.id, {"name": "Ada"})
    assert emu.views[view.id].view["title"]["text"] == "Again"
    await emu.submit_view(alice, view.id, {"name": "Ada"})
    pushed = emu.open_views(alice)
    assert [v.previous_view_id for v in pushed] == [None, view.id]
    with pytest.raises(DriverError):
        await emu.submit_view(alice, view.id, {"name": "Ada"})  # covered by the pushed view
    await emu.submit_view(alice, pushed[-1].id, {"name": "Ada"})
    assert emu.open_views(alice) == []


async def test_errors_for_a_block_that_is_not_an_input_are_refused(emu, form_app):
    alice = emu.add_user("alice")
    view = await open_form(emu, alice, emu.add_channel("general", members=[alice]))
    form_app["replies"] = [{"response_action": "errors", "errors": {"title": "no such input"}}]
    with pytest.raises(DriverError, match="trouble connecting"):
        await emu.submit_view(alice, view.id, {"name": "Ada"})


async def test_in_channel_ack_and_button_respond_replace_original(emu, form_app):
    alice = emu.add_user("alice")
    cid = emu.add_channel("general", members=[alice])
    await emu.slash_command(alice, "/loud", channel=cid)
    assert emu.channels[cid].messages[-1].text == "everyone sees this" and emu.ephemerals == []
    client = AsyncWebClient(token=emu.bot_token, base_url=emu.api_url)
    card = await client.chat_postMessage(channel=cid, text="approve?", blocks=[{"type": "actions", "elements": [
        {"type": "button", "action_id": "approve", "text": plain("Approve"), "value": "1"}]}])
    delivery = await emu.click(alice, "approve", channel=cid, message_ts=card["ts"])
    assert delivery.response_url
    await emu.wait_for(lambda: emu.channels[cid].find(card["ts"]).text == "approved")


async def test_a_button_in_an_ephemeral_message_is_clickable_by_its_recipient_only(emu, form_app):
    alice, bob = emu.add_user("alice"), emu.add_user("bob")
    cid = emu.add_channel("general", members=[alice, bob])
    client = AsyncWebClient(token=emu.bot_token, base_url=emu.api_url)
    shown = await client.chat_postEphemeral(channel=cid, user=alice, text="approve?", blocks=[
        {"type": "actions", "elements": [{"type": "button", "action_id": "approve", "text": plain("Approve"), "value": "1"}]}])
    with pytest.raises(DriverError):
        await emu.click(bob, "approve", channel=cid, message_ts=shown["message_ts"])
    delivery = await emu.click(alice, "approve", channel=cid, message_ts=shown["message_ts"])
    payload = emu.envelopes[delivery.envelope_id]["payload"]
    assert payload["container"]["is_ephemeral"] is True and "message" not in payload
    assert delivery.response_url


async def test_people_and_the_bot_messages_arrive_as_events(emu, form_app):
    alice = emu.add_user("alice")
    cid = emu.add_channel("general", members=[alice])
    root = await emu.post_message(alice, cid, "help")
    reply = await emu.post_message(alice, cid, "more", thread_ts=root)
    last = form_app["events"][-1]
    assert (last["ts"], last["thread_ts"], last["parent_user_id"], last["channel_type"]) == (reply, root, alice, "channel")
    client = AsyncWebClient(token=emu.bot_token, base_url=emu.api_url)
    await client.chat_postMessage(channel=cid, text="bot speaking")
    own = await emu.wait_for(lambda: [e for e in emu.envelopes.values()
                                      if e["payload"].get("event", {}).get("bot_id") == emu.bot_id])
    await emu.wait_for(lambda: own[0]["envelope_id"] in {a.envelope_id for a in emu.acks})
    assert all(e.get("bot_id") is None for e in form_app["events"]), "Bolt acks and skips the bot's own messages"
    with pytest.raises(DriverError):
        await emu.post_message(emu.add_user("bob"), cid, "not a member")


async def test_bot_join_and_create_emit_member_joined_channel(emu, app, connect):
    joined = []

    @app.event("member_joined_channel")
    async def on_join(ack, event):
        await ack()
        joined.append(event)

    await connect(app)
    client = AsyncWebClient(token=emu.bot_token, base_url=emu.api_url)
    created = (await client.conversations_create(name="inc-9"))["channel"]["id"]
    public = emu.add_channel("random", bot_member=False)
    await client.conversations_join(channel=public)
    await emu.wait_for(lambda: len(joined) == 2)
    assert {(e["channel"], e["user"]) for e in joined} == {(created, emu.bot_user_id), (public, emu.bot_user_id)}


async def test_two_connections_share_the_envelopes(emu, app, connect):
    hits = []

    @app.command("/ping")
    async def ping(ack):
        await ack()
        hits.append(1)

    await connect(app)
    await connect(app)
    await emu.wait_for(lambda: emu.connections == 2)
    alice = emu.add_user("alice")
    for _ in range(4):
        await emu.slash_command(alice, "/ping")
    assert len(hits) == 4 and emu.dm_channel(alice) is not None
