"""PagerDuty over loopback: REST API v2 (users, services, escalation policies, schedules, on-calls,
incidents) and Events API v2 (`POST /v2/enqueue`), in their documented shapes.

- REST calls need `Authorization: Token token=<api token>` (401 `{"error": {"message":
  "Authentication required", "code": 2006}}` otherwise); lists are offset-paginated
  (`limit`, `offset`, `more`, `total`); `POST /incidents` needs a `From` header naming a user's
  email, and refuses an `incident_key` already open on the service (400, code 2001), as PagerDuty does.
- Events API v2 authenticates by the body's `routing_key` (a service integration key); events with
  the same `dedup_key` while its alert is open join that alert and its incident (202 each time).
- Faults: `latency` on every call, and scripted failures (`fail("enqueue", 500)`, 429 with
  Retry-After...) per operation.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

from aiohttp import web

from emulators.loopback import Fault, LoopbackServer


@dataclass
class PdUser:
    id: str
    name: str
    email: str


@dataclass
class PdIncident:
    id: str
    number: int
    title: str
    service_id: str
    incident_key: str
    urgency: str = "high"
    status: str = "triggered"
    assignees: list[str] = field(default_factory=list)  # user ids
    details: str = ""
    created_by: str = ""  # From header (REST) or "events" (Events API)
    alerts: int = 1


@dataclass
class PdEvent:
    """An Events API v2 event as received."""

    routing_key: str
    action: str
    dedup_key: str
    payload: dict[str, Any]
    links: list[dict[str, Any]]


def _error(status: int, message: str, code: int, errors: list[str] | None = None,
           headers: dict[str, str] | None = None) -> web.Response:
    body: dict[str, Any] = {"error": {"message": message, "code": code}}
    if errors:
        body["error"]["errors"] = errors
    return web.json_response(body, status=status, headers=headers)


class PagerDutyEmulator(LoopbackServer):
    """`await emu.start()`, point the REST client at `emu.api_url` and the Events client at `emu.events_url`.

    Build the account with `add_user`, `add_schedule`, `add_policy`, `add_service`; read `incidents`
    and `events`; script faults with `fail(operation)` (default 500): users, services, service,
    escalation_policies, escalation_policy, schedules, schedule, oncalls, incidents, incident, create_incident,
    enqueue, or "*".
    """

    fail_status = 500

    def __init__(self, *, token: str = "pd-test-token", latency: float = 0.0) -> None:
        self.token = token
        self.latency = latency
        self.faults: list[Fault] = []
        self.users: dict[str, PdUser] = {}
        self.schedules: dict[str, dict[str, Any]] = {}  # id -> {name, users (on call now, in order)}
        self.policies: dict[str, dict[str, Any]] = {}  # id -> {name, levels: [[("user"|"schedule", id)...]...]}
        self.services: dict[str, dict[str, Any]] = {}  # id -> {name, policy, routing_key}
        self.incidents: dict[str, PdIncident] = {}
        self.events: list[PdEvent] = []
        self.calls: list[tuple[str, str]] = []  # (method, path) of every authenticated call
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    # ------------------------------------------------------------------ account
    def _id(self, prefix: str) -> str:
        return f"P{prefix}{next(self._ids):04d}"

    def add_user(self, name: str, email: str) -> str:
        uid = self._id("USR")
        self.users[uid] = PdUser(uid, name, email)
        return uid

    def add_schedule(self, name: str, on_call: list[str]) -> str:
        sid = self._id("SCH")
        self.schedules[sid] = {"name": name, "users": list(on_call)}
        return sid

    def add_policy(self, name: str, levels: list[list[tuple[str, str]]]) -> str:
        """`levels`: escalation rules in order, each a list of ("user", id) or ("schedule", id) targets."""
        pid = self._id("POL")
        self.policies[pid] = {"name": name, "levels": levels}
        return pid

    def add_service(self, name: str, policy: str, *, routing_key: str | None = None) -> str:
        sid = self._id("SVC")
        self.services[sid] = {"name": name, "policy": policy, "routing_key": routing_key}
        return sid

    def open_incidents(self, service_id: str | None = None) -> list[PdIncident]:
        return [i for i in self.incidents.values()
                if i.status != "resolved" and (service_id is None or i.service_id == service_id)]

    # ------------------------------------------------------------------ lifecycle
    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def events_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ------------------------------------------------------------------ HTTP
    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        r = app.router
        r.add_get("/users", self._users)
        r.add_get("/services", self._services)
        r.add_get("/services/{id}", self._service)
        r.add_get("/escalation_policies", self._escalation_policies)
        r.add_get("/escalation_policies/{id}", self._escalation_policy)
        r.add_get("/schedules", self._schedules)
        r.add_get("/schedules/{id}", self._schedule)
        r.add_get("/oncalls", self._oncalls)
        r.add_get("/incidents", self._incidents)
        r.add_get("/incidents/{id}", self._incident)
        r.add_post("/incidents", self._create_incident)
        r.add_post("/v2/enqueue", self._enqueue)
        return app

    _OPERATIONS: ClassVar[dict[str, str]] = {
        "_users": "users", "_services": "services", "_service": "service",
        "_escalation_policies": "escalation_policies", "_escalation_policy": "escalation_policy",
        "_schedules": "schedules", "_schedule": "schedule", "_oncalls": "oncalls", "_incidents": "incidents",
        "_incident": "incident", "_create_incident": "create_incident", "_enqueue": "enqueue"}

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if self.latency:
            await asyncio.sleep(self.latency)
        operation = self._OPERATIONS.get(getattr(handler, "__name__", ""), "")
        events = operation == "enqueue"
        if not events and request.headers.get("Authorization", "") != f"Token token={self.token}":
            return _error(401, "Authentication required", 2006)
        self.calls.append((request.method, request.path_qs))
        fault = self._take_fault(operation)
        if fault is not None:
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
            if events:
                message = "Too many requests" if fault.status == 429 else "Internal Server Error"
                return web.json_response({"status": "error", "message": message}, status=fault.status, headers=headers)
            if fault.status == 429:
                return _error(429, "Rate Limit Exceeded", 2020, headers=headers)
            return _error(fault.status, "Internal Server Error", 2000 + fault.status, headers=headers)
        return await handler(request)

    # ------------------------------------------------------------------ shapes
    def _ref(self, kind: str, oid: str, summary: str, request: web.Request) -> dict[str, Any]:
        path = {"user": "users", "service": "services", "escalation_policy": "escalation_policies",
                "schedule": "schedules", "incident": "incidents"}[kind]
        base = f"{request.scheme}://{request.host}"
        return {"id": oid, "type": f"{kind}_reference", "summary": summary, "self": f"{base}/{path}/{oid}",
                "html_url": f"https://example.pagerduty.com/{path}/{oid}"}

    def _user(self, user: PdUser) -> dict[str, Any]:
        return {"id": user.id, "type": "user", "name": user.name, "summary": user.name, "email": user.email,
                "time_zone": "UTC", "role": "user", "html_url": f"https://example.pagerduty.com/users/{user.id}"}

    def _service_body(self, sid: str, request: web.Request) -> dict[str, Any]:
        s = self.services[sid]
        policy = self.policies[s["policy"]]
        return {"id": sid, "type": "service", "name": s["name"], "summary": s["name"], "status": "active",
                "escalation_policy": self._ref("escalation_policy", s["policy"], policy["name"], request),
                "html_url": f"https://example.pagerduty.com/services/{sid}"}

    def _policy_body(self, pid: str, request: web.Request) -> dict[str, Any]:
        p = self.policies[pid]
        rules = []
        for n, level in enumerate(p["levels"], start=1):
            targets = []
            for kind, tid in level:
                name = self.users[tid].name if kind == "user" else self.schedules[tid]["name"]
                targets.append({**self._ref(kind, tid, name, request), "type": f"{kind}_reference"})
            rules.append({"id": f"R{pid}{n}", "escalation_delay_in_minutes": 30, "targets": targets})
        return {"id": pid, "type": "escalation_policy", "name": p["name"], "summary": p["name"],
                "escalation_rules": rules,
                "services": [self._ref("service", sid, s["name"], request)
                             for sid, s in self.services.items() if s["policy"] == pid]}

    def _schedule_body(self, sid: str, request: web.Request) -> dict[str, Any]:
        s = self.schedules[sid]
        return {"id": sid, "type": "schedule", "name": s["name"], "summary": s["name"], "time_zone": "UTC",
                "users": [self._ref("user", u, self.users[u].name, request) for u in s["users"]]}

    def _incident_body(self, inc: PdIncident, request: web.Request) -> dict[str, Any]:
        service = self.services[inc.service_id]
        return {"id": inc.id, "type": "incident", "incident_number": inc.number, "title": inc.title,
                "summary": f"[#{inc.number}] {inc.title}", "status": inc.status, "urgency": inc.urgency,
                "incident_key": inc.incident_key, "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "service": self._ref("service", inc.service_id, service["name"], request),
                "assignments": [{"assignee": self._ref("user", u, self.users[u].name, request)} for u in inc.assignees],
                "html_url": f"https://example.pagerduty.com/incidents/{inc.id}"}

    @staticmethod
    def _page(request: web.Request, key: str, items: list[Any]) -> web.Response:
        try:
            limit = min(int(request.query.get("limit", "25")), 100)
            offset = int(request.query.get("offset", "0"))
        except ValueError:
            return _error(400, "Invalid Input Provided", 2001, ["limit and offset must be integers"])
        chunk = items[offset:offset + limit]
        return web.json_response({key: chunk, "limit": limit, "offset": offset,
                                  "more": offset + limit < len(items), "total": len(items)})

    # ------------------------------------------------------------------ REST resources
    async def _users(self, request: web.Request) -> web.Response:
        query = request.query.get("query", "").casefold()
        found = [self._user(u) for u in self.users.values()
                 if query in u.email.casefold() or query in u.name.casefold()]
        return self._page(request, "users", found)

    async def _services(self, request: web.Request) -> web.Response:
        query = request.query.get("query", "").casefold()
        found = [self._service_body(sid, request) for sid, s in self.services.items() if query in s["name"].casefold()]
        return self._page(request, "services", found)

    async def _service(self, request: web.Request) -> web.Response:
        sid = request.match_info["id"]
        if sid not in self.services:
            return _error(404, "Not Found", 2100)
        return web.json_response({"service": self._service_body(sid, request)})

    async def _escalation_policies(self, request: web.Request) -> web.Response:
        return self._page(request, "escalation_policies", [self._policy_body(p, request) for p in self.policies])

    async def _escalation_policy(self, request: web.Request) -> web.Response:
        pid = request.match_info["id"]
        if pid not in self.policies:
            return _error(404, "Not Found", 2100)
        return web.json_response({"escalation_policy": self._policy_body(pid, request)})

    async def _schedules(self, request: web.Request) -> web.Response:
        return self._page(request, "schedules", [self._schedule_body(s, request) for s in self.schedules])

    async def _schedule(self, request: web.Request) -> web.Response:
        sid = request.match_info["id"]
        if sid not in self.schedules:
            return _error(404, "Not Found", 2100)
        return web.json_response({"schedule": self._schedule_body(sid, request)})

    async def _oncalls(self, request: web.Request) -> web.Response:
        policies = request.query.getall("escalation_policy_ids[]", []) or list(self.policies)
        include_users = "users" in request.query.getall("include[]", [])
        now = time.time()
        start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 3600))
        end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 8 * 3600))
        found = []
        for pid in policies:
            if pid not in self.policies:
                continue
            policy = self.policies[pid]
            for level, targets in enumerate(policy["levels"], start=1):
                for kind, tid in targets:
                    users = [tid] if kind == "user" else self.schedules[tid]["users"][:1]
                    schedule = self._ref("schedule", tid, self.schedules[tid]["name"], request) if kind == "schedule" else None
                    for uid in users:
                        user = self._user(self.users[uid]) if include_users else \
                            self._ref("user", uid, self.users[uid].name, request)
                        found.append({"escalation_policy": self._ref("escalation_policy", pid, policy["name"], request),
                                      "escalation_level": level, "schedule": schedule, "user": user,
                                      "start": start if schedule else None, "end": end if schedule else None})
        return self._page(request, "oncalls", found)

    async def _incidents(self, request: web.Request) -> web.Response:
        key = request.query.get("incident_key")
        statuses = request.query.getall("statuses[]", [])
        found = [self._incident_body(i, request) for i in self.incidents.values()
                 if (key is None or i.incident_key == key) and (not statuses or i.status in statuses)]
        return self._page(request, "incidents", found)

    async def _incident(self, request: web.Request) -> web.Response:
        inc = self.incidents.get(request.match_info["id"])
        if inc is None:
            return _error(404, "Not Found", 2100)
        return web.json_response({"incident": self._incident_body(inc, request)})

    async def _create_incident(self, request: web.Request) -> web.Response:
        sender = request.headers.get("From", "")
        if not any(u.email.casefold() == sender.casefold() for u in self.users.values()):
            return _error(400, "Invalid Input Provided", 2001,
                          ["The From header is required and must be the email of a valid user"])
        try:
            body = json.loads(await request.read() or b"{}")
        except json.JSONDecodeError:
            return _error(400, "Invalid Input Provided", 2001, ["The request body is not valid JSON"])
        data = body.get("incident") if isinstance(body, dict) else None
        if not isinstance(data, dict) or data.get("type") != "incident" or not data.get("title"):
            return _error(400, "Invalid Input Provided", 2001, ["Incident type must be 'incident' and a title is required"])
        sid = (data.get("service") or {}).get("id")
        if sid not in self.services:
            return _error(400, "Invalid Input Provided", 2001, ["Service not found"])
        assignees = [a.get("assignee", {}).get("id") for a in data.get("assignments") or []]
        if any(a not in self.users for a in assignees):
            return _error(400, "Invalid Input Provided", 2001, ["Assignee not found"])
        key = str(data.get("incident_key") or "")
        if key and any(i.incident_key == key for i in self.open_incidents(sid)):
            return _error(400, "Invalid Input Provided", 2001,
                          ["Open incident with matching dedup key already exists on this service"])
        inc = self._new_incident(str(data["title"])[:1024], sid, key or self._id("KEY"), created_by=sender,
                                 urgency=data.get("urgency") or "high", assignees=assignees,
                                 details=str((data.get("body") or {}).get("details") or ""))
        return web.json_response({"incident": self._incident_body(inc, request)}, status=201)

    def _new_incident(self, title: str, sid: str, key: str, *, created_by: str, urgency: str = "high",
                      assignees: list[str] | None = None, details: str = "") -> PdIncident:
        number = len(self.incidents) + 1
        if not assignees:  # the first level of the service's escalation policy
            first = self.policies[self.services[sid]["policy"]]["levels"][:1]
            assignees = [u for kind, tid in (first[0] if first else [])
                         for u in ([tid] if kind == "user" else self.schedules[tid]["users"][:1])]
        inc = PdIncident(self._id("INC"), number, title, sid, key, urgency, assignees=assignees, details=details,
                         created_by=created_by)
        self.incidents[inc.id] = inc
        return inc

    # ------------------------------------------------------------------ Events API v2
    async def _enqueue(self, request: web.Request) -> web.Response:
        def invalid(*errors: str) -> web.Response:
            return web.json_response({"status": "invalid event", "message": "Event object is invalid",
                                      "errors": list(errors)}, status=400)

        try:
            body = json.loads(await request.read() or b"{}")
        except json.JSONDecodeError:
            return invalid("Event body is not valid JSON")
        if not isinstance(body, dict):
            return invalid("Event must be a JSON object")
        routing_key = body.get("routing_key")
        service = next((sid for sid, s in self.services.items() if s["routing_key"] and s["routing_key"] == routing_key), None)
        if not isinstance(routing_key, str) or len(routing_key) != 32:
            return invalid("'routing_key' is invalid (must be 32 characters)")
        if service is None:
            return invalid("'routing_key' does not match an integration")
        action = body.get("event_action")
        if action not in ("trigger", "acknowledge", "resolve"):
            return invalid("'event_action' must be one of trigger, acknowledge, resolve")
        payload = body.get("payload") or {}
        dedup = body.get("dedup_key")
        if action == "trigger":
            missing = [k for k in ("summary", "source", "severity") if not payload.get(k)]
            if missing:
                return invalid(*(f"'payload.{k}' is missing or blank" for k in missing))
            if payload["severity"] not in ("critical", "error", "warning", "info"):
                return invalid("'payload.severity' must be critical, error, warning or info")
            if len(str(payload["summary"])) > 1024:
                return invalid("'payload.summary' must be at most 1024 characters")
        elif not dedup:
            return invalid("'dedup_key' is required for acknowledge and resolve")
        dedup = str(dedup or self._id("DDP"))
        self.events.append(PdEvent(routing_key, action, dedup, payload, list(body.get("links") or [])))
        open_one = next((i for i in self.open_incidents(service) if i.incident_key == dedup), None)
        if action == "trigger":
            if open_one is None:
                self._new_incident(str(payload["summary"]), service, dedup, created_by="events",
                                   details=json.dumps(payload.get("custom_details") or {}))
            else:
                open_one.alerts += 1
        elif open_one is not None:
            open_one.status = "acknowledged" if action == "acknowledge" else "resolved"
        return web.json_response({"status": "success", "message": "Event processed", "dedup_key": dedup}, status=202)
