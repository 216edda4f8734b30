"""The example config tells the truth: its header names exactly the keys that are required, and its
`commands:` block lists every command."""

import typing
from pathlib import Path

import yaml
from pydantic import BaseModel

from domain.config.schema import CommandsConfig, WarroomConfig

EXAMPLE = Path(__file__).resolve().parents[2] / "warroom.example.yaml"


def _required(model: type[BaseModel], seen: set[type] | None = None) -> set[str]:
    """Names of the fields some model of the config cannot do without."""
    seen = set() if seen is None else seen
    if model in seen:
        return set()
    seen.add(model)
    names = set()
    for name, field in model.model_fields.items():
        if field.is_required():
            names.add(name)
        args = typing.get_args(field.annotation) or (field.annotation,)
        for arg in args:
            for inner in typing.get_args(arg) or (arg,):
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    names |= _required(inner, seen)
    return names


def _header() -> str:
    text = EXAMPLE.read_text()
    return text[:text.index("\nprojects:")]


def test_the_header_names_every_required_key():
    required = _required(WarroomConfig)
    assert {"name", "incident_types", "server", "action"} <= required, "the walk finds nested models"
    header = _header()
    missing = [name for name in sorted(required) if name not in header]
    assert missing == [], f"required but not named in the example's header: {missing}"
    assert "Every key is optional" not in header


def test_the_commands_block_lists_every_command():
    commands = yaml.safe_load(EXAMPLE.read_text())["commands"]
    assert commands == CommandsConfig().model_dump()
