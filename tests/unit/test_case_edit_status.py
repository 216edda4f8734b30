"""The case Edit form's status and resolution (pure parser), and the new case notices rendering valid blocks."""

from datetime import UTC, datetime, timedelta

from domain.cases.feedback import CaseFeedbackRequest
from domain.cases.notices import AddMentionedOffer, CaseClosedWithIncident, CaseReminder
from domain.cases.service import CaseFacts
from domain.config.cases import CasesConfig
from emulators.slackemu.blockkit_rules import check_message, check_view
from modals.case_forms import edit_case_modal, parse_edit_case
from modals.renderers import render

CASES = CasesConfig()


def submitted(view: dict, **values) -> dict:
    """The view as Slack submits it: initial values, overridden by `values` ({block_id: value})."""
    state = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        bid, el = block["block_id"], block["element"]
        aid, v = el["action_id"], values.get(bid, ...)
        if el["type"] == "plain_text_input":
            state[bid] = {aid: {"type": el["type"], "value": el.get("initial_value") if v is ... else v}}
        elif el["type"] == "static_select":
            opt = el.get("initial_option") if v is ... else next((o for o in el["options"] if o["value"] == v), {"value": v})
            state[bid] = {aid: {"type": el["type"], "selected_option": opt}}
        elif el["type"] == "users_select":
            state[bid] = {aid: {"type": el["type"], "selected_user": el.get("initial_user") if v is ... else v}}
    return {**view, "id": "V1", "state": {"values": state}}
FACTS = CaseFacts(id=7, name="CASE-7", title="Odd logins", description="", status="Triage", case_type="Security triage",
                  priority="High", severity="Undetermined", assignee="U2", reporter="U1",
                  created_at=datetime(2026, 1, 1, tzinfo=UTC))


def test_status_left_as_it_was_is_not_applied_and_closed_needs_a_reason_and_resolution():
    view = edit_case_modal(FACTS, CASES, "C1")
    assert check_view(view) == []
    form, errors = parse_edit_case(submitted(view, title="Odd logins again"))
    assert errors == {} and form.status is None, "a status left as the form showed it is not applied"
    form, _ = parse_edit_case(submitted(view, case_status="Stable"))
    assert form.status == "Stable"
    form, errors = parse_edit_case(submitted(view, case_status="Closed"))
    assert form is None and set(errors) == {"reason", "resolution"}
    form, errors = parse_edit_case(submitted(view, case_status="Closed", reason="Benign", resolution=" Scanner "))
    assert errors == {} and (form.status, form.resolution_reason, form.resolution) == ("Closed", "Benign", "Scanner")
    form, errors = parse_edit_case(submitted(view, case_status="Paused"))
    assert form is None and "case_status" in errors


def test_new_case_notices_render_valid_messages():
    for notice in (CaseReminder(7, "CASE-7", "Odd <logins>", "New", timedelta(hours=5), "https://x/p7", None, "U2"),
                   CaseReminder(7, "CASE-7", "Odd logins", "Stable", timedelta(days=4), None, "C9", None),
                   AddMentionedOffer(7, "CASE-7", "U3", "U1"), CaseClosedWithIncident("CASE-7", None),
                   CaseClosedWithIncident("CASE-7", "INC-3"), CaseFeedbackRequest(7, "CASE-7", "Odd logins")):
        text, blocks = render(notice)
        assert check_message(text, blocks) == [], notice
    _, blocks = render(CaseReminder(7, "CASE-7", "Odd <logins>", "New", timedelta(hours=5), "https://x/p7", None, "U2"))
    assert "New for 5 h" in str(blocks) and "&lt;logins&gt;" in str(blocks) and "Triage" in str(blocks)
    _, blocks = render(CaseClosedWithIncident("CASE-7", None))
    assert "its incident" in str(blocks) and "INC" not in str(blocks)
