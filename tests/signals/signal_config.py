"""The config the signal tests run with: sources of every kind and definitions matched every way."""

from __future__ import annotations

from domain.config.loader import parse_config
from domain.config.schema import WarroomConfig

BEARER_TOKEN = "siem-token-0123456789"
HMAC_SECRET = "edr-secret-abcdef"
HMAC_HEADER = "X-Edr-Signature"
LEGACY_SECRET = "old-edr-secret-123456"
LEGACY_HEADER = "X-Old-Edr-Signature"
SHORT_WINDOW = 30
ENV_TOKEN_NAME = "WARROOM_TEST_SIGNAL_TOKEN"
MAX_BODY = 8192

CONFIG_YAML = f"""
cases:
  types:
    - name: Security triage
      default: true
    - name: Reliability triage
signals:
  organization: acme
  max_body_bytes: {MAX_BODY}
  sources:
    - name: siem
      token: {BEARER_TOKEN}
    - name: edr
      auth: hmac
      secret: {HMAC_SECRET}
      signature_header: {HMAC_HEADER}
      definitions: [EDR alert]
    - name: edr-legacy
      auth: hmac
      signing: body
      secret: {LEGACY_SECRET}
      signature_header: {LEGACY_HEADER}
      definitions: [EDR alert]
    - name: edr-strict
      auth: hmac
      secret: {LEGACY_SECRET}
      signature_header: X-Strict-Signature
      timestamp_header: X-Strict-Timestamp
      signature_window_seconds: {SHORT_WINDOW}
    - name: elsewhere
      token: elsewhere-token
      organizations: [other-org]
    - name: from-env
      token_env: {ENV_TOKEN_NAME}
  definitions:
    - name: Suspicious login
      external_id: login-001
    - name: Suspicious login (MFA)
      external_id: login-001
      variant: mfa
    - name: EDR alert
      variant: edr
    - name: Disk full
    - name: Retired rule
      enabled: false
"""


def signal_config() -> WarroomConfig:
    return parse_config(CONFIG_YAML)
