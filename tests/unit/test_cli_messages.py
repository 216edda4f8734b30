"""CLI output an operator reads: argparse errors name the choices, not internal names; `jobs list` shows the
daily time and zone the config sets."""

import os
import subprocess
import sys

import pytest


def _run(*args: str, cwd, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL", "WARROOM_CONFIG"))}
    return subprocess.run([sys.executable, "-m", "bot", *args], env={**clean, **env}, cwd=cwd, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize(("group", "choices"), [("db", "{upgrade,current,downgrade}"), ("config", "{validate}"),
                                                ("jobs", "{list,run}"), ("signals", "{status,parked,retry}")])
def test_a_missing_sub_command_names_the_choices(tmp_path, group, choices):
    out = _run(group, cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.splitlines()[-1] == f"python -m bot {group}: error: the following arguments are required: {choices}"
    assert "_command" not in out.stderr


def test_jobs_list_shows_the_configured_daily_time_and_zone(tmp_path):
    (tmp_path / "warroom.yaml").write_text("daily_jobs: {hour: 7, minute: 30, timezone: Europe/Paris}\n"
                                           "costs: {polling_minutes: 10}\n")
    out = _run("jobs", "list", cwd=tmp_path, WARROOM_CONFIG=str(tmp_path / "warroom.yaml"))
    assert out.returncode == 0, out.stderr
    lines = {line.split()[0]: line for line in out.stdout.splitlines()}
    assert "daily at 07:30 Europe/Paris" in lines["daily_summary"] and "daily at 07:30 Europe/Paris" in lines["feedback_digest"]
    assert "interval minutes=10" in lines["cost_polling"]
    out = _run("jobs", "list", cwd=tmp_path)
    assert "daily at 09:00 UTC" in out.stdout
    out = _run("jobs", "list", cwd=tmp_path, WARROOM_CONFIG=str(tmp_path / "missing.yaml"))
    assert out.returncode == 2 and "Traceback" not in out.stderr and "WARROOM_CONFIG" in out.stderr
