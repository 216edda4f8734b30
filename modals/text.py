"""Text objects that never let user input change their type or inject markup."""

from __future__ import annotations

from blockkit import Text


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain(text: str, limit: int | None = None) -> Text:
    """plain_text object (user text shown verbatim), optionally cut to `limit` chars."""
    return Text(truncate(text, limit) if limit else text, type="plain_text")


def md(text: str) -> Text:
    """mrkdwn object from text the caller already escaped where needed."""
    return Text(text, type="mrkdwn")


def mention(user_id: str | None) -> str:
    """mrkdwn mention of a Slack user, or _unassigned_."""
    return f"<@{user_id}>" if user_id else "_unassigned_"


def truncate(text: str, limit: int) -> str:
    """Cut to `limit` chars with an ellipsis, so Block Kit limits are never exceeded."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
