"""auth.*, apps.connections.open, team.info and users.*."""

from __future__ import annotations

from typing import Protocol

from emulators.slackemu.state import DOMAIN, TEAM_NAME, Workspace
from emulators.slackemu.webapi.common import ApiError, method, paginate, require, user


class SocketModeEndpoint(Protocol):
    """What apps.connections.open needs: something that hands out Socket Mode URLs."""

    def new_socket_url(self) -> str: ...


@method("auth.test")
def auth_test(emu: Workspace, params: dict) -> dict:
    return {"url": DOMAIN, "team": TEAM_NAME, "user": emu.users[emu.bot_user_id].name, "team_id": emu.team_id,
            "user_id": emu.bot_user_id, "bot_id": emu.bot_id, "is_enterprise_install": False}


@method("apps.connections.open")
def apps_connections_open(emu: SocketModeEndpoint, params: dict) -> dict:
    return {"url": emu.new_socket_url()}


@method("team.info")
def team_info(emu: Workspace, params: dict) -> dict:
    return {"team": {"id": emu.team_id, "name": TEAM_NAME, "domain": "emulator", "url": DOMAIN}}


@method("users.info")
def users_info(emu: Workspace, params: dict) -> dict:
    return {"user": user(emu, params.get("user"), allow_deleted=True).to_api(emu.team_id)}


@method("users.list")
def users_list(emu: Workspace, params: dict) -> dict:
    page, cursor = paginate(list(emu.users.values()), params, default=200)
    return {"members": [u.to_api(emu.team_id) for u in page], "response_metadata": {"next_cursor": cursor}}


@method("users.lookupByEmail")
def users_lookup_by_email(emu: Workspace, params: dict) -> dict:
    email = str(require(params, "email")).lower()
    for u in emu.users.values():
        if u.email and u.email.lower() == email and not u.deleted:
            return {"user": u.to_api(emu.team_id)}
    raise ApiError("users_not_found")


@method("users.profile.get")
def users_profile_get(emu: Workspace, params: dict) -> dict:
    uid = params.get("user") or emu.bot_user_id
    u = user(emu, uid, allow_deleted=True)
    # Only users.profile.get carries custom fields, as in Slack (users.info does not).
    fields = {fid: {"value": value, "alt": ""} for fid, value in u.fields.items()}
    return {"profile": {**u.to_api(emu.team_id)["profile"], "fields": fields}}
