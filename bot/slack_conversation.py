"""ConversationPort on Slack's Web API (slack_sdk AsyncWebClient)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack_errors import slack_call
from domain.config.profile import ProfileFieldsConfig
from domain.core.notices import Notice
from domain.core.ports import (
    ChannelRef,
    ChatMessage,
    HistoryMessage,
    HistoryPage,
    MessageRef,
    PortError,
    StepMark,
    UserProfile,
)
from modals.renderers import render

log = logging.getLogger(__name__)
# How Slack may refuse conversations.replies to a bot token in a channel: its method page says bot tokens
# "lack sufficient permissions" there, while the channels:history scope page lists the method for bot tokens.
REPLIES_REFUSED = ("missing_scope", "not_allowed_token_type", "no_permission", "access_denied")
STEP_EVENT_TYPE = "warroom_incident_step"  # message metadata `event_type` of set-up step marks
LIST_PAGES = 20  # conversations.list pages (1000 channels each) searched by find_channel
HISTORY_PAGES = 5  # conversations.history pages (200 messages each) searched by find_marked


def _channel_ref(channel: dict) -> ChannelRef:
    created = channel.get("created")
    return ChannelRef(channel["id"], channel["name"], datetime.fromtimestamp(created, UTC) if created else None)


HISTORY_PAGE = 999  # Slack's largest page for conversations.history/replies


def _page(resp) -> HistoryPage:
    messages = [
        HistoryMessage(m["ts"], m.get("user"), bot=bool(m.get("bot_id")) or m.get("subtype") == "bot_message",
                       subtype=m.get("subtype"), thread_ts=m.get("thread_ts"), latest_reply=m.get("latest_reply"),
                       text=m.get("text") or "")
        for m in resp.get("messages", [])
    ]
    cursor = (resp.get("response_metadata") or {}).get("next_cursor") or None
    return HistoryPage(messages, cursor if resp.get("has_more", True) else None)


def _chat_message(channel_id: str, ts: str, resp) -> ChatMessage | None:
    for m in resp.get("messages", []):
        if m.get("ts") == ts:
            reactions = {r["name"]: list(r.get("users", [])) for r in m.get("reactions", [])}
            return ChatMessage(channel_id, ts, m.get("user"), m.get("text") or "", m.get("thread_ts"), reactions)
    return None


def step_metadata(mark: StepMark) -> dict:
    """Slack message metadata carrying a set-up step mark."""
    return {"event_type": STEP_EVENT_TYPE, "event_payload": {"incident": mark.incident, "step": mark.step}}


class SlackConversation:
    """Slack adapter. `workspace_url` and `bot_user_id` (from auth.test) spare extra API calls;
    without `bot_user_id`, auth.test is asked once when first needed."""

    def __init__(self, client: AsyncWebClient, workspace_url: str = "https://slack.com/",
                 bot_user_id: str | None = None, profile_fields: ProfileFieldsConfig | None = None) -> None:
        self.client = client
        self.replies_refused = False  # Slack refused conversations.replies to this token: don't ask again
        self.workspace_url = workspace_url if workspace_url.endswith("/") else workspace_url + "/"
        self.bot_user_id = bot_user_id
        self.profile_fields = profile_fields or ProfileFieldsConfig()

    async def _bot_user(self) -> str:
        if self.bot_user_id is None:
            self.bot_user_id = (await self._call("auth_test"))["user_id"]
        return self.bot_user_id

    async def _call(self, method: str, **kwargs):
        # A 5xx with a text or HTML body, a dropped connection or a timeout all end as a PortError,
        # so every caller's fallback (DM instead of ephemeral, "try again") still runs.
        return await slack_call(getattr(self.client, method)(**kwargs))

    async def get_user(self, user_id: str) -> UserProfile:
        user = (await self._call("users_info", user=user_id))["user"]
        profile = user.get("profile") or {}
        name = profile.get("display_name") or user.get("real_name") or profile.get("real_name") or user.get("name")
        team, department = await self._profile_fields(user_id)
        return UserProfile(user_id, name or user_id, profile.get("email"), user.get("tz") or "UTC", team, department)

    async def _profile_fields(self, user_id: str) -> tuple[str | None, str | None]:
        """(team, department) from the custom profile fields configured (`users.profile.get`: users.info does not
        carry custom fields); (None, None) when none is configured or Slack will not say."""
        wanted = self.profile_fields
        if not wanted.wanted:
            return None, None
        try:
            fields = ((await self._call("users_profile_get", user=user_id)).get("profile") or {}).get("fields") or {}
        except PortError as exc:
            log.warning("profile fields of %s unavailable: %s", user_id, exc.code)
            return None, None

        def value(field_id: str | None) -> str | None:
            entry = fields.get(field_id) if field_id else None
            text = entry.get("value") if isinstance(entry, dict) else None
            return text.strip() or None if isinstance(text, str) else None

        return value(wanted.team), value(wanted.department)

    async def user_id_by_email(self, email: str) -> str | None:
        """The Slack user with this email, None when there is none (how pager accounts meet Slack people)."""
        try:
            return (await self._call("users_lookupByEmail", email=email))["user"]["id"]
        except PortError as exc:
            if exc.code.endswith("_not_found"):  # users_not_found
                return None
            raise

    async def get_message(self, channel_id: str, ts: str) -> ChatMessage | None:
        # conversations.replies finds a message whether it is top-level or a thread reply (history would
        # return the channel's latest top-level message for a reply's ts). Should Slack refuse it to the bot
        # token, conversations.history (latest=ts, inclusive) still finds top-level messages.
        if not self.replies_refused:
            try:
                resp = await self._call("conversations_replies", channel=channel_id, ts=ts, latest=ts, inclusive=True)
            except PortError as exc:
                if exc.code in ("thread_not_found", "message_not_found"):
                    return None
                if exc.code not in REPLIES_REFUSED:
                    raise
                self._refuse_replies(exc.code)
            else:
                return _chat_message(channel_id, ts, resp)
        resp = await self._call("conversations_history", channel=channel_id, latest=ts, inclusive=True, limit=1)
        return _chat_message(channel_id, ts, resp)

    def _refuse_replies(self, code: str) -> None:
        log.warning("Slack refuses conversations.replies to the bot token (%s): timeline reactions on thread replies "
                    "are not captured (the Add to timeline shortcut still works) and cost polling skips thread "
                    "replies; top-level messages are read with conversations.history", code)
        self.replies_refused = True

    async def history(self, channel_id: str, *, oldest: str | None = None, cursor: str | None = None) -> HistoryPage:
        resp = await self._call("conversations_history", channel=channel_id, oldest=oldest, cursor=cursor,
                                limit=HISTORY_PAGE)
        return _page(resp)

    async def replies(self, channel_id: str, thread_ts: str, *, oldest: str | None = None,
                      cursor: str | None = None) -> HistoryPage:
        if self.replies_refused:
            return HistoryPage([])
        try:
            resp = await self._call("conversations_replies", channel=channel_id, ts=thread_ts, oldest=oldest,
                                    cursor=cursor, limit=HISTORY_PAGE)
        except PortError as exc:
            if exc.code in ("thread_not_found", "message_not_found"):
                return HistoryPage([])
            if exc.code in REPLIES_REFUSED:
                self._refuse_replies(exc.code)
                return HistoryPage([])
            raise
        return _page(resp)

    async def react(self, channel_id: str, ts: str, name: str, *, remove: bool = False) -> None:
        try:
            method = "reactions_remove" if remove else "reactions_add"
            await self._call(method, channel=channel_id, timestamp=ts, name=name)
        except PortError as exc:
            if exc.code not in ("already_reacted", "no_reaction"):
                raise

    async def create_channel(self, name: str, *, private: bool) -> ChannelRef:
        return _channel_ref((await self._call("conversations_create", name=name, is_private=private))["channel"])

    async def find_channel(self, name: str) -> ChannelRef | None:
        # Slack has no lookup by name: page through the channels the bot can see (its private ones too).
        me = await self._bot_user()
        cursor = None
        for _ in range(LIST_PAGES):
            resp = await self._call("conversations_list", types="public_channel,private_channel",
                                    exclude_archived=True, limit=1000, **({"cursor": cursor} if cursor else {}))
            for channel in resp.get("channels", []):
                if channel.get("name") == name and channel.get("creator") == me and not channel.get("is_archived"):
                    return _channel_ref(channel)
            cursor = (resp.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return None

    async def is_private(self, channel_id: str) -> bool:
        channel = (await self._call("conversations_info", channel=channel_id))["channel"]
        return bool(channel.get("is_private"))

    async def invite(self, channel_id: str, user_ids: list[str]) -> None:
        try:
            await self._call("conversations_invite", channel=channel_id, users=",".join(user_ids))
        except PortError as exc:
            if exc.code != "already_in_channel":
                raise

    async def set_topic(self, channel_id: str, topic: str) -> None:
        await self._call("conversations_setTopic", channel=channel_id, topic=topic)

    async def add_bookmark(self, channel_id: str, title: str, link: str, *, if_missing: bool = False) -> None:
        if if_missing:
            existing = (await self._call("bookmarks_list", channel_id=channel_id)).get("bookmarks", [])
            if any(b.get("link") == link for b in existing):
                return
        await self._call("bookmarks_add", channel_id=channel_id, title=title, type="link", link=link)

    async def post(self, channel_id: str, notice: Notice, *, thread_ts: str | None = None,
                   mark: StepMark | None = None) -> MessageRef:
        text, blocks = render(notice)
        extra: dict = {"thread_ts": thread_ts} if thread_ts else {}
        if mark is not None:
            extra["metadata"] = step_metadata(mark)
        resp = await self._call("chat_postMessage", channel=channel_id, text=text, blocks=blocks, **extra)
        return MessageRef(resp["channel"], resp["ts"], self.message_link(resp["channel"], resp["ts"]))

    async def find_marked(self, channel_id: str, mark: StepMark) -> MessageRef | None:
        me, wanted = await self._bot_user(), step_metadata(mark)
        cursor = None
        for _ in range(HISTORY_PAGES):
            resp = await self._call("conversations_history", channel=channel_id, include_all_metadata=True, limit=200,
                                    **({"cursor": cursor} if cursor else {}))
            for m in resp.get("messages", []):
                metadata = m.get("metadata") or {}
                if (m.get("user") == me and metadata.get("event_type") == wanted["event_type"]
                        and metadata.get("event_payload") == wanted["event_payload"]):
                    return MessageRef(channel_id, m["ts"], self.message_link(channel_id, m["ts"]))
            cursor = (resp.get("response_metadata") or {}).get("next_cursor")
            if not resp.get("has_more") or not cursor:
                break
        return None

    async def rename_channel(self, channel_id: str, name: str) -> ChannelRef:
        channel = (await self._call("conversations_rename", channel=channel_id, name=name))["channel"]
        return ChannelRef(channel["id"], channel["name"])

    async def pin(self, channel_id: str, ts: str) -> None:
        try:
            await self._call("pins_add", channel=channel_id, timestamp=ts)
        except PortError as exc:
            if exc.code != "already_pinned":
                raise

    async def post_ephemeral(self, channel_id: str, user_id: str, notice: Notice) -> None:
        text, blocks = render(notice)
        await self._call("chat_postEphemeral", channel=channel_id, user=user_id, text=text, blocks=blocks)

    async def send_direct(self, user_id: str, notice: Notice) -> MessageRef:
        return await self.post(user_id, notice)

    async def update(self, channel_id: str, ts: str, notice: Notice) -> None:
        text, blocks = render(notice)
        await self._call("chat_update", channel=channel_id, ts=ts, text=text, blocks=blocks)

    async def archive(self, channel_id: str) -> None:
        try:
            await self._call("conversations_archive", channel=channel_id)
        except PortError as exc:
            if exc.code != "already_archived":
                raise

    async def unarchive(self, channel_id: str) -> None:
        try:
            await self._call("conversations_unarchive", channel=channel_id)
        except PortError as exc:
            if exc.code != "not_archived":
                raise

    def channel_link(self, channel_id: str) -> str:
        return f"{self.workspace_url}archives/{channel_id}"

    def message_link(self, channel_id: str, ts: str) -> str:
        return f"{self.workspace_url}archives/{channel_id}/p{ts.replace('.', '')}"
