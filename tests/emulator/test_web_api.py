"""The emulator answers like Slack, including the refusals."""

import asyncio

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler, AsyncServerErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient


async def error_of(coro) -> str:
    with pytest.raises(SlackApiError) as exc:
        await coro
    return exc.value.response["error"]


@pytest.mark.parametrize(
    "name, error",
    [
        ("Has-Upper", "invalid_name_specials"),
        ("has space", "invalid_name_specials"),
        ("has.period", "invalid_name_specials"),
        ("x" * 81, "invalid_name_maxlength"),
        ("", "invalid_name_required"),
        ("---", "invalid_name_punctuation"),
    ],
)
async def test_invalid_channel_names_are_rejected(client, name, error):
    assert await error_of(client.conversations_create(name=name)) == error


async def test_channel_lifecycle_and_name_taken(emu, client):
    alice = emu.add_user("alice")
    created = await client.conversations_create(name="inc-1-db-down", is_private=True)
    cid = created["channel"]["id"]
    assert emu.channels[cid].is_private and emu.bot_user_id in emu.channels[cid].members
    assert await error_of(client.conversations_create(name="inc-1-db-down")) == "name_taken"
    await client.conversations_invite(channel=cid, users=alice)
    assert alice in emu.channels[cid].members
    assert await error_of(client.conversations_invite(channel=cid, users=alice)) == "already_in_channel"
    assert await error_of(client.conversations_invite(channel=cid, users="U404")) == "user_not_found"
    assert await error_of(client.conversations_setTopic(channel=cid, topic="t" * 251)) == "too_long"
    await client.conversations_archive(channel=cid)
    assert await error_of(client.chat_postMessage(channel=cid, text="hi")) == "is_archived"


async def test_unknown_channel_user_method_and_token(emu, client):
    assert await error_of(client.chat_postMessage(channel="C404", text="x")) == "channel_not_found"
    assert await error_of(client.users_info(user="U404")) == "user_not_found"
    assert await error_of(client.api_call("nope.nothing")) == "unknown_method"
    bad = AsyncWebClient(token="xoxb-wrong", base_url=emu.api_url)
    assert await error_of(bad.auth_test()) == "invalid_auth"


async def test_not_in_channel_for_private_channels_and_without_chat_write_public(emu, client):
    private = emu.add_channel("secret", is_private=True, bot_member=False)
    public = emu.add_channel("random", bot_member=False)
    assert await error_of(client.chat_postMessage(channel=private, text="x")) == "not_in_channel"
    await client.chat_postMessage(channel=public, text="allowed by chat:write.public")
    emu.chat_write_public = False
    assert await error_of(client.chat_postMessage(channel=public, text="x")) == "not_in_channel"
    assert await error_of(client.conversations_setTopic(channel=public, topic="x")) == "not_in_channel"


async def test_ephemeral_needs_the_user_in_the_channel(emu, client):
    alice, bob = emu.add_user("alice"), emu.add_user("bob")
    cid = emu.add_channel("general", members=[alice])
    await client.chat_postEphemeral(channel=cid, user=alice, text="only you")
    assert emu.ephemerals[-1]["user"] == alice
    assert await error_of(client.chat_postEphemeral(channel=cid, user=bob, text="x")) == "user_not_in_channel"


async def test_direct_message_to_a_user_id_opens_an_im(emu, client):
    alice = emu.add_user("alice")
    resp = await client.chat_postMessage(channel=alice, text="hello")
    dm = emu.dm_channel(alice)
    assert dm.id == resp["channel"] and dm.messages[0].text == "hello"


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


@pytest.mark.parametrize(
    "blocks, fragment",
    [
        ([section("x")] * 51, "/blocks"),
        ([section("x" * 3001)], "/blocks/0/text/text"),
        ([{"type": "header", "text": {"type": "mrkdwn", "text": "x"}}], "/blocks/0/text/type"),
        ([{"type": "input", "label": {"type": "plain_text", "text": "x"}, "element": {"type": "plain_text_input"}}],
         "/blocks/0/type"),
        ([{"type": "section", "block_id": "a", "text": {"type": "mrkdwn", "text": "x"}},
          {"type": "section", "block_id": "a", "text": {"type": "mrkdwn", "text": "y"}}], "/blocks/1/block_id"),
        ([{"type": "actions", "elements": [
            {"type": "button", "action_id": "go", "text": {"type": "plain_text", "text": "a"}},
            {"type": "button", "action_id": "go", "text": {"type": "plain_text", "text": "b"}}]}],
         "/blocks/0/elements/1/action_id"),
        ([{"type": "actions", "elements": [{"type": "static_select", "action_id": "s", "options": [
            {"text": {"type": "plain_text", "text": "o" * 76}, "value": "v"}]}]}], "/blocks/0/elements/0/options/0/text/text"),
        ([{"type": "actions", "elements": [{"type": "static_select", "action_id": "s", "options": [
            {"text": {"type": "plain_text", "text": str(i)}, "value": str(i)} for i in range(101)]}]}],
         "/blocks/0/elements/0/options"),
        ([{"type": "bogus"}], "/blocks/0/type"),
    ],
)
async def test_block_kit_limits_in_messages(emu, client, blocks, fragment):
    cid = emu.add_channel("general")
    with pytest.raises(SlackApiError) as exc:
        await client.chat_postMessage(channel=cid, text="t", blocks=blocks)
    assert exc.value.response["error"] == "invalid_blocks"
    assert any(f"[json-pointer:{fragment}]" in m for m in exc.value.response["response_metadata"]["messages"])


async def test_message_text_over_40000_chars_is_too_long(emu, client):
    cid = emu.add_channel("general")
    assert await error_of(client.chat_postMessage(channel=cid, text="x" * 40001)) == "msg_too_long"


def modal(**overrides) -> dict:
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Report"},
            "submit": {"type": "plain_text", "text": "Go"},
            "blocks": [{"type": "input", "block_id": "t", "label": {"type": "plain_text", "text": "Title"},
                        "element": {"type": "plain_text_input", "action_id": "t"}}]}
    view.update(overrides)
    return view


@pytest.mark.parametrize(
    "view, fragment",
    [
        (modal(title={"type": "plain_text", "text": "x" * 25}), "/view/title/text"),
        (modal(title={"type": "mrkdwn", "text": "x"}), "/view/title/type"),
        (modal(submit={"type": "plain_text", "text": "x" * 25}), "/view/submit/text"),
        (modal(close={"type": "plain_text", "text": "x" * 25}), "/view/close/text"),
        (modal(blocks=[{"type": "divider"}] * 101), "/view/blocks"),
        ({k: v for k, v in modal().items() if k != "submit"}, "/view/submit"),
        (modal(private_metadata="x" * 3001), "/view/private_metadata"),
        (modal(blocks=[{"type": "input", "block_id": "t", "label": {"type": "mrkdwn", "text": "T"},
                        "element": {"type": "plain_text_input", "action_id": "t"}}]), "/view/blocks/0/label/type"),
    ],
)
async def test_block_kit_limits_in_views(emu, client, view, fragment):
    alice = emu.add_user("alice")
    trigger = emu._new_trigger(alice)
    with pytest.raises(SlackApiError) as exc:
        await client.views_open(trigger_id=trigger, view=view)
    assert exc.value.response["error"] == "invalid_arguments"
    assert any(f"[json-pointer:{fragment}]" in m for m in exc.value.response["response_metadata"]["messages"])


async def test_trigger_ids_expire_after_three_seconds_and_are_single_use(emu, client):
    alice = emu.add_user("alice")
    trigger = emu._new_trigger(alice)
    await client.views_open(trigger_id=trigger, view=modal())
    assert await error_of(client.views_open(trigger_id=trigger, view=modal())) == "expired_trigger_id"
    assert await error_of(client.views_open(trigger_id="nope", view=modal())) == "invalid_trigger_id"
    old = emu._new_trigger(alice)
    emu.triggers[old]["created"] -= 3.1
    assert await error_of(client.views_open(trigger_id=old, view=modal())) == "expired_trigger_id"


async def test_rate_limit_sends_integer_retry_after_that_slack_sdk_honours(emu):
    emu.inject("auth.test", status=429, retry_after=0, times=1)
    client = AsyncWebClient(token=emu.bot_token, base_url=emu.api_url,
                            retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)])
    assert (await client.auth_test())["ok"]
    assert [c.status for c in emu.calls_to("auth.test")] == [429, 200]


async def test_server_errors_are_retried_by_slack_sdk(emu):
    emu.inject("auth.test", status=503, times=1)
    client = AsyncWebClient(token=emu.bot_token, base_url=emu.api_url,
                            retry_handlers=[AsyncServerErrorRetryHandler(max_retry_count=1)])
    assert (await client.auth_test())["ok"]
    assert [c.status for c in emu.calls_to("auth.test")] == [503, 200]


async def test_injected_error_and_latency(emu, client):
    emu.inject("users.list", error="fatal_error")
    assert await error_of(client.users_list()) == "fatal_error"
    emu.faults.latency = 0.05
    await client.users_list()
    assert emu.calls_to("users.list")[-1].duration >= 0.05


async def test_bolt_adds_team_id_which_is_ignored(emu, client):
    alice = emu.add_user("alice", email="a@example.com")
    found = await client.users_lookupByEmail(email="A@example.com", team_id="T0001")
    assert found["user"]["id"] == alice
    assert await error_of(client.users_lookupByEmail(email="x@example.com")) == "users_not_found"


async def test_history_replies_reactions_pins_bookmarks(emu, client):
    alice = emu.add_user("alice")
    cid = emu.add_channel("general", members=[alice])
    root = (await client.chat_postMessage(channel=cid, text="root"))["ts"]
    reply = (await client.chat_postMessage(channel=cid, text="reply", thread_ts=root))["ts"]
    history = await client.conversations_history(channel=cid, latest=reply, inclusive=True, limit=1)
    assert [m["text"] for m in history["messages"]] == ["root"], "thread replies are not in history"
    replies = await client.conversations_replies(channel=cid, ts=reply)
    assert [m["text"] for m in replies["messages"]] == ["root", "reply"]
    await client.reactions_add(channel=cid, timestamp=reply, name="eyes")
    assert await error_of(client.reactions_add(channel=cid, timestamp=reply, name="eyes")) == "already_reacted"
    await client.pins_add(channel=cid, timestamp=root)
    assert await error_of(client.pins_add(channel=cid, timestamp=root)) == "already_pinned"
    await client.bookmarks_add(channel_id=cid, title="Doc", type="link", link="https://example.com")
    assert emu.channels[cid].bookmarks[0]["title"] == "Doc"
    assert await error_of(client.chat_update(channel=cid, ts="1.2", text="x")) == "message_not_found"


MARK = {"event_type": "warroom_incident_step", "event_payload": {"incident": "INC-1", "step": "summary"}}


async def test_message_metadata_is_stored_and_returned_only_when_asked(emu, client):
    cid = emu.add_channel("inc-1")
    posted = await client.chat_postMessage(channel=cid, text="summary", metadata=MARK)
    assert posted["message"]["metadata"] == MARK
    await client.chat_postMessage(channel=cid, text="no metadata")
    plain = await client.conversations_history(channel=cid)
    assert all("metadata" not in m for m in plain["messages"])
    full = await client.conversations_history(channel=cid, include_all_metadata=True)
    assert [m.get("metadata") for m in full["messages"]] == [None, MARK]
    replies = await client.conversations_replies(channel=cid, ts=posted["ts"], include_all_metadata=True)
    assert replies["messages"][0]["metadata"] == MARK
    bad = {"event_type": "has space", "event_payload": {}}
    assert await error_of(client.chat_postMessage(channel=cid, text="x", metadata=bad)) == "invalid_metadata_schema"


async def test_channel_creator_is_reported(emu, client):
    alice = emu.add_user("alice")
    theirs = emu.add_channel("inc-2-theirs", creator=alice)
    ours = (await client.conversations_create(name="inc-2-ours"))["channel"]["id"]
    info = await client.conversations_info(channel=theirs)
    assert info["channel"]["creator"] == alice
    listed = {c["id"]: c["creator"] for c in (await client.conversations_list(types="public_channel"))["channels"]}
    assert listed == {theirs: alice, ours: emu.bot_user_id}


async def test_a_hung_call_leaves_the_client_waiting_before_or_after_taking_effect(emu, client):
    before = emu.hang("conversations.create")
    call = asyncio.ensure_future(client.conversations_create(name="never-made"))
    assert (await before.wait_reached(5))["name"] == "never-made"
    await asyncio.sleep(0.05)
    assert not call.done() and emu.channel_by_name("never-made") is None
    before.release()
    assert await error_of(call) == "request_hung"
    assert emu.channel_by_name("never-made") is None

    after = emu.hang("conversations.create", after=True)
    call = asyncio.ensure_future(client.conversations_create(name="made-unseen"))
    await after.wait_reached(5)
    assert not call.done() and emu.channel_by_name("made-unseen") is not None
    after.release()
    await error_of(call)
    assert [(c.ok, c.error) for c in emu.calls_to("conversations.create")] == [(False, "request_hung"), (True, "reply_lost")]
    await client.conversations_create(name="answered")  # hangs are used up

    picky = emu.hang("chat.postMessage", when=lambda params: params.get("channel") == "C-target")
    await client.chat_postMessage(channel=emu.add_channel("elsewhere"), text="not this one")
    assert not picky.reached.is_set() and picky.times == 1
