"""Operator commands: incidents, db current/downgrade, signals output, --version, help text."""

from __future__ import annotations

import argparse
import json

import pytest

from bot import __version__
from bot.cli import build_parser, incidents_command, main, signals_command
from storage.migrate import head_revision
from tests.e2e.incident_helpers import report


def subparsers(parser: argparse.ArgumentParser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield name, sub
                yield from ((f"{name} {n}", s) for n, s in subparsers(sub))


def test_every_command_and_argument_has_help():
    parser = build_parser()
    described = {a.dest: a.help for a in parser._actions if isinstance(a, argparse._SubParsersAction)}
    assert described
    for name, sub in [("", parser), *subparsers(parser)]:
        for action in sub._actions:
            if isinstance(action, argparse._SubParsersAction):
                assert all(choice.help for choice in action._choices_actions), f"{name}: a sub-command without help"
            else:
                assert action.help, f"`{name}` argument {action.dest} has no help text"


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"warroom {__version__}"


async def test_incidents_lists_and_filters(slack, people, warroom, db_url, capsys):
    incident = await report(slack, warroom, people.alice, people.general, title="Checkout down")
    capsys.readouterr()
    assert await incidents_command(db_url, argparse.Namespace(status=["Active"], limit=50, json=True)) == 0
    [item] = json.loads(capsys.readouterr().out)
    assert item["name"] == incident.name and item["status"] == "Active" and item["title"] == "Checkout down"
    assert item["commander"] == people.alice and item["channel_name"].startswith("inc-")
    assert item["reported_at"].endswith("+00:00")
    assert await incidents_command(db_url, argparse.Namespace(status=None, limit=50, json=False)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == [incident.name, "Active", "Low"] and "Checkout down" in lines[0] and "[IC Alice Ops]" in lines[0]
    assert lines[-1] == "1 incident(s)"
    assert await incidents_command(db_url, argparse.Namespace(status=["Closed"], limit=50, json=False)) == 0
    assert capsys.readouterr().out.strip() == "0 incident(s) with status Closed"


async def test_signals_status_and_retry_of_unknown_ids(db_url, capsys):
    ns = argparse.Namespace
    assert await signals_command(db_url, ns(signals_command="status")) == 0
    out = capsys.readouterr().out
    assert out.strip() == "pending 0, parked 0" and "None" not in out
    assert await signals_command(db_url, ns(signals_command="retry", ids=["no-such-id"], all=False)) == 1
    captured = capsys.readouterr()
    assert "0 signal(s) queued again" in captured.out and "no-such-id: no such signal" in captured.err


def test_db_current_and_downgrade(empty_db_url, monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    monkeypatch.setenv("DATABASE_URL", empty_db_url)
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "current"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith("(head): up to date")
    assert main(["db", "downgrade", "0008_feedback"]) == 0
    assert main(["db", "current"]) == 0
    out = capsys.readouterr().out
    assert "database downgraded to 0008_feedback" in out and f"0008_feedback; head is {head_revision()}" in out
    assert main(["db", "downgrade", "nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown migration 'nope'" in err and "0008_feedback" in err
    assert main(["db", "upgrade"]) == 0
