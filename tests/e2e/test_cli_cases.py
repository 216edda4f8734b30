"""`python -m bot cases`: the operator's view of cases from the shell (list, filter, JSON, one in full)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from bot.cli import cases_command
from tests.e2e.test_cases import open_case, world  # noqa: F401  (the fixture)


def ns(**values) -> argparse.Namespace:
    return argparse.Namespace(**{"name": None, "status": None, "type": None, "limit": 50, "json": False, **values})


async def test_cases_lists_filters_and_shows_one(world, db_url, capsys):  # noqa: F811
    w = world
    await open_case(w, title="Odd logins from TOR")
    await open_case(w, title="Disk filling on db-1", case_type="Reliability triage")
    capsys.readouterr()

    assert await cases_command(db_url, ns()) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == "2 case(s)"
    assert lines[0].split()[:3] == ["CASE-2", "New", "Medium"] and "Disk filling on db-1" in lines[0]
    assert "Reliability triage" in lines[0] and "[assignee U" in lines[0]
    assert "Odd logins from TOR" in lines[1] and f"[assignee {w.carol}]" in lines[1]

    assert await cases_command(db_url, ns(type="security TRIAGE", json=True)) == 0
    [item] = json.loads(capsys.readouterr().out)
    assert item["name"] == "CASE-1" and item["case_type"] == "Security triage" and item["assignee"] == w.carol
    assert item["card_channel_id"] == w.security and item["created_at"].endswith("+00:00")

    assert await cases_command(db_url, ns(status=["Closed"])) == 0
    assert capsys.readouterr().out.strip() == "0 case(s) with status Closed"

    assert await cases_command(db_url, ns(name="case-1")) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "CASE-1: Odd logins from TOR"
    assert "  Status:     New" in out and f"  Assignee:   {w.carol}" in out
    assert "Three accounts, one exit node" in out and "  timeline:" in out
    assert f"participants: {w.carol}" in out or w.carol in out.split("participants:")[1]

    assert await cases_command(db_url, ns(name="CASE-1", json=True)) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["description"] == "Three accounts, one exit node" and shown["timeline"]
    assert {p["user"] for p in shown["participants"]} >= {w.carol}


def test_unknown_case_and_unmigrated_database_say_so_in_one_line(db_url, empty_db_url, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL", "WARROOM_CONFIG"))}

    def run(url: str, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bot", "cases", *args], env={**env, "DATABASE_URL": url},
                              cwd=tmp_path, capture_output=True, text=True, timeout=60)

    out = run(db_url, "CASE-404")
    assert out.returncode == 1 and out.stderr.strip() == "no case named CASE-404 (python -m bot cases lists them)"
    out = run(db_url, "--status", "New")
    assert out.returncode == 0 and out.stdout.strip() == "0 case(s) with status New"
    out = run(empty_db_url)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) <= 2 and "python -m bot db upgrade" in out.stderr
