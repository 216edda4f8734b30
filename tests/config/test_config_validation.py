"""The config file: defaults, the example, and every rule reported with its path and line."""

from pathlib import Path

import pytest
import yaml

from domain.config.base import ConfigError, ConfigInvalid
from domain.config.loader import check_config_text, load_config, parse_config, validate_config_file
from domain.config.schema import WarroomConfig

EXAMPLE = Path(__file__).resolve().parents[2] / "warroom.example.yaml"


def _errors(data: dict) -> list[ConfigError]:
    return check_config_text(yaml.safe_dump(data, sort_keys=False))[1]


def _paths(data: dict) -> set[str]:
    return {e.path for e in _errors(data)}


def _example() -> dict:
    return yaml.safe_load(EXAMPLE.read_text())


def test_builtin_defaults_are_a_working_install():
    config = load_config(None)
    assert _errors(config.model_dump()) == []
    project = config.default_project()
    assert project.name == "default" and project.channel_prefix == "inc"
    assert [t.name for t in project.incident_types] == ["Security", "Reliability", "Privacy"]
    assert [p.name for p in project.incident_priorities] == ["Low", "Medium", "High", "Critical"]
    assert [s.name for s in project.incident_severities] == ["Undetermined", "Minor", "Major", "Critical"]
    assert project.default_type().name == "Reliability"
    assert config.commands.report_incident == "/dispatch-report-incident"
    assert "commander" in config.roles and config.timeline_reaction == "stopwatch"


def test_example_file_is_valid_and_equals_the_defaults():
    assert validate_config_file(EXAMPLE) == []
    assert load_config(EXAMPLE) == load_config(None)


def test_empty_file_gives_the_defaults(tmp_path):
    path = tmp_path / "warroom.yaml"
    path.write_text("# nothing yet\n")
    assert load_config(path) == WarroomConfig()


def test_view_order_defaults_to_position():
    config = parse_config("projects: [{name: p, incident_types: [{name: t, default: true}],"
                          " incident_priorities: [{name: a, default: true}, {name: b}],"
                          " incident_severities: [{name: s, default: true}]}]")
    assert [p.view_order for p in config.projects[0].incident_priorities] == [1, 2]


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d["projects"].append(dict(d["projects"][0], default=False)), "projects[1].name"),
        (lambda d: d["projects"].append(dict(d["projects"][0], name="other")), "projects"),  # two defaults
        (lambda d: d["projects"].append(dict(d["projects"][0], name="o", default=False))
         or d["projects"][0].update(default=False), "projects"),  # no default among several
        (lambda d: d["projects"][0].update(incident_types=[]), "projects[0].incident_types"),
        (lambda d: d["projects"][0].update(incident_priorities=[]), "projects[0].incident_priorities"),
        (lambda d: d["projects"][0].update(incident_severities=[]), "projects[0].incident_severities"),
        (lambda d: d["projects"][0]["incident_types"][2].update(name="security"), "projects[0].incident_types[2].name"),
        (lambda d: d["projects"][0]["incident_severities"][1].update(name="MAJOR"),
         "projects[0].incident_severities[2].name"),
        (lambda d: d["projects"][0]["incident_types"][0].update(default=True), "projects[0].incident_types"),
        (lambda d: d["projects"][0]["incident_priorities"][0].update(default=False), "projects[0].incident_priorities"),
        (lambda d: d["projects"][0]["incident_severities"][0].update(default=False), "projects[0].incident_severities"),
        (lambda d: d["projects"][0]["incident_priorities"][2].update(view_order=1),
         "projects[0].incident_priorities[2].view_order"),
        (lambda d: d["projects"][0]["incident_severities"][3].update(view_order=2),
         "projects[0].incident_severities[3].view_order"),
        (lambda d: d["commands"].update(list_tasks="dispatch-list-tasks"), "commands.list_tasks"),
        (lambda d: d["commands"].update(list_tasks="/Dispatch-List-Tasks"), "commands.list_tasks"),
        (lambda d: d["commands"].update(list_tasks="/" + "x" * 32), "commands.list_tasks"),
        (lambda d: d["commands"].update(list_tasks="/dispatch-create-task"), "commands.create_task"),  # 2nd use
        (lambda d: d.update(commands={"list_tasks": "/dispatch-create-task"}), "commands.list_tasks"),  # vs default
        (lambda d: d.update(roles=["scribe", "observer"]), "roles"),
        (lambda d: d["projects"][0]["incident_priorities"][1].update(tactical_report_reminder_hours=0),
         "projects[0].incident_priorities[1].tactical_report_reminder_hours"),
        (lambda d: d["projects"][0]["incident_priorities"][1].update(executive_report_reminder_hours=-3),
         "projects[0].incident_priorities[1].executive_report_reminder_hours"),
        (lambda d: d["projects"][0].update(channel_prefix="Inc"), "projects[0].channel_prefix"),
        (lambda d: d["projects"][0].update(channel_prefix="inc#"), "projects[0].channel_prefix"),
        (lambda d: d["projects"][0].update(channel_prefix="i" * 21), "projects[0].channel_prefix"),
        (lambda d: d["projects"][0]["incident_types"][0].update(visibility="Secret"),
         "projects[0].incident_types[0].visibility"),
        (lambda d: d["projects"][0]["incident_types"][0].update(colour="red"), "projects[0].incident_types[0].colour"),
        (lambda d: d.update(admins=["alice"]), "admins"),
        (lambda d: d.update(projects=[]), "projects"),
    ],
)
def test_each_rule_reports_its_path(change, path):
    data = _example()
    change(data)
    errors = _errors(data)
    assert [e.path for e in errors] == [path], errors
    assert errors[0].line is not None


def test_every_error_is_reported_at_once_with_lines():
    text = """\
projects:
  - name: default
    default: true
    channel_prefix: "INC"
    incident_types: [{name: A, default: true}, {name: a}]
    incident_priorities:
      - {name: Low, view_order: 1}
      - {name: High, view_order: 1, tactical_report_reminder_hours: 0}
    incident_severities: []
roles: [scribe]
commands:
  report_incident: /dispatch-list-tasks
timeline_reaction: "stop watch"
bogus: 1
"""
    config, errors = check_config_text(text)
    assert config is None
    got = {(e.path, e.line) for e in errors}
    assert got == {
        ("projects[0].channel_prefix", 4),
        ("projects[0].incident_types[1].name", 5),
        ("projects[0].incident_priorities", 6),  # no default
        ("projects[0].incident_priorities[1].view_order", 8),
        ("projects[0].incident_priorities[1].tactical_report_reminder_hours", 8),
        ("projects[0].incident_severities", 9),
        ("roles", 10),
        ("commands.report_incident", 12),
        ("timeline_reaction", 13),
        ("bogus", 14),
    }
    assert [e.line for e in errors] == sorted(e.line for e in errors)


def test_yaml_syntax_error_has_its_line():
    errors = check_config_text("roles: [commander\nadmins: []\n")[1]
    assert len(errors) == 1 and errors[0].message.startswith("YAML syntax error") and errors[0].line == 2


def test_duplicate_keys_are_errors():
    errors = check_config_text("timeline_reaction: a\ntimeline_reaction: b\n")[1]
    assert [(e.path, e.line, e.message) for e in errors] == [("timeline_reaction", 2, "duplicate key")]


def test_missing_required_key_points_at_the_parent():
    errors = check_config_text("projects:\n  - name: p\n    incident_types: [{name: t, default: true}]\n")[1]
    assert {(e.path, e.message, e.line) for e in errors} == {
        ("projects[0].incident_priorities", "is required", 2),
        ("projects[0].incident_severities", "is required", 2),
    }


def test_top_level_must_be_a_mapping():
    assert [e.path for e in check_config_text("- a\n- b\n")[1]] == [""]


def test_load_config_raises_config_invalid_listing_every_error(tmp_path):
    path = tmp_path / "warroom.yaml"
    path.write_text("roles: [scribe]\ncommands: {list_tasks: nope}\n")
    with pytest.raises(ConfigInvalid) as info:
        load_config(path)
    assert len(info.value.errors) == 2
    lines = str(info.value).splitlines()
    assert lines == [
        f"{path}: line 1: roles: must include 'commander'",
        f"{path}: line 2: commands.list_tasks: must start with '/'",
    ]


def test_unreadable_file_is_an_error(tmp_path):
    errors = validate_config_file(tmp_path / "missing.yaml")
    assert len(errors) == 1 and "cannot read" in errors[0].message


def test_timeline_reaction_colons_are_stripped():
    assert parse_config("timeline_reaction: ':eyes:'").timeline_reaction == "eyes"


def test_command_center_sections_are_checked():
    from domain.config.loader import check_config_text

    _, errors = check_config_text(
        "projects: [{name: p, stable_priority: Nope, incident_types: [{name: t, default: true}],"
        " incident_priorities: [{name: a, default: true}], incident_severities: [{name: s, default: true}]}]\n"
        "oncall: {schedules: {db: [alice]}}\n"
        "engagement: {individuals: [{name: x}]}\n"
        "notification_channels: [{name: feed, channel: C1, visibility: [Restricted]}]\n")
    paths = {e.path for e in errors}
    assert "projects[0].stable_priority" in paths
    assert "oncall.schedules.db[0]" in paths
    assert "engagement.individuals[0]" in paths
    assert "notification_channels[0].visibility[0]" in paths


def test_cases_nobody_would_see_and_unreachable_definitions_are_warned_about(tmp_path, capsys):
    from bot.cli import main

    path = tmp_path / "w.yaml"
    path.write_text("signals:\n  definitions:\n    - {name: Disk full, external_id: disk}\n"
                    "    - {name: Login, external_id: login, conversation_target: C012AB3CD}\n")
    assert main(["config", "validate", str(path)]) == 0, "warnings do not make a config invalid"
    out = capsys.readouterr().out
    assert "signals.definitions[0] (Disk full): its cases have no channel" in out
    assert "definitions[1]" not in out
    assert "no sources, so every POST is refused" in out


def test_replayable_hmac_sources_are_warned_about(tmp_path, capsys):
    from bot.cli import main

    path = tmp_path / "w.yaml"
    path.write_text("signals:\n  sources:\n    - {name: new, auth: hmac, secret_env: S1}\n"
                    "    - {name: old, auth: hmac, secret_env: S2, signing: body}\n"
                    "    - {name: tok, token_env: T, signing: body}\n")
    assert main(["config", "validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "signals.sources[1] (old): signing: body signs the body alone, so a captured request can be replayed" in out
    assert "sources[0]" not in out and "sources[2]" not in out, "timestamped hmac, and bearer, are fine"
    path.write_text("signals:\n  sources:\n    - {name: x, auth: hmac, secret_env: S, signing: sha1}\n")
    assert main(["config", "validate", str(path)]) == 1


def test_signal_and_case_names_that_refer_to_nothing_are_errors_with_their_path(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "signals:\n"
        "  entity_types:\n"
        "    - {name: ip, regex: '(unclosed'}\n"
        "  definitions:\n"
        "    - {name: Login, external_id: login, case_type: Nope, entity_types: [user]}\n"
        "  filters:\n"
        "    - {name: f, action: snooze, entities: [{type: host, value: db-1}]}\n")
    errors = {e.path: e for e in validate_config_file(path)}
    assert "signals.entity_types[0].regex" in errors and errors["signals.entity_types[0].regex"].line == 3
    assert "not a valid regular expression" in errors["signals.entity_types[0].regex"].message
    path.write_text(
        "signals:\n"
        "  entity_types:\n"
        "    - {name: ip, regex: '\\d+'}\n"
        "  definitions:\n"
        "    - {name: Login, external_id: login, case_type: Nope, case_priority: Urgent, entity_types: [user]}\n"
        "  filters:\n"
        "    - {name: f, action: snooze, definitions: [Gone], entities: [{type: host, value: db-1}]}\n"
        "cases:\n"
        "  types:\n"
        "    - {name: T, default: true, incident_type: Outage}\n")
    errors = {e.path: e for e in validate_config_file(path)}
    assert set(errors) == {"signals.definitions[0].entity_types", "signals.definitions[0].case_type",
                           "signals.definitions[0].case_priority", "signals.filters[0].entity_types",
                           "signals.filters[0].definitions", "cases.types[0].incident_type"}
    assert errors["signals.definitions[0].case_type"].line == 5
    assert "'Outage' is not an incident type of project 'default'" in errors["cases.types[0].incident_type"].message
