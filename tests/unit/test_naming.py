import re

import pytest

from domain.incidents.naming import channel_name, incident_topic, slugify

VALID = re.compile(r"^[a-z0-9_-]{1,80}$")


@pytest.mark.parametrize(
    "title, expected",
    [
        ("Checkout API returns 502", "inc-12-checkout-api-returns-502"),
        ("  DB.primary   DOWN!!  ", "inc-12-db-primary-down"),
        ("Café crème brûlée outage", "inc-12-cafe-creme-brulee-outage"),
        ("数据库故障", "inc-12"),
        ("🔥🔥🔥", "inc-12"),
        ("", "inc-12"),
    ],
)
def test_channel_names_are_valid_slack_names_for_any_title(title, expected):
    name = channel_name("inc", 12, title)
    assert name == expected
    assert VALID.match(name)


def test_long_titles_are_cut_to_80_chars_without_trailing_hyphen():
    name = channel_name("inc", 123456, "word " * 60)
    assert len(name) <= 80 and VALID.match(name) and not name.endswith("-")


def test_collision_attempts_get_distinct_suffixes_within_the_limit():
    names = {channel_name("inc", 7, "x" * 200, attempt) for attempt in range(5)}
    assert len(names) == 5
    assert all(len(n) <= 80 and VALID.match(n) for n in names)
    assert channel_name("inc", 7, "outage", 1) == "inc-7-outage-2"


def test_slugify_collapses_separators():
    assert slugify("a -- b__c", 80) == "a-b__c"


def test_topic_is_capped_at_250_chars():
    topic = incident_topic("INC-1", "Active", "High", "A" * 400)
    assert len(topic) == 250 and topic.startswith("INC-1 · Active · Priority: High")
