"""Loader."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from domain.config.base import ConfigError, ConfigInvalid
from domain.config.rules import reference_errors, semantic_errors
from domain.config.schema import WarroomConfig


def load_config(path: str | Path | None) -> WarroomConfig:
    """The config in the YAML file at `path`, or the built-in defaults when `path` is None."""
    if path is None:
        return WarroomConfig()
    config, errors = _load_file(path)
    if errors or config is None:
        raise ConfigInvalid(errors, str(path))
    return config


def validate_config_file(path: str | Path) -> list[ConfigError]:
    """Every error in the YAML file at `path` (empty list: valid)."""
    return _load_file(path)[1]


def parse_config(text: str) -> WarroomConfig:
    """The config in YAML `text`; raises `ConfigInvalid`."""
    config, errors = check_config_text(text)
    if errors or config is None:
        raise ConfigInvalid(errors)
    return config


def check_config_text(text: str) -> tuple[WarroomConfig | None, list[ConfigError]]:
    """Parse and validate YAML `text`: the config when valid, and every error found."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [ConfigError("", f"YAML syntax error: {problem}", mark.line + 1 if mark else None)]

    errors = _duplicate_keys(node, ())
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return None, errors + [ConfigError("", "the file must be a mapping (projects:, roles:, ...)", 1)]

    config: WarroomConfig | None = None
    try:
        config = WarroomConfig.model_validate(data)
    except ValidationError as exc:
        errors += [_from_pydantic(err) for err in exc.errors()]
    errors += semantic_errors(data)
    if config is not None:
        errors += [ConfigError(path, message) for path, message in reference_errors(config)]

    errors = [ConfigError(e.path, e.message, e.line or _line_of(node, e.path)) for e in errors]
    errors.sort(key=lambda e: (e.line or 0))
    return (None if errors else config), errors


def _load_file(path: str | Path) -> tuple[WarroomConfig | None, list[ConfigError]]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [ConfigError("", f"cannot read the file: {exc}")]
    return check_config_text(text)


def _from_pydantic(err: Any) -> ConfigError:
    path = _format_path(err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "missing":
        msg = "is required"
    elif err["type"] == "extra_forbidden":
        msg = "unknown key (check the spelling)"
    return ConfigError(path, msg)


def _format_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _line_of(root: yaml.Node | None, path: str) -> int | None:
    """1-based line of the value at `path`, or of its closest existing parent."""
    node = root
    line = root.start_mark.line + 1 if root is not None else None
    for key, index in _PATH_PART.findall(path):
        if isinstance(node, yaml.MappingNode) and key:
            found = next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key), None)
            if found is None:
                break
            line, node = found[0].start_mark.line + 1, found[1]
        elif isinstance(node, yaml.SequenceNode) and index and int(index) < len(node.value):
            node = node.value[int(index)]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _duplicate_keys(node: yaml.Node | None, path: tuple[Any, ...]) -> list[ConfigError]:
    """YAML silently keeps the last of duplicate keys; report them instead."""
    errors: list[ConfigError] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            if name in seen:
                errors.append(ConfigError(_format_path((*path, name)), "duplicate key", key.start_mark.line + 1))
            seen.add(name)
            errors += _duplicate_keys(value, (*path, name))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            errors += _duplicate_keys(item, (*path, i))
    return errors
