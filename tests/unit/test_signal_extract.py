"""Entity extraction evaluates JSONPath and regular expressions for real, and snooze matching is exact."""

from datetime import UTC

from domain.config.signals import EntityMatch, EntityTypeConfig
from domain.signals.extract import MAX_PER_TYPE, extract_entities
from domain.signals.snooze import matches

RAW = {
    "id": "5b0c8f0e-3c1e-4c6f-9d7a-2f1f9f3c8a11",
    "detail": {"userIdentity": {"userName": "mallory"}, "sourceIPAddress": "203.0.113.7",
               "related": [{"ip": "198.51.100.2"}, {"ip": "198.51.100.3"}]},
    "message": "login from 203.0.113.7 then 192.0.2.44 by mallory@example.com",
    "flag": True,
}
IP = EntityTypeConfig(name="ip", regex=r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
USER = EntityTypeConfig(name="user", jsonpath="$.detail.userIdentity.userName")
EMAIL = EntityTypeConfig(name="email", regex=r"([\w.]+)@example\.com")
RELATED = EntityTypeConfig(name="related_ip", jsonpath="$.detail.related[*].ip")


def test_jsonpath_and_regex_are_both_evaluated():
    found = extract_entities(RAW, [IP, USER, RELATED])
    assert ("user", "mallory") in found
    assert {v for t, v in found if t == "ip"} == {"203.0.113.7", "198.51.100.2", "198.51.100.3", "192.0.2.44"}
    assert {v for t, v in found if t == "related_ip"} == {"198.51.100.2", "198.51.100.3"}
    assert len(found) == len(set(found)), "no duplicates"


def test_regex_group_gives_the_value_and_both_rules_combine():
    assert extract_entities(RAW, [EMAIL]) == [("email", "mallory")]
    both = EntityTypeConfig(name="ip", jsonpath="$.detail.sourceIPAddress", regex=r"192\.0\.2\.\d+")
    assert extract_entities(RAW, [both]) == [("ip", "203.0.113.7"), ("ip", "192.0.2.44")]


def test_jsonpath_matching_an_object_yields_its_scalars_and_missing_paths_yield_nothing():
    whole = EntityTypeConfig(name="identity", jsonpath="$.detail.userIdentity")
    assert extract_entities(RAW, [whole]) == [("identity", "mallory")]
    assert extract_entities(RAW, [EntityTypeConfig(name="x", jsonpath="$.nope.nothing")]) == []


def test_a_payload_with_thousands_of_matches_is_capped():
    raw = {"ips": [f"10.0.{i // 256}.{i % 256}" for i in range(2000)]}
    assert len(extract_entities(raw, [IP])) == MAX_PER_TYPE


def test_snooze_needs_every_named_entity_config_or_stored():
    found = {("ip", "203.0.113.7"), ("user", "mallory")}
    assert matches([{"type": "ip", "value": "203.0.113.7"}], found)
    assert matches([EntityMatch(type="ip", value="203.0.113.7"), EntityMatch(type="user", value="mallory")], found)
    assert not matches([{"type": "ip", "value": "203.0.113.7"}, {"type": "user", "value": "eve"}], found)
    assert not matches([], found), "an empty snooze must not swallow every signal"


def test_a_config_snooze_time_without_a_zone_is_utc_and_compares_with_now():
    from datetime import datetime, timedelta

    from domain.config.signals import SignalsConfig

    signals = SignalsConfig.model_validate({
        "entity_types": [{"name": "ip", "regex": "x"}],
        "filters": [{"name": "naive", "action": "snooze", "entities": [{"type": "ip", "value": "1"}],
                     "expires_at": "2030-01-01 00:00"}]})
    assert signals.filters[0].expires_at == datetime(2030, 1, 1, tzinfo=UTC)
    assert [f.name for f in signals.snoozes_in_force(datetime(2029, 12, 31, tzinfo=UTC))] == ["naive"]
    assert signals.snoozes_in_force(datetime(2030, 1, 1, tzinfo=UTC) + timedelta(seconds=1)) == []
