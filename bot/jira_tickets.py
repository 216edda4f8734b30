"""TicketPort over the `jira` library (synchronous, requests): every call in a worker thread, with a deadline.

The client is built lazily, once, in a worker thread: its constructor reads serverInfo (a network
call) to learn the deployment type, which decides that searches use `/rest/api/{2,3}/search/jql`
(Jira Cloud retired `/search`). `max_retries=0`: a failed call is recorded and retried later by the
resume job, never slept on here; `timeout` bounds each HTTP request and the deadline the whole call.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from jira import JIRA, JIRAError

from domain.config.tickets import TicketsConfig
from domain.core.ports import PortError, TicketFields, TicketRef, TicketState

log = logging.getLogger(__name__)
T = TypeVar("T")


class JiraTickets:
    def __init__(self, config: TicketsConfig, api_token: str) -> None:
        self.server = config.server
        self._auth = (config.user_email, api_token)
        self.timeout = config.timeout
        self._client: JIRA | None = None
        self._lock = threading.Lock()
        self._accounts: dict[str, str] = {}  # email (casefolded) -> accountId, once found

    def _jira(self) -> JIRA:
        with self._lock:
            if self._client is None:
                self._client = JIRA(self.server, basic_auth=self._auth, get_server_info=True, max_retries=0,
                                    timeout=self.timeout, options={"check_update": False})
            return self._client

    async def _call(self, what: str, fn: Callable[[JIRA], T]) -> T:
        def run() -> T:
            return fn(self._jira())

        try:
            # A few HTTP requests per call at most (create = POST + GET): the deadline allows for them.
            return await asyncio.wait_for(asyncio.to_thread(run), self.timeout * 3)
        except TimeoutError:
            raise PortError("timeout", f"Jira did not answer {what} within {self.timeout * 3:.0f} s") from None
        except JIRAError as exc:
            status = exc.status_code or 0
            retry = exc.response.headers.get("Retry-After") if exc.response is not None else None
            detail = f"{what}: HTTP {status} {(exc.text or '')[:300]}" + (f" (Retry-After {retry})" if retry else "")
            raise PortError(f"jira_{status}" if status else "jira_error", detail) from None
        except (requests.RequestException, OSError) as exc:
            raise PortError("unreachable", f"{what}: {exc.__class__.__name__}: {exc}"[:400]) from None

    def link(self, key: str) -> str:
        return f"{self.server}/browse/{key}"

    def _account_id(self, j: JIRA, fields: TicketFields) -> str | None:
        """The assignee's Jira accountId: named by config, else the user whose email matches (Cloud matches
        `query` on hidden emails too: a single answer without `emailAddress` is taken); None when nobody is."""
        if fields.assignee_account_id or not fields.assignee_email:
            return fields.assignee_account_id
        email = fields.assignee_email.casefold()
        if email not in self._accounts:
            users = j.search_users(query=fields.assignee_email, maxResults=2)
            exact = [u for u in users if str(getattr(u, "emailAddress", "")).casefold() == email]
            hidden = [u for u in users if not getattr(u, "emailAddress", None)]
            chosen = exact[0] if exact else (hidden[0] if len(users) == 1 and hidden else None)
            if chosen is None:
                return None  # not cached: they may get an account later
            self._accounts[email] = chosen.accountId
        return self._accounts[email]

    def _fields(self, j: JIRA, fields: TicketFields, *, creating: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"summary": fields.summary, "description": fields.description,
                               "labels": list(fields.labels)}
        if fields.priority:
            out["priority"] = {"name": fields.priority}
        account = self._account_id(j, fields)
        if account:
            out["assignee"] = {"accountId": account}
        if creating:
            out["project"] = {"key": fields.project_key}
            out["issuetype"] = {"name": fields.issue_type}
        return out

    async def find_ticket(self, project_key: str, label: str) -> TicketRef | None:
        jql = f'project = "{project_key}" AND labels = "{label}" ORDER BY created ASC'
        found = await self._call("search", lambda j: j.enhanced_search_issues(jql, maxResults=1, fields="summary"))
        issues = list(found or [])
        return TicketRef(issues[0].key, self.link(issues[0].key)) if issues else None

    async def create_ticket(self, fields: TicketFields) -> TicketRef:
        issue = await self._call("create issue", lambda j: j.create_issue(fields=self._fields(j, fields, creating=True)))
        return TicketRef(issue.key, self.link(issue.key))

    async def update_ticket(self, key: str, fields: TicketFields) -> None:
        def edit(j: JIRA) -> None:
            j.issue(key, fields="summary").update(fields=self._fields(j, fields, creating=False), notify=False)

        await self._call(f"edit {key}", edit)

    async def ticket_state(self, key: str) -> TicketState:
        def state(j: JIRA) -> TicketState:
            status = j.issue(key, fields="status").fields.status.name
            return TicketState(status, {t["name"]: t["to"]["name"] for t in j.transitions(key)})

        return await self._call(f"read {key}", state)

    async def transition_ticket(self, key: str, transition: str) -> None:
        await self._call(f"transition {key} ({transition})", lambda j: j.transition_issue(key, transition))
