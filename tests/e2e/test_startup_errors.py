"""Common operator mistakes: the CLI, run as a subprocess, prints the cause and the fix, exits 2,
shows no traceback and leaves no file behind."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import sys
import weakref
from pathlib import Path

import pytest

from storage.migrate import upgrade_async

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(**values: str) -> dict:
    """This process's environment without warroom settings (the subprocess must not inherit a real one)."""
    names = ("SLACK_", "DATABASE_URL", "WARROOM_CONFIG", "HTTP_", "PORT", "LOG_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(names)}
    env.update(values)
    return env


_LIMITS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def limit() -> asyncio.Semaphore:
    """A few at once (each spends a second or two importing on a 2-core machine); one per test's loop."""
    return _LIMITS.setdefault(asyncio.get_running_loop(), asyncio.Semaphore(3))


async def cli(*args: str, cwd: Path, timeout: float = 120, **env: str) -> tuple[int, str]:
    """Run `python -m bot ARGS` in `cwd` with only `env` as settings; (exit code, stdout + stderr)."""
    async with limit():
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *args, cwd=cwd, env=clean_env(**env),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), timeout)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    return proc.returncode, out.decode()


def assert_clear_failure(code: int, out: str, *expected: str) -> list[str]:
    """Exit 2, no traceback, and (log lines aside) exactly the cause line and its fix line."""
    assert code == 2, out
    assert "Traceback" not in out and "Unclosed" not in out, out
    message = [line for line in out.splitlines() if line.strip() and not LOG_LINE.match(line)]
    assert len(message) == 2 and message[1].startswith("  fix: "), out
    for text in expected:
        assert text in out, out
    return message


def files_in(path: Path) -> set[str]:
    return {p.name for p in path.iterdir()}


def slack_env(slack, **values: str) -> dict:
    env = {"SLACK_BOT_TOKEN": slack.bot_token, "SLACK_APP_TOKEN": slack.app_token, "SLACK_API_URL": slack.api_url,
           "HTTP_HOST": "127.0.0.1", "HTTP_PORT": "0"}
    env.update(values)
    return env


TOKENS = {"SLACK_BOT_TOKEN": "xoxb-1-abc", "SLACK_APP_TOKEN": "xapp-1-abc", "SLACK_API_URL": "http://127.0.0.1:9/api/"}


async def test_database_mistakes_are_named_and_nothing_is_created(tmp_path):
    """Not migrated yet, a directory that does not exist, a closed port: for the bot and operator commands."""
    closed = f"postgresql://postgres@127.0.0.1:{free_port()}/warroom"  # the plain scheme is accepted too
    cases = [
        (("run",), {}, ["warroom cannot start:", "warroom.db does not exist yet", "python -m bot db upgrade"]),
        (("signals", "status"), {}, ["error:", "python -m bot db upgrade"]),
        (("jobs", "run", "resume_incident_setups"), {}, ["error:", "python -m bot db upgrade"]),
        (("run",), {"DATABASE_URL": "sqlite+aiosqlite:///./no/such/dir/w.db"},
         ["directory of the SQLite database", "mkdir -p no/such/dir"]),
        (("db", "upgrade"), {"DATABASE_URL": "sqlite+aiosqlite:///./no/such/dir/w.db"}, ["mkdir -p no/such/dir"]),
        (("run",), {"DATABASE_URL": closed}, ["nothing is listening on 127.0.0.1:", "start PostgreSQL"]),
        (("db", "upgrade"), {"DATABASE_URL": closed}, ["connection refused"]),
    ]
    results = await asyncio.gather(*(cli(*args, cwd=tmp_path, **TOKENS, **env) for args, env, _ in cases))
    for (_, _, expected), (code, out) in zip(cases, results, strict=True):
        assert_clear_failure(code, out, *expected)
    assert files_in(tmp_path) == set(), "no database file and no directory were created"


async def test_a_database_that_was_never_migrated(tmp_path, empty_db_url):
    code, out = await cli("signals", "status", cwd=tmp_path, DATABASE_URL=empty_db_url)
    assert_clear_failure(code, out, "python -m bot db upgrade")


async def test_a_postgres_database_that_does_not_exist(tmp_path, db_backend, migrated_db_url):
    if db_backend != "postgres":
        pytest.skip("needs the PostgreSQL server of WARROOM_TEST_DB=postgres")
    missing = migrated_db_url.rsplit("/", 1)[0] + "/warroom_no_such_db"
    code, out = await cli("run", cwd=tmp_path, **TOKENS, DATABASE_URL=missing)
    assert_clear_failure(code, out, 'database "warroom_no_such_db" does not exist', "createdb", "db upgrade")


async def test_slack_refusing_a_token_or_a_taken_port(tmp_path, slack, db_url):
    await upgrade_async(db_url)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        (bot_code, bot_out), (app_code, app_out), (port_code, port_out) = await asyncio.gather(
            cli(cwd=tmp_path, **slack_env(slack, SLACK_BOT_TOKEN="xoxb-not-the-token", DATABASE_URL=db_url)),
            cli(cwd=tmp_path, **slack_env(slack, SLACK_APP_TOKEN="xapp-not-the-token", DATABASE_URL=db_url)),
            cli(cwd=tmp_path, **slack_env(slack, HTTP_PORT=port, DATABASE_URL=db_url)),
        )
    assert_clear_failure(bot_code, bot_out, "Slack refused SLACK_BOT_TOKEN (invalid_auth)", "OAuth & Permissions")
    assert_clear_failure(app_code, app_out, "Slack refused SLACK_APP_TOKEN (invalid_auth)", "connections:write")
    assert_clear_failure(port_code, port_out, f"HTTP_PORT {port} is already in use", "set HTTP_PORT")
    assert "Retrying" not in app_out
    assert len(slack.calls_to("apps.connections.open")) == 1, "a refused app token is tried once, not retried"
    assert files_in(tmp_path) == set()


async def test_settings_and_config_mistakes(tmp_path):
    (tmp_path / "bad.yaml").write_text("projects: 3\n")
    (code_tok, out_tok), (code_missing, out_missing), (code_bad, out_bad) = await asyncio.gather(
        cli(cwd=tmp_path, **{**TOKENS, "SLACK_BOT_TOKEN": "xoxb-"}),
        cli("manifest", cwd=tmp_path, WARROOM_CONFIG="nope.yaml"),
        cli("manifest", cwd=tmp_path, WARROOM_CONFIG="bad.yaml"),
    )
    assert code_tok == 2 and "SLACK_BOT_TOKEN: must be a bot token: xoxb- followed by" in out_tok, out_tok
    assert_clear_failure(code_missing, out_missing, "WARROOM_CONFIG: nope.yaml: cannot read the file", "unset it")
    assert code_bad == 2 and "bad.yaml has 1 error(s)" in out_bad and "line 1: projects" in out_bad, out_bad
    assert "Traceback" not in out_bad and "fix: correct them" in out_bad
    assert files_in(tmp_path) == {"bad.yaml"}


async def test_manifest_reads_the_config_named_in_dotenv(tmp_path):
    (tmp_path / "warroom.yaml").write_text("commands:\n  report_incident: /acme-report\n")
    (tmp_path / ".env").write_text("WARROOM_CONFIG=warroom.yaml\n")
    code, out = await cli("manifest", cwd=tmp_path)
    assert code == 0 and "command: /acme-report" in out, out


async def test_slack_failing_while_checking_the_bot_token_is_not_called_a_refusal(tmp_path, slack, db_url):
    await upgrade_async(db_url)
    slack.inject("auth.test", status=503, times=3)  # a text body, on the first call and both retries
    code, out = await cli(cwd=tmp_path, **slack_env(slack, DATABASE_URL=db_url))
    assert_clear_failure(code, out, "Slack could not check SLACK_BOT_TOKEN: it answered http_503", "start again")
    assert "refused" not in out
