"""Signal ingestion: parse a posted instance (Netflix Dispatch's payload), match its definition, store it.

Everything is resolved from the config in memory, so storing costs one INSERT … ON CONFLICT DO NOTHING.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from domain.config.schema import WarroomConfig
from domain.config.signals import SignalDefinitionConfig, SignalsConfig
from domain.core.vocabulary import SignalStatus
from domain.signals.errors import IngestError, invalid, unknown
from storage.rows import table_of
from storage.signal_models import SignalInstance
from storage.types import utcnow
from storage.upsert import upsert_insert

_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
_TABLE = table_of(SignalInstance)
OVERRIDES = ("case_type", "case_priority", "conversation_target")


@dataclass(frozen=True)
class Submission:
    """A valid posted instance, every name resolved to its configured spelling."""

    id: str
    organization: str
    source: str
    project: str
    definition: SignalDefinitionConfig
    raw: dict[str, Any]
    overrides: dict[str, str] | None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999: no database stores it as JSON
        raise ValueError(f"number {text[:20]} is out of range")
    return value


def parse_json(body: bytes) -> dict[str, Any]:
    """The body as a JSON object; strict (no NaN/Infinity, finite numbers) so any database can store it."""
    try:
        value = json.loads(body, parse_constant=_reject_constant, parse_float=_finite_float)
    except RecursionError:
        raise invalid("body", "the JSON is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise IngestError(400, "malformed_json", f"the body is not valid JSON: {exc}", "body") from None
    if not isinstance(value, dict):
        raise invalid("body", f"the body must be a JSON object, not {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def _name(payload: dict[str, Any], key: str) -> str | None:
    """`payload[key]` given as "x" or {"name": "x"} (Dispatch sends both); None when absent or empty."""
    value = payload.get(key)
    field = key
    if isinstance(value, dict):
        value, field = value.get("name"), f"{key}.name"
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise invalid(field, f"{field} must be a string or an object with a string name, not {_kind(value)}")
    return value.strip() or None


def _raw_text(raw: dict[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(f"raw.{key}", f"raw.{key} must be a string, not {_kind(value)}")
    return value


def match_definition(signals: SignalsConfig, raw: dict[str, Any]) -> SignalDefinitionConfig | None:
    """The enabled definition `raw` belongs to: by externalId (and variant when the definition sets one),
    else by variant, else by name. None when nothing matches; IngestError when those keys are not strings."""
    external_id, variant, name = (_raw_text(raw, k) for k in ("externalId", "variant", "name"))
    enabled = [d for d in signals.definitions if d.enabled]
    if external_id is not None:
        same_id = [d for d in enabled if d.external_id == external_id]
        # The definition naming this exact variant wins over one that accepts any variant.
        found = next((d for d in same_id if d.variant is not None and d.variant == variant), None)
        found = found or next((d for d in same_id if d.variant is None), None)
        if found is not None:
            return found
    if variant is not None:
        for d in enabled:
            if d.variant == variant:
                return d
    if name is not None:
        for d in enabled:
            if d.name == name:
                return d
    return None


def _instance_id(raw: dict[str, Any]) -> str:
    value = raw.get("id")
    if value is None or value == "":
        return str(uuid.uuid4())
    if not isinstance(value, str):
        raise invalid("raw.id", f"raw.id must be a UUID string, not {_kind(value)}")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise invalid("raw.id", f"raw.id {value[:80]!r} is not a UUID") from None


def _resolve(field: str, given: str | None, choices: list[Any], what: str) -> str | None:
    if given is None:
        return None
    found = next((c.name for c in choices if c.name.casefold() == given.casefold()), None)
    if found is None:
        names = ", ".join(c.name for c in choices)
        raise unknown(field, f"{given[:80]!r} is not one of the configured {what} ({names})")
    return found


def parse_submission(payload: dict[str, Any], organization: str, source: str, config: WarroomConfig) -> Submission:
    """Validate a posted instance (already a JSON object) from `source` against the config; raises IngestError."""
    raw = payload.get("raw")
    if raw is None:
        raise invalid("raw", "raw is required: the alert itself, as a JSON object")
    if not isinstance(raw, dict):
        raise invalid("raw", f"raw must be a JSON object, not {_kind(raw)}")
    instance_id = _instance_id(raw)
    definition = match_definition(config.signals, raw)
    if definition is None:
        raise unknown("raw", "no enabled signal definition matches raw.externalId, raw.variant or raw.name")
    project = _resolve("project", _name(payload, "project"), config.projects, "projects")
    overrides: dict[str, str] = {}
    case_type = _resolve("case_type", _name(payload, "case_type"), config.cases.types, "case types")
    if case_type:
        overrides["case_type"] = case_type
    priority = _resolve("case_priority", _name(payload, "case_priority"), config.cases.priorities, "case priorities")
    if priority:
        overrides["case_priority"] = priority
    target = _name(payload, "conversation_target")
    if target:
        if not _CHANNEL_ID.match(target):
            field = "conversation_target.name" if isinstance(payload["conversation_target"], dict) else "conversation_target"
            raise invalid(field, f"{field} must be a Slack channel id such as C012AB3CD, not {target[:80]!r}")
        overrides["conversation_target"] = target
    if raw.get("id") != instance_id:
        raw = {**raw, "id": instance_id}  # like Dispatch: the raw payload carries the instance id
    return Submission(
        id=instance_id,
        organization=organization,
        source=source,
        project=project or config.default_project().name,
        definition=definition,
        raw=raw,
        overrides=overrides or None,
    )


async def store_instances(session: AsyncSession | AsyncConnection, submissions: list[Submission]) -> set[str]:
    """Insert many instances as pending in one statement, skipping ids already stored; returns the ids
    actually inserted. The caller commits. Submissions must have distinct ids.

    The statement is built on the table (not the ORM class) so it skips the ORM's bulk-insert machinery.
    """
    now = utcnow()
    stmt = upsert_insert(session, _TABLE).on_conflict_do_nothing(index_elements=["id"]).returning(_TABLE.c.id)
    values = [{**row, "received_at": now, "status": SignalStatus.PENDING, "attempts": 0, "next_attempt_at": now}
              for row in rows(submissions)]
    result = await session.execute(stmt, values)
    return {row[0] for row in result.all()}


def rows(submissions: list[Submission]) -> list[dict]:
    """The stored columns of each submission (without the queue bookkeeping)."""
    return [{"id": s.id, "organization": s.organization, "project": s.project, "definition": s.definition.name,
             "source": s.source, "raw": s.raw, "overrides": s.overrides} for s in submissions]
