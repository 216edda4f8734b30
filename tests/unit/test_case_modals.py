"""Case modals: pure builders and parsers (create, edit, resolve, escalate) and case notices."""

from datetime import UTC, datetime

from domain.cases.notices import CaseEscalated, CaseMovedToChannel, EscalatedFromCase
from domain.cases.service import RESOLUTION_REASONS, CaseFacts
from domain.config.cases import CasesConfig
from domain.incidents.service import Choice
from emulators.slackemu.blockkit_rules import check_view
from modals.case_forms import (
    edit_case_modal,
    escalate_case_modal,
    parse_edit_case,
    parse_escalate_case,
    parse_resolve_case,
    resolve_case_modal,
    view_target,
)
from modals.create_case import CaseDefaults, create_case_modal, parse_create_case, reload_defaults
from modals.renderers import render

CASES = CasesConfig.model_validate({"types": [
    {"name": "Security triage", "default": True, "oncall_service": "secops"},
    {"name": "Reliability triage", "dedicated_channel": True},
]})
FACTS = CaseFacts(id=7, name="CASE-7", title="Odd logins", description="From TOR", status="Triage",
                  case_type="Security triage", priority="High", severity="Undetermined", assignee="U2", reporter="U1",
                  created_at=datetime(2026, 1, 1, tzinfo=UTC))


def _state(view: dict, **values) -> dict:
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
        elif el["type"] == "checkboxes":
            chosen = el.get("initial_options", []) if v is ... else [o for o in el["options"] if o["value"] in v]
            state[bid] = {aid: {"type": el["type"], "selected_options": chosen}}
    return {**view, "id": "V1", "state": {"values": state}}


def _blocks(view: dict) -> dict:
    return {b.get("block_id"): b for b in view["blocks"]}


def test_create_modal_prefills_and_parses():
    view = create_case_modal(CASES, CaseDefaults(title="Odd logins", assignee="U9", suggested="U9", origin_channel_id="C1",
                                                 message_permalink="https://x/p1"))
    assert check_view(view) == []
    blocks = _blocks(view)
    assert blocks["assignee.U9"]["element"]["initial_user"] == "U9"
    assert blocks["case_type"]["dispatch_action"] is True
    assert "initial_options" not in blocks["own_channel"]["element"]
    form, errors = parse_create_case(_state(view, description="From TOR", own_channel=["own_channel"]))
    assert errors == {}
    assert (form.title, form.case_type, form.priority, form.assignee, form.own_channel) == (
        "Odd logins", "Security triage", "Medium", "U9", True)
    assert (form.origin_channel_id, form.message_permalink) == ("C1", "https://x/p1")


def test_create_modal_errors():
    view = create_case_modal(CASES, CaseDefaults())
    form, errors = parse_create_case(_state(view, title="  ", case_type="Nope", description="x" * 3001))
    assert form is None and set(errors) == {"title", "case_type", "description"}
    form, errors = parse_create_case(_state(view, title="t" * 151))
    assert "under 150" in errors["title"]


def test_dedicated_type_checks_the_own_channel_box():
    view = create_case_modal(CASES, CaseDefaults(case_type="Reliability triage"))
    assert _blocks(view)["own_channel"]["element"]["initial_options"][0]["value"] == "own_channel"


def test_type_change_moves_an_untouched_assignee_only():
    view = create_case_modal(CASES, CaseDefaults(title="t", assignee="U9", suggested="U9"))
    untouched = reload_defaults(_state(view, case_type="Reliability triage"), lambda t: "U5")
    assert (untouched.assignee, untouched.suggested, untouched.title) == ("U5", "U5", "t")
    rebuilt = create_case_modal(CASES, untouched)
    assert _blocks(rebuilt)["assignee.U5"]["element"]["initial_user"] == "U5", "a new block shows the new person"

    touched = reload_defaults(_state(view, case_type="Reliability triage", **{"assignee.U9": "U3"}), lambda t: "U5")
    assert (touched.assignee, touched.suggested) == ("U3", "U9"), "a person picked by hand stays"
    assert "assignee.U9" in _blocks(create_case_modal(CASES, touched))

    nobody = reload_defaults(_state(create_case_modal(CASES, CaseDefaults())), lambda t: None)
    assert nobody.assignee is None and "assignee.-" in _blocks(create_case_modal(CASES, nobody))


def test_edit_modal_prefills_and_parses():
    view = edit_case_modal(FACTS, CASES, "C5")
    assert check_view(view) == []
    blocks = _blocks(view)
    assert blocks["title"]["element"]["initial_value"] == "Odd logins"
    assert blocks["case_priority"]["element"]["initial_option"]["value"] == "High"
    assert blocks["assignee.U2"]["element"]["initial_user"] == "U2"
    assert view_target(view) == (7, "C5")
    form, errors = parse_edit_case(_state(view, case_severity="High", **{"assignee.U2": "U4"}))
    assert errors == {} and (form.case_id, form.severity, form.assignee, form.title) == (7, "High", "U4", "Odd logins")
    form, errors = parse_edit_case(_state(view, title="", case_severity="Huge"))
    assert set(errors) == {"title", "case_severity"}


def test_resolve_modal_lists_reasons_with_descriptions_and_requires_both():
    view = resolve_case_modal(FACTS, "C5")
    assert check_view(view) == []
    options = _blocks(view)["reason"]["element"]["options"]
    assert [o["value"] for o in options] == list(RESOLUTION_REASONS)
    assert all(o["description"]["text"] == RESOLUTION_REASONS[o["value"]] for o in options)
    assert "initial_option" not in _blocks(view)["reason"]["element"]
    _, errors = parse_resolve_case(_state(view, resolution=" "))
    assert set(errors) == {"reason", "resolution"}
    form, errors = parse_resolve_case(_state(view, reason="Benign", resolution="A scanner"))
    assert errors == {} and (form.case_id, form.reason, form.resolution) == (7, "Benign", "A scanner")
    escalated = resolve_case_modal(CaseFacts(**{**FACTS.__dict__, "status": "Escalated"}), None)
    assert _blocks(escalated)["reason"]["element"]["initial_option"]["value"] == "Escalated"


def test_escalate_modal_prefills_title_and_offers_project_priorities():
    view = escalate_case_modal(FACTS, [Choice("Low", "", True), Choice("High", "Page")], "default", "C5")
    assert check_view(view) == []
    blocks = _blocks(view)
    assert blocks["title"]["element"]["initial_value"] == "Odd logins"
    assert blocks["incident_priority"]["element"]["initial_option"]["value"] == "Low"
    form, errors = parse_escalate_case(_state(view, incident_priority="High", note="Real"))
    assert errors == {} and (form.case_id, form.title, form.priority, form.note) == (7, "Odd logins", "High", "Real")
    _, errors = parse_escalate_case(_state(view, title="", incident_priority="P0", note="x" * 1001))
    assert set(errors) == {"title", "incident_priority", "note"}


def test_cross_link_notices_render():
    text, blocks = render(CaseEscalated("CASE-7", "INC-3", "C9"))
    assert text == "Escalated to INC-3" and "<#C9>" in blocks[0]["text"]["text"]
    text, blocks = render(EscalatedFromCase("INC-3", "CASE-7", "Odd <logins>", "https://x/p7"))
    assert "<https://x/p7|case card>" in blocks[0]["text"]["text"] and "&lt;logins&gt;" in blocks[0]["text"]["text"]
    _, blocks = render(CaseMovedToChannel("CASE-7", "C9"))
    assert "<#C9>" in blocks[0]["text"]["text"]
