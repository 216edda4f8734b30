"""Web API behaviour beyond single refusals: visibility, pagination, tokens, views, response_url."""

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient


async def error_of(coro) -> str:
    with pytest.raises(SlackApiError) as exc:
        await coro
    return exc.value.response["error"]


def modal(title: str = "Report", **extra) -> dict:
    return {"type": "modal", "title": {"type": "plain_text", "text": title}, "blocks": [], **extra}


async def test_token_types(emu):
    app_token_client = AsyncWebClient(token=emu.app_token, base_url=emu.api_url)
    assert await error_of(app_token_client.chat_postMessage(channel="C1", text="x")) == "not_allowed_token_type"
    bot = AsyncWebClient(token=emu.bot_token, base_url=emu.api_url)
    assert await error_of(bot.apps_connections_open(app_token=emu.bot_token)) == "not_allowed_token_type"
    assert (await app_token_client.apps_connections_open(app_token=emu.app_token))["url"].startswith("ws://127.0.0.1")
    assert await error_of(AsyncWebClient(base_url=emu.api_url).auth_test()) == "not_authed"


async def test_private_channels_are_invisible_to_a_bot_outside_them(emu, client):
    alice = emu.add_user("alice")
    secret = emu.add_channel("secret", members=[alice], is_private=True, bot_member=False)
    mine = emu.add_channel("mine", is_private=True)
    assert await error_of(client.conversations_info(channel=secret)) == "channel_not_found"
    assert await error_of(client.conversations_invite(channel=secret, users=alice)) == "channel_not_found"
    listed = await client.conversations_list(types="public_channel,private_channel")
    assert {c["id"] for c in listed["channels"]} == {mine}
    assert (await client.conversations_list())["channels"] == [], "default types is public_channel only"


async def test_lists_paginate_with_cursors(emu, client):
    for i in range(5):
        emu.add_channel(f"c{i}")
    first = await client.conversations_list(limit=2)
    assert len(first["channels"]) == 2 and first["response_metadata"]["next_cursor"]
    seen = []
    async for page in await client.conversations_list(limit=2):
        seen += [c["name"] for c in page["channels"]]
    assert seen == [f"c{i}" for i in range(5)]


async def test_history_pages_newest_first(emu, client):
    cid = emu.add_channel("general")
    posted = [(await client.chat_postMessage(channel=cid, text=str(i)))["ts"] for i in range(3)]
    page = await client.conversations_history(channel=cid, limit=2)
    assert [m["ts"] for m in page["messages"]] == posted[:0:-1] and page["has_more"]
    rest = await client.conversations_history(channel=cid, limit=2, cursor=page["response_metadata"]["next_cursor"])
    assert [m["ts"] for m in rest["messages"]] == [posted[0]] and not rest["has_more"]


async def test_join_is_idempotent_with_a_warning_and_archived_channels_refuse(emu, client):
    cid = emu.add_channel("random", bot_member=False)
    assert "warning" not in await client.conversations_join(channel=cid)
    again = await client.conversations_join(channel=cid)
    assert again["warning"] == "already_in_channel"
    await client.conversations_archive(channel=cid)
    assert await error_of(client.conversations_join(channel=cid)) == "is_archived"
    assert await error_of(client.conversations_setTopic(channel=cid, topic="x")) == "is_archived"
    assert await error_of(client.conversations_archive(channel=emu.add_channel("general"))) == "cant_archive_general"


async def test_post_by_name_update_needs_content_and_reactions_need_bare_names(emu, client):
    cid = emu.add_channel("ops")
    ts = (await client.chat_postMessage(channel="#ops", text="hi"))["ts"]
    assert emu.channels[cid].messages[0].ts == ts
    assert await error_of(client.api_call("chat.update", json={"channel": cid, "ts": ts})) == "no_text"
    assert await error_of(client.reactions_add(channel=cid, timestamp=ts, name=":eyes:")) == "invalid_name"
    assert await error_of(client.reactions_remove(channel=cid, timestamp=ts, name="eyes")) == "no_reaction"
    assert await error_of(client.chat_postMessage(channel=cid, text="x", blocks="not json")) == "invalid_blocks_format"


async def test_deleted_users_are_still_described_but_cannot_be_invited(emu, client):
    gone = emu.add_user("gone")
    emu.users[gone].deleted = True
    assert (await client.users_info(user=gone))["user"]["deleted"] is True
    assert await error_of(client.conversations_invite(channel=emu.add_channel("x"), users=gone)) == "user_not_found"
    assert (await client.users_info(user=emu.add_user("ann", tz="Asia/Kolkata")))["user"]["tz_offset"] == 19800


async def test_views_update_hash_push_limit_and_external_ids(emu, client):
    alice = emu.add_user("alice")
    opened = (await client.views_open(trigger_id=emu._new_trigger(alice), view=modal(external_id="ext-1")))["view"]
    assert await error_of(client.views_open(trigger_id=emu._new_trigger(alice), view=modal(external_id="ext-1"))
                          ) == "duplicate_external_id"
    assert await error_of(client.views_update(view_id=opened["id"], hash="stale", view=modal("New"))) == "hash_conflict"
    updated = await client.views_update(external_id="ext-1", hash=opened["hash"], view=modal("New"))
    assert emu.views[opened["id"]].view["title"]["text"] == "New" and updated["view"]["hash"] != opened["hash"]
    for _ in range(2):
        await client.views_push(trigger_id=emu._new_trigger(alice), view=modal())
    assert len(emu.open_views(alice)) == 3
    assert await error_of(client.views_push(trigger_id=emu._new_trigger(alice), view=modal())) == "push_limit_reached"
    assert await error_of(client.views_open(trigger_id=emu._new_trigger(alice), view={"type": "home", "blocks": []})
                          ) == "invalid_arguments"
    await client.views_publish(user_id=alice, view={"type": "home", "blocks": []})
    assert [v.type for v in emu.views.values()].count("home") == 1


async def test_response_url_replace_delete_and_use_limit(emu):
    alice = emu.add_user("alice")
    cid = emu.add_channel("general", members=[alice])
    client = AsyncWebClient(token=emu.bot_token, base_url=emu.api_url)
    ts = (await client.chat_postMessage(channel=cid, text="original"))["ts"]
    url = emu.new_response_url(alice, cid, ts)
    async with aiohttp.ClientSession() as http:
        async def post(body):
            async with http.post(url, json=body) as resp:
                return resp.status
        assert await post({"replace_original": True, "text": "replaced"}) == 200
        assert emu.channels[cid].find(ts).text == "replaced"
        assert await post({"text": "x", "blocks": [{"type": "bogus"}]}) == 200
        assert emu.calls_to("response_url")[-1].error == "invalid_blocks"
        assert await post({"response_type": "in_channel", "text": "for all"}) == 200
        assert emu.channels[cid].messages[-1].text == "for all"
        assert await post({"text": "only you"}) == 200
        assert emu.ephemerals[-1]["user"] == alice
        assert await post({"delete_original": True}) == 200
        assert emu.channels[cid].find(ts) is None
        assert await post({"text": "fifth"}) == 200
        assert await post({"text": "sixth"}) == 404, "a response_url works five times"


async def test_wildcard_injection_and_records(emu, client):
    emu.inject("*", error="fatal_error", times=2)
    assert await error_of(client.auth_test()) == "fatal_error"
    assert await error_of(client.users_list()) == "fatal_error"
    assert (await client.auth_test())["ok"]
    assert [(c.method, c.ok) for c in emu.calls] == [("auth.test", False), ("users.list", False), ("auth.test", True)]
    with pytest.raises(ValueError):
        emu.inject("auth.test")


async def test_typed_input_survives_views_update_only_where_block_and_action_ids_stay(emu, client):
    """Slack's client keeps what a person typed in an input whose block_id and action_id are unchanged by
    views.update (ignoring a new initial_value); an input with a new block_id shows its initial value."""
    alice = emu.add_user("alice")

    def form(suffix: str, initial: str) -> dict:
        return modal(submit={"type": "plain_text", "text": "Save"}, blocks=[
            {"type": "input", "block_id": "kept", "label": {"type": "plain_text", "text": "Kept"},
             "element": {"type": "plain_text_input", "action_id": "kept", "initial_value": initial}},
            {"type": "input", "block_id": f"new{suffix}", "label": {"type": "plain_text", "text": "New"},
             "element": {"type": "plain_text_input", "action_id": "new", "initial_value": initial}}])

    opened = (await client.views_open(trigger_id=emu._new_trigger(alice), view=form("", "first")))["view"]
    emu.type_in(alice, opened["id"], {"kept": "typed by alice", "new": "typed too"})
    await client.views_update(view_id=opened["id"], view=form("", "second"))
    state = emu.view_state(emu.views[opened["id"]])
    assert state["kept"]["kept"]["value"] == "typed by alice" and state["new"]["new"]["value"] == "typed too"
    await client.views_update(view_id=opened["id"], view=form(".1", "third"))
    state = emu.view_state(emu.views[opened["id"]])
    assert state["kept"]["kept"]["value"] == "typed by alice" and state["new.1"]["new"]["value"] == "third"
