"""DocumentPort and ConferencePort over google-api-python-client (synchronous, httplib2).

Drive v3, Docs v1 and Calendar v3 are built once, lazily, in a worker thread, from the discovery
documents shipped in the package (`static_discovery=True`: nothing is fetched). httplib2 is not
thread-safe, so every request runs with its own `AuthorizedHttp` (`execute(http=...)`) in a worker
thread under a deadline: a Google outage or a hang never blocks the event loop. A 429 or 5xx is retried
inside the deadline, after Retry-After when Google sends one; past that it is a `PortError`, recorded by
the step and retried later by the resume job. `api_base` points the three APIs at a local emulator.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import google_auth_httplib2
import httplib2
from google.auth.credentials import Credentials
from google.auth.exceptions import GoogleAuthError
from google.oauth2 import service_account
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from domain.config.google import ConferenceConfig, GoogleConfig
from domain.core.ports import BridgeRef, DocComment, FileRef, PortError

log = logging.getLogger(__name__)
T = TypeVar("T")
SCOPES = ["https://www.googleapis.com/auth/drive", "https://www.googleapis.com/auth/documents",
          "https://www.googleapis.com/auth/calendar.events"]
KEY_PROPERTY = "warroomKey"
RETRIED = {429, 500, 502, 503, 504}
MAX_TRIES = 3
WORKERS = 16  # concurrent Google calls per process
FILE_FIELDS = "id, name, webViewLink, appProperties"
COMMENT_FIELDS = "nextPageToken, comments(id, content, modifiedTime, resolved, deleted, author(emailAddress, displayName))"


def load_credentials(config: GoogleConfig, key: dict[str, Any]) -> Credentials:
    creds = service_account.Credentials.from_service_account_info(key, scopes=SCOPES)
    return creds.with_subject(config.subject) if config.subject else creds


class GoogleWorkspace:
    """One object serves both ports: documents (Drive + Docs) and conference (Calendar + Meet)."""

    def __init__(self, config: GoogleConfig, credentials: Credentials, conference: ConferenceConfig | None = None) -> None:
        self.config = config
        self.timeout = config.timeout
        self.calendar_id = conference.calendar_id if conference else "primary"
        self._credentials = credentials
        self._services: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._token_lock = threading.Lock()
        # Its own threads, and a call waits for a free one before its deadline starts: a burst of
        # incidents queues here instead of timing out in the default executor (shared, cpu+4 threads).
        self._executor = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="google")
        self._slots: asyncio.Semaphore | None = None

    # ------------------------------------------------------------------ plumbing
    def warm_up(self) -> None:
        """Build the three services now (≈0.5 s of CPU), in a worker thread at start-up, not in the first incident."""
        for name in ("drive", "docs", "calendar"):
            self._service(name)

    def _service(self, name: str) -> Any:
        with self._lock:
            if name not in self._services:
                api, version, path = {"drive": ("drive", "v3", "drive/v3/"), "docs": ("docs", "v1", "docs/"),
                                      "calendar": ("calendar", "v3", "calendar/v3/")}[name]
                options = {"api_endpoint": self.config.api_base + path} if self.config.api_base else None
                # A placeholder transport: every request is executed with its own authorized one.
                self._services[name] = build(api, version, http=httplib2.Http(), static_discovery=True,
                                             client_options=options, cache_discovery=False)
            return self._services[name]

    def _http(self) -> google_auth_httplib2.AuthorizedHttp:
        with self._token_lock:  # one token refresh at a time; every thread then reuses the token
            if not self._credentials.valid:
                self._credentials.refresh(google_auth_httplib2.Request(httplib2.Http(timeout=self.timeout)))
        return google_auth_httplib2.AuthorizedHttp(self._credentials, http=httplib2.Http(timeout=self.timeout))

    def _execute(self, request: Any, deadline: float) -> Any:
        for attempt in range(1, MAX_TRIES + 1):
            try:
                return request.execute(http=self._http())
            except HttpError as exc:
                status = exc.resp.status
                left = deadline - time.monotonic()
                if status not in RETRIED or attempt == MAX_TRIES:
                    raise
                wait = _retry_after(exc) or 0.5 * 2 ** (attempt - 1)
                if wait >= left:
                    raise
                log.info("Google answered %s; retrying in %.1f s", status, wait)
                time.sleep(wait)
        raise AssertionError("unreachable")

    async def _call(self, what: str, fn: Callable[[Callable[[Any], Any]], T]) -> T:
        limit = self.timeout * 3  # a step makes a few requests, plus a token and the retries

        def run() -> T:
            deadline = time.monotonic() + limit
            return fn(lambda request: self._execute(request, deadline))

        if self._slots is None:
            self._slots = asyncio.Semaphore(WORKERS)
        try:
            async with self._slots:
                return await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(self._executor, run), limit)
        except TimeoutError:
            raise PortError("timeout", f"Google did not answer {what} within {limit:.0f} s") from None
        except HttpError as exc:
            status = exc.resp.status
            retry = _retry_after(exc)
            detail = f"{what}: HTTP {status} {_reason(exc)}" + (f" (Retry-After {retry:.0f})" if retry else "")
            raise PortError(f"google_{status}", detail[:400]) from None
        except GoogleAuthError as exc:
            raise PortError("google_auth", f"{what}: {exc}"[:400]) from None
        except (httplib2.HttpLib2Error, OSError) as exc:
            raise PortError("unreachable", f"{what}: {exc.__class__.__name__}: {exc}"[:400]) from None

    # ------------------------------------------------------------------ DocumentPort
    async def find_file(self, parent_id: str, key: str) -> FileRef | None:
        q = f"appProperties has {{ key='{KEY_PROPERTY}' and value='{key}' }} and '{parent_id}' in parents and trashed = false"

        def find(execute: Callable[[Any], Any]) -> dict[str, Any] | None:
            drive = self._service("drive")
            found = execute(drive.files().list(q=q, fields=f"files({FILE_FIELDS})", pageSize=10, orderBy="createdTime",
                                               supportsAllDrives=True, includeItemsFromAllDrives=True))
            files = found.get("files") or []
            return files[0] if files else None

        file = await self._call("find file", find)
        return FileRef(file["id"], file["webViewLink"]) if file else None

    async def create_folder(self, parent_id: str, name: str, key: str) -> FileRef:
        body = {"name": name, "mimeType": "application/vnd.google-apps.folder", "parents": [parent_id],
                "appProperties": {KEY_PROPERTY: key}}
        file = await self._call("create folder", lambda execute: execute(self._service("drive").files().create(
            body=body, fields=FILE_FIELDS, supportsAllDrives=True)))
        return FileRef(file["id"], file["webViewLink"])

    async def copy_document(self, template_id: str, folder_id: str, name: str, key: str) -> FileRef:
        body = {"name": name, "parents": [folder_id], "appProperties": {KEY_PROPERTY: key}}
        file = await self._call("copy template", lambda execute: execute(self._service("drive").files().copy(
            fileId=template_id, body=body, fields=FILE_FIELDS, supportsAllDrives=True)))
        return FileRef(file["id"], file["webViewLink"])

    async def fill_document(self, document_id: str, variables: dict[str, str]) -> None:
        requests = [{"replaceAllText": {"containsText": {"text": "{{" + name + "}}", "matchCase": True},
                                        "replaceText": value}} for name, value in variables.items()]
        await self._call("fill document", lambda execute: execute(self._service("docs").documents().batchUpdate(
            documentId=document_id, body={"requests": requests})))

    async def append_text(self, document_id: str, text: str) -> None:
        body = {"requests": [{"insertText": {"endOfSegmentLocation": {}, "text": text}}]}
        await self._call("append to document", lambda execute: execute(self._service("docs").documents().batchUpdate(
            documentId=document_id, body=body)))

    async def read_text(self, document_id: str) -> str:
        document = await self._call("read document", lambda execute: execute(self._service("docs").documents().get(
            documentId=document_id)))
        return "".join(_text_runs(document.get("body") or {}))

    async def share(self, file_id: str, email: str, role: str) -> None:
        body = {"type": "user", "role": role, "emailAddress": email}
        await self._call("share", lambda execute: execute(self._service("drive").permissions().create(
            fileId=file_id, body=body, sendNotificationEmail=False, supportsAllDrives=True, fields="id")))

    async def unshare(self, file_id: str, email: str) -> None:
        """Find the user's permission on the file (its id is Drive's, not the email) and delete it; a
        permission already gone (not listed, or 404 on delete) is done."""

        def unshare(execute: Callable[[Any], Any]) -> None:
            permissions, token = self._service("drive").permissions(), None
            while True:
                page = execute(permissions.list(fileId=file_id, fields="nextPageToken, permissions(id, emailAddress)",
                                                pageSize=100, pageToken=token, supportsAllDrives=True))
                found = next((p["id"] for p in page.get("permissions") or []
                              if (p.get("emailAddress") or "").lower() == email.lower()), None)
                if found is not None:
                    try:
                        execute(permissions.delete(fileId=file_id, permissionId=found, supportsAllDrives=True))
                    except HttpError as exc:
                        if exc.resp.status != 404:
                            raise
                    return
                token = page.get("nextPageToken")
                if not token:
                    return

        await self._call("unshare", unshare)

    async def list_comments(self, document_id: str, *, since: str | None) -> list[DocComment]:
        def comments(execute: Callable[[Any], Any]) -> list[dict[str, Any]]:
            drive, out, token = self._service("drive"), [], None
            while True:
                page = execute(drive.comments().list(fileId=document_id, fields=COMMENT_FIELDS, includeDeleted=True,
                                                     startModifiedTime=since, pageSize=100, pageToken=token))
                out += page.get("comments") or []
                token = page.get("nextPageToken")
                if not token:
                    return out

        found = await self._call("list comments", comments)
        return [DocComment(c["id"], c.get("content") or "", (c.get("author") or {}).get("emailAddress"),
                           bool(c.get("resolved")), bool(c.get("deleted")), c["modifiedTime"],
                           f"https://docs.google.com/document/d/{document_id}/edit?disco={c['id']}") for c in found]

    async def resolve_comment(self, document_id: str, comment_id: str, reply: str, *, resolved: bool) -> None:
        body = {"content": reply, "action": "resolve" if resolved else "reopen"}
        await self._call("reply to comment", lambda execute: execute(self._service("drive").replies().create(
            fileId=document_id, commentId=comment_id, body=body, fields="id")))

    # ------------------------------------------------------------------ ConferencePort
    async def create_bridge(self, key: str, title: str, description: str) -> BridgeRef:
        """An event whose id is `key`: a retry after a lost answer gets 409 and reads the event it made."""
        now = time.time()
        body = {"id": key, "summary": title, "description": description,
                "start": {"dateTime": _rfc3339(now)}, "end": {"dateTime": _rfc3339(now + 3600)},
                "conferenceData": {"createRequest": {"requestId": key, "conferenceSolutionKey": {"type": "hangoutsMeet"}}}}

        def create(execute: Callable[[Any], Any]) -> dict[str, Any]:
            events = self._service("calendar").events()
            try:
                return dict(execute(events.insert(calendarId=self.calendar_id, body=body, conferenceDataVersion=1,
                                                  sendUpdates="none")))
            except HttpError as exc:
                if exc.resp.status != 409:
                    raise
                return dict(execute(events.get(calendarId=self.calendar_id, eventId=key)))

        event = await self._call("create video call", create)
        url = event.get("hangoutLink") or next(
            (e.get("uri") for e in (event.get("conferenceData") or {}).get("entryPoints", [])
             if e.get("entryPointType") == "video"), None)
        if not url:
            raise PortError("no_conference", "the calendar event has no Meet link (the account may not be allowed to "
                            "create Meet conferences: set google.subject to a Workspace user)")
        return BridgeRef(event["id"], url)


def _text_runs(node: Any) -> list[str]:
    """Every `textRun.content` of a Docs structure (paragraphs, tables, tables of contents), in order."""
    if isinstance(node, list):
        return [t for item in node for t in _text_runs(item)]
    if not isinstance(node, dict):
        return []
    if isinstance(node.get("textRun"), dict):
        return [str(node["textRun"].get("content") or "")]
    return [t for value in node.values() if isinstance(value, dict | list) for t in _text_runs(value)]


def _rfc3339(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _retry_after(exc: HttpError) -> float | None:
    value = exc.resp.get("retry-after") if exc.resp is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _reason(exc: HttpError) -> str:
    try:
        return str(exc.reason or "")[:300]
    except Exception:  # the library's own parsing of an odd body
        return ""
