"""Assign-role modal: person + role. Pure builder and parser."""

from __future__ import annotations

from typing import Any

from blockkit import Input, Modal, Option, StaticSelect, UsersSelect

from domain.core.vocabulary import Role
from domain.response.roles import AssignRoleForm
from modals.text import plain

CALLBACK_ID = "assign_role"
NOT_ASSIGNABLE = {Role.REPORTER}


def assignable_roles(roles: list[str]) -> list[str]:
    return [r for r in roles if r not in NOT_ASSIGNABLE]


def assign_role_modal(incident_id: int, incident_name: str, roles: list[str]) -> dict:
    select = StaticSelect().action_id("role")
    for role in assignable_roles(roles)[:100]:
        select.add_option(Option(plain(role, 75), role))
    return (
        Modal()
        .title(plain(f"Assign role {incident_name}", 24))
        .submit(plain("Assign"))
        .close(plain("Cancel"))
        .callback_id(CALLBACK_ID)
        .private_metadata(str(incident_id))
        .add_block(Input(plain("Person")).block_id("person").element(UsersSelect().action_id("person")))
        .add_block(Input(plain("Role")).block_id("role").element(select))
        .build()
    )


def parse_assign_role(view: dict) -> tuple[AssignRoleForm | None, dict[str, str]]:
    values = view.get("state", {}).get("values", {})
    user = ((values.get("person") or {}).get("person") or {}).get("selected_user")
    role = (((values.get("role") or {}).get("role") or {}).get("selected_option") or {}).get("value")
    block: dict[str, Any] = next((b for b in view.get("blocks", []) if b.get("block_id") == "role"), {})
    offered = {o["value"] for o in block.get("element", {}).get("options", [])}
    errors = {}
    if not user:
        errors["person"] = "Pick a person."
    if role is None or role not in offered:
        errors["role"] = "Pick one of the listed roles."
    if not user or role is None or errors:
        return None, errors
    return AssignRoleForm(int(view["private_metadata"]), user, role), {}
