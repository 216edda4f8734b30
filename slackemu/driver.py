"""Driver API: act as people in the workspace (commands, modals, clicks, messages, reactions)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from slackemu.state import Delivery, Message, View

if TYPE_CHECKING:
    from slackemu.emulator import SlackEmulator

INPUT_VALUE_TYPES = {"plain_text_input", "email_text_input", "url_text_input", "number_input"}


class DriverError(AssertionError):
    """The scripted person did something Slack's UI would not let them do."""


def _elements(blocks: list[dict]):
    """(block, element) pairs for every interactive element in `blocks`."""
    for block in blocks or []:
        if block.get("type") == "input" and block.get("element"):
            yield block, block["element"]
        elif block.get("type") == "actions":
            for el in block.get("elements", []):
                yield block, el
        elif block.get("type") == "section" and block.get("accessory"):
            yield block, block["accessory"]


def _options(el: dict) -> list[dict]:
    if "option_groups" in el:
        return [o for g in el["option_groups"] for o in g.get("options", [])]
    return el.get("options", [])


def _find_option(el: dict, value: str) -> dict:
    for opt in _options(el):
        if opt.get("value") == value:
            return opt
    raise DriverError(f"{el.get('action_id')}: {value!r} is not one of the offered options")


def _state_entry(el: dict, value: Any, *, initial: bool) -> dict:
    """Slack's view.state.values entry for element `el` holding `value` (or its initial value)."""
    kind = el["type"]
    entry: dict[str, Any] = {"type": kind}
    if kind in INPUT_VALUE_TYPES:
        entry["value"] = el.get("initial_value") if initial else (None if value is None else str(value))
    elif kind in ("static_select", "external_select", "radio_buttons"):
        entry["selected_option"] = el.get("initial_option") if initial else (
            None if value is None else _find_option(el, value))
    elif kind in ("multi_static_select", "checkboxes", "multi_external_select"):
        entry["selected_options"] = el.get("initial_options", []) if initial else [
            _find_option(el, v) for v in (value or [])]
    elif kind == "users_select":
        entry["selected_user"] = el.get("initial_user") if initial else value
    elif kind == "multi_users_select":
        entry["selected_users"] = el.get("initial_users", []) if initial else list(value or [])
    elif kind == "conversations_select":
        entry["selected_conversation"] = el.get("initial_conversation") if initial else value
    elif kind == "multi_conversations_select":
        entry["selected_conversations"] = el.get("initial_conversations", []) if initial else list(value or [])
    elif kind == "channels_select":
        entry["selected_channel"] = el.get("initial_channel") if initial else value
    elif kind == "multi_channels_select":
        entry["selected_channels"] = el.get("initial_channels", []) if initial else list(value or [])
    elif kind == "datepicker":
        entry["selected_date"] = el.get("initial_date") if initial else value
    elif kind == "timepicker":
        entry["selected_time"] = el.get("initial_time") if initial else value
    else:
        entry["value"] = value
    return entry


class DriverMixin:
    """Mixed into SlackEmulator: each method sends what Slack would and waits for the app's ack."""

    # ------------------------------------------------------------------ helpers
    def _user_obj(self: SlackEmulator, user: str) -> dict:
        u = self.users.get(user)
        if u is None:
            raise DriverError(f"unknown user {user}")
        return {"id": u.id, "username": u.name, "name": u.name, "team_id": self.team_id}

    def _new_trigger(self: SlackEmulator, user: str) -> str:
        trigger_id = f"{int(time.time())}.{self.new_id('')}.{self.new_id('trig')}"
        self.triggers[trigger_id] = {"user": user, "created": time.monotonic(), "used": False}
        return trigger_id

    def view_state(self, view: View, values: dict[str, Any] | None = None) -> dict:
        """Current `state.values` of a view: initial values, overridden by `values`.

        `values` maps block_id to a value, or to {action_id: value}.
        """
        values = dict(values or {})
        state: dict[str, dict] = {}
        for block, el in _elements(view.view.get("blocks", [])):
            if block.get("type") != "input" or "action_id" not in el:
                continue
            bid, aid = block.get("block_id"), el["action_id"]
            given = values.pop(bid, _MISSING)
            if isinstance(given, dict) and aid in given:
                given = given[aid]
            state.setdefault(bid, {})[aid] = _state_entry(el, None if given is _MISSING else given,
                                                          initial=given is _MISSING)
        if values:
            raise DriverError(f"no input blocks {sorted(values)} in view {view.id}")
        return state

    def _view_payload(self: SlackEmulator, view: View, state: dict) -> dict:
        data = dict(view.view)
        data.update({"id": view.id, "team_id": self.team_id, "state": {"values": state}, "hash": view.hash,
                     "root_view_id": view.root_view_id, "previous_view_id": view.previous_view_id,
                     "app_id": self.app_id, "bot_id": self.bot_id, "external_id": view.external_id or "",
                     "private_metadata": view.private_metadata, "callback_id": view.callback_id or ""})
        return data

    # ------------------------------------------------------------------ people's actions
    async def slash_command(self: SlackEmulator, user: str, command: str, text: str = "",
                            channel: str | None = None) -> Delivery:
        """Run a slash command in `channel` (default: the user's DM with the bot)."""
        channel = channel or self.channels_for_dm(user)
        ch = self.channels.get(channel)
        if ch is None:
            raise DriverError(f"unknown channel {channel}")
        trigger_id = self._new_trigger(user)
        response_url = self.new_response_url(user, channel)
        u = self.users[user]
        payload = {
            "token": "emulator", "team_id": self.team_id, "team_domain": "emulator", "channel_id": channel,
            "channel_name": ch.name if not ch.is_im else "directmessage", "user_id": user, "user_name": u.name,
            "command": command, "text": text, "api_app_id": self.app_id, "is_enterprise_install": "false",
            "response_url": response_url, "trigger_id": trigger_id,
        }
        envelope_id, ack, latency = await self.send_envelope("slash_commands", payload, accepts_response_payload=True)
        if ack and (ack.get("text") or ack.get("blocks")):
            self.ephemerals.append({"channel": channel, "user": user, "text": ack.get("text", ""),
                                    "blocks": ack.get("blocks"), "ts": self.new_ts()})
        return Delivery(envelope_id, ack, latency, trigger_id, response_url)

    def channels_for_dm(self: SlackEmulator, user: str) -> str:
        from slackemu.webapi import _open_im

        return _open_im(self, user).id

    async def submit_view(self: SlackEmulator, user: str, view_id: str, values: dict[str, Any] | None = None
                          ) -> Delivery:
        """Press the modal's submit button with `values` filled in (others keep their initial values)."""
        view = self.views.get(view_id)
        if view is None or view.state != "open":
            raise DriverError(f"view {view_id} is not open")
        if view.user != user:
            raise DriverError(f"view {view_id} belongs to {view.user}, not {user}")
        state = self.view_state(view, values)
        payload = {
            "type": "view_submission", "team": {"id": self.team_id, "domain": "emulator"},
            "user": self._user_obj(user), "api_app_id": self.app_id, "token": "emulator",
            "trigger_id": self._new_trigger(user), "view": self._view_payload(view, state),
            "response_urls": [], "is_enterprise_install": False,
        }
        envelope_id, ack, latency = await self.send_envelope("interactive", payload, accepts_response_payload=True)
        self._apply_response_action(view, ack)
        return Delivery(envelope_id, ack, latency)

    def _apply_response_action(self: SlackEmulator, view: View, ack: dict | None) -> None:
        from slackemu.webapi import _validate_view, _view_hash

        action = (ack or {}).get("response_action")
        if action == "errors":
            return
        if action == "update":
            view.view = _validate_view(ack["view"])
            view.hash = _view_hash(view.view)
            return
        if action == "push":
            vid = self.new_id("V")
            self.views[vid] = View(vid, view.user, "modal", _validate_view(ack["view"]), hash=_view_hash(ack["view"]),
                                   root_view_id=view.root_view_id, previous_view_id=view.id)
            return
        if action == "clear":
            for v in self.open_views(view.user):
                v.state = "closed"
            return
        view.state = "closed"

    async def close_view(self: SlackEmulator, user: str, view_id: str) -> None:
        """Press Cancel (no event unless the view asked for notify_on_close)."""
        view = self.views[view_id]
        view.state = "closed"
        if view.view.get("notify_on_close"):
            payload = {"type": "view_closed", "team": {"id": self.team_id}, "user": self._user_obj(user),
                       "api_app_id": self.app_id, "view": self._view_payload(view, self.view_state(view)),
                       "is_cleared": False}
            await self.send_envelope("interactive", payload)

    async def click(self: SlackEmulator, user: str, action_id: str, value: Any = None, *, view_id: str | None = None,
                    channel: str | None = None, message_ts: str | None = None, block_id: str | None = None
                    ) -> Delivery:
        """Click a button or pick an option (`value`) in a view or in a message."""
        if view_id:
            view = self.views.get(view_id)
            if view is None or view.state != "open" and view.type == "modal":
                raise DriverError(f"view {view_id} is not open")
            blocks, message = view.view.get("blocks", []), None
        else:
            ch = self.channels.get(channel or "")
            message = ch.find(message_ts) if ch and message_ts else None
            if message is None:
                raise DriverError(f"no message {message_ts} in {channel}")
            blocks, view = message.blocks or [], None
        found = [(b, el) for b, el in _elements(blocks)
                 if el.get("action_id") == action_id and (block_id is None or b.get("block_id") == block_id)]
        if not found:
            raise DriverError(f"no element with action_id {action_id!r}")
        block, el = found[0]
        action: dict[str, Any] = {"action_id": action_id, "block_id": block.get("block_id", ""), "type": el["type"],
                                  "action_ts": f"{time.time():.6f}"}
        if el["type"] == "button":
            action["value"] = el.get("value") if value is None else value
            action["text"] = el.get("text")
        else:
            action.update({k: v for k, v in _state_entry(el, value, initial=False).items() if k != "type"})
        trigger_id = self._new_trigger(user)
        payload: dict[str, Any] = {
            "type": "block_actions", "team": {"id": self.team_id, "domain": "emulator"},
            "user": self._user_obj(user), "api_app_id": self.app_id, "token": "emulator", "trigger_id": trigger_id,
            "actions": [action], "is_enterprise_install": False,
        }
        if view is not None:
            overrides = {}
            if block.get("type") == "input":
                overrides[block["block_id"]] = {action_id: value}
            state = self.view_state(view, overrides)
            payload["container"] = {"type": "view", "view_id": view.id}
            payload["view"] = self._view_payload(view, state)
        else:
            payload["container"] = {"type": "message", "message_ts": message.ts, "channel_id": channel,
                                    "is_ephemeral": False}
            payload["channel"] = {"id": channel, "name": self.channels[channel].name}
            payload["message"] = message.to_api()
            payload["response_url"] = self.new_response_url(user, channel)
        envelope_id, ack, latency = await self.send_envelope("interactive", payload)
        return Delivery(envelope_id, ack, latency, trigger_id, payload.get("response_url"))

    async def message_shortcut(self: SlackEmulator, user: str, callback_id: str, channel: str, message_ts: str
                               ) -> Delivery:
        """Pick an app shortcut from a message's menu."""
        ch = self.channels[channel]
        message = ch.find(message_ts)
        if message is None:
            raise DriverError(f"no message {message_ts} in {channel}")
        trigger_id = self._new_trigger(user)
        payload = {
            "type": "message_action", "callback_id": callback_id, "trigger_id": trigger_id,
            "team": {"id": self.team_id, "domain": "emulator"}, "user": self._user_obj(user),
            "channel": {"id": channel, "name": ch.name}, "message": message.to_api(), "message_ts": message.ts,
            "response_url": self.new_response_url(user, channel), "token": "emulator", "action_ts": f"{time.time():.6f}",
            "is_enterprise_install": False,
        }
        envelope_id, ack, latency = await self.send_envelope("interactive", payload)
        return Delivery(envelope_id, ack, latency, trigger_id, payload["response_url"])

    async def post_message(self: SlackEmulator, user: str, channel: str, text: str, thread_ts: str | None = None
                           ) -> str:
        """Post as a person; the app gets a `message` event if it is in the channel."""
        ch = self.channels.get(channel)
        if ch is None:
            raise DriverError(f"unknown channel {channel}")
        if user not in ch.members:
            raise DriverError(f"{user} is not in #{ch.name}")
        message = Message(self.new_ts(), user, text, thread_ts=thread_ts)
        ch.messages.append(message)
        if self.bot_user_id in ch.members:
            event = {"type": "message", "channel": channel, "user": user, "text": text, "ts": message.ts,
                     "channel_type": "im" if ch.is_im else ("group" if ch.is_private else "channel")}
            if thread_ts:
                event["thread_ts"] = thread_ts
            await self.emit_event(event)
        return message.ts

    async def _reaction(self: SlackEmulator, kind: str, user: str, channel: str, ts: str, name: str) -> None:
        ch = self.channels[channel]
        message = ch.find(ts)
        if message is None:
            raise DriverError(f"no message {ts} in {channel}")
        users = message.reactions.setdefault(name, [])
        if kind == "reaction_added":
            if user in users:
                raise DriverError(f"{user} already reacted :{name}:")
            users.append(user)
        else:
            if user not in users:
                raise DriverError(f"{user} has no :{name}: reaction")
            users.remove(user)
            if not users:
                del message.reactions[name]
        if self.bot_user_id in ch.members:
            await self.emit_event({"type": kind, "user": user, "reaction": name, "item_user": message.user,
                                   "item": {"type": "message", "channel": channel, "ts": ts}})

    async def react(self, user: str, channel: str, ts: str, name: str) -> None:
        await self._reaction("reaction_added", user, channel, ts, name)

    async def unreact(self, user: str, channel: str, ts: str, name: str) -> None:
        await self._reaction("reaction_removed", user, channel, ts, name)

    async def join(self: SlackEmulator, user: str, channel: str) -> None:
        ch = self.channels[channel]
        if ch.is_private:
            raise DriverError("people cannot join a private channel without an invitation")
        ch.members.add(user)
        if self.bot_user_id in ch.members:
            await self.emit_event({"type": "member_joined_channel", "user": user, "channel": channel,
                                   "channel_type": "C", "team": self.team_id})

    async def leave(self: SlackEmulator, user: str, channel: str) -> None:
        ch = self.channels[channel]
        ch.members.discard(user)
        if self.bot_user_id in ch.members:
            await self.emit_event({"type": "member_left_channel", "user": user, "channel": channel,
                                   "channel_type": "G" if ch.is_private else "C", "team": self.team_id})

    async def open_home(self: SlackEmulator, user: str) -> None:
        home = next((v for v in self.views.values() if v.type == "home" and v.user == user), None)
        event = {"type": "app_home_opened", "user": user, "channel": self.channels_for_dm(user), "tab": "home"}
        if home:
            event["view"] = self._view_payload(home, {})
        await self.emit_event(event)

    async def redeliver(self: SlackEmulator, envelope_id: str, reason: str = "timeout") -> Delivery:
        """Send an envelope again, as Slack does when it believes the ack was lost."""
        envelope = self.envelopes[envelope_id]
        attempt = envelope.get("retry_attempt", 0) + 1
        _, ack, latency = await self.send_envelope(
            envelope["type"], envelope["payload"], accepts_response_payload=envelope["accepts_response_payload"],
            envelope_id=envelope_id, retry_attempt=attempt, retry_reason=reason)
        return Delivery(envelope_id, ack, latency)


_MISSING = object()
