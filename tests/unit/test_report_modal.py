import json

from domain.incidents.service import Choice, ProjectChoices, ReportChoices
from modals import report_incident
from modals.report_incident import (
    DESCRIPTION_MAX,
    TITLE_MAX,
    ReportDefaults,
    parse_report_submission,
    report_incident_modal,
)

ONE = ReportChoices(
    [
        ProjectChoices(
            "default",
            True,
            [Choice("Security", "Security events", True), Choice("Privacy", "", False, restricted=True)],
            [Choice("Low"), Choice("High", "Customers hurt", True)],
        )
    ]
)
TWO = ReportChoices(ONE.projects + [ProjectChoices("payments", False, [Choice("Fraud", default=True)], [Choice("P1", default=True)])])


def _state(view: dict, **values) -> dict:
    """Build Slack's view.state.values for the given block values."""
    state = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        bid, el = block["block_id"], block["element"]
        aid = el["action_id"]
        v = values.get(bid)
        if el["type"] == "plain_text_input":
            state[bid] = {aid: {"type": el["type"], "value": v}}
        elif el["type"] == "static_select":
            opt = next((o for o in el["options"] if o["value"] == v), el.get("initial_option"))
            state[bid] = {aid: {"type": el["type"], "selected_option": opt}}
        elif el["type"] == "checkboxes":
            state[bid] = {aid: {"type": el["type"], "selected_options": [o for o in el["options"] if o["value"] in (v or [])]}}
    return {**view, "id": "V1", "state": {"values": state}}


def test_modal_preselects_defaults_and_hides_project_when_single():
    view = report_incident_modal(ONE, ReportDefaults(origin_channel_id="C1"))
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert "project" not in blocks
    assert blocks["incident_type"]["element"]["initial_option"]["value"] == "Security"
    assert blocks["incident_priority"]["element"]["initial_option"]["value"] == "High"
    assert json.loads(view["private_metadata"])["origin"] == "C1"
    assert len(view["title"]["text"]) <= 24


def test_modal_offers_project_when_several_and_uses_its_options():
    view = report_incident_modal(TWO, ReportDefaults(project="payments"))
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks["project"]["dispatch_action"] is True
    assert [o["value"] for o in blocks["incident_type"]["element"]["options"]] == ["Fraud"]


def test_user_text_with_markup_stays_plain_text():
    view = report_incident_modal(ONE, ReportDefaults(title="*bold* <!channel> & _x_"))
    title = next(b for b in view["blocks"] if b.get("block_id") == "title")
    assert title["element"]["initial_value"] == "*bold* <!channel> & _x_"
    assert title["label"]["type"] == "plain_text"


def test_valid_submission_parses_to_form():
    view = report_incident_modal(ONE, ReportDefaults(origin_channel_id="C9", message_permalink="https://x/p1"))
    form, errors = parse_report_submission(
        _state(view, title="  DB down  ", description="All writes fail", incident_type="Privacy", private=["restricted"]))
    assert errors == {}
    assert (form.title, form.incident_type, form.priority, form.restricted) == ("DB down", "Privacy", "High", True)
    assert (form.origin_channel_id, form.origin_message_permalink, form.project) == ("C9", "https://x/p1", "default")


def test_empty_and_too_long_fields_give_errors_on_their_blocks():
    view = report_incident_modal(ONE, ReportDefaults())
    form, errors = parse_report_submission(_state(view, title="   ", description="x" * (DESCRIPTION_MAX + 1)))
    assert form is None
    assert set(errors) == {"title", "description"}
    _, errors = parse_report_submission(_state(view, title="t" * (TITLE_MAX + 1), description="ok"))
    assert "150" in errors["title"]


def test_option_the_view_did_not_offer_is_refused():
    view = report_incident_modal(TWO, ReportDefaults(project="default"))
    submitted = _state(view, title="t", description="d")
    submitted["state"]["values"]["incident_type"]["incident_type"]["selected_option"] = {"value": "Fraud"}
    _, errors = parse_report_submission(submitted)
    assert "incident_type" in errors


def test_restricted_default_type_pre_ticks_private():
    restricted_first = ReportChoices([ProjectChoices("p", True, [Choice("Fraud", default=True, restricted=True)], [Choice("P1", default=True)])])
    view = report_incident_modal(restricted_first, ReportDefaults())
    private = next(b for b in view["blocks"] if b.get("block_id") == "private")
    assert [o["value"] for o in private["element"]["initial_options"]] == ["restricted"]


def test_a_kept_modal_gets_each_callers_defaults_and_nothing_of_the_last_ones():
    given = ReportDefaults(origin_channel_id="C1", title="Checkout down " * 20, description="500s", project="payments",
                           message_permalink="https://example.slack.com/archives/C1/p1")
    plain_one = ReportDefaults(origin_channel_id="C2", project="payments")
    fresh = []
    for defaults in (given, plain_one):
        report_incident._BUILT.clear()
        fresh.append(report_incident_modal(TWO, defaults))
    kept = [report_incident_modal(TWO, plain_one), report_incident_modal(TWO, given), report_incident_modal(TWO, plain_one)]
    assert len(report_incident._BUILT) == 1, "one project: one modal kept"
    assert kept == [fresh[1], fresh[0], fresh[1]]
    title = next(b for b in fresh[0]["blocks"] if b.get("block_id") == "title")["element"]
    assert title["initial_value"] == ("Checkout down " * 20)[:TITLE_MAX - 1] + "…"
    assert "initial_value" not in next(b for b in fresh[1]["blocks"] if b.get("block_id") == "title")["element"]
    assert json.loads(fresh[0]["private_metadata"])["origin"] == "C1"
