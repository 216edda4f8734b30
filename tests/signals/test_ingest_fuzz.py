"""Whatever is thrown at the ingestion endpoint, the answer is never a server error."""

from __future__ import annotations

import json
import time

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from domain.signals.auth import signature, timestamped_signature
from tests.signals.signal_config import BEARER_TOKEN, HMAC_HEADER, HMAC_SECRET, LEGACY_HEADER, LEGACY_SECRET

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
match_keys = st.sampled_from(["id", "name", "externalId", "variant"]) | st.text(max_size=8)
known_names = st.sampled_from(["Disk full", "EDR alert", "login-001", "mfa", "edr", "Retired rule",
                               "7b1c1e4a-5c1f-4c4e-9a51-3f2f1d7e8c01"])
raws = st.dictionaries(match_keys, known_names | json_values, max_size=6)
# Raw contents that match a definition, so random data reaches the database too.
matching_raws = st.builds(lambda extra, name: {**extra, "name": name},
                          st.dictionaries(st.text(max_size=8), json_values, max_size=5), st.just("Disk full"))
top_keys = st.sampled_from(["project", "case_type", "case_priority", "conversation_target", "signal", "entities",
                            "filter_action", "canary"]) | st.text(max_size=8)
top_values = (st.sampled_from(["default", "High", "Security triage", "C0SIGNALS"]) | json_values
              | st.fixed_dictionaries({"name": json_scalars}))
payloads = st.builds(lambda raw, rest: {**rest, "raw": raw}, raws | matching_raws,
                     st.dictionaries(top_keys, top_values, max_size=3))
bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    payloads.map(lambda p: json.dumps(p).encode()[:-1]),
    payloads.map(lambda p: json.dumps(p).encode()),
    payloads.map(lambda p: json.dumps(p, ensure_ascii=False).encode("utf-8", "surrogatepass")),
    matching_raws.map(lambda raw: json.dumps({"raw": raw}).encode()),
)
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
auths = st.sampled_from(["bearer", "bearer", "hmac", "hmac-legacy", "none", "random"])
# Timestamps in and out of the window, and not numbers at all (relative to now, or as given).
timestamps = st.integers(-400, 400) | st.integers(-(2**40), 2**40) | header_text
random_org = st.text(st.characters(whitelist_categories=("Ll", "Nd")), min_size=1, max_size=10)
paths = st.sampled_from(["/signals", "acme", "acme", "other-org", None]).flatmap(
    lambda p: random_org.map(lambda org: f"/api/v1/{org}/signals/instances") if p is None
    else st.just(p if p.startswith("/") else f"/api/v1/{p}/signals/instances"))


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies, auth=auths, extra=st.dictionaries(
    st.sampled_from(["Authorization", HMAC_HEADER, "X-Warroom-Request-Timestamp", "Content-Type", "X-Anything"]),
    header_text, max_size=1), path=paths, timestamp=timestamps)
async def test_never_a_server_error(http, body, auth, extra, path, timestamp):
    headers = dict(extra) if auth == "random" else {}
    if auth == "bearer":
        headers["Authorization"] = f"Bearer {BEARER_TOKEN}"
    elif auth == "hmac":
        if isinstance(timestamp, int):
            timestamp = str(int(time.time()) + timestamp if abs(timestamp) <= 400 else timestamp)
        headers["X-Warroom-Request-Timestamp"] = timestamp
        headers[HMAC_HEADER] = timestamped_signature(HMAC_SECRET, timestamp.strip(), body)
    elif auth == "hmac-legacy":
        headers[LEGACY_HEADER] = signature(LEGACY_SECRET, body)
    async with http.post(path, data=body, headers=headers) as resp:
        assert resp.status < 500, await resp.text()
        event(f"status {resp.status}")
        reply = await resp.json()
        if resp.status >= 400:
            assert set(reply) == {"error", "field", "message"}
        else:
            assert reply["status"] in ("accepted", "duplicate")
