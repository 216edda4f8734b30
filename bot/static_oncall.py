"""OncallPort backed by the config's static schedule: the default when no pager is configured."""

from __future__ import annotations

import logging

from domain.config.engagement import OncallConfig
from domain.core.ports import OnCallPerson, PageRequest

log = logging.getLogger(__name__)


class StaticOncall:
    """Resolves services from `oncall.schedules`; pages are logged and kept in `pages` (no pager)."""

    def __init__(self, config: OncallConfig) -> None:
        self.schedules = {name.casefold(): list(users) for name, users in config.schedules.items()}
        self.pages: list[tuple[str, str, str]] = []

    async def resolve(self, service: str) -> list[str]:
        return list(self.schedules.get(service.casefold(), []))

    async def on_call(self, service: str) -> list[OnCallPerson]:
        users = self.schedules.get(service.casefold(), [])
        return [OnCallPerson(name=u, user_id=u, level=1 if i == 0 else 2) for i, u in enumerate(users)]

    async def page(self, service: str, request: PageRequest) -> str:
        self.pages.append((service, request.incident_name, request.title))
        log.warning("PAGE %s for %s: %s (static schedule: no pager configured)", service, request.incident_name,
                    request.title)
        return ""

    async def page_person(self, user_id: str, email: str | None, request: PageRequest) -> str:
        self.pages.append((user_id, request.incident_name, request.title))
        log.warning("PAGE %s for %s: %s (static schedule: no pager configured)", user_id, request.incident_name,
                    request.title)
        return ""
