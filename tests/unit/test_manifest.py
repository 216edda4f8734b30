"""The committed manifest matches the app, and the app registers nothing the manifest omits."""

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot.manifest import SCOPE_USES, bot_events, build_manifest, manifest_yaml, offline_registry
from domain.config.loader import load_config

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "tests" / "schemas" / "slack_app_manifest.schema.json").read_text())


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


def validate(manifest: dict) -> None:
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    jsonschema.Draft7Validator(SCHEMA).validate(manifest)


def test_manifest_passes_slacks_manifest_schema():
    validate(yaml.safe_load((ROOT / "manifest.yaml").read_text()))
    config = load_config(ROOT / "warroom.example.yaml")
    validate(build_manifest(offline_registry(config)))


def test_schema_refuses_an_empty_usage_hint():
    manifest = build_manifest(offline_registry(load_config(None)))
    manifest["features"]["slash_commands"][0]["usage_hint"] = ""
    with pytest.raises(jsonschema.ValidationError, match=r"should be non-empty|too short"):
        validate(manifest)


def test_every_command_has_a_hint_or_none():
    for c in build_manifest(offline_registry(load_config(None)))["features"]["slash_commands"]:
        assert c.get("usage_hint", "x").strip(), c["command"]


def test_every_scope_has_a_caller():
    """Each scope names the Web API methods or events needing it, and those are really used."""
    adapter = (ROOT / "bot" / "slack_conversation.py").read_text()
    called = {m.replace("_", ".") for m in re.findall(r'"((?:chat|conversations|users|pins|bookmarks|reactions)_\w+)"', adapter)}
    events = set(bot_events(offline_registry(load_config(None)).events))
    for scope, uses in SCOPE_USES.items():
        for use in uses:
            assert use in called or use in events, f"{scope}: {use} is neither called nor subscribed to"
    covered = {use for uses in SCOPE_USES.values() for use in uses}
    assert called <= covered, f"methods with no scope: {called - covered}"
    assert not any(s.startswith(("im:", "team:")) for s in SCOPE_USES), "nothing reads DMs or the team"


def test_nobody_can_write_to_the_app_while_nothing_reads_dms():
    manifest = build_manifest(offline_registry(load_config(None)))
    assert "message.im" not in manifest["settings"]["event_subscriptions"]["bot_events"]
    assert manifest["features"]["app_home"]["messages_tab_read_only_enabled"] is True
