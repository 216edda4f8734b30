"""Tag selects of the report and update forms: built per tag type, parsed purely (offered options,
exclusive, required when closing), and the list-incidents filter."""

from __future__ import annotations

import json

from domain.incidents.service import Choice, ProjectChoices, ReportChoices
from domain.incidents.tags import IncidentTagView, TagChoice, TagTypeChoice, list_filters
from domain.incidents.update import UpdateIncidentForm, UpdateOptions
from modals.report_incident import ReportDefaults, parse_report_submission, report_incident_modal
from modals.tags import parse_tags, tag_inputs, tag_metadata, tag_options
from modals.update_incident import parse_update_submission, update_incident_modal

COMPONENT = TagTypeChoice(1, "Component", "", exclusive=True, required=True,
                          tags=[TagChoice(10, "payments"), TagChoice(11, "search")])
REGION = TagTypeChoice(2, "Region", "", exclusive=False, required=False, tags=[TagChoice(20, "eu"), TagChoice(21, "us")])
CUSTOMER = TagTypeChoice(3, "Customer", "", exclusive=False, required=False, tags=[], searchable=True)
TYPES = [COMPONENT, REGION, CUSTOMER]


def _view(inputs, values: dict, metadata: str = "") -> dict:
    """A submitted view holding the built `inputs` and {block_id: [option values]} as Slack's state."""
    blocks = [i.build() for i in inputs]
    state = {}
    for b in blocks:
        el = b["element"]
        picked = [{"text": {"type": "plain_text", "text": v}, "value": v} for v in values.get(b["block_id"], [])]
        entry = {"selected_option": picked[0] if picked else None} if el["type"] in ("static_select", "external_select") \
            else {"selected_options": picked}
        state[b["block_id"]] = {el["action_id"]: {"type": el["type"], **entry}}
    return {"blocks": blocks, "state": {"values": state}, "private_metadata": metadata}


def test_one_select_per_type_single_when_exclusive_external_when_searchable():
    current = [IncidentTagView(11, "search", "Component", 1), IncidentTagView(300, "acme", "Customer", 3),
               IncidentTagView(99, "old", None, None)]
    blocks = [i.build() for i in tag_inputs(TYPES, current)]
    assert [b["block_id"] for b in blocks] == ["tag_type_1", "tag_type_2", "tag_type_3", "legacy_tags"]
    assert [b["element"]["type"] for b in blocks] == [
        "static_select", "multi_static_select", "multi_external_select", "multi_static_select"]
    assert blocks[0]["element"]["initial_option"]["value"] == "11"
    assert blocks[2]["element"]["initial_options"][0]["value"] == "300"  # a searched tag shows as picked
    assert blocks[3]["element"]["initial_options"][0]["value"] == "99"
    assert all(b["optional"] for b in blocks)


def test_parse_tags_collects_ids_and_checks_offered_exclusive_and_required():
    meta = tag_metadata(TYPES)
    inputs = tag_inputs(TYPES)
    assert parse_tags(_view(inputs, {"tag_type_1": ["10"], "tag_type_2": ["20", "21"], "tag_type_3": ["300"]}), meta,
                      closing=True) == ((10, 20, 21, 300), {})
    assert parse_tags(_view(inputs, {"tag_type_2": ["22"]}), meta, closing=False)[1] == {
        "tag_type_2": "Pick from the listed tags."}
    assert parse_tags(_view(inputs, {"tag_type_3": ["x"]}), meta, closing=False)[1] == {
        "tag_type_3": "Pick from the listed tags."}
    assert parse_tags(_view(inputs, {}), meta, closing=True)[1] == {"tag_type_1": "Closing needs a Component tag."}
    assert parse_tags(_view(inputs, {}), meta, closing=False) == ((), {})
    # Component made non-exclusive in the form but exclusive in the metadata: two tags are refused.
    multi = tag_inputs([TagTypeChoice(1, "Component", "", False, True, COMPONENT.tags)])
    assert parse_tags(_view(multi, {"tag_type_1": ["10", "11"]}), meta, closing=False)[1] == {
        "tag_type_1": "Component takes one tag only."}


def test_report_form_carries_tag_types_and_refuses_closed_without_required():
    choices = ReportChoices([ProjectChoices("default", True, [Choice("Reliability", default=True)],
                                            [Choice("Low", default=True)], [Choice("Minor", default=True)],
                                            ("Minor",), TYPES)])
    view = report_incident_modal(choices, ReportDefaults())
    assert json.loads(view["private_metadata"])["tag_types"]["1"] == ["Component", True, True]
    values = view.setdefault("state", {}).setdefault("values", {})
    values.update({"title": {"title": {"value": "t"}}, "description": {"description": {"value": "d"}},
                   "incident_type": {"incident_type": {"selected_option": {"value": "Reliability"}}},
                   "incident_priority": {"incident_priority": {"selected_option": {"value": "Low"}}},
                   "incident_severity": {"incident_severity": {"selected_option": {"value": "Minor"}}},
                   "status": {"status": {"selected_option": {"value": "Closed"}}},
                   "tag_type_2": {"tag_type_2": {"selected_options": [{"value": "20"}]}}})
    form, errors = parse_report_submission(view)
    assert form is None and errors == {"tag_type_1": "Closing needs a Component tag."}
    values["tag_type_1"] = {"tag_type_1": {"selected_option": {"value": "11"}}}
    form, errors = parse_report_submission(view)
    assert errors == {} and form is not None and form.tags == (11, 20)


def test_update_form_metadata_and_old_forms():
    current = UpdateIncidentForm("t", "d", "", "Reliability", "Low", "Minor", "Active", "Open", (10,))
    options = UpdateOptions(7, ["Reliability"], ["Low"], ["Minor"], current, TYPES,
                            [IncidentTagView(10, "payments", "Component", 1)])
    view = update_incident_modal(options, "INC-7")
    assert json.loads(view["private_metadata"]) == {"incident": 7, "tag_types": tag_metadata(TYPES)}
    view["state"] = {"values": {
        b["block_id"]: {b["element"]["action_id"]: {
            "value": b["element"].get("initial_value"), "selected_option": b["element"].get("initial_option"),
            "selected_options": b["element"].get("initial_options", [])}}
        for b in view["blocks"] if b.get("type") == "input"}}
    incident_id, form, errors = parse_update_submission(view)
    assert (incident_id, errors) == (7, {}) and form is not None and form.tags == (10,)
    view["private_metadata"] = "7"  # a form opened before tag types existed
    assert parse_update_submission(view)[0] == 7


def test_tag_options_and_list_filters():
    assert tag_options([TagChoice(5, "payments", "the payments API")]) == [
        {"text": {"type": "plain_text", "text": "payments"}, "value": "5",
         "description": {"type": "plain_text", "text": "the payments API"}}]
    assert list_filters("") == (None, None)
    assert list_filters("default") == ("default", None)
    assert list_filters("tag:payments") == (None, "payments")
    assert list_filters("default TAG:data loss") == ("default", "data loss")
    assert list_filters("hashtag:x") == ("hashtag:x", None)
