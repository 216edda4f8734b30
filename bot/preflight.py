"""Start-up checks that turn the common operator mistakes into one message naming the cause and the fix.

Each check raises `StartupError(cause, fix)`; the CLI prints it (no traceback) and exits 2. The
database check never creates anything: an SQLite file that does not exist is reported, not made.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from pathlib import Path

from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from bot.slack_errors import port_error
from storage.db import create_engine
from storage.revisions import database_revision as recorded_revision
from storage.revisions import shipped_revisions

DB_TIMEOUT = 10.0
UPGRADE = "run: python -m bot db upgrade"


class StartupError(Exception):
    """A mistake the operator can fix: what is wrong (`cause`) and what to do (`fix`)."""

    def __init__(self, cause: str, fix: str) -> None:
        super().__init__(cause)
        self.cause = cause
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.cause}\n  fix: {self.fix}"


def shown_url(url: str) -> str:
    """The database URL without its password (for messages and logs)."""
    return make_url(url).render_as_string(hide_password=True)


def _sqlite_path(url: str) -> Path | None:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def check_sqlite_path(url: str, *, must_exist: bool) -> None:
    """An SQLite file path whose directory exists (and, with `must_exist`, the file too)."""
    path = _sqlite_path(url) if make_url(url).get_backend_name() == "sqlite" else None
    if path is None:
        return
    if not path.parent.is_dir():
        raise StartupError(f"the directory of the SQLite database {path} does not exist ({path.parent}/)",
                           f"create it (mkdir -p {path.parent}) or set DATABASE_URL to a file in an existing directory")
    if must_exist and not path.exists():
        raise StartupError(f"the SQLite database {path} does not exist yet (the schema was never created)",
                           f"{UPGRADE}  (creates and migrates it), then start again")


def database_error(url: str, exc: BaseException) -> StartupError:
    """The StartupError for a failure to connect to the database at `url`."""
    u = make_url(url)
    where = f"{u.host or 'localhost'}:{u.port or 5432}"
    code = getattr(getattr(exc, "orig", None), "pgcode", None) or getattr(getattr(exc, "orig", None), "sqlstate", None)
    if code == "3D000":
        return StartupError(f'PostgreSQL database "{u.database}" does not exist on {where}',
                            f"create it (createdb -h {u.host or 'localhost'} -p {u.port or 5432} -U {u.username or 'postgres'} "
                            f"{u.database}) or fix DATABASE_URL, then {UPGRADE}")
    if code in ("28000", "28P01"):
        return StartupError(f"PostgreSQL at {where} refused user \"{u.username}\": {_first_line(exc)}",
                            "fix the user name or password in DATABASE_URL")
    if isinstance(exc, ConnectionRefusedError) or getattr(exc, "errno", None) == errno.ECONNREFUSED:
        return StartupError(f"nothing is listening on {where} (connection refused) for DATABASE_URL {shown_url(url)}",
                            "start PostgreSQL or fix the host and port in DATABASE_URL")
    if isinstance(exc, socket.gaierror):
        return StartupError(f"the database host {u.host!r} in DATABASE_URL cannot be resolved",
                            "fix the host name in DATABASE_URL")
    if isinstance(exc, TimeoutError):
        return StartupError(f"the database at {where} did not answer within {DB_TIMEOUT:.0f} s",
                            "check that it is up and reachable, and the host and port in DATABASE_URL")
    if u.get_backend_name() == "sqlite":
        return StartupError(f"cannot open the SQLite database {u.database}: {_first_line(exc)}",
                            "check the path in DATABASE_URL and that this user may read and write it")
    return StartupError(f"cannot connect to the database {shown_url(url)}: {_first_line(exc)}",
                        "check DATABASE_URL and that the database is up")


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc) or type(exc).__name__
    return text.splitlines()[0]


async def database_revision(url: str) -> str | None:
    """The database's Alembic revision (None: never migrated); raises `StartupError` if unreachable."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        async with asyncio.timeout(DB_TIMEOUT):
            async with engine.connect() as conn:
                return await conn.run_sync(recorded_revision)
    except (SQLAlchemyError, DBAPIError, OSError, TimeoutError) as exc:
        raise database_error(url, exc) from None
    finally:
        await engine.dispose()


async def check_database(url: str) -> None:
    """The database exists, answers and is migrated to the revision this code needs."""
    check_sqlite_path(url, must_exist=True)
    revision = await database_revision(url)
    shipped = shipped_revisions()
    head = shipped.head
    if revision == head:
        return
    if revision is None:
        raise StartupError(f"the database {shown_url(url)} has no tables yet (it was never migrated)", UPGRADE)
    known = revision in shipped.known
    if known:
        raise StartupError(f"the database is at migration {revision}; this version of warroom needs {head}", UPGRADE)
    raise StartupError(f"the database is at migration {revision}, which this version of warroom does not know "
                       "(a newer warroom migrated it)",
                       "run the newer warroom, or downgrade the database with it (python -m bot db downgrade REV)")


def slack_refused(variable: str, exc: SlackApiError) -> StartupError:
    """The StartupError for Slack refusing one of the two tokens (or failing to answer: a 5xx, maybe with a text
    body from a proxy, which is no verdict on the token)."""
    failure = port_error(exc)
    code = failure.code if failure is not None else "unknown_error"
    if code.startswith("http_"):
        return StartupError(f"Slack could not check {variable}: it answered {code}",
                            "Slack (or a proxy in front of it) is failing; start again in a minute, and check "
                            "https://slack-status.com and SLACK_API_URL")
    if variable == "SLACK_APP_TOKEN":
        fix = ("create an app-level token with the connections:write scope (app settings → Basic Information → "
               "App-Level Tokens) and set SLACK_APP_TOKEN to it (xapp-…); Socket Mode must be enabled")
    else:
        fix = ("set SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page; "
               "reinstall the app if the token was revoked")
    return StartupError(f"Slack refused {variable} ({code})", fix)


def slack_unreachable(api_url: str, exc: BaseException) -> StartupError:
    return StartupError(f"cannot reach the Slack Web API at {api_url}: {_first_line(exc)}",
                        "check SLACK_API_URL and this machine's network access to it")


def port_in_use(host: str, port: int, exc: OSError) -> StartupError:
    if exc.errno == errno.EADDRINUSE:
        return StartupError(f"HTTP_PORT {port} is already in use on {host}",
                            "stop the process listening there, or set HTTP_PORT to a free port (0 picks any)")
    if exc.errno == errno.EACCES:
        return StartupError(f"not allowed to listen on port {port} (ports below 1024 need privileges)",
                            "set HTTP_PORT to 1024 or above")
    return StartupError(f"cannot listen on {host}:{port}: {exc.strerror or exc}", "check HTTP_HOST and HTTP_PORT")
