"""Shared steps of signal tests: a config with signal definitions, storing alerts, waiting for the worker."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from domain.config.schema import WarroomConfig
from domain.core.vocabulary import SignalStatus
from storage.case_models import Case
from storage.signal_models import SignalInstance
from storage.types import utcnow

TOKEN = "s3cret-token"


def signal_config(triage_channel: str, **signals: Any) -> WarroomConfig:
    """Two alert definitions posting cases to `triage_channel`, entity types ip (regex) and user (JSONPath)."""
    data: dict[str, Any] = {
        "oncall": {"schedules": {}},
        "signals": {
            "card_refresh_seconds": 0.3, "card_edits_per_minute": 600,
            "sources": [{"name": "siem", "auth": "bearer", "token": TOKEN}],
            "entity_types": [
                {"name": "ip", "regex": r"\b(?:\d{1,3}\.){3}\d{1,3}\b", "scope": "global"},
                {"name": "user", "jsonpath": "$.detail.user"},
            ],
            "definitions": [
                {"name": "Unusual login", "external_id": "login-1", "case_type": "Security triage",
                 "case_priority": "High", "conversation_target": triage_channel, "entity_types": ["user"],
                 "runbook": "https://wiki.example.com/unusual-login"},
                {"name": "Port scan", "external_id": "scan-1", "conversation_target": triage_channel},
                {"name": "VPN connect", "external_id": "vpn-1", "create_case": False, "entity_types": ["user"]},
            ],
            "filters": [],
        },
    }
    for key, value in signals.items():
        data["signals"][key] = value
    return WarroomConfig.model_validate(data)


def alert(external_id: str = "login-1", user: str = "mallory", ip: str = "203.0.113.7", **extra: Any) -> dict:
    return {"id": str(uuid.uuid4()), "externalId": external_id, "name": "alert",
            "detail": {"user": user, "message": f"login from {ip}"}, **extra}


async def store(sessions, raw: dict, definition: str) -> str:
    """Store an alert as the ingestion endpoint does (pending, due now)."""
    async with sessions() as session:
        session.add(SignalInstance(id=raw["id"], organization="default", project="default", definition=definition,
                                   source="siem", raw=raw, received_at=utcnow(), next_attempt_at=utcnow()))
        await session.commit()
    return raw["id"]


async def pending(sessions) -> int:
    async with sessions() as session:
        return (await session.execute(select(func.count()).select_from(SignalInstance)
                                      .where(SignalInstance.status == SignalStatus.PENDING))).scalar_one()


async def instances(sessions) -> list[SignalInstance]:
    async with sessions() as session:
        return list((await session.execute(select(SignalInstance).order_by(SignalInstance.received_at))).scalars())


async def cases(sessions) -> list[Case]:
    async with sessions() as session:
        return list((await session.execute(select(Case).order_by(Case.id))).scalars())


def card_of(slack, channel: str, case: Case):
    return next((m for m in slack.channels[channel].messages if m.ts == case.card_ts), None)
