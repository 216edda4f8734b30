"""Web API methods, registered by name in METHODS: each takes (workspace, params) -> response fields.

Handlers raise ApiError for Slack's `{"ok": false, "error": ...}` answers.
"""

from emulators.slackemu.webapi import auth_users, chat, conversations, items, views  # noqa: F401 - registers methods
from emulators.slackemu.webapi.common import METHODS, ApiError

__all__ = ["METHODS", "ApiError"]
