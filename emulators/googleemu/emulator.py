"""Google Workspace over loopback: OAuth token endpoint, Drive v3, Docs v1 and Calendar v3 (the methods warroom uses).

Each API lives under its own prefix so one emulator tells them apart as the real hosts do; point
google-api-python-client at them with `client_options={"api_endpoint": emu.endpoint("drive")}`:

- `POST /token`: the service-account JWT bearer grant. The assertion's signature is checked against
  the public key of the service account the emulator was given; answers `{access_token, expires_in}`.
- `/drive/v3/files` (create, list with a `q` of `and`-joined clauses), `/files/{id}/copy`,
  `/files/{id}/permissions` (create, list), `/files/{id}/permissions/{pid}` (delete: 204; 404 `notFound`
  for an unknown id, 403 for the owner's), `/files/{id}/comments` (list; `fields` is required, as on Drive),
  `/files/{id}/comments/{cid}/replies` (create; `action: resolve|reopen`).
- `/docs/v1/documents/{id}` (get) and `/docs/v1/documents/{id}:batchUpdate` (`replaceAllText`,
  `insertText` at `endOfSegmentLocation` or an index).
- `/calendar/v3/calendars/{cid}/events` (insert; with `conferenceDataVersion=1` a `createRequest` of
  type `hangoutsMeet` gets a Meet link; an explicit event `id` already used answers 409 `duplicate`)
  and `/calendar/v3/calendars/{cid}/events/{eid}` (get).

Every API call needs `Authorization: Bearer <a token this emulator issued>` (401 `UNAUTHENTICATED`
otherwise). Errors have Google's shape `{"error": {code, message, errors: [{domain, reason, message}],
status}}`. Faults: `latency` on every call, scripted failures per operation (`fail("files.copy", 429,
retry_after=1)`), and `hang` (no answer for that long).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from emulators.loopback import Fault, LoopbackServer

FOLDER = "application/vnd.google-apps.folder"
DOCUMENT = "application/vnd.google-apps.document"
GOOGLE_AUDIENCE = "https://oauth2.googleapis.com/token"  # what google-auth signs, whatever the token_uri
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                409: "ALREADY_EXISTS", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}
REASONS = {400: "badRequest", 401: "authError", 403: "forbidden", 404: "notFound", 409: "duplicate",
           429: "rateLimitExceeded", 500: "backendError", 503: "backendError"}


def now_rfc3339() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class DriveFile:
    id: str
    name: str
    mime_type: str
    parents: list[str]
    app_properties: dict[str, str] = field(default_factory=dict)
    text: str = ""  # a document's body as plain text
    permissions: list[dict[str, Any]] = field(default_factory=list)
    trashed: bool = False
    created: str = field(default_factory=now_rfc3339)

    @property
    def link(self) -> str:
        if self.mime_type == FOLDER:
            return f"https://drive.google.com/drive/folders/{self.id}"
        return f"https://docs.google.com/document/d/{self.id}/edit"

    def resource(self) -> dict[str, Any]:
        return {"kind": "drive#file", "id": self.id, "name": self.name, "mimeType": self.mime_type,
                "parents": self.parents, "appProperties": self.app_properties, "webViewLink": self.link,
                "trashed": self.trashed, "createdTime": self.created}

    @property
    def shared_with(self) -> list[str]:
        return [p["emailAddress"] for p in self.permissions if p.get("emailAddress")]


@dataclass
class Comment:
    id: str
    content: str
    author: str  # email
    created: str = field(default_factory=now_rfc3339)
    modified: str = field(default_factory=now_rfc3339)
    resolved: bool = False
    deleted: bool = False
    replies: list[dict[str, Any]] = field(default_factory=list)

    def resource(self) -> dict[str, Any]:
        person = {"kind": "drive#user", "displayName": self.author.split("@")[0], "emailAddress": self.author,
                  "me": False}
        out: dict[str, Any] = {"kind": "drive#comment", "id": self.id, "createdTime": self.created,
                               "modifiedTime": self.modified, "author": person, "deleted": self.deleted,
                               "resolved": self.resolved, "replies": self.replies}
        if not self.deleted:  # Drive blanks the content of a deleted comment
            out["content"] = self.content
            out["htmlContent"] = self.content
        return out


def error(status: int, message: str, *, reason: str | None = None, retry_after: int | None = None) -> web.Response:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    body = {"error": {"code": status, "message": message, "errors": [
        {"message": message, "domain": "usageLimits" if status == 429 else "global",
         "reason": reason or REASONS.get(status, "backendError")}], "status": STATUS_NAMES.get(status, "UNKNOWN")}}
    return web.json_response(body, status=status, headers=headers)


def new_service_account_key(email: str = "warroom@warroom-test.iam.gserviceaccount.com") -> tuple[dict[str, Any], str]:
    """A fresh service-account key file (as a dict, without token_uri) and its public key in PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    info = {"type": "service_account", "project_id": "warroom-test", "private_key_id": secrets.token_hex(20),
            "private_key": private, "client_email": email, "client_id": "1234567890"}
    return info, public


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


_CLAUSE = re.compile(
    r"^\s*(?:appProperties\s+has\s+\{\s*key\s*=\s*'(?P<key>[^']*)'\s+and\s+value\s*=\s*'(?P<value>[^']*)'\s*\}"
    r"|'(?P<parent>[^']*)'\s+in\s+parents|trashed\s*=\s*(?P<trashed>true|false)"
    r"|mimeType\s*=\s*'(?P<mime>[^']*)'|name\s*=\s*'(?P<name>[^']*)')\s*$")


class GoogleEmulator(LoopbackServer):
    """`await emu.start()`; `emu.service_account_info()` is a key file whose token_uri is this emulator."""

    def __init__(self, *, latency: float = 0.0) -> None:
        self.latency = latency
        self.hang = 0.0
        self.faults: list[Fault] = []
        self.files: dict[str, DriveFile] = {}
        self.comments: dict[str, list[Comment]] = {}  # file id -> comments
        self.events: dict[str, dict[str, dict[str, Any]]] = {}  # calendar id -> event id -> event
        self.calls: list[tuple[str, str]] = []  # (operation, path) of every authenticated call
        self.tokens: set[str] = set()
        self.key_info, self._public_pem = new_service_account_key()
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    # ------------------------------------------------------------------ lifecycle and helpers for tests
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def endpoint(self, api: str) -> str:
        """The `api_endpoint` of `drive`, `docs` or `calendar`."""
        return {"drive": f"{self.url}/drive/v3/", "docs": f"{self.url}/docs/", "calendar": f"{self.url}/calendar/v3/"}[api]

    def service_account_info(self) -> dict[str, Any]:
        return {**self.key_info, "token_uri": f"{self.url}/token"}

    def heal(self) -> None:
        super().heal()
        self.hang = 0.0

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):04d}{secrets.token_hex(6)}"

    def add_folder(self, name: str, parent: str = "root") -> DriveFile:
        f = DriveFile(self._new_id("fld"), name, FOLDER, [parent])
        self.files[f.id] = f
        return f

    def add_document(self, name: str, text: str, parent: str = "root") -> DriveFile:
        f = DriveFile(self._new_id("doc"), name, DOCUMENT, [parent], text=text)
        self.files[f.id] = f
        return f

    def add_comment(self, file_id: str, content: str, author: str = "someone@example.com") -> Comment:
        c = Comment(self._new_id("cmt"), content, author)
        self.comments.setdefault(file_id, []).append(c)
        return c

    def touch(self, comment: Comment, **changes: Any) -> None:
        """Change a comment as a person would in the document (resolve, edit, delete)."""
        for name, value in changes.items():
            setattr(comment, name, value)
        time.sleep(0.002)  # modifiedTime strictly after any earlier one
        comment.modified = now_rfc3339()

    def in_folder(self, folder_id: str) -> list[DriveFile]:
        return [f for f in self.files.values() if folder_id in f.parents and not f.trashed]

    def operations(self, prefix: str = "") -> list[str]:
        return [op for op, _ in self.calls if op.startswith(prefix)]

    # ------------------------------------------------------------------ HTTP
    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        r = app.router
        r.add_post("/token", self._token)
        r.add_post("/drive/v3/files", self._op("files.create", self._files_create))
        r.add_get("/drive/v3/files", self._op("files.list", self._files_list))
        r.add_get("/drive/v3/files/{id}", self._op("files.get", self._files_get))
        r.add_post("/drive/v3/files/{id}/copy", self._op("files.copy", self._files_copy))
        r.add_post("/drive/v3/files/{id}/permissions", self._op("permissions.create", self._permissions_create))
        r.add_get("/drive/v3/files/{id}/permissions", self._op("permissions.list", self._permissions_list))
        r.add_delete("/drive/v3/files/{id}/permissions/{pid}", self._op("permissions.delete", self._permissions_delete))
        r.add_get("/drive/v3/files/{id}/comments", self._op("comments.list", self._comments_list))
        r.add_post("/drive/v3/files/{id}/comments/{cid}/replies", self._op("replies.create", self._replies_create))
        r.add_get("/docs/v1/documents/{id}", self._op("documents.get", self._documents_get))
        r.add_post("/docs/v1/documents/{id}:batchUpdate", self._op("documents.batchUpdate", self._batch_update))
        r.add_post("/calendar/v3/calendars/{cid}/events", self._op("events.insert", self._events_insert))
        r.add_get("/calendar/v3/calendars/{cid}/events/{eid}", self._op("events.get", self._events_get))
        return app

    def _op(self, name: str, handler: Any) -> Any:
        async def run(request: web.Request) -> web.StreamResponse:
            token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            if token not in self.tokens:
                return error(401, "Request had invalid authentication credentials. Expected OAuth 2 access token, "
                             "login cookie or other valid authentication credential.", reason="authError")
            self.calls.append((name, request.path_qs))
            fault = self._fault(name)
            if fault is not None:
                return fault
            return await handler(request)

        return run

    def _fault(self, name: str) -> web.Response | None:
        fault = self._take_fault(name)
        if fault is None:
            return None
        message = "Rate Limit Exceeded" if fault.status == 429 else f"Simulated failure ({fault.status})."
        return error(fault.status, message, retry_after=fault.retry_after)

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if self.latency:
            await asyncio.sleep(self.latency)
        if self.hang:
            await asyncio.sleep(self.hang)
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.content_type == "application/json":
                raise
            return error(exc.status, exc.reason)

    async def _json(self, request: web.Request) -> dict[str, Any]:
        try:
            data = json.loads(await request.read() or b"{}")
        except json.JSONDecodeError:
            raise web.HTTPBadRequest(text=json.dumps({"error": {"code": 400, "message": "Invalid JSON payload received.",
                                                                "status": "INVALID_ARGUMENT"}}),
                                     content_type="application/json") from None
        return data if isinstance(data, dict) else {}

    # ------------------------------------------------------------------ OAuth
    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("grant_type") != JWT_GRANT:
            return web.json_response({"error": "unsupported_grant_type", "error_description": "Invalid grant_type"},
                                     status=400)
        fault = self._fault("token")
        if fault is not None:
            return fault
        try:
            header, payload, signature = str(form.get("assertion", "")).split(".")
            claims = json.loads(_b64(payload))
            public = serialization.load_pem_public_key(self._public_pem.encode())
            assert isinstance(public, rsa.RSAPublicKey)
            public.verify(_b64(signature), f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
        except (ValueError, InvalidSignature, json.JSONDecodeError):
            return web.json_response({"error": "invalid_grant", "error_description": "Invalid JWT Signature."}, status=400)
        if claims.get("iss") != self.key_info["client_email"] or claims.get("aud") not in (GOOGLE_AUDIENCE, f"{self.url}/token") \
                or float(claims.get("exp", 0)) < time.time():
            return web.json_response({"error": "invalid_grant", "error_description": "Invalid JWT: bad iss, aud or exp."},
                                     status=400)
        token = "ya29." + secrets.token_urlsafe(24)
        self.tokens.add(token)
        self.calls.append(("token", "/token"))
        return web.json_response({"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    # ------------------------------------------------------------------ Drive
    def _file(self, file_id: str) -> DriveFile:
        f = self.files.get(file_id)
        if f is None or f.trashed:
            raise web.HTTPNotFound(text=json.dumps({"error": {"code": 404, "message": f"File not found: {file_id}.",
                                                              "errors": [{"domain": "global", "reason": "notFound",
                                                                          "message": f"File not found: {file_id}."}],
                                                              "status": "NOT_FOUND"}}),
                                   content_type="application/json")
        return f

    def _parents(self, parents: Any) -> list[str]:
        parents = list(parents or ["root"])
        for p in parents:
            if p != "root" and (p not in self.files or self.files[p].mime_type != FOLDER):
                self._file(p if p not in self.files else "")  # 404 as Drive does for a parent it cannot see
        return parents

    async def _files_create(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        if not body.get("name"):
            return error(400, "Required parameter: name", reason="required")
        f = DriveFile(self._new_id("fld" if body.get("mimeType") == FOLDER else "fil"), body["name"],
                      body.get("mimeType") or "application/octet-stream", self._parents(body.get("parents")),
                      dict(body.get("appProperties") or {}))
        self.files[f.id] = f
        return web.json_response(f.resource())

    async def _files_get(self, request: web.Request) -> web.Response:
        return web.json_response(self._file(request.match_info["id"]).resource())

    async def _files_copy(self, request: web.Request) -> web.Response:
        source = self._file(request.match_info["id"])
        body = await self._json(request)
        f = DriveFile(self._new_id("doc"), body.get("name") or f"Copy of {source.name}", source.mime_type,
                      self._parents(body.get("parents") or source.parents), dict(body.get("appProperties") or {}),
                      text=source.text)
        self.files[f.id] = f
        return web.json_response(f.resource())

    async def _files_list(self, request: web.Request) -> web.Response:
        q = request.query.get("q", "")
        files = [f for f in self.files.values()]
        if q.strip():
            for clause in re.split(r"\s+and\s+(?![^{]*\})", q):
                m = _CLAUSE.match(clause)
                if m is None:
                    return error(400, "Invalid Value", reason="invalid")
                if m["key"] is not None:
                    files = [f for f in files if f.app_properties.get(m["key"]) == m["value"]]
                elif m["parent"] is not None:
                    files = [f for f in files if m["parent"] in f.parents]
                elif m["trashed"] is not None:
                    files = [f for f in files if f.trashed == (m["trashed"] == "true")]
                elif m["mime"] is not None:
                    files = [f for f in files if f.mime_type == m["mime"]]
                else:
                    files = [f for f in files if f.name == m["name"]]
        files.sort(key=lambda f: f.created)
        size = int(request.query.get("pageSize") or 100)
        start = int(request.query.get("pageToken") or 0)
        body: dict[str, Any] = {"kind": "drive#fileList", "incompleteSearch": False,
                                "files": [f.resource() for f in files[start:start + size]]}
        if start + size < len(files):
            body["nextPageToken"] = str(start + size)
        return web.json_response(body)

    async def _permissions_create(self, request: web.Request) -> web.Response:
        f = self._file(request.match_info["id"])
        body = await self._json(request)
        if body.get("type") not in ("user", "group", "domain", "anyone") or body.get("role") not in (
                "reader", "commenter", "writer", "fileOrganizer", "organizer", "owner"):
            return error(400, "Invalid permission type or role.", reason="invalid")
        email = body.get("emailAddress")
        if body["type"] in ("user", "group") and (not email or "@" not in email):
            return error(400, "The permission value field is required.", reason="required")
        existing = next((p for p in f.permissions if p.get("emailAddress") == email), None)
        if existing is None:
            existing = {"kind": "drive#permission", "id": hashlib.sha1((email or "").encode()).hexdigest()[:20],
                        "type": body["type"], "role": body["role"], "emailAddress": email}
            f.permissions.append(existing)
        existing["role"] = body["role"]
        return web.json_response(existing)

    async def _permissions_list(self, request: web.Request) -> web.Response:
        """As Drive: `id, type, kind, role` by default; `emailAddress` only when `fields` asks for it."""
        f = self._file(request.match_info["id"])
        fields = request.query.get("fields", "")
        wanted = {"kind", "id", "type", "role"} | ({"emailAddress"} if "emailAddress" in fields or fields == "*" else set())
        size = min(int(request.query.get("pageSize") or 100), 100)
        start = int(request.query.get("pageToken") or 0)
        page = [{k: v for k, v in p.items() if k in wanted} for p in f.permissions[start:start + size]]
        body: dict[str, Any] = {"kind": "drive#permissionList", "permissions": page}
        if start + size < len(f.permissions):
            body["nextPageToken"] = str(start + size)
        return web.json_response(body)

    async def _permissions_delete(self, request: web.Request) -> web.Response:
        """As Drive: 204 and no body; an unknown permission is 404 `notFound`, the owner's is refused (403)."""
        f = self._file(request.match_info["id"])
        pid = request.match_info["pid"]
        permission = next((p for p in f.permissions if p["id"] == pid), None)
        if permission is None:
            return error(404, f"Permission not found: {pid}.", reason="notFound")
        if permission["role"] == "owner":
            return error(403, "The owner of a file cannot be removed.", reason="cannotRemoveOwner")
        f.permissions.remove(permission)
        return web.Response(status=204)

    async def _comments_list(self, request: web.Request) -> web.Response:
        f = self._file(request.match_info["id"])
        if not request.query.get("fields"):
            return error(400, "The 'fields' parameter is required for this operation.", reason="required")
        since = request.query.get("startModifiedTime")
        deleted = request.query.get("includeDeleted", "false") == "true"
        found = [c for c in self.comments.get(f.id, []) if (deleted or not c.deleted)
                 and (since is None or c.modified >= since)]
        size = min(int(request.query.get("pageSize") or 20), 100)
        start = int(request.query.get("pageToken") or 0)
        body: dict[str, Any] = {"kind": "drive#commentList", "comments": [c.resource() for c in found[start:start + size]]}
        if start + size < len(found):
            body["nextPageToken"] = str(start + size)
        return web.json_response(body)

    async def _replies_create(self, request: web.Request) -> web.Response:
        f = self._file(request.match_info["id"])
        if not request.query.get("fields"):
            return error(400, "The 'fields' parameter is required for this operation.", reason="required")
        comment = next((c for c in self.comments.get(f.id, []) if c.id == request.match_info["cid"]), None)
        if comment is None or comment.deleted:
            return error(404, f"Comment not found: {request.match_info['cid']}.", reason="notFound")
        body = await self._json(request)
        action = body.get("action")
        if action not in (None, "resolve", "reopen") or not (body.get("content") or action):
            return error(400, "Invalid reply.", reason="invalid")
        reply = {"kind": "drive#reply", "id": self._new_id("rpl"), "createdTime": now_rfc3339(),
                 "modifiedTime": now_rfc3339(), "content": body.get("content", ""), "deleted": False,
                 "author": {"kind": "drive#user", "displayName": "warroom", "me": True}}
        if action:
            reply["action"] = action
        comment.replies.append(reply)
        comment.resolved = action == "resolve" if action else comment.resolved
        comment.modified = now_rfc3339()
        return web.json_response(reply)

    # ------------------------------------------------------------------ Docs
    async def _documents_get(self, request: web.Request) -> web.Response:
        f = self._file(request.match_info["id"])
        content = [{"startIndex": 1, "endIndex": len(f.text) + 1,
                    "paragraph": {"elements": [{"textRun": {"content": f.text}}]}}]
        return web.json_response({"documentId": f.id, "title": f.name, "body": {"content": content},
                                  "revisionId": hashlib.sha1(f.text.encode()).hexdigest()})

    async def _batch_update(self, request: web.Request) -> web.Response:
        f = self._file(request.match_info["id"])
        if f.mime_type != DOCUMENT:
            return error(400, "This operation is not supported for this document.", reason="failedPrecondition")
        requests_ = (await self._json(request)).get("requests")
        if not isinstance(requests_, list) or not requests_:
            return error(400, "Invalid requests: must not be empty.")
        text, replies = f.text, []
        for i, req in enumerate(requests_):
            if "replaceAllText" in req:
                r = req["replaceAllText"]
                needle = (r.get("containsText") or {}).get("text")
                if not needle:
                    return error(400, f"Invalid requests[{i}].replaceAllText: containsText.text must not be empty.")
                replies.append({"replaceAllText": {"occurrencesChanged": text.count(needle) or None}})
                text = text.replace(needle, r.get("replaceText", ""))
            elif "insertText" in req:
                r = req["insertText"]
                if "endOfSegmentLocation" in r:
                    text = text + r.get("text", "")
                elif "location" in r:
                    index = int(r["location"].get("index", 1)) - 1
                    if not 0 <= index <= len(text):
                        return error(400, f"Invalid requests[{i}].insertText: Index {index + 1} must be less than the "
                                     f"end index of the referenced segment, {len(text) + 1}.")
                    text = text[:index] + r.get("text", "") + text[index:]
                else:
                    return error(400, f"Invalid requests[{i}].insertText: a location is required.")
                replies.append({})
            else:
                return error(400, f"Invalid requests[{i}]: the emulator supports replaceAllText and insertText.")
        f.text = text
        return web.json_response({"documentId": f.id, "replies": [{k: v for k, v in r.items() if v} for r in replies],
                                  "writeControl": {"requiredRevisionId": hashlib.sha1(text.encode()).hexdigest()}})

    # ------------------------------------------------------------------ Calendar
    async def _events_insert(self, request: web.Request) -> web.Response:
        calendar = request.match_info["cid"]
        body = await self._json(request)
        if "start" not in body or "end" not in body:
            return error(400, "Missing time.", reason="required")
        events = self.events.setdefault(calendar, {})
        event_id = body.get("id") or self._new_id("evt")
        if not re.fullmatch(r"[a-v0-9]{5,1024}", event_id):
            return error(400, "Invalid resource id value.", reason="invalid")
        if event_id in events:
            return error(409, "The requested identifier already exists.", reason="duplicate")
        event = {**body, "kind": "calendar#event", "id": event_id, "status": "confirmed",
                 "htmlLink": f"https://www.google.com/calendar/event?eid={event_id}", "created": now_rfc3339(),
                 "updated": now_rfc3339(), "organizer": {"email": calendar, "self": True}}
        create = (body.get("conferenceData") or {}).get("createRequest")
        event.pop("conferenceData", None)
        if create and request.query.get("conferenceDataVersion") == "1":
            if (create.get("conferenceSolutionKey") or {}).get("type") != "hangoutsMeet":
                return error(400, "Invalid conference type value.", reason="invalid")
            code = "-".join(secrets.token_hex(6)[i:j] for i, j in ((0, 3), (3, 7), (7, 10)))
            code = "".join(chr(ord("a") + int(c, 16)) for c in code.replace("-", ""))
            code = f"{code[:3]}-{code[3:7]}-{code[7:]}"
            event["hangoutLink"] = f"https://meet.google.com/{code}"
            event["conferenceData"] = {
                "createRequest": {**create, "status": {"statusCode": "success"}},
                "entryPoints": [{"entryPointType": "video", "uri": f"https://meet.google.com/{code}",
                                 "label": f"meet.google.com/{code}"}],
                "conferenceSolution": {"key": {"type": "hangoutsMeet"}, "name": "Google Meet",
                                       "iconUri": "https://fonts.gstatic.com/s/i/productlogos/meet_2020q4/v6/web-512dp/logo_meet_2020q4_color_2x_web_512dp.png"},
                "conferenceId": code}
        events[event_id] = event
        return web.json_response(event)

    async def _events_get(self, request: web.Request) -> web.Response:
        event = self.events.get(request.match_info["cid"], {}).get(request.match_info["eid"])
        if event is None:
            return error(404, "Not Found", reason="notFound")
        return web.json_response(event)
