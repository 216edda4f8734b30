"""The bot process: health endpoint, start-up errors, clean shutdown on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sys

import aiohttp

from storage.migrate import upgrade_async


async def test_healthz_reports_database_and_socket(warroom):
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{warroom.http_port}/healthz") as resp:
        assert resp.status == 200
        assert await resp.json() == {"ok": True, "database": "ok", "socket": "connected",
                                     "signals": {"pending": 0, "parked": 0, "oldest_pending_seconds": None}}


async def test_healthz_is_503_when_the_socket_is_down(slack, warroom):
    await warroom.socket.client.close()
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{warroom.http_port}/healthz") as resp:
        assert resp.status == 503
        assert (await resp.json())["socket"] == "disconnected"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _run(*args: str, env: dict) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 90)
    return proc.returncode, out.decode()


def _clean_env(**values: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL", "WARROOM_CONFIG"))}
    env.update(values)
    return env


async def test_missing_settings_stop_startup_with_one_clear_message(tmp_path):
    code, out = await _run(env=_clean_env(HTTP_PORT="nope", PWD=str(tmp_path)))
    assert code == 2
    assert "SLACK_BOT_TOKEN: is required" in out and "SLACK_APP_TOKEN: is required" in out and "HTTP_PORT" in out
    assert "Traceback" not in out


async def test_process_runs_and_stops_cleanly_on_sigterm(slack, people, db_url):
    await upgrade_async(db_url)
    port = _free_port()
    env = _clean_env(
        SLACK_BOT_TOKEN=slack.bot_token,
        SLACK_APP_TOKEN=slack.app_token,
        SLACK_API_URL=slack.api_url,
        DATABASE_URL=db_url,
        HTTP_HOST="127.0.0.1",
        HTTP_PORT=str(port),
        LOG_FORMAT="json",
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        healthy = False
        async with aiohttp.ClientSession() as http:
            for _ in range(300):  # a loaded 2-core machine may take seconds just to import
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                        if resp.status == 200:
                            healthy = True
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        assert healthy, "the bot never reported healthy"
        proc.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(proc.communicate(), 10)
    finally:
        if proc.returncode is None:
            proc.kill()
    assert proc.returncode == 0
    log = out.decode()
    assert "shutting down" in log
    start = next(json.loads(line) for line in log.splitlines() if "starting" in line)
    assert re.fullmatch(r"warroom \S+ starting: database \S+, config built-in defaults, commands /dispatch-\*",
                        start["msg"]), start
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", start["ts"])
    assert slack.bot_token not in log and slack.app_token not in log
    # SLACK_BOT_TOKEN in the environment made Bolt warn "As you gave `client` as well, `token` will be unused."
    warnings = [line for line in log.splitlines() if json.loads(line)["level"] in ("WARNING", "ERROR")]
    assert warnings == []


async def test_jobs_list_and_run_from_the_command_line(slack, people, db_url):
    await upgrade_async(db_url)
    code, out = await _run("jobs", "list", env=_clean_env())
    assert code == 0 and "resume_incident_setups  interval seconds=20" in out
    env = _clean_env(
        SLACK_BOT_TOKEN=slack.bot_token, SLACK_APP_TOKEN=slack.app_token, SLACK_API_URL=slack.api_url,
        DATABASE_URL=db_url,
    )
    code, out = await _run("jobs", "run", "resume_incident_setups", env=env)
    assert code == 0 and "resume_incident_setups: ran" in out
    code, out = await _run("jobs", "run", "no_such_job", env=env)
    assert code == 2 and "known: resume_incident_setups" in out


async def _imports_of_a_started_bot(env: dict) -> set[str]:
    """Start `python -X importtime -m bot` until healthy, stop it; the top-level packages it imported."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-X", "importtime", "-m", "bot", env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                try:
                    async with http.get(f"http://127.0.0.1:{env['HTTP_PORT']}/healthz") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("the bot never reported healthy")
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 10)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err.decode()[-2000:]
    return {line.rsplit("|", 1)[1].strip().split(".")[0]
            for line in err.decode().splitlines() if line.startswith("import time:") and "|" in line}


async def test_start_up_does_not_import_the_libraries_of_integrations_that_are_not_configured(
        tmp_path, slack, people, db_url):
    """Start-up time and idle memory: openai, the Google client, jira and alembic (with mako and pygments) took
    about a second and 45 MB to import at every start, configured or not."""
    await upgrade_async(db_url)
    unused = {"openai", "googleapiclient", "google", "httplib2", "jira", "requests", "aiosmtplib", "alembic",
              "mako", "pygments"}
    base = dict(SLACK_BOT_TOKEN=slack.bot_token, SLACK_APP_TOKEN=slack.app_token, SLACK_API_URL=slack.api_url,
                DATABASE_URL=db_url, HTTP_HOST="127.0.0.1")
    plain = await _imports_of_a_started_bot(_clean_env(**base, HTTP_PORT=str(_free_port())))
    assert plain & unused == set()
    config = tmp_path / "warroom.yaml"
    config.write_text("ai:\n  base_url: http://127.0.0.1:9/v1\n  api_key_env: WARROOM_TEST_AI_KEY\n")
    with_ai = await _imports_of_a_started_bot(_clean_env(**base, HTTP_PORT=str(_free_port()), WARROOM_CONFIG=str(config),
                                                         WARROOM_TEST_AI_KEY="k"))
    assert "openai" in with_ai and with_ai & (unused - {"openai"}) == set()
