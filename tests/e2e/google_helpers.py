"""Shared steps of Google integration tests: the emulator, a key file for it, and the config pointing there."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from sqlalchemy import select

from domain.config.google import ConferenceConfig, GoogleConfig, GoogleDocumentsConfig
from domain.config.schema import WarroomConfig
from emulators.googleemu import GoogleEmulator
from storage.google_models import IncidentResource
from storage.types import utcnow

KEY_ENV = "WARROOM_TEST_GOOGLE_KEY"
TEMPLATE = ("{{name}}: {{title}}\nDescription: {{description}}\nCommander: {{commander_fullname}} "
            "({{commander_email}})\nPriority: {{priority}} · Severity: {{severity}}\nTicket: {{ticket_weblink}}\n"
            "Channel: {{channel_weblink}}\n")
REVIEW = "Post-incident review of {{name}} ({{title}})\nCommander: {{commander_fullname}}\n"


@asynccontextmanager
async def google_emulator(tmp_path, monkeypatch) -> AsyncIterator[GoogleEmulator]:
    """A started emulator with an `Incidents` folder holding the two templates, and its key file in KEY_ENV."""
    emu = GoogleEmulator()
    await emu.start()
    emu.root = emu.add_folder("Incidents")
    emu.template = emu.add_document("Incident template", TEMPLATE, parent=emu.root.id)
    emu.review = emu.add_document("Review template", REVIEW, parent=emu.root.id)
    key = tmp_path / "service-account.json"
    key.write_text(json.dumps(emu.service_account_info()))
    monkeypatch.setenv(KEY_ENV, str(key))
    try:
        yield emu
    finally:
        await emu.stop()


def google_config(emu: GoogleEmulator, *, documents: bool = True, conference: bool = False, **overrides) -> WarroomConfig:
    docs = GoogleDocumentsConfig(parent_folder_id=emu.root.id, incident_template_id=emu.template.id,
                                 review_template_id=emu.review.id) if documents else None
    google = GoogleConfig(credentials_env=KEY_ENV, api_base=emu.url, timeout=3, documents=docs)
    return WarroomConfig(google=google, conference=ConferenceConfig() if conference else None, **overrides)


async def resource(warroom, incident_id: int, kind: str) -> IncidentResource | None:
    async with warroom.deps.sessions() as session:
        return (await session.execute(select(IncidentResource).where(
            IncidentResource.incident_id == incident_id, IncidentResource.kind == kind))).scalar_one_or_none()


async def linked(slack, warroom, incident_id: int, kind: str, timeout: float = 10) -> IncidentResource:
    async def done():
        row = await resource(warroom, incident_id, kind)
        return row if row is not None and row.linked and row.claimed_until is None else None

    return await slack.wait_for(done, timeout=timeout)


async def make_due(warroom, incident_id: int, kind: str) -> None:
    """Let the retry time pass."""
    async with warroom.deps.sessions() as session:
        row = (await session.execute(select(IncidentResource).where(
            IncidentResource.incident_id == incident_id, IncidentResource.kind == kind))).scalar_one()
        row.next_attempt_at = utcnow() - timedelta(seconds=1)
        await session.commit()
