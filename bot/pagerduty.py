"""OncallPort on PagerDuty's REST API v2 and Events API v2, over aiohttp.

Why aiohttp and not the official `pagerduty` package: that client is synchronous (httpx) and would
need a worker thread and a deadline around every call, it refuses any `base_url` that is not
https:// (so a loopback emulator would need a certificate made at start-up), and its module default
timeout is 60 s. aiohttp is already warroom's HTTP stack; the two APIs used here are a handful of
documented JSON calls.

- Who is on call: the service's escalation policy (`GET /services/{id}`), then
  `GET /oncalls?escalation_policy_ids[]=…&include[]=users`; people are matched to Slack by email.
  Answers are cached for `cache_seconds` (per service), and one lookup at a time per service.
- A service page: Events API v2 `POST /v2/enqueue` (trigger, `dedup_key` = the page's key) when the
  service has an integration key, else `POST /incidents` with `incident_key`; a person page (the
  commander): `POST /incidents` on `commander_service`, assigned to their PagerDuty user (by email).
  A duplicate key (already open) counts as sent: PagerDuty has that page.
- Every call has a deadline; 429 and 5xx are retried once after a short pause (Retry-After, at most
  2 s), then raised as a PortError with the status and PagerDuty's message.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from domain.config.paging import PagerDutyConfig, PagerDutyService
from domain.core.ports import OnCallPerson, PageRequest, PortError

log = logging.getLogger(__name__)
EmailLookup = Callable[[str], Awaitable[str | None]]
MAX_RETRY_WAIT = 2.0
DUPLICATE_KEY = "matching dedup key already exists"


class PagerDutyOncall:
    def __init__(self, config: PagerDutyConfig, api_token: str, routing_keys: dict[str, str],
                 slack_user_by_email: EmailLookup) -> None:
        self.config = config
        self._token = api_token
        self._routing_keys = routing_keys  # service name (casefolded) -> integration key
        self._slack_user = slack_user_by_email
        self._cache: dict[str, tuple[float, list[OnCallPerson]]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def from_env(cls, config: PagerDutyConfig, slack_user_by_email: EmailLookup) -> PagerDutyOncall:
        """Secrets from the environment variables the config names; raises ValueError naming the missing ones."""
        missing = [config.api_token_env] if not os.environ.get(config.api_token_env, "").strip() else []
        keys = {}
        for service in config.services:
            if service.routing_key_env:
                key = os.environ.get(service.routing_key_env, "").strip()
                if key:
                    keys[service.name.casefold()] = key
                else:
                    missing.append(service.routing_key_env)
        if missing:
            raise ValueError(", ".join(missing))
        return cls(config, os.environ[config.api_token_env].strip(), keys, slack_user_by_email)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ------------------------------------------------------------------ HTTP
    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.config.timeout))
        return self._session

    async def _request(self, what: str, method: str, url: str, *, json: Any = None, params: Any = None,
                       rest: bool = True, headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
        sent = {"Accept": "application/json", **(headers or {})}
        if rest:
            sent["Authorization"] = f"Token token={self._token}"
        for attempt in (1, 2):
            try:
                async with self._http().request(method, url, json=json, params=params, headers=sent) as resp:
                    try:
                        body = await resp.json(content_type=None)
                    except ValueError:
                        body = {}
                    body = body if isinstance(body, dict) else {}
                    if (resp.status == 429 or resp.status >= 500) and attempt == 1:
                        await asyncio.sleep(_retry_wait(resp.headers.get("Retry-After")))
                        continue
                    return resp.status, body
            except TimeoutError:
                raise PortError("timeout", f"PagerDuty did not answer {what} within {self.config.timeout:g} s") from None
            except (aiohttp.ClientError, OSError) as exc:
                raise PortError("unreachable", f"PagerDuty unreachable ({what}): {type(exc).__name__}") from None
        raise AssertionError("unreachable")

    async def _ok(self, what: str, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        status, body = await self._request(what, method, url, **kwargs)
        if status >= 300:
            raise _failure(what, status, body)
        return body

    # ------------------------------------------------------------------ on-call
    def _service(self, name: str) -> PagerDutyService:
        service = self.config.service(name)
        if service is None:
            raise PortError("unknown_service", f"{name} is not a PagerDuty service in the config")
        return service

    async def on_call(self, service: str) -> list[OnCallPerson]:
        if self.config.service(service) is None:
            return []
        key = service.casefold()
        async with self._locks.setdefault(key, asyncio.Lock()):  # concurrent lookups share one call
            cached = self._cache.get(key)
            if cached is not None and time.monotonic() - cached[0] < self.config.cache_seconds:
                return cached[1]
            people = await self._lookup(self._service(service))
            self._cache[key] = (time.monotonic(), people)
            return people

    async def _lookup(self, service: PagerDutyService) -> list[OnCallPerson]:
        api = self.config.api_url
        body = await self._ok("service", "GET", f"{api}/services/{service.id}")
        policy = ((body.get("service") or {}).get("escalation_policy") or {}).get("id")
        if not policy:
            return []
        entries: list[dict[str, Any]] = []
        offset = 0
        while True:  # paginated; a policy has a few entries, so a few pages at most
            page = await self._ok("on-calls", "GET", f"{api}/oncalls",
                                  params=[("escalation_policy_ids[]", policy), ("include[]", "users"),
                                          ("limit", "100"), ("offset", str(offset))])
            entries += page.get("oncalls") or []
            if not page.get("more") or offset > 1000:
                break
            offset += 100
        seen: dict[str, OnCallPerson] = {}
        for entry in sorted(entries, key=lambda e: e.get("escalation_level") or 99):
            user = entry.get("user") or {}
            uid = user.get("id")
            if not uid or uid in seen:
                continue
            email = user.get("email")
            slack_id = await self._slack_user(email) if email else None
            seen[uid] = OnCallPerson(name=user.get("name") or user.get("summary") or uid, user_id=slack_id, email=email,
                                     level=int(entry.get("escalation_level") or 1),
                                     schedule=(entry.get("schedule") or {}).get("summary"))
        return list(seen.values())

    async def resolve(self, service: str) -> list[str]:
        return [p.user_id for p in await self.on_call(service) if p.user_id]

    # ------------------------------------------------------------------ pages
    async def page(self, service: str, request: PageRequest) -> str:
        target = self._service(service)
        routing_key = self._routing_keys.get(target.name.casefold())
        if routing_key is None:
            return await self._rest_incident(target, request, assignee=None)
        event = {
            "routing_key": routing_key, "event_action": "trigger", "dedup_key": request.dedup_key,
            "payload": {"summary": _summary(request), "source": "warroom", "severity": "critical",
                        "custom_details": {"incident": request.incident_name, "priority": request.priority,
                                           "channel": request.link, **(request.details or {})}},
            "client": "warroom", "client_url": request.link or None,
            "links": [{"href": request.link, "text": f"Slack channel of {request.incident_name}"}] if request.link else [],
        }
        status, body = await self._request("enqueue", "POST", f"{self.config.events_url}/v2/enqueue", json=event,
                                           rest=False)
        if status != 202:
            errors = "; ".join(map(str, body.get("errors") or [])) or body.get("message") or ""
            raise PortError(f"pagerduty_{status}", f"PagerDuty refused the page (HTTP {status}): {errors}"[:400])
        return str(body.get("dedup_key") or request.dedup_key)

    async def page_person(self, user_id: str, email: str | None, request: PageRequest) -> str:
        if not self.config.commander_service:
            raise PortError("no_commander_service", "pagerduty.commander_service is not set: nobody to page people through")
        target = self._service(self.config.commander_service)
        assignee = await self._user_id(email) if email else None
        return await self._rest_incident(target, request, assignee=assignee)

    async def _user_id(self, email: str) -> str | None:
        body = await self._ok("users", "GET", f"{self.config.api_url}/users", params={"query": email, "limit": "25"})
        return next((u["id"] for u in body.get("users") or [] if str(u.get("email", "")).casefold() == email.casefold()),
                    None)

    async def _rest_incident(self, service: PagerDutyService, request: PageRequest, *, assignee: str | None) -> str:
        incident: dict[str, Any] = {
            "type": "incident", "title": _summary(request), "urgency": "high", "incident_key": request.dedup_key,
            "service": {"id": service.id, "type": "service_reference"},
            "body": {"type": "incident_body", "details": f"{request.title}\nSlack channel: {request.link}".strip()},
        }
        if assignee:
            incident["assignments"] = [{"assignee": {"id": assignee, "type": "user_reference"}}]
        status, body = await self._request("create incident", "POST", f"{self.config.api_url}/incidents",
                                           json={"incident": incident}, headers={"From": self.config.from_email})
        if status == 201:
            return str((body.get("incident") or {}).get("id") or request.dedup_key)
        if status == 400 and DUPLICATE_KEY in str(body).lower():
            return request.dedup_key  # an earlier attempt raised it (its answer was lost): paged once
        raise _failure("create incident", status, body)


def _summary(request: PageRequest) -> str:
    return f"{request.incident_name}: {request.title}"[:1024]


def _retry_wait(header: str | None) -> float:
    try:
        return min(max(float(header), 0.0), MAX_RETRY_WAIT) if header else 0.5
    except ValueError:
        return 0.5


def _failure(what: str, status: int, body: dict[str, Any]) -> PortError:
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    message = error.get("message") or body.get("message") or ""
    details = "; ".join(map(str, error.get("errors") or []))
    text = f"PagerDuty answered {what} with HTTP {status}" + (f": {message}" if message else "") + \
        (f" ({details})" if details else "")
    return PortError(f"pagerduty_{status}", text[:400])
