"""Build the Google ports from the config and the service-account key file named by the environment."""

from __future__ import annotations

import json
import os

from google.auth.exceptions import GoogleAuthError

from bot.google_workspace import GoogleWorkspace, load_credentials
from bot.preflight import StartupError
from domain.config.schema import WarroomConfig


def google_workspace(config: WarroomConfig) -> GoogleWorkspace:
    """The adapter serving documents and conference; `StartupError` when the key file is missing or invalid."""
    google = config.google
    assert google is not None
    env = google.credentials_env
    path = os.environ.get(env, "").strip()
    fix = f"set {env} to the path of the service account's JSON key file, or remove the google: section"
    if not path:
        raise StartupError(f"google: the environment variable {env} (the service account key file) is not set", fix)
    try:
        with open(path, encoding="utf-8") as f:
            key = json.load(f)
        credentials = load_credentials(google, key)
    except OSError as exc:
        raise StartupError(f"google: cannot read the key file {path} named by {env}: {exc.strerror}", fix) from None
    except (ValueError, KeyError, GoogleAuthError) as exc:
        raise StartupError(f"google: {path} (named by {env}) is not a service account key file: {exc}"[:300],
                           "download a JSON key of the service account (IAM > Service accounts > Keys)") from None
    return GoogleWorkspace(google, credentials, config.conference)
