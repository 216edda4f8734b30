"""Entity extraction: JSONPath expressions and regular expressions evaluated over a raw signal payload. Pure."""

from __future__ import annotations

import re
from collections.abc import Iterator
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


def _leaves(value: Any) -> Iterator[str]:
    """Every scalar in a JSON value as text (keys excluded: entities are values)."""
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v)
    elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
        yield str(value)


def _scalars(found: Any) -> Iterator[str]:
    if isinstance(found, (dict, list)):
        yield from _leaves(found)
    elif found is not None and not isinstance(found, bool):
        yield str(found)


def extract_entities(raw: dict[str, Any], entity_types: list[EntityTypeConfig]) -> list[tuple[str, str]]:
    """(type, value) pairs found in `raw`, without duplicates, in a stable order.

    JSONPath matches give their value (every scalar below a matched object or list); a regular
    expression is searched in every scalar of the payload and gives its first group when it has
    one, else the whole match.
    """
    found: dict[tuple[str, str], None] = {}
    for etype in entity_types:
        values: dict[str, None] = {}
        if etype.jsonpath:
            for match in _jsonpath(etype.jsonpath).find(raw):
                for v in _scalars(match.value):
                    values.setdefault(v.strip())
        if etype.regex:
            pattern = _regex(etype.regex)
            for text in _leaves(raw):
                for m in pattern.finditer(text):
                    values.setdefault((m.group(1) if pattern.groups else m.group(0)) or "")
        for v in list(values)[:MAX_PER_TYPE]:
            if v:
                found.setdefault((etype.name, v[:VALUE_MAX]))
    return list(found)
