"""The cost rules: classic role hours (with the >24 h rule), activity spans (Dispatch's examples)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.config.costs import CustomCostTypeConfig
from domain.config.loader import check_config_text, parse_config
from domain.costs import (
    Activity,
    RoleSpan,
    activity_cost,
    billable_hours,
    classic_hours,
    classic_windows,
    extend_spans,
    model_at,
    review_hours,
    work_spans,
)
from domain.custom_costs import CustomCostForm, parse_amount
from modals.costs import parse_update_cost, update_cost_modal

T0 = datetime(2026, 1, 1, tzinfo=UTC)
RATE = 100


def _acts(*items: tuple[str, float]) -> list[Activity]:
    return [Activity(p, t, 300) for p, t in items]


def test_dispatch_example_two_participants():
    acts = _acts(("A", 100), ("B", 200))
    assert work_spans(acts) == [("A", 100, 400), ("B", 200, 500)]
    assert round(activity_cost(acts, RATE), 2) == 16.67


def test_dispatch_example_extended_span():
    acts = _acts(("A", 100), ("A", 150), ("B", 200), ("A", 500))
    assert work_spans(acts) == [("A", 100, 450), ("B", 200, 500), ("A", 500, 800)]
    assert round(activity_cost(acts, RATE), 2) == 26.39


def test_spans_added_incrementally_equal_spans_added_at_once():
    acts = _acts(("A", 100), ("A", 150), ("B", 200), ("A", 500))
    ends: dict[str, float] = {}
    first = extend_spans(ends, acts[:2])
    second = extend_spans(ends, acts[2:])
    assert sum(first.values()) + sum(second.values()) == 950


def test_hourly_rate_is_rounded_up():
    config = parse_config("costs: {annual_employee_cost: 100001, business_year_hours: 1000}")
    assert config.costs.hourly_rate("default") == 101
    assert parse_config("{}").costs.hourly_rate(None) == 25  # 50000 / 2080 = 24.04


def test_project_figures_override_global_ones():
    config = parse_config("costs: {annual_employee_cost: 2080, projects: [{project: default, annual_employee_cost: 20800}]}")
    assert config.costs.hourly_rate("default") == 10
    assert config.costs.hourly_rate("other") == 1


def test_classic_multipliers_per_role():
    roles = [RoleSpan("C", "commander", T0), RoleSpan("S", "scribe", T0), RoleSpan("L", "liaison", T0),
             RoleSpan("P", "participant", T0), RoleSpan("R", "reporter", T0), RoleSpan("O", "observer", T0)]
    hours = classic_hours(roles, since=None, until=T0 + timedelta(hours=2))
    assert hours == {"C": 2.0, "S": 1.5, "L": 1.5, "P": 1.0, "R": 1.0}


def test_over_24_hours_counts_8_hours_a_day():
    assert billable_hours(24 * 3600) == 24
    assert billable_hours(50 * 3600) == 2 * 8 + 2
    roles = [RoleSpan("C", "commander", T0)]
    assert classic_hours(roles, since=None, until=T0 + timedelta(hours=50)) == {"C": 18.0}


def test_over_24_hours_rule_holds_when_computed_every_five_minutes():
    roles = [RoleSpan("C", "commander", T0)]
    total, last = 0.0, None
    for step in range(1, 50 * 12 + 1):
        now = T0 + timedelta(minutes=5 * step)
        total += classic_hours(roles, since=last, until=now).get("C", 0.0)
        last = now
    assert total == pytest.approx(18.0)


def test_role_ends_when_renounced_or_incident_resolved():
    roles = [RoleSpan("C", "commander", T0, T0 + timedelta(hours=1)), RoleSpan("S", "scribe", T0)]
    hours = classic_hours(roles, since=None, until=T0 + timedelta(hours=10), resolved_at=T0 + timedelta(hours=2))
    assert hours == {"C": 1.0, "S": 1.5}


def test_incremental_classic_adds_only_what_accrued():
    roles = [RoleSpan("C", "commander", T0)]
    first = classic_hours(roles, since=None, until=T0 + timedelta(hours=1))
    second = classic_hours(roles, since=T0 + timedelta(hours=1), until=T0 + timedelta(hours=3))
    assert (first["C"], second["C"]) == (1.0, 2.0)


def test_review_hours():
    assert review_hours(4) == 3.0


def test_model_change_mid_incident():
    """Classic until 10:00, then an activity model: classic stops accruing, activities after count."""
    switch = T0 + timedelta(hours=2)
    assignments = [(T0, "classic"), (switch, "chatty")]
    windows = classic_windows(assignments, "classic", None, T0 + timedelta(hours=5))
    assert windows == [(None, switch)]
    roles = [RoleSpan("C", "commander", T0)]
    hours = sum(classic_hours(roles, since=lo, until=hi)["C"] for lo, hi in windows)
    assert hours == 2.0
    epoch = [(T0.timestamp(), "classic"), (switch.timestamp(), "chatty")]
    assert model_at(epoch, switch.timestamp() - 1) == "classic"
    assert model_at(epoch, switch.timestamp() + 1) == "chatty"
    # and back to classic later: a second classic window
    back = T0 + timedelta(hours=4)
    windows = classic_windows([*assignments, (back, "classic")], "classic", T0 + timedelta(hours=1),
                              T0 + timedelta(hours=5))
    assert windows == [(T0 + timedelta(hours=1), switch), (back, T0 + timedelta(hours=5))]


def test_cost_config_references_are_checked():
    errors = check_config_text(
        "costs:\n  models:\n    - name: m\n      activities: [{activity: slack_channel_activity}]\n"
        "  incident_types: {Nope: m, Security: missing}\n")[1]
    messages = [e.message for e in errors]
    assert "'Nope' is not an incident type of any project" in messages
    assert "'missing' is not one of costs.models (nor classic)" in messages


@pytest.mark.parametrize("text,amount", [("12500", 12500.0), ("$12,500.00", 12500.0), (" 300.555 ", 300.56),
                                         ("", None), ("   ", None), ("0", 0.0)])
def test_amounts_as_people_type_them(text, amount):
    assert parse_amount(text) == amount


@pytest.mark.parametrize("text,message", [("lots", "Not an amount"), ("-5", "between 0 and"), ("1e13", "between 0 and"),
                                          ("nan", "between 0 and"), ("12.5.1", "Not an amount")])
def test_amounts_refused_with_a_reason(text, message):
    with pytest.raises(ValueError, match=message):
        parse_amount(text)


def test_update_cost_modal_round_trips_and_names_the_bad_field():
    types = [CustomCostTypeConfig(name="Lost revenue", description="Orders that failed"),
             CustomCostTypeConfig(name="Customer credits")]
    view = update_cost_modal(7, "INC-7", types, {"Lost revenue": 1200.0}, "€", "€10.00")
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    assert inputs[0]["element"]["initial_value"] == "1,200.00" and inputs[0]["hint"]["text"] == "Orders that failed"
    assert "initial_value" not in inputs[1]["element"]
    state = {"cost_0": {"cost_0": {"value": "€1.200"}}, "cost_1": {"cost_1": {"value": "x"}}}
    form, errors = parse_update_cost({"private_metadata": view["private_metadata"], "state": {"values": state}})
    assert form is None and list(errors) == ["cost_1"]
    state["cost_1"]["cost_1"]["value"] = ""
    form, errors = parse_update_cost({"private_metadata": view["private_metadata"], "state": {"values": state}})
    assert errors == {} and form == CustomCostForm(7, {"Lost revenue": 1.2, "Customer credits": None})
