"""Snooze rule, modal builder/parser and the list-signals renderer, without Slack or a database."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from domain.config.schema import WarroomConfig
from domain.signals.listing import SignalLine, SignalList, SnoozeLine, case_target
from domain.signals.snooze import EXPIRY_CHOICES, SnoozeCreated, expires_at, matches
from emulators.slackemu.blockkit_rules import check_message, check_view
from modals.renderers import render
from modals.snooze import ENTITIES_ACTION, METADATA_MAX, new_draft, parse_snooze, read_draft, snooze_modal

ENTITIES = [("ip", "10.0.0.1"), ("user", "bob"), ("host", "web-1")]


def test_matches_needs_every_filter_entity():
    snooze = [{"type": "ip", "value": "10.0.0.1"}, {"type": "user", "value": "bob"}]
    assert matches(snooze, [("ip", "10.0.0.1"), ("user", "bob"), ("host", "web-1")])
    assert matches(snooze, [{"type": "user", "value": "bob"}, {"type": "ip", "value": "10.0.0.1"}])
    assert not matches(snooze, [("ip", "10.0.0.1")]), "one entity missing"
    assert not matches(snooze, [("ip", "10.0.0.1"), ("user", "Bob")]), "values compare exactly"
    assert not matches(snooze, [("address", "10.0.0.1"), ("user", "bob")]), "the type matters too"
    assert not matches([], ENTITIES), "a snooze without entities catches nothing"
    assert not matches(snooze, [])


def test_expiry_choices():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert [label for label, _ in EXPIRY_CHOICES.values()] == ["1 hour", "4 hours", "1 day", "3 days", "1 week", "2 weeks"]
    assert expires_at("1d", now) == now + timedelta(days=1)
    assert expires_at("2w", now) == now + timedelta(days=14)


def _blocks(view: dict) -> dict[str, dict]:
    return {b["block_id"]: b for b in view["blocks"] if "block_id" in b}


def _submitted(view: dict, **values) -> dict:
    """The view as Slack sends it back: state filled from initial values, overridden by `values`."""
    blocks = _blocks(view)
    boxes = blocks["entities"]["element"]
    state = {
        "name": {"name": {"type": "plain_text_input", "value": blocks["name"]["element"].get("initial_value")}},
        "reason": {"reason": {"type": "plain_text_input", "value": None}},
        "entities": {ENTITIES_ACTION: {"type": "checkboxes", "selected_options": boxes.get("initial_options", [])}},
        "expiry": {"expiry": {"type": "static_select", "selected_option": blocks["expiry"]["element"]["initial_option"]}},
    }
    for block, value in values.items():
        entry = state[block][next(iter(state[block]))]
        if block == "entities":
            entry["selected_options"] = [o for o in boxes["options"] if o["value"] in value]
        elif block == "expiry":
            entry["selected_option"] = {"text": {"type": "plain_text", "text": value}, "value": value}
        else:
            entry["value"] = value
    return {**view, "state": {"values": state}}


def test_modal_offers_the_entities_checked_with_a_default_name_and_a_day():
    draft = new_draft(7, "CASE-7", "Impossible travel", ENTITIES)
    view = snooze_modal(replace(draft, preview=(3, 12)))
    assert check_view(view) == []
    blocks = _blocks(view)
    assert blocks["name"]["element"]["initial_value"] == "Snooze Impossible travel"
    assert [o["text"]["text"] for o in blocks["entities"]["element"]["options"]] == ["ip: 10.0.0.1", "user: bob", "host: web-1"]
    assert len(blocks["entities"]["element"]["initial_options"]) == 3
    assert blocks["entities"]["dispatch_action"] is True
    assert blocks["expiry"]["element"]["initial_option"]["value"] == "1d"
    assert [o["text"]["text"] for o in blocks["expiry"]["element"]["options"]] == [
        "1 hour", "4 hours", "1 day", "3 days", "1 week", "2 weeks"]
    assert blocks["preview"]["elements"][0]["text"] == \
        "Would have matched 3 of the last 12 alerts of Impossible travel in the past 7 days"


def test_at_most_ten_entities_and_all_fit_in_the_metadata():
    many = [("ip", f"10.0.0.{i}") for i in range(15)]
    assert len(new_draft(1, "CASE-1", "d", many).entities) == 10
    huge = [("blob", "x" * 1200), ("ip", "10.0.0.1"), ("blob", "y" * 1200), ("blob", "z" * 1200)]
    draft = new_draft(1, "CASE-1", "d", huge)
    view = snooze_modal(draft)
    assert len(view["private_metadata"]) <= METADATA_MAX and check_view(view) == []
    assert ("ip", "10.0.0.1") in draft.entities and len(draft.entities) == 3, "what does not fit is left out, not cut"


def test_parse_reads_the_checked_entities_and_the_rest():
    view = snooze_modal(new_draft(7, "CASE-7", "Impossible travel", ENTITIES))
    form, errors = parse_snooze(_submitted(view, entities=["1", "2"], reason=" travelling ", expiry="1w", name=" Bob trip "))
    assert errors == {}
    assert form == {"case": 7, "definition": "Impossible travel", "name": "Bob trip", "reason": "travelling",
                    "entities": [{"type": "user", "value": "bob"}, {"type": "host", "value": "web-1"}], "expiry": "1w"}


def test_parse_refuses_a_blank_name_no_entity_and_an_unknown_expiry():
    view = snooze_modal(new_draft(7, "CASE-7", "Impossible travel", ENTITIES))
    form, errors = parse_snooze(_submitted(view, name="  ", entities=[], expiry="1y"))
    assert form is None and set(errors) == {"name", "entities", "expiry"}


def test_a_rebuilt_modal_keeps_what_the_person_entered():
    view = snooze_modal(new_draft(7, "CASE-7", "Impossible travel", ENTITIES))
    draft = read_draft(_submitted(view, entities=["0"], name="Mine", reason="why", expiry="4h"))
    assert draft.checked == [("ip", "10.0.0.1")]
    rebuilt = _blocks(snooze_modal(replace(draft, preview=(9, 12))))
    assert [o["value"] for o in rebuilt["entities"]["element"]["initial_options"]] == ["0"]
    assert rebuilt["name"]["element"]["initial_value"] == "Mine"
    assert rebuilt["reason"]["element"]["initial_value"] == "why"
    assert rebuilt["expiry"]["element"]["initial_option"]["value"] == "4h"
    assert rebuilt["preview"]["elements"][0]["text"].startswith("Would have matched 9 of the last 12 ")
    nothing = _blocks(snooze_modal(replace(draft, checked=[])))
    assert "initial_options" not in nothing["entities"]["element"]
    assert "check at least one entity" in nothing["preview"]["elements"][0]["text"]


def test_case_target_falls_back_to_the_case_type():
    config = WarroomConfig.model_validate({
        "cases": {"types": [{"name": "Sec", "default": True, "conversation_target": "C111"},
                            {"name": "Rel", "conversation_target": "C222"}]},
        "signals": {"definitions": [{"name": "a"}, {"name": "b", "case_type": "Rel"},
                                    {"name": "c", "case_type": "Rel", "conversation_target": "C333"}]}})
    assert [case_target(config, d) for d in config.signals.definitions] == ["C111", "C222", "C333"]


def test_signal_list_renders_each_definition_or_says_none_target_the_channel():
    until = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    line = SignalLine("Impossible travel", "ext-42", "secops", True, ["ip", "user"], "https://runbooks/travel",
                      [SnoozeLine("Bob trip", until)])
    text, blocks = render(SignalList("C111", "/dispatch-list-signals", [line], 3))
    assert check_message(text, blocks) == []
    shown = json.dumps(blocks)
    for part in ("Impossible travel", "ext-42", "secops", "creates cases", "ip, user", "https://runbooks/travel",
                 "Bob trip", "2026-03-01 12:00 UTC"):
        assert part in shown
    text, blocks = render(SignalList("C999", "/dispatch-list-signals", [], 3))
    assert "No enabled signal definition" in text and "3 definition(s)" in text and "<#C999>" in text


def test_snooze_notices_escape_what_people_typed():
    until = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    notice = SnoozeCreated("U1", "<!channel> quiet", "Impossible travel", [("user", "<bob>")], until, "1 day",
                           "ask <!here>", "CASE-3")
    text, blocks = render(notice)
    assert check_message(text, blocks) == []
    assert "<!channel>" not in text and "<!here>" not in text and "&lt;!channel&gt; quiet" in text
    assert text.startswith(":zzz: <@U1> snoozed *&lt;!channel&gt; quiet* for 1 day, until <!date^")
    assert "user: `&lt;bob&gt;`" in text and "Reason: ask &lt;!here&gt;" in text
    mine, _ = render(replace(notice, to_snoozer=True))
    assert mine.startswith("Snoozed: alerts of Impossible travel carrying user: `&lt;bob&gt;`") and "(from CASE-3)" in mine
