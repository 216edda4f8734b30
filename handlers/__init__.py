"""Bolt listeners. `register_all` wires every listener through one Registry."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from domain.core.deps import Deps
from handlers import (
    assistant,
    cases,
    costs,
    engagement,
    feedback,
    follow_up,
    home,
    membership,
    messages,
    participants,
    reporting,
    reports,
    roles,
    signals,
    tags,
    tasks,
    timeline,
    update_incident,
    workflows,
)
from handlers.registry import Registry


def register_all(app: AsyncApp, deps: Deps) -> Registry:
    """Register every listener on `app`; the returned registry feeds the manifest."""
    reg = Registry(app, ack_first=deps.ack_first)
    reporting.register(reg, deps)
    update_incident.register(reg, deps)
    roles.register(reg, deps)
    membership.register(reg, deps)
    participants.register(reg, deps)
    engagement.register(reg, deps)
    home.register(reg, deps)
    timeline.register(reg, deps)
    timeline.register_commands(reg, deps)
    reports.register(reg, deps)
    tasks.register(reg, deps)
    feedback.register(reg, deps)
    cases.register(reg, deps)
    messages.register(reg, deps)
    costs.register(reg, deps)
    signals.register(reg, deps)
    tags.register(reg, deps)
    workflows.register(reg, deps)
    follow_up.register(reg, deps)
    assistant.register(reg, deps)
    return reg
