"""The Slack app manifest, derived from the listeners the app actually registers."""

from __future__ import annotations

import yaml
from slack_bolt.async_app import AsyncApp

from domain.config.schema import WarroomConfig
from domain.core.deps import Deps
from domain.core.ports import Ports
from handlers import register_all
from handlers.registry import CommandSpec, Registry

# Every bot scope with what needs it: Web API methods the Slack adapter (bot/slack_conversation.py)
# calls, or events listeners subscribe to (tests check both). DMs are posted to the user id
# (chat:write), and nothing reads DMs, so no im:* scope; views.* and auth.test need none.
SCOPE_USES: dict[str, tuple[str, ...]] = {
    "bookmarks:read": ("bookmarks.list",),
    "bookmarks:write": ("bookmarks.add",),
    "channels:history": ("conversations.history", "conversations.replies", "message.channels"),
    "channels:manage": ("conversations.create", "conversations.invite", "conversations.setTopic",
                        "conversations.rename", "conversations.archive", "conversations.unarchive"),
    "channels:read": ("member_joined_channel", "member_left_channel", "conversations.info", "conversations.list"),
    "chat:write": ("chat.postMessage", "chat.postEphemeral", "chat.update"),
    "chat:write.public": ("chat.postMessage",),  # to notification channels the bot has not joined
    "commands": (),  # slash commands and shortcuts
    "groups:history": ("conversations.history", "conversations.replies", "message.groups"),
    "groups:read": ("member_joined_channel", "member_left_channel", "conversations.info", "conversations.list"),
    "groups:write": ("conversations.create", "conversations.invite", "conversations.setTopic",
                     "conversations.rename", "conversations.archive", "conversations.unarchive"),
    "pins:write": ("pins.add",),
    "reactions:read": ("reaction_added", "reaction_removed"),
    "reactions:write": ("reactions.add", "reactions.remove"),
    "users:read": ("users.info",),
    "users.profile:read": ("users.profile.get",),  # custom profile fields: team, department (profile_fields)
    "users:read.email": ("users.info", "users.lookupByEmail"),  # emails: notifications group, contacts, pager users
}
BOT_SCOPES = sorted(SCOPE_USES)


# Listener event types that Slack subscribes to under other names (a `message` listener hears
# messages in public and private channels the bot is in).
SUBSCRIPTIONS: dict[str, tuple[str, ...]] = {"message": ("message.channels", "message.groups")}


def bot_events(event_types: list[str]) -> list[str]:
    """The manifest's bot_events for the event types listeners are registered on."""
    return sorted({name for t in event_types for name in SUBSCRIPTIONS.get(t, (t,))})


def offline_registry(config: WarroomConfig) -> Registry:
    """Register every listener on an app that never connects, to read what it declares."""
    app = AsyncApp(token="xoxb-manifest-only", request_verification_enabled=False)
    deps = Deps(sessions=None, config=config, ports=Ports.with_conversation(None))  # type: ignore[arg-type]
    return register_all(app, deps)


def slash_command(spec: CommandSpec) -> dict:
    """One `features.slash_commands` entry; Slack refuses an empty `usage_hint`, so none is omitted."""
    entry = {"command": spec.command, "description": spec.description}
    if spec.usage_hint:
        entry["usage_hint"] = spec.usage_hint
    entry["should_escape"] = False
    return entry


def build_manifest(registry: Registry, name: str = "warroom") -> dict:
    """Manifest dict: Socket Mode on, scopes, bot events, every command and shortcut."""
    features: dict = {
        # The Messages tab shows the DMs warroom sends (reminders, feedback, guides); nothing listens to
        # `message.im`, so people cannot write there.
        "app_home": {"home_tab_enabled": True, "messages_tab_enabled": True, "messages_tab_read_only_enabled": True},
        "bot_user": {"display_name": name, "always_online": True},
    }
    if registry.commands:
        features["slash_commands"] = [slash_command(c) for c in registry.commands]
    if registry.shortcuts:
        features["shortcuts"] = [
            {"name": s.name, "type": s.type, "callback_id": s.callback_id, "description": s.description}
            for s in registry.shortcuts
        ]
    settings: dict = {
        "interactivity": {"is_enabled": True},
        "org_deploy_enabled": False,
        "socket_mode_enabled": True,
        "token_rotation_enabled": False,
    }
    if registry.events:
        settings["event_subscriptions"] = {"bot_events": bot_events(registry.events)}
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": name,
            "description": "Incident and case management in Slack",
            "long_description": (
                "warroom opens a dedicated channel for every incident, pulls in the right people, "
                "assigns roles, keeps a timeline, nags for reports, tracks tasks and turns alert "
                "signals into triage cases. Report one with the report-incident slash command."
            ),
            "background_color": "#8b1a1a",
        },
        "features": features,
        "oauth_config": {"scopes": {"bot": BOT_SCOPES}},
        "settings": settings,
    }


def manifest_yaml(config: WarroomConfig) -> str:
    """The manifest as YAML text (what `python -m bot manifest` prints)."""
    return yaml.safe_dump(build_manifest(offline_registry(config)), sort_keys=False, allow_unicode=True)
