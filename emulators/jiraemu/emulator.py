"""Jira Cloud over loopback: the issue, transition, search and server-info resources of REST v2/v3.

Shapes follow Jira Cloud: `POST /rest/api/2/issue` answers 201 `{id, key, self}`; edits and
transitions answer 204; errors carry `{"errorMessages": [...], "errors": {field: message}}`; the
retired `/rest/api/{2,3}/search` answers 410 and `/rest/api/{2,3}/search/jql` (token paginated)
replaces it. Requests need HTTP basic auth with the account's email and API token (401 otherwise).
Faults: latency on every call and scripted failures (429 with Retry-After, 5xx...) per operation.
Users (`add_user`) are found by `GET /rest/api/{2,3}/user/search?query=<email or name>` (a bare list, as
Cloud answers) and assigned by accountId (`fields.assignee`); an unknown accountId is a 400.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

from aiohttp import web

from emulators.loopback import Fault, LoopbackServer

REMOVED_SEARCH = ("The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
                  "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046")
PRIORITIES = {"1": "Highest", "2": "High", "3": "Medium", "4": "Low", "5": "Lowest"}
ISSUE_TYPES = {"10001": "Task", "10002": "Bug", "10003": "Incident"}
# status id -> (name, status category key, category name)
STATUSES = {"10000": ("To Do", "new", "To Do"), "3": ("In Progress", "indeterminate", "In Progress"),
            "10001": ("Mitigated", "indeterminate", "In Progress"), "10002": ("Done", "done", "Done")}


@dataclass(frozen=True)
class Transition:
    id: str
    name: str
    to: str  # status id
    sources: tuple[str, ...]  # status ids it is offered from


WORKFLOW = (
    Transition("11", "Start Progress", "3", ("10000", "10001")),
    Transition("21", "Mitigate", "10001", ("10000", "3")),
    Transition("31", "Done", "10002", ("10000", "3", "10001")),
    Transition("41", "Reopen", "10000", ("10002",)),
)


@dataclass
class JiraIssue:
    id: str
    key: str
    project: str
    fields: dict[str, Any]
    status: str = "10000"
    history: list[str] = field(default_factory=list)  # transition names applied, in order
    edits: int = 0
    created_at: float = field(default_factory=time.monotonic)

    @property
    def status_name(self) -> str:
        return STATUSES[self.status][0]

    @property
    def labels(self) -> list[str]:
        return list(self.fields.get("labels") or [])

    @property
    def assignee(self) -> str | None:
        """accountId of the assignee, if any."""
        value = self.fields.get("assignee")
        return value.get("accountId") if isinstance(value, dict) else None


@dataclass
class JiraUser:
    account_id: str
    email: str
    display_name: str
    email_visible: bool = True  # Cloud hides emailAddress when the user's profile visibility says so

    def to_api(self, base: str, version: str) -> dict[str, Any]:
        out: dict[str, Any] = {"self": f"{base}/rest/api/{version}/user?accountId={self.account_id}",
                               "accountId": self.account_id, "accountType": "atlassian",
                               "displayName": self.display_name, "active": True}
        if self.email_visible:
            out["emailAddress"] = self.email
        return out


def _error(status: int, *messages: str, errors: dict[str, str] | None = None,
           headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"errorMessages": list(messages), "errors": errors or {}}, status=status, headers=headers)


_JQL_CLAUSE = re.compile(r'^\s*(labels|project|key)\s*(=|in)\s*(.+?)\s*$', re.IGNORECASE)


class JiraEmulator(LoopbackServer):
    """`await emu.start()`, point the client at `emu.url`; inspect `emu.issues`, script `emu.faults`."""

    def __init__(self, *, email: str = "warroom-bot@example.com", token: str = "jira-test-token",
                 projects: tuple[str, ...] = ("INC",), latency: float = 0.0, index_delay: float = 0.0) -> None:
        self.email, self.token = email, token
        self.projects = {key: str(10000 + i) for i, key in enumerate(projects)}
        self.latency = latency
        self.index_delay = index_delay  # seconds before a new issue shows in search (Cloud search is eventually consistent)
        self.faults: list[Fault] = []
        self.issues: dict[str, JiraIssue] = {}
        self.users: dict[str, JiraUser] = {}  # accountId -> user
        self.calls: list[tuple[str, str]] = []  # (HTTP method, path) of every authenticated call
        self._next_id = 10000
        self._numbers: dict[str, int] = {}
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    # ------------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add_user(self, email: str, display_name: str = "", *, email_visible: bool = True) -> str:
        """A Jira account; returns its accountId."""
        account_id = f"5b10a2844c20165700ede{len(self.users) + 1:03d}"
        self.users[account_id] = JiraUser(account_id, email, display_name or email.split("@")[0], email_visible)
        return account_id

    def with_label(self, label: str) -> list[JiraIssue]:
        return [i for i in self.issues.values() if label in i.labels]

    # ------------------------------------------------------------------ HTTP
    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        api = "/rest/api/{version:[23]}"
        app.router.add_get(api + "/serverInfo", self._server_info)
        app.router.add_get(api + "/field", self._fields)
        app.router.add_post(api + "/issue", self._create)
        app.router.add_get(api + "/issue/{key}", self._get)
        app.router.add_put(api + "/issue/{key}", self._edit)
        app.router.add_get(api + "/issue/{key}/transitions", self._transitions)
        app.router.add_post(api + "/issue/{key}/transitions", self._transition)
        app.router.add_route("*", api + "/search/jql", self._search)
        app.router.add_route("*", api + "/search", self._removed_search)
        app.router.add_get(api + "/user/search", self._user_search)
        app.router.add_get("/browse/{key}", self._browse)
        return app

    _OPERATIONS: ClassVar[dict[str, str]] = {"_server_info": "serverInfo", "_fields": "field", "_create": "create", "_get": "get",
                   "_edit": "edit", "_transitions": "transitions", "_transition": "transition", "_search": "search",
                   "_removed_search": "search", "_user_search": "user"}

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if self.latency:
            await asyncio.sleep(self.latency)
        if not request.path.startswith("/rest/"):
            return await handler(request)
        if not self._authorized(request.headers.get("Authorization", "")):
            return _error(401, "Client must be authenticated to access this resource.",
                          headers={"WWW-Authenticate": 'Basic realm="protected-by-api-token"'})
        self.calls.append((request.method, request.path))
        operation = self._OPERATIONS.get(getattr(handler, "__name__", ""), "")
        fault = self._take_fault(operation)
        if fault is not None:
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
            if fault.status == 429:
                return _error(429, "Rate limit exceeded.", headers=headers)
            return _error(fault.status, f"Simulated failure ({fault.status}).", headers=headers)
        return await handler(request)

    def _authorized(self, header: str) -> bool:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            email, _, token = base64.b64decode(value).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return email == self.email and token == self.token

    def _base(self, request: web.Request) -> str:
        return f"{request.scheme}://{request.host}"

    async def _json(self, request: web.Request) -> dict[str, Any]:
        try:
            data = json.loads(await request.read() or b"{}")
        except json.JSONDecodeError:
            raise web.HTTPBadRequest(text=json.dumps({"errorMessages": ["Unexpected character in JSON body."],
                                                      "errors": {}}), content_type="application/json") from None
        return data if isinstance(data, dict) else {}

    # ------------------------------------------------------------------ resources
    async def _server_info(self, request: web.Request) -> web.Response:
        return web.json_response({"baseUrl": self._base(request), "displayUrl": self._base(request),
                                  "version": "1001.0.0-SNAPSHOT", "versionNumbers": [1001, 0, 0],
                                  "deploymentType": "Cloud", "buildNumber": 100287,
                                  "serverTime": time.strftime("%Y-%m-%dT%H:%M:%S.000+0000", time.gmtime()),
                                  "scmInfo": "emulated", "serverTitle": "Jira (warroom emulator)"})

    async def _fields(self, request: web.Request) -> web.Response:
        names = ("summary", "description", "labels", "priority", "issuetype", "project", "status", "assignee")
        return web.json_response([{"id": n, "key": n, "name": n.capitalize(), "custom": False, "navigable": True,
                                   "searchable": True, "clauseNames": [n]} for n in names])

    def _issue_json(self, request: web.Request, issue: JiraIssue) -> dict[str, Any]:
        base, version = self._base(request), request.match_info.get("version", "2")
        name, category, category_name = STATUSES[issue.status]
        fields = dict(issue.fields)
        fields["status"] = {"self": f"{base}/rest/api/{version}/status/{issue.status}", "id": issue.status,
                            "name": name, "statusCategory": {"key": category, "name": category_name}}
        fields["project"] = {"id": self.projects[issue.project], "key": issue.project, "name": issue.project}
        return {"expand": "renderedFields,names,schema,transitions,editmeta,changelog", "id": issue.id,
                "self": f"{base}/rest/api/{version}/issue/{issue.id}", "key": issue.key, "fields": fields}

    def _find(self, key: str) -> JiraIssue:
        issue = self.issues.get(key) or next((i for i in self.issues.values() if i.id == key), None)
        if issue is None:
            raise web.HTTPNotFound(text=json.dumps({"errorMessages": [
                "Issue does not exist or you do not have permission to see it."], "errors": {}}),
                content_type="application/json")
        return issue

    def _check_fields(self, fields: dict[str, Any], *, creating: bool) -> tuple[dict[str, Any], dict[str, str]]:
        """The fields as stored (named references resolved) and the errors, by field."""
        errors: dict[str, str] = {}
        out: dict[str, Any] = {}
        for name, value in fields.items():
            if name == "project":
                key = value.get("key") if isinstance(value, dict) else None
                key = key or next((k for k, v in self.projects.items() if isinstance(value, dict)
                                   and v == value.get("id")), None)
                if key not in self.projects:
                    errors["project"] = "valid project is required"
                else:
                    out["project"] = key
            elif name == "issuetype":
                found = _lookup(ISSUE_TYPES, value)
                if found is None:
                    errors["issuetype"] = "The issue type selected is invalid."
                else:
                    out["issuetype"] = {"id": found[0], "name": found[1], "subtask": False}
            elif name == "priority":
                found = _lookup(PRIORITIES, value)
                if value is not None and found is None:
                    errors["priority"] = f"Specify the Priority (name) in the string format ({value!r} not found)"
                else:
                    out["priority"] = {"id": found[0], "name": found[1]} if found else None
            elif name == "summary":
                if not isinstance(value, str) or not value.strip():
                    errors["summary"] = "You must specify a summary of the issue."
                elif len(value) > 255:
                    errors["summary"] = "Summary must be less than 255 characters."
                else:
                    out["summary"] = value
            elif name == "labels":
                if not isinstance(value, list) or any(not isinstance(v, str) or " " in v for v in value):
                    errors["labels"] = "The label can't contain spaces."
                else:
                    out["labels"] = value
            elif name == "assignee":
                account = value.get("accountId") if isinstance(value, dict) else None
                if value is not None and account not in self.users:
                    errors["assignee"] = f"User '{account}' does not exist."
                else:
                    out["assignee"] = {"accountId": account, "displayName": self.users[account].display_name} \
                        if account else None
            elif name in ("description", "reporter"):
                out[name] = value
            else:
                errors[name] = (f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown.")
        if creating:
            for required in ("project", "issuetype", "summary"):
                if required not in fields and required not in errors:
                    errors[required] = f"{required} is required."
        return out, errors

    async def _create(self, request: web.Request) -> web.Response:
        data = await self._json(request)
        fields, errors = self._check_fields(data.get("fields") or {}, creating=True)
        if errors:
            return _error(400, errors=errors)
        project = fields.pop("project")
        self._numbers[project] = self._numbers.get(project, 0) + 1
        self._next_id += 1
        key = f"{project}-{self._numbers[project]}"
        fields.setdefault("labels", [])
        fields.setdefault("priority", {"id": "3", "name": "Medium"})
        issue = JiraIssue(str(self._next_id), key, project, fields)
        self.issues[key] = issue
        return web.json_response({"id": issue.id, "key": key,
                                  "self": f"{self._base(request)}/rest/api/{request.match_info['version']}/issue/{issue.id}"},
                                 status=201)

    async def _get(self, request: web.Request) -> web.Response:
        return web.json_response(self._issue_json(request, self._find(request.match_info["key"])))

    async def _edit(self, request: web.Request) -> web.Response:
        issue = self._find(request.match_info["key"])
        data = await self._json(request)
        fields, errors = self._check_fields(data.get("fields") or {}, creating=False)
        for name, operations in (data.get("update") or {}).items():
            if name != "labels":
                errors[name] = f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
                continue
            labels = issue.labels
            for op in operations:
                if "add" in op and op["add"] not in labels:
                    labels.append(op["add"])
                if "remove" in op and op["remove"] in labels:
                    labels.remove(op["remove"])
                if "set" in op:
                    labels = list(op["set"])
            fields["labels"] = labels
        if errors:
            return _error(400, errors=errors)
        fields.pop("project", None)
        issue.fields.update(fields)
        issue.edits += 1
        return web.Response(status=204)

    async def _transitions(self, request: web.Request) -> web.Response:
        issue = self._find(request.match_info["key"])
        offered = [t for t in WORKFLOW if issue.status in t.sources]
        base = self._base(request)
        return web.json_response({"expand": "transitions", "transitions": [
            {"id": t.id, "name": t.name, "hasScreen": False, "isGlobal": False, "isInitial": False,
             "isAvailable": True, "isConditional": False, "isLooped": False, "fields": {},
             "to": {"self": f"{base}/rest/api/2/status/{t.to}", "id": t.to, "name": STATUSES[t.to][0],
                    "statusCategory": {"key": STATUSES[t.to][1], "name": STATUSES[t.to][2]}}}
            for t in offered]})

    async def _transition(self, request: web.Request) -> web.Response:
        issue = self._find(request.match_info["key"])
        data = await self._json(request)
        wanted = str((data.get("transition") or {}).get("id", ""))
        transition = next((t for t in WORKFLOW if t.id == wanted), None)
        if transition is None or issue.status not in transition.sources:
            return _error(400, f"Transition id '{wanted}' is not valid for this issue.")
        fields, errors = self._check_fields(data.get("fields") or {}, creating=False)
        if errors:
            return _error(400, errors=errors)
        issue.fields.update(fields)
        issue.status = transition.to
        issue.history.append(transition.name)
        return web.Response(status=204)

    async def _search(self, request: web.Request) -> web.Response:
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST":
            params.update(await self._json(request))
        jql = str(params.get("jql") or "")
        try:
            matches = self._match(jql)
        except ValueError as exc:
            return _error(400, str(exc))
        start = int(params.get("nextPageToken") or 0)
        size = max(1, min(int(params.get("maxResults") or 50), 5000))
        page = matches[start:start + size]
        body: dict[str, Any] = {"issues": [self._issue_json(request, i) for i in page],
                                "isLast": start + size >= len(matches)}
        if not body["isLast"]:
            body["nextPageToken"] = str(start + size)
        return web.json_response(body)

    def _match(self, jql: str) -> list[JiraIssue]:
        """Clauses `labels|project|key = value` (or `in (a, b)`) joined by AND, optional ORDER BY."""
        jql = re.split(r"\s+order\s+by\s+", jql, flags=re.IGNORECASE)[0].strip()
        if not jql:
            raise ValueError("Unbounded JQL queries are not allowed here. Please add a search restriction to your query.")
        now = time.monotonic()
        issues = [i for i in self.issues.values() if now - i.created_at >= self.index_delay]
        for clause in re.split(r"\s+and\s+", jql, flags=re.IGNORECASE):
            m = _JQL_CLAUSE.match(clause)
            if not m:
                raise ValueError(f"Error in the JQL Query: the emulator does not understand {clause!r}.")
            name, op, raw = m.group(1).lower(), m.group(2).lower(), m.group(3)
            values = [v.strip().strip('"\'') for v in (raw.strip("()").split(",") if op == "in" else [raw])]
            if name == "labels":
                issues = [i for i in issues if set(values) & set(i.labels)]
            elif name == "project":
                issues = [i for i in issues if i.project in values]
            else:
                issues = [i for i in issues if i.key in values]
        return sorted(issues, key=lambda i: int(i.id))

    async def _user_search(self, request: web.Request) -> web.Response:
        """Users whose email (also when hidden, as Cloud matches it), display name or accountId start with `query`."""
        query = (request.query.get("query") or request.query.get("username") or "").strip().lower()
        if not query:
            return _error(400, "One of 'query' or 'accountId' query parameters must be provided.")
        start = int(request.query.get("startAt") or 0)
        size = max(1, min(int(request.query.get("maxResults") or 50), 1000))
        found = [u for u in self.users.values()
                 if u.email.lower().startswith(query) or u.display_name.lower().startswith(query) or u.account_id == query]
        version = request.match_info["version"]
        return web.json_response([u.to_api(self._base(request), version) for u in found[start:start + size]])

    async def _removed_search(self, request: web.Request) -> web.Response:
        return _error(410, REMOVED_SEARCH)

    async def _browse(self, request: web.Request) -> web.Response:
        issue = self._find(request.match_info["key"])
        return web.Response(text=f"<html><title>[{issue.key}] {issue.fields.get('summary', '')}</title></html>",
                            content_type="text/html")


def _lookup(table: dict[str, str], value: Any) -> tuple[str, str] | None:
    if not isinstance(value, dict):
        return None
    if value.get("id") in table:
        return str(value["id"]), table[value["id"]]
    name = value.get("name")
    return next(((i, n) for i, n in table.items() if n == name), None)
