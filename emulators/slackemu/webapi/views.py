"""views.*: modals (open/push/update) and the Home tab (publish), with trigger_id rules."""

from __future__ import annotations

import hashlib
import time
from typing import Any

from emulators.slackemu.blockkit_rules import check_view
from emulators.slackemu.state import View, Workspace
from emulators.slackemu.webapi.common import ApiError, method, require, user

PUSH_LIMIT = 3  # views in a modal stack


def validate_view(view: Any, *, kind: str | None = "modal") -> dict:
    """The view if Slack accepts it, else ApiError("invalid_arguments") with Slack-style messages."""
    if isinstance(view, str):
        raise ApiError("invalid_arguments", ["[ERROR] failed to parse view as JSON [json-pointer:/view]"])
    errors = check_view(view)
    if not errors and kind and view.get("type") != kind:
        errors = [f"[ERROR] must be `{kind}` for this method [json-pointer:/view/type]"]
    if errors:
        raise ApiError("invalid_arguments", errors)
    return view


def view_hash(view: dict) -> str:
    return f"{time.time_ns()}.{hashlib.sha1(repr(view).encode()).hexdigest()[:8]}"


def take_trigger(emu: Workspace, trigger_id: Any) -> dict:
    """Consume a trigger_id: single use, valid for `emu.trigger_ttl` seconds."""
    trigger = emu.triggers.get(str(trigger_id or ""))
    if trigger is None:
        raise ApiError("invalid_trigger_id")
    if trigger["used"] or time.monotonic() - trigger["created"] > emu.trigger_ttl:
        raise ApiError("expired_trigger_id")
    trigger["used"] = True
    return trigger


def view_response(emu: Workspace, v: View, state: dict | None = None) -> dict:
    """The view object as Slack returns it (also the `view` of interactive payloads)."""
    data = dict(v.view)
    data.setdefault("private_metadata", "")
    data.setdefault("callback_id", "")
    data.update({"id": v.id, "team_id": emu.team_id, "type": v.type, "hash": v.hash, "app_id": emu.app_id,
                 "bot_id": emu.bot_id, "app_installed_team_id": emu.team_id, "root_view_id": v.root_view_id,
                 "previous_view_id": v.previous_view_id, "external_id": v.external_id or "",
                 "clear_on_close": bool(v.view.get("clear_on_close")),
                 "notify_on_close": bool(v.view.get("notify_on_close")),
                 "state": {"values": state or {}}})
    return data


def _external_id(emu: Workspace, view: dict) -> str | None:
    ext = view.get("external_id")
    if ext and any(v.external_id == ext for v in emu.views.values()):
        raise ApiError("duplicate_external_id")
    return ext


def new_modal(emu: Workspace, user_id: str, view: dict, parent: View | None = None) -> View:
    """Store a newly opened (or pushed, on top of `parent`) modal."""
    vid = emu.new_id("V")
    v = View(vid, user_id, "modal", view, hash=view_hash(view),
             root_view_id=parent.root_view_id if parent else vid, previous_view_id=parent.id if parent else None,
             external_id=_external_id(emu, view))
    emu.views[vid] = v
    return v


@method("views.open")
def views_open(emu: Workspace, params: dict) -> dict:
    view = validate_view(require(params, "view"))
    trigger = take_trigger(emu, params.get("trigger_id"))
    return {"view": view_response(emu, new_modal(emu, trigger["user"], view))}


@method("views.push")
def views_push(emu: Workspace, params: dict) -> dict:
    view = validate_view(require(params, "view"))
    trigger = take_trigger(emu, params.get("trigger_id"))
    stack = emu.open_views(trigger["user"])
    if not stack:
        raise ApiError("not_found")
    if len(stack) >= PUSH_LIMIT:
        raise ApiError("push_limit_reached")
    return {"view": view_response(emu, new_modal(emu, trigger["user"], view, parent=stack[-1]))}


@method("views.update")
def views_update(emu: Workspace, params: dict) -> dict:
    view = require(params, "view")
    if not params.get("view_id") and not params.get("external_id"):
        raise ApiError("invalid_arguments", ["[ERROR] view_id or external_id is required"])
    target = emu.views.get(str(params.get("view_id") or ""))
    if target is None and params.get("external_id"):
        target = next((v for v in emu.views.values() if v.external_id == params["external_id"]), None)
    if target is None or target.state != "open":
        raise ApiError("not_found")
    validate_view(view, kind=target.type)
    if params.get("hash") and params["hash"] != target.hash:
        raise ApiError("hash_conflict")
    target.view = view
    target.hash = view_hash(view)
    target.keep_typed()
    return {"view": view_response(emu, target)}


@method("views.publish")
def views_publish(emu: Workspace, params: dict) -> dict:
    view = validate_view(require(params, "view"), kind="home")
    u = user(emu, require(params, "user_id"))
    existing = next((v for v in emu.views.values() if v.type == "home" and v.user == u.id), None)
    if existing:
        if params.get("hash") and params["hash"] != existing.hash:
            raise ApiError("hash_conflict")
        existing.view, existing.hash = view, view_hash(view)
        return {"view": view_response(emu, existing)}
    vid = emu.new_id("V")
    v = View(vid, u.id, "home", view, hash=view_hash(view), root_view_id=vid)
    emu.views[vid] = v
    return {"view": view_response(emu, v)}
