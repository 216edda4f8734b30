"""OncallPort backed by the config's static schedule (PagerDuty comes later)."""

from __future__ import annotations

import logging

from domain.config.engagement import OncallConfig

log = logging.getLogger(__name__)


class StaticOncall:
    """Resolves services from `oncall.schedules`; pages are logged and kept in `pages` (no pager yet)."""

    def __init__(self, config: OncallConfig) -> None:
        self.schedules = {name.casefold(): list(users) for name, users in config.schedules.items()}
        self.pages: list[tuple[str, str, str]] = []

    async def resolve(self, service: str) -> list[str]:
        return list(self.schedules.get(service.casefold(), []))

    async def page(self, service: str, incident_name: str, title: str) -> None:
        self.pages.append((service, incident_name, title))
        log.warning("PAGE %s for %s: %s (static schedule: no pager configured)", service, incident_name, title)

    async def page_person(self, user_id: str, incident_name: str, title: str) -> None:
        self.pages.append((user_id, incident_name, title))
        log.warning("PAGE %s for %s: %s (static schedule: no pager configured)", user_id, incident_name, title)
