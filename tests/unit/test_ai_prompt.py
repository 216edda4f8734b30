"""Redaction and prompt bounds: what may leave for the AI server (pure functions)."""

from domain.config.ai import DEFAULT_REDACT_PATTERNS, AIConfig
from domain.core.ai import REDACTED, Prompt, bound, redact
from domain.response.assistant import parse_draft

SECRETS = {
    "slack bot token xoxb-1234567890-1234567890-abcdefghijkl": "xoxb-1234567890-1234567890-abcdefghijkl",
    "key sk-proj-abcdefghijklmnopqrstuvwx": "sk-proj-abcdefghijklmnopqrstuvwx",
    "aws AKIAIOSFODNN7EXAMPLE": "AKIAIOSFODNN7EXAMPLE",
    "gh ghp_abcdefghijklmnopqrstuvwxyz0123456789": "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "Authorization: Bearer abc.def-ghi_jkl": "abc.def-ghi_jkl",
    "password=Tr0ub4dor&3": "Tr0ub4dor&3",
    "API_KEY: 'q1w2e3r4t5'": "q1w2e3r4t5",
    "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U":
        "eyJhbGciOiJIUzI1NiJ9",
    "url https://admin:pa55word@db.example.com/x": "pa55word",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----": "MIIEow",
}


def test_default_patterns_redact_common_secrets():
    for text, secret in SECRETS.items():
        out = redact(text, DEFAULT_REDACT_PATTERNS)
        assert secret not in out and REDACTED in out, text


def test_group_patterns_keep_their_context():
    assert redact("password: hunter22", DEFAULT_REDACT_PATTERNS) == f"password: {REDACTED}"
    assert redact("db postgres://app:s3cret@db/prod", DEFAULT_REDACT_PATTERNS) == f"db postgres://app:{REDACTED}@db/prod"


def test_ordinary_text_is_untouched():
    text = "Checkout 502s since deploy 4812; token bucket at 80%; see INC-12 and <#C012AB3CD>"
    assert redact(text, DEFAULT_REDACT_PATTERNS) == text


def test_configured_patterns():
    config = AIConfig(redact_patterns=[r"EMP\d{5}"], extra_redact_patterns=[r"(?i)internal-\w+"])
    text = Prompt("system", "Employee EMP12345", ["host INTERNAL-db7 down", "sk-abcdefghijklmnopqrstuvwxyz"]).text(config)
    assert "EMP12345" not in text and "INTERNAL-db7" not in text
    assert "sk-abcdefghijklmnopqrstuvwxyz" in text  # the defaults were replaced, not extended


def test_bound_drops_oldest_lines_first_and_keeps_the_header():
    lines = [f"line {i:03d} " + "y" * 40 for i in range(200)]
    text = bound("HEADER", lines, 1500)
    assert len(text) <= 1500 and text.startswith("HEADER\n[… ")
    assert "line 199" in text and "line 000" not in text
    kept = [line for line in text.splitlines() if line.startswith("line ")]
    assert kept == lines[-len(kept):]


def test_bound_keeps_everything_that_fits():
    assert bound("H", ["a", "b"], 1000) == "H\na\nb"


def test_a_huge_header_is_cut_to_half_the_budget():
    text = bound("H" * 5000, ["recent"], 1000)
    assert len(text) <= 1000 and "recent" in text


def test_redaction_happens_before_bounding():
    config = AIConfig(max_prompt_chars=1000)
    secret = "sk-" + "a" * 30
    text = Prompt("s", "h", [f"old {secret}"] * 3 + ["new"]).text(config)
    assert secret not in text


def test_parse_draft_reads_json_with_or_without_a_fence():
    keys = ["conditions", "actions", "needs"]
    assert parse_draft('```json\n{"conditions": "a", "actions": ["x", "y"], "needs": ""}\n```', keys) == {
        "conditions": "a", "actions": "• x\n• y"}
    assert parse_draft('Here you go: {"needs": "more SREs"} Thanks', keys) == {"needs": "more SREs"}
