"""Driver API: act as people in the workspace (commands, modals, clicks, messages, reactions).

Each action sends what Slack would send over Socket Mode and returns once the app acked (TimeoutError
after `ack_timeout`). What Slack's UI would not let a person do raises DriverError.
"""

from __future__ import annotations

import time
from typing import Any

from emulators.slackemu.forms import MISSING, DriverError, client_checks, elements, find_option, state_entry
from emulators.slackemu.socket import SocketModeMixin
from emulators.slackemu.state import Delivery, Message, View
from emulators.slackemu.webapi import ApiError
from emulators.slackemu.webapi.common import open_im
from emulators.slackemu.webapi.views import PUSH_LIMIT, new_modal, validate_view, view_hash, view_response

__all__ = ["DriverError", "DriverMixin"]
RESPONSE_ACTIONS = {"errors", "update", "push", "clear"}


class DriverMixin(SocketModeMixin):
    """Mixed into SlackEmulator: people's actions, delivered to the app over Socket Mode."""

    # ------------------------------------------------------------------ helpers
    def _user_obj(self, user: str) -> dict:
        u = self.users.get(user)
        if u is None or u.deleted:
            raise DriverError(f"unknown user {user}")
        return {"id": u.id, "username": u.name, "name": u.name, "team_id": self.team_id}

    def _team(self) -> dict:
        return {"id": self.team_id, "domain": "emulator"}

    def _new_trigger(self, user: str) -> str:
        trigger_id = f"{int(time.time())}.{self.new_id('')}.{self.new_id('trig')}"
        self.triggers[trigger_id] = {"user": user, "created": time.monotonic(), "used": False}
        return trigger_id

    def _channel_for(self, channel: str) -> Any:
        ch = self.channels.get(channel or "")
        if ch is None:
            raise DriverError(f"unknown channel {channel}")
        return ch

    def view_state(self, view: View, values: dict[str, Any] | None = None) -> dict:
        """`state.values` of a view: initial values, overridden by `values` ({block_id: value | {action_id: value}})."""
        return self._fill(view, values)[0]

    def _fill(self, view: View, values: dict[str, Any] | None) -> tuple[dict, dict[str, str]]:
        """(state.values, {block_id: what Slack's client says under that input before sending anything})."""
        values = {**view.typed, **(values or {})}
        state: dict[str, dict] = {}
        problems: dict[str, str] = {}
        for block, el in elements(view.view.get("blocks", [])):
            if block.get("type") != "input" or "action_id" not in el:
                continue
            bid, aid = block.get("block_id"), el["action_id"]
            given = values.pop(bid, MISSING)
            if isinstance(given, dict) and aid in given:
                given = given[aid]
            entry = state_entry(el, None if given is MISSING else given, initial=given is MISSING,
                                known_user=lambda u: u in self.users,
                                known_channel=lambda c: c in self.channels)
            state.setdefault(bid, {})[aid] = entry
            problem = client_checks(block, el, entry)
            if problem:
                problems[bid] = problem
        if values:
            raise DriverError(f"no input blocks {sorted(values)} in view {view.id}")
        return state, problems

    def _view_payload(self, view: View, state: dict) -> dict:
        return view_response(self, view, state)

    def _open_view(self, user: str, view_id: str) -> View:
        view = self.views.get(view_id)
        if view is None or view.type != "modal" or view.state != "open":
            raise DriverError(f"view {view_id} is not an open modal")
        if view.user != user:
            raise DriverError(f"view {view_id} belongs to {view.user}, not {user}")
        return view

    # ------------------------------------------------------------------ slash commands and shortcuts
    async def slash_command(self, user: str, command: str, text: str = "",
                            channel: str | None = None) -> Delivery:
        """Run a slash command in `channel` (default: the user's DM with the bot)."""
        if not command.startswith("/"):
            raise DriverError(f"slash commands start with '/': {command!r}")
        self._user_obj(user)
        ch = self._channel_for(channel) if channel else open_im(self, user)
        if ch.is_archived:
            raise DriverError(f"#{ch.name} is archived: nobody can type in it")
        trigger_id = self._new_trigger(user)
        response_url = self.new_response_url(user, ch.id)
        u = self.users[user]
        payload = {
            "token": "emulator", "team_id": self.team_id, "team_domain": "emulator", "channel_id": ch.id,
            "channel_name": "directmessage" if ch.is_im else ("privategroup" if ch.is_private else ch.name),
            "user_id": user, "user_name": u.name, "command": command, "text": text, "api_app_id": self.app_id,
            "is_enterprise_install": "false", "response_url": response_url, "trigger_id": trigger_id,
        }
        envelope_id, ack, latency = await self.send_envelope("slash_commands", payload, accepts_response_payload=True)
        if ack and (ack.get("text") or ack.get("blocks")):
            self.respond({"user": user, "channel": ch.id}, ack)
        return Delivery(envelope_id, ack, latency, trigger_id, response_url)

    def channels_for_dm(self, user: str) -> str:
        return open_im(self, user).id

    async def message_shortcut(self, user: str, callback_id: str, channel: str, message_ts: str
                               ) -> Delivery:
        """Pick an app shortcut from a message's "more actions" menu."""
        ch = self._channel_for(channel)
        message = ch.find(message_ts)
        if message is None:
            raise DriverError(f"no message {message_ts} in {channel}")
        trigger_id = self._new_trigger(user)
        response_url = self.new_response_url(user, channel, message.ts)
        payload = {
            "type": "message_action", "callback_id": callback_id, "trigger_id": trigger_id, "team": self._team(),
            "user": self._user_obj(user), "channel": {"id": channel, "name": ch.name}, "message": message.to_api(),
            "message_ts": message.ts, "response_url": response_url, "token": "emulator",
            "action_ts": f"{time.time():.6f}", "is_enterprise_install": False, "api_app_id": self.app_id,
        }
        envelope_id, ack, latency = await self.send_envelope("interactive", payload)
        return Delivery(envelope_id, ack, latency, trigger_id, response_url)

    async def global_shortcut(self, user: str, callback_id: str) -> Delivery:
        """Pick a global shortcut from the shortcuts menu."""
        trigger_id = self._new_trigger(user)
        payload = {"type": "shortcut", "callback_id": callback_id, "trigger_id": trigger_id, "team": self._team(),
                   "user": self._user_obj(user), "token": "emulator", "action_ts": f"{time.time():.6f}",
                   "is_enterprise_install": False, "api_app_id": self.app_id}
        envelope_id, ack, latency = await self.send_envelope("interactive", payload)
        return Delivery(envelope_id, ack, latency, trigger_id)

    # ------------------------------------------------------------------ modals
    def type_in(self, user: str, view_id: str, values: dict[str, Any]) -> None:
        """Type into inputs of an open modal without submitting (Slack tells the app nothing): `values` as for
        `submit_view`. What was typed is sent with later clicks and the submission, and survives views.update
        for inputs whose block_id and action_id stay the same, as in Slack's client."""
        view = self._open_view(user, view_id)
        inputs = {b.get("block_id"): (b.get("element") or {}).get("action_id")
                  for b in view.view.get("blocks", []) if b.get("type") == "input"}
        for bid, value in values.items():
            if bid not in inputs:
                raise DriverError(f"no input block {bid!r} in view {view_id}")
            aid = inputs[bid]
            view.typed[bid] = dict(value) if isinstance(value, dict) else {aid: value}

    async def submit_view(self, user: str, view_id: str, values: dict[str, Any] | None = None
                          ) -> Delivery:
        """Fill in `values` and press the modal's submit button (untouched inputs keep their initial value).

        If Slack's client would refuse the values (empty required input, too long, bad email/URL/number),
        nothing reaches the app: the Delivery has `sent=False` and the client's errors as an `errors`
        response_action. Otherwise apply the app's response_action like Slack: errors (stays open),
        update, push, clear; an empty ack closes the view.
        """
        view = self._open_view(user, view_id)
        stack = self.open_views(user)
        if stack and stack[-1].id != view.id:
            raise DriverError(f"view {view_id} is under {stack[-1].id}: only the top view can be submitted")
        if "submit" not in view.view:
            raise DriverError(f"view {view_id} has no submit button")
        state, problems = self._fill(view, values)
        if problems and self.client_validation:
            # Slack's client shows these under the inputs and sends nothing to the app.
            self.client_rejections.append({"view_id": view.id, "user": user, "errors": problems})
            return Delivery("", {"response_action": "errors", "errors": problems}, 0.0, sent=False)
        payload = {
            "type": "view_submission", "team": self._team(), "user": self._user_obj(user),
            "api_app_id": self.app_id, "token": "emulator", "trigger_id": self._new_trigger(user),
            "view": self._view_payload(view, state), "response_urls": [], "is_enterprise_install": False,
            "enterprise": None,
        }
        envelope_id, ack, latency = await self.send_envelope("interactive", payload, accepts_response_payload=True)
        self._apply_response_action(view, ack)
        return Delivery(envelope_id, ack, latency)

    def _apply_response_action(self, view: View, ack: dict | None) -> None:
        action = (ack or {}).get("response_action")
        if action is None:
            view.state = "closed"
            return
        if action not in RESPONSE_ACTIONS:
            raise DriverError(f"Slack would show 'We had some trouble connecting': unknown response_action {action!r}")
        if action == "errors":
            errors = ack.get("errors")
            inputs = {b.get("block_id") for b in view.view.get("blocks", []) if b.get("type") == "input"}
            if not isinstance(errors, dict) or not errors or set(errors) - inputs:
                raise DriverError("Slack would show 'We had some trouble connecting': response_action errors must "
                                  f"map input block_ids {sorted(inputs)} to messages, got {errors!r}")
            return
        if action == "clear":
            for v in self.open_views(view.user):
                v.state = "closed"
            return
        try:
            new = validate_view(ack.get("view"))
        except ApiError as exc:
            raise DriverError(f"Slack would reject the response_action {action} view: {exc.messages}") from None
        if action == "update":
            view.view, view.hash = new, view_hash(new)
            view.keep_typed()
        elif len(self.open_views(view.user)) >= PUSH_LIMIT:
            raise DriverError("Slack would reject the push: a modal stack holds at most 3 views")
        else:
            new_modal(self, view.user, new, parent=view)

    async def close_view(self, user: str, view_id: str) -> Delivery | None:
        """Press Cancel: closes the view (the stack with clear_on_close); view_closed if notify_on_close."""
        view = self._open_view(user, view_id)
        cleared = bool(view.view.get("clear_on_close"))
        for v in (self.open_views(user) if cleared else [view]):
            v.state = "closed"
        if not view.view.get("notify_on_close"):
            return None
        payload = {"type": "view_closed", "team": self._team(), "user": self._user_obj(user),
                   "api_app_id": self.app_id, "view": self._view_payload(view, self.view_state(view)),
                   "is_cleared": cleared, "is_enterprise_install": False}
        envelope_id, ack, latency = await self.send_envelope("interactive", payload)
        return Delivery(envelope_id, ack, latency)

    # ------------------------------------------------------------------ clicks
    async def click(self, user: str, action_id: str, value: Any = None, *, view_id: str | None = None,
                    channel: str | None = None, message_ts: str | None = None, block_id: str | None = None
                    ) -> Delivery:
        """Click a button or pick an option (`value`) in a view (modal or home) or in a message."""
        message = view = None
        if view_id:
            view = self.views.get(view_id)
            if view is None or view.user != user or (view.type == "modal" and view.state != "open"):
                raise DriverError(f"view {view_id} is not open for {user}")
            blocks = view.view.get("blocks", [])
        else:
            ch = self._channel_for(channel)
            message = ch.find(message_ts) if message_ts else None
            ephemeral = None if message is not None else next(
                (e for e in self.ephemerals if e.get("ts") == message_ts and e["channel"] == channel and e["user"] == user),
                None)  # only its recipient sees (and can click) an ephemeral message
            if message is None and ephemeral is None:
                raise DriverError(f"no message {message_ts} in {channel}")
            if user not in ch.members and (ch.is_private or ch.is_im):
                raise DriverError(f"{user} cannot see #{ch.name}")
            blocks = (message.blocks if message is not None else ephemeral["blocks"]) or []
        found = [(b, el) for b, el in elements(blocks)
                 if el.get("action_id") == action_id and (block_id is None or b.get("block_id") == block_id)]
        if not found:
            raise DriverError(f"no element with action_id {action_id!r}")
        block, el = found[0]
        action: dict[str, Any] = {"action_id": action_id, "block_id": block.get("block_id", ""), "type": el["type"],
                                  "action_ts": f"{time.time():.6f}"}
        if el["type"] == "button":
            button_value = el.get("value") if value is None else value  # a value override stands for a stale button
            if button_value is not None:
                action["value"] = button_value
            action["text"] = el.get("text")
            if el.get("style"):
                action["style"] = el["style"]
        elif el["type"] == "overflow":
            action["selected_option"] = find_option({**el, "type": "static_select"}, value)
        else:
            entry = state_entry(el, value, initial=False, known_user=lambda u: u in self.users,
                                known_channel=lambda c: c in self.channels)
            action.update({k: v for k, v in entry.items() if k != "type"})
        trigger_id = self._new_trigger(user)
        payload: dict[str, Any] = {
            "type": "block_actions", "team": self._team(), "user": self._user_obj(user), "api_app_id": self.app_id,
            "token": "emulator", "trigger_id": trigger_id, "actions": [action], "is_enterprise_install": False,
        }
        if view is not None:
            overrides = {block["block_id"]: {action_id: value}} if block.get("type") == "input" else {}
            payload["container"] = {"type": "view", "view_id": view.id}
            payload["view"] = self._view_payload(view, self.view_state(view, overrides))
        else:
            payload["container"] = {"type": "message", "message_ts": message_ts, "channel_id": channel,
                                    "is_ephemeral": message is None}
            payload["channel"] = {"id": channel, "name": self.channels[channel].name}
            if message is not None:  # Slack sends no copy of an ephemeral message
                payload["message"] = message.to_api()
            payload["state"] = {"values": {}}
            payload["response_url"] = self.new_response_url(user, channel, message_ts if message else None)
        envelope_id, ack, latency = await self.send_envelope("interactive", payload)
        return Delivery(envelope_id, ack, latency, trigger_id, payload.get("response_url"))

    async def type_ahead(self, user: str, view_id: str, action_id: str, query: str) -> list[dict]:
        """Type `query` into an external select of an open modal: the options the app answers (block_suggestion).

        Slack asks only once `min_query_length` characters are typed (default 3) and shows at most 100 options.
        """
        view = self._open_view(user, view_id)
        found = [(b, el) for b, el in elements(view.view.get("blocks", []))
                 if el.get("action_id") == action_id and el["type"] in ("external_select", "multi_external_select")]
        if not found:
            raise DriverError(f"no external select with action_id {action_id!r} in view {view_id}")
        block, el = found[0]
        if len(query) < el.get("min_query_length", 3):
            return []
        payload = {
            "type": "block_suggestion", "user": self._user_obj(user), "team": self._team(), "api_app_id": self.app_id,
            "token": "emulator", "container": {"type": "view", "view_id": view.id}, "action_id": action_id,
            "block_id": block.get("block_id", ""), "value": query, "view": self._view_payload(view, self.view_state(view)),
            "is_enterprise_install": False,
        }
        _, ack, _ = await self.send_envelope("interactive", payload, accepts_response_payload=True)
        options = (ack or {}).get("options")
        if not isinstance(options, list) or len(options) > 100:
            raise DriverError(f"Slack would show no options: the app answered {ack!r}")
        return options

    # ------------------------------------------------------------------ messages, reactions, membership
    async def post_message(self, user: str, channel: str, text: str, thread_ts: str | None = None
                           ) -> str:
        """Post as a person; the app gets a `message` event if it is in the channel. Returns the ts."""
        ch = self._channel_for(channel)
        if user not in ch.members:
            raise DriverError(f"{user} is not in #{ch.name}")
        if ch.is_archived:
            raise DriverError(f"#{ch.name} is archived")
        parent = ch.find(thread_ts) if thread_ts else None
        if thread_ts and parent is None:
            raise DriverError(f"no message {thread_ts} in {channel} to reply to")
        if parent is not None and parent.thread_ts and parent.thread_ts != parent.ts:
            thread_ts = parent.thread_ts  # replying "in thread" to a reply lands in the parent's thread
            parent = ch.find(thread_ts)
        message = Message(self.new_ts(), user, text, thread_ts=thread_ts)
        ch.messages.append(message)
        if self.bot_user_id in ch.members:
            event = {"type": "message", "channel": channel, "user": user, "text": text, "ts": message.ts,
                     "team": self.team_id, "event_ts": message.ts,
                     "channel_type": "im" if ch.is_im else ("group" if ch.is_private else "channel")}
            if thread_ts:
                event["thread_ts"] = thread_ts
                event["parent_user_id"] = parent.user if parent else None
            await self.emit_event(event)
        return message.ts

    async def _reaction(self, kind: str, user: str, channel: str, ts: str, name: str) -> None:
        ch = self._channel_for(channel)
        message = ch.find(ts)
        if message is None:
            raise DriverError(f"no message {ts} in {channel}")
        if name.startswith(":") or " " in name:
            raise DriverError(f"emoji names have no colons or spaces: {name!r}")
        users = message.reactions.setdefault(name, [])
        if kind == "reaction_added":
            if user in users:
                message.reactions[name] = users
                raise DriverError(f"{user} already reacted :{name}:")
            users.append(user)
        else:
            if user not in users:
                if not users:
                    del message.reactions[name]
                raise DriverError(f"{user} has no :{name}: reaction")
            users.remove(user)
            if not users:
                del message.reactions[name]
        if self.bot_user_id in ch.members:
            await self.emit_event({"type": kind, "user": user, "reaction": name, "item_user": message.user,
                                   "item": {"type": "message", "channel": channel, "ts": ts}})

    async def react(self, user: str, channel: str, ts: str, name: str) -> None:
        """Add emoji reaction `name` (no colons) to message `ts`."""
        await self._reaction("reaction_added", user, channel, ts, name)

    async def unreact(self, user: str, channel: str, ts: str, name: str) -> None:
        await self._reaction("reaction_removed", user, channel, ts, name)

    async def join(self, user: str, channel: str) -> None:
        """Join a public channel (no-op if already a member, as in Slack)."""
        ch = self._channel_for(channel)
        if ch.is_private or ch.is_im:
            raise DriverError("people cannot join a private channel without an invitation")
        if ch.is_archived:
            raise DriverError(f"#{ch.name} is archived")
        if user in ch.members:
            return
        ch.members.add(user)
        # Slack says so in the channel: a `channel_join` message, which history lists
        ch.messages.append(Message(self.new_ts(), user, f"<@{user}> has joined the channel", subtype="channel_join"))
        if self.bot_user_id in ch.members:
            await self.emit_event({"type": "member_joined_channel", "user": user, "channel": channel,
                                   "channel_type": ch.type_code, "team": self.team_id})

    async def leave(self, user: str, channel: str) -> None:
        """Leave a channel (no-op if not a member)."""
        ch = self._channel_for(channel)
        if user not in ch.members:
            return
        ch.members.discard(user)
        if self.bot_user_id in ch.members:
            await self.emit_event({"type": "member_left_channel", "user": user, "channel": channel,
                                   "channel_type": ch.type_code, "team": self.team_id})

    async def open_home(self, user: str) -> None:
        """Open the app's Home tab: app_home_opened (with the published view, if any)."""
        home = next((v for v in self.views.values() if v.type == "home" and v.user == user), None)
        event = {"type": "app_home_opened", "user": user, "channel": open_im(self, user).id, "tab": "home"}
        if home:
            event["view"] = self._view_payload(home, {})
        await self.emit_event(event)

    async def redeliver(self, envelope_id: str, reason: str = "timeout") -> Delivery:
        """Send an envelope again with retry_attempt/retry_reason, as Slack does when an ack was lost."""
        envelope = self.envelopes[envelope_id]
        attempt = envelope.get("retry_attempt", 0) + 1
        _, ack, latency = await self.send_envelope(
            envelope["type"], envelope["payload"], accepts_response_payload=envelope["accepts_response_payload"],
            envelope_id=envelope_id, retry_attempt=attempt, retry_reason=reason)
        return Delivery(envelope_id, ack, latency)
