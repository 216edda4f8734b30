"""Engagement rule matching: case-insensitive, punctuation ignored, phrase or any word, OR."""

from datetime import UTC, datetime

from domain.config.engagement import EngageIndividual
from domain.incidents.notices import IncidentFacts
from domain.response.engagement import normalize, rule_matches, term_matches


def facts(title="", description="", itype="Reliability", priority="Low"):
    return IncidentFacts("INC-1", title, description, "Active", "Open", itype, priority, "Minor", "U1", "U1", "C1",
                         datetime.now(UTC), "default")


def test_normalize_and_terms():
    assert normalize("  The DB-primary,  is DOWN!! ") == "the db primary is down"
    assert term_matches("db primary", normalize("the DB-primary is down"))
    assert term_matches("Payments Gateway", normalize("gateway timeouts"))  # any word
    assert not term_matches("pay", normalize("payments fail"))  # words, not substrings
    assert not term_matches("!!", normalize("anything"))


def test_rule_or_semantics():
    rule = EngageIndividual(name="dba", user="U0DBA", terms=["postgres"], incident_types=["Security"], priorities=["Critical"])
    assert rule_matches(rule, facts(title="Postgres replica lag"), [])
    assert rule_matches(rule, facts(itype="security"), [])
    assert rule_matches(rule, facts(priority="Critical"), [])
    assert rule_matches(rule, facts(), ["POSTGRES"])
    assert not rule_matches(rule, facts(title="CDN errors"), [])
