"""The committed manifest matches the app, and the app registers nothing the manifest omits."""

from pathlib import Path

import yaml

from bot.manifest import bot_events, build_manifest, manifest_yaml, offline_registry
from domain.config.loader import load_config

ROOT = Path(__file__).resolve().parents[2]


def test_committed_manifest_is_current():
    committed = (ROOT / "manifest.yaml").read_text()
    assert committed == manifest_yaml(load_config(None)), "run: python -m bot manifest > manifest.yaml"


def test_every_registered_listener_is_accounted_for():
    registry = offline_registry(load_config(None))
    # Every Bolt listener went through the registry (nothing registered behind its back)...
    assert len(registry.app._async_listeners) == registry.listener_count
    manifest = build_manifest(registry)
    commands = {c["command"] for c in manifest["features"]["slash_commands"]}
    shortcuts = {s["callback_id"] for s in manifest["features"]["shortcuts"]}
    # ...and every command and shortcut it recorded is declared.
    assert commands == {c.command for c in registry.commands}
    assert shortcuts == {s.callback_id for s in registry.shortcuts}
    events = set(manifest["settings"].get("event_subscriptions", {}).get("bot_events", []))
    assert events == set(bot_events(registry.events))
    assert {"message.channels", "message.groups"} <= events, "case thread replies are heard"
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert "/dispatch-report-incident" in commands


def test_manifest_follows_configured_command_names():
    config = load_config(None)
    config.commands.report_incident = "/acme-report"
    manifest = yaml.safe_load(manifest_yaml(config))
    assert "/acme-report" in {c["command"] for c in manifest["features"]["slash_commands"]}


def test_slack_limits_on_manifest_entries():
    manifest = build_manifest(offline_registry(load_config(None)))
    for c in manifest["features"]["slash_commands"]:
        assert len(c["command"]) <= 32 and len(c["description"]) <= 2000 and len(c["usage_hint"]) <= 1000
    for s in manifest["features"]["shortcuts"]:
        assert len(s["name"]) <= 24 and len(s["callback_id"]) <= 255 and len(s["description"]) <= 150
