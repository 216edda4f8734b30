"""Participant modals: list, update participant, notifications group. Pure builders and parsers."""

from __future__ import annotations

from blockkit import Context, Input, Modal, MultiUsersSelect, Option, PlainTextInput, Section, StaticSelect

from domain.incidents.detail import parse_emails
from domain.participants import ParticipantView
from modals.text import escape, md, plain, truncate

UPDATE_PARTICIPANT_ID = "update_participant"
NOTIFICATIONS_GROUP_ID = "notifications_group"


def list_participants_modal(incident_name: str, people: list[ParticipantView]) -> dict:
    modal = Modal().title(plain(f"{incident_name} participants", 24)).close(plain("Close"))
    for p in people[:95]:
        lines = [f"*<@{p.user_id}>* {escape(', '.join(p.roles) or 'no role')}"]
        if p.team:
            lines.append(f"Team: {escape(p.team)}")
        if p.department:
            lines.append(f"Department: {escape(p.department)}")
        if p.reason:
            lines.append(f"Added: {escape(truncate(p.reason, 500))}")
        if p.expertise:
            lines.append(f"Expertise: {escape(truncate(p.expertise, 500))}")
        modal.add_block(Section(md("\n".join(lines))))
    if not people:
        modal.add_block(Context().add_element(md(f"Nobody is active in {escape(incident_name)}.")))
    return modal.build()


def update_participant_modal(incident_id: int, incident_name: str, people: list[ParticipantView]) -> dict:
    select = StaticSelect().action_id("participant")
    for p in people[:100]:
        select.add_option(Option(plain(p.name, 75), str(p.participant_id)))
    return (
        Modal().title(plain("Update participant", 24)).submit(plain("Save")).close(plain("Cancel"))
        .callback_id(UPDATE_PARTICIPANT_ID).private_metadata(str(incident_id))
        .add_block(Input(plain("Participant")).block_id("participant").element(select))
        .add_block(Input(plain("Reason added")).block_id("reason").optional(True)
                   .element(PlainTextInput().action_id("reason").max_length(500)))
        .add_block(Input(plain("Expertise")).block_id("expertise").optional(True)
                   .element(PlainTextInput().action_id("expertise").max_length(500)))
        .build()
    )


def _entry(view: dict, block: str) -> dict:
    return ((view.get("state", {}).get("values", {}).get(block) or {}).get(block)) or {}


def parse_update_participant(view: dict) -> tuple[tuple[int, int, str, str] | None, dict[str, str]]:
    picked = (_entry(view, "participant").get("selected_option") or {}).get("value")
    if not picked:
        return None, {"participant": "Pick a participant."}
    return (int(view["private_metadata"]), int(picked), (_entry(view, "reason").get("value") or "").strip(),
            (_entry(view, "expertise").get("value") or "").strip()), {}


def notifications_group_modal(incident_id: int, user_ids: list[str], emails: list[str]) -> dict:
    people = MultiUsersSelect().action_id("people")
    if user_ids:
        people.initial_users(*user_ids)
    mails = PlainTextInput().action_id("emails").multiline(True).max_length(3000)
    if emails:
        mails.initial_value(", ".join(emails))
    return (
        Modal().title(plain("Notifications group")).submit(plain("Save")).close(plain("Cancel"))
        .callback_id(NOTIFICATIONS_GROUP_ID).private_metadata(str(incident_id))
        .add_block(Context().add_element(md("Who receives stakeholder updates about this incident.")))
        .add_block(Input(plain("People")).block_id("people").optional(True).element(people))
        .add_block(Input(plain("Emails")).block_id("emails").optional(True).element(mails))
        .build()
    )


def parse_notifications_group(view: dict) -> tuple[tuple[int, list[str], list[str]] | None, dict[str, str]]:
    emails, bad = parse_emails(_entry(view, "emails").get("value") or "")
    if bad:
        return None, {"emails": f"Not email addresses: {truncate(', '.join(bad), 200)}"}
    return (int(view["private_metadata"]), list(_entry(view, "people").get("selected_users") or []), emails), {}
