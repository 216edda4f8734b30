"""Entity extraction: JSONPath expressions and regular expressions evaluated over a raw signal payload. Pure."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from jsonpath_ng.ext import parse as parse_jsonpath

from domain.config.signals import EntityTypeConfig

VALUE_MAX = 500
MAX_PER_TYPE = 50  # a payload listing thousands of IPs must not flood the entity table


@lru_cache(maxsize=512)
def _jsonpath(expression: str):
    return parse_jsonpath(expression)


@lru_cache(maxsize=512)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _leaves(value: Any) -> list[str]:
    """Every scalar in a JSON value as text (keys excluded: entities are values), depth first."""
    out: list[str] = []
    _collect(value, out)
    return out


def _collect(value: Any, out: list[str]) -> None:
    # Appending to one list: a generator per level cost more than the regular expressions themselves.
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        for v in value.values():
            _collect(v, out)
    elif isinstance(value, list):
        for v in value:
            _collect(v, out)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        out.append(str(value))


def _scalars(found: Any) -> list[str]:
    if isinstance(found, (dict, list)):
        return _leaves(found)
    return [str(found)] if found is not None and not isinstance(found, bool) else []


def extract_entities(raw: dict[str, Any], entity_types: list[EntityTypeConfig]) -> list[tuple[str, str]]:
    """(type, value) pairs found in `raw`, without duplicates, in a stable order.

    JSONPath matches give their value (every scalar below a matched object or list); a regular
    expression is searched in every scalar of the payload and gives its first group when it has
    one, else the whole match.
    """
    found: dict[tuple[str, str], None] = {}
    leaves: list[str] | None = None  # the payload's scalars, walked once for every regular expression
    for etype in entity_types:
        values: dict[str, None] = {}
        if etype.jsonpath:
            for match in _jsonpath(etype.jsonpath).find(raw):
                for v in _scalars(match.value):
                    values.setdefault(v.strip())
        if etype.regex:
            pattern = _regex(etype.regex)
            if leaves is None:
                leaves = _leaves(raw)
            for text in leaves:
                for m in pattern.finditer(text):
                    values.setdefault((m.group(1) if pattern.groups else m.group(0)) or "")
        for v in list(values)[:MAX_PER_TYPE]:
            if v:
                found.setdefault((etype.name, v[:VALUE_MAX]))
    return list(found)
