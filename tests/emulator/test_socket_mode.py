"""Socket Mode and the driver, with the real Bolt AsyncApp on the other end."""

import asyncio

import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

MODAL = {
    "type": "modal", "callback_id": "report", "title": {"type": "plain_text", "text": "Report"},
    "submit": {"type": "plain_text", "text": "Go"},
    "blocks": [
        {"type": "input", "block_id": "title", "label": {"type": "plain_text", "text": "Title"},
         "element": {"type": "plain_text_input", "action_id": "title", "initial_value": "prefilled"}},
        {"type": "input", "block_id": "prio", "label": {"type": "plain_text", "text": "Priority"},
         "element": {"type": "static_select", "action_id": "prio",
                     "options": [{"text": {"type": "plain_text", "text": p}, "value": p} for p in ("Low", "High")],
                     "initial_option": {"text": {"type": "plain_text", "text": "Low"}, "value": "Low"}}},
    ],
}


@pytest.fixture
async def bolt(emu):
    client = AsyncWebClient(token=emu.bot_token, base_url=emu.api_url)
    app = AsyncApp(client=client)
    seen: dict[str, list] = {"submissions": [], "retries": [], "events": []}

    @app.command("/report")
    async def report(ack, body, client, request):
        seen["retries"].append(request.headers.get("x-slack-retry-num"))
        await ack()
        if not request.headers.get("x-slack-retry-num"):  # a redelivery's trigger_id is already used
            await client.views_open(trigger_id=body["trigger_id"], view=MODAL)

    @app.command("/hello")
    async def hello(ack, respond):
        await ack()
        await respond("hi there")

    @app.view("report")
    async def submit(ack, view):
        values = view["state"]["values"]
        seen["submissions"].append(values)
        if not values["title"]["title"]["value"].strip():
            await ack(response_action="errors", errors={"title": "required"})
        else:
            await ack()

    @app.event("reaction_added")
    async def reacted(ack, event):
        await ack()
        seen["events"].append(event)

    @app.event("member_joined_channel")
    async def joined(ack, event):
        await ack()
        seen["events"].append(event)

    handler = AsyncSocketModeHandler(app, emu.app_token, ping_interval=0.5)
    await asyncio.wait_for(handler.connect_async(), 5)
    await emu.wait_connected()
    yield seen
    await handler.close_async()


async def test_slash_command_modal_errors_then_success(emu, bolt):
    alice = emu.add_user("alice")
    cid = emu.add_channel("general", members=[alice])
    delivery = await emu.slash_command(alice, "/report", channel=cid)
    assert delivery.latency < 3
    await emu.wait_for(lambda: emu.open_views(alice))
    view = emu.open_views(alice)[0]
    bad = await emu.submit_view(alice, view.id, {"title": "  "})
    assert bad.ack_payload == {"response_action": "errors", "errors": {"title": "required"}}
    assert emu.views[view.id].state == "open"
    assert bolt["submissions"][0]["prio"]["prio"]["selected_option"]["value"] == "Low", "untouched inputs keep initial values"
    good = await emu.submit_view(alice, view.id, {"title": "DB down", "prio": "High"})
    assert not good.ack_payload
    assert emu.views[view.id].state == "closed"
    assert bolt["submissions"][1]["prio"]["prio"]["selected_option"]["value"] == "High"


async def test_driver_refuses_options_the_view_does_not_offer(emu, bolt):
    alice = emu.add_user("alice")
    cid = emu.add_channel("general", members=[alice])
    await emu.slash_command(alice, "/report", channel=cid)
    await emu.wait_for(lambda: emu.open_views(alice))
    with pytest.raises(AssertionError):
        await emu.submit_view(alice, emu.open_views(alice)[0].id, {"prio": "Critical"})


async def test_response_url_ephemeral_is_recorded(emu, bolt):
    alice = emu.add_user("alice")
    cid = emu.add_channel("general", members=[alice])
    await emu.slash_command(alice, "/hello", channel=cid)
    await emu.wait_for(lambda: emu.ephemerals)
    assert emu.ephemerals[0] | {"ts": None} == {"channel": cid, "user": alice, "text": "hi there", "blocks": None,
                                                "ts": None}


async def test_redelivery_carries_retry_attempt(emu, bolt):
    alice = emu.add_user("alice")
    cid = emu.add_channel("general", members=[alice])
    first = await emu.slash_command(alice, "/report", channel=cid)
    await emu.redeliver(first.envelope_id)
    assert emu.envelopes[first.envelope_id]["retry_attempt"] == 1
    assert emu.envelopes[first.envelope_id]["retry_reason"] == "timeout"
    assert len([a for a in emu.acks if a.envelope_id == first.envelope_id]) == 2
    assert bolt["retries"] == [None, ["1"]]


async def test_events_are_delivered_only_when_subscribed_and_the_bot_is_in_the_channel(emu, bolt):
    emu.ack_timeout = 0.3  # the app has no `message` listener, so Bolt never acks that event
    alice = emu.add_user("alice")
    cid = emu.add_channel("general", members=[alice])
    ts = await emu.post_message(alice, cid, "look")
    await emu.react(alice, cid, ts, "stopwatch")
    assert bolt["events"][-1]["item"] == {"type": "message", "channel": cid, "ts": ts}
    emu.subscribed_events = {"member_joined_channel"}
    await emu.unreact(alice, cid, ts, "stopwatch")
    await emu.react(alice, cid, ts, "eyes")
    assert len(bolt["events"]) == 1
    outside = emu.add_channel("elsewhere", members=[alice], bot_member=False)
    await emu.join(emu.add_user("bob"), outside)
    assert len(bolt["events"]) == 1


async def test_bot_invites_emit_member_joined_channel(emu, bolt):
    alice = emu.add_user("alice")
    client = AsyncWebClient(token=emu.bot_token, base_url=emu.api_url)
    cid = (await client.conversations_create(name="inc-1"))["channel"]["id"]
    await client.conversations_invite(channel=cid, users=alice)
    await emu.wait_for(lambda: len(bolt["events"]) == 2)
    bot_joined, alice_joined = sorted(bolt["events"], key=lambda e: e["user"] != emu.bot_user_id)
    assert bot_joined["user"] == emu.bot_user_id and "inviter" not in bot_joined, "creating a channel joins the bot"
    assert alice_joined["user"] == alice and alice_joined["inviter"] == emu.bot_user_id


async def test_disconnect_makes_the_sdk_reconnect(emu, bolt):
    alice = emu.add_user("alice")
    cid = emu.add_channel("general", members=[alice])
    old = list(emu._sockets)
    await emu.disconnect_sockets()
    # The SDK reconnects once for the disconnect frame and once more when the old socket closes,
    # then drops the first new socket: wait until the open sockets are new and stay the same.
    await emu.wait_for(lambda: [ws for ws in emu._sockets if ws not in old and not ws.closed], timeout=10)
    seen: list = []

    def settled() -> bool:
        seen.append(tuple(ws for ws in emu._sockets if not ws.closed))
        return len(seen) >= 5 and len(set(seen[-5:])) == 1

    await emu.wait_for(settled, timeout=10, interval=0.1)
    assert len(emu.calls_to("apps.connections.open")) >= 2
    delivery = await emu.slash_command(alice, "/hello", channel=cid)
    assert delivery.envelope_id in {a.envelope_id for a in emu.acks}


async def test_no_ack_times_out(emu, bolt):
    alice = emu.add_user("alice")
    emu.ack_timeout = 0.3
    with pytest.raises(TimeoutError):
        await emu.slash_command(alice, "/unhandled", channel=emu.add_channel("general", members=[alice]))


async def test_dropped_socket_is_reopened_by_the_sdk(emu, bolt):
    alice = emu.add_user("alice")
    cid = emu.add_channel("general", members=[alice])
    opened = len(emu.calls_to("apps.connections.open"))
    await emu.drop_sockets()
    await emu.wait_for(lambda: emu._sockets, timeout=15)
    assert len(emu.calls_to("apps.connections.open")) > opened
    delivery = await emu.slash_command(alice, "/hello", channel=cid)
    assert delivery.envelope_id in {a.envelope_id for a in emu.acks}
