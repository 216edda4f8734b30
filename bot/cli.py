"""Command line: run (default), db, config validate, manifest, incidents, cases, costs, jobs, signals, demo.

Installed as the `warroom` console script; `python -m bot` is the same.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any


def _settings(cls=None):
    from bot.settings import Settings, SettingsError, load_settings

    try:
        return load_settings(cls or Settings)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None


def operator_errors(prefix: str = "error: "):
    """Print the operator mistakes (`StartupError`, an invalid config file) as cause and fix, exit 2."""

    def decorate(fn):
        @functools.wraps(fn)
        def command(args: argparse.Namespace) -> int:
            from bot.preflight import StartupError
            from domain.config.base import ConfigInvalid

            try:
                return fn(args)
            except StartupError as exc:
                print(f"{prefix}{exc}", file=sys.stderr)
            except ConfigInvalid as exc:
                unreadable = [e for e in exc.errors if e.message.startswith("cannot read the file")]
                if unreadable:
                    print(f"{prefix}WARROOM_CONFIG: {exc.source}: {unreadable[0].message}\n"
                          "  fix: set WARROOM_CONFIG (environment or .env) to an existing file, or unset it for "
                          "the built-in defaults", file=sys.stderr)
                    return 2
                print(f"{prefix}the config file {exc.source} has {len(exc.errors)} error(s):", file=sys.stderr)
                for err in exc.errors:
                    print(f"  {err}", file=sys.stderr)
                print(f"  fix: correct them (python -m bot config validate {exc.source}) or unset WARROOM_CONFIG",
                      file=sys.stderr)
            return 2

        return command

    return decorate


@operator_errors("warroom cannot start: ")
def cmd_run(_: argparse.Namespace) -> int:
    from bot.logging_setup import configure_logging
    from bot.runtime import Runtime

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    runtime = Runtime(settings)
    asyncio.run(runtime.run_forever())
    return 0


@operator_errors()
def cmd_db_upgrade(_: argparse.Namespace) -> int:
    from bot.preflight import check_sqlite_path, database_revision
    from bot.settings import DatabaseSettings
    from storage.migrate import upgrade

    url = _settings(DatabaseSettings).database_url
    check_sqlite_path(url, must_exist=False)
    asyncio.run(database_revision(url))  # reachable, or one clear message
    upgrade(url)
    print("database is at the latest migration")
    return 0


@operator_errors()
def cmd_db_current(_: argparse.Namespace) -> int:
    from bot.preflight import check_sqlite_path, database_revision
    from bot.settings import DatabaseSettings
    from storage.migrate import head_revision

    url = _settings(DatabaseSettings).database_url
    check_sqlite_path(url, must_exist=True)
    current, head = asyncio.run(database_revision(url)), head_revision()
    if current == head:
        print(f"{current} (head): up to date")
    elif current is None:
        print(f"no migration applied (head is {head}): run python -m bot db upgrade")
    else:
        print(f"{current}; head is {head}: run python -m bot db upgrade")
    return 0


@operator_errors()
def cmd_db_downgrade(args: argparse.Namespace) -> int:
    from alembic.script import ScriptDirectory

    from bot.preflight import StartupError, check_sqlite_path, database_revision
    from bot.settings import DatabaseSettings
    from storage.migrate import alembic_config, downgrade

    url = _settings(DatabaseSettings).database_url
    check_sqlite_path(url, must_exist=True)
    asyncio.run(database_revision(url))  # reachable, or one clear message
    script = ScriptDirectory.from_config(alembic_config())
    known = [rev.revision for rev in script.walk_revisions()]
    if args.revision != "base" and args.revision not in known:
        raise StartupError(f"unknown migration {args.revision!r}",
                           f"name one of: base, {', '.join(reversed(known))} (python -m bot db current shows where it is)")
    downgrade(url, args.revision)
    print(f"database downgraded to {args.revision}")
    return 0


def cmd_config_validate(args: argparse.Namespace) -> int:
    from domain.config.loader import load_config, validate_config_file
    from domain.config.rules import config_warnings

    errors = validate_config_file(args.file)
    if not errors:
        print(f"{args.file}: valid")
        config = load_config(args.file)
        for warning in config_warnings(config):
            print(f"  warning: {warning}")
        if config.tickets is not None and not os.environ.get(config.tickets.api_token_env):
            print(f"  warning: tickets: the environment variable {config.tickets.api_token_env} (the Jira API token) "
                  "is not set here; the bot will not start without it")
        if config.ai is not None and not os.environ.get(config.ai.api_key_env):
            print(f"  warning: ai: the environment variable {config.ai.api_key_env} (the AI server's API key) "
                  "is not set here; the bot will not start without it")
        if config.google is not None and not os.environ.get(config.google.credentials_env):
            print(f"  warning: google: the environment variable {config.google.credentials_env} (the service account "
                  "key file) is not set here; the bot will not start without it")
        return 0
    print(f"{args.file}: {len(errors)} error(s)")
    for err in errors:
        print(f"  {err}")
    return 1


@operator_errors()
def cmd_manifest(_: argparse.Namespace) -> int:
    from bot.manifest import manifest_yaml
    from bot.settings import ConfigFileSettings
    from domain.config.loader import load_config

    print(manifest_yaml(load_config(_settings(ConfigFileSettings).warroom_config)), end="")
    return 0


@contextlib.asynccontextmanager
async def operator_session(database_url: str) -> AsyncIterator[Any]:
    """A session on a database checked to exist and be migrated; the engine is disposed after."""
    from bot.preflight import check_database
    from storage.db import create_engine, session_factory

    await check_database(database_url)
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            yield session
    finally:
        await engine.dispose()


@operator_errors()
def cmd_incidents(args: argparse.Namespace) -> int:
    from bot.settings import DatabaseSettings

    return asyncio.run(incidents_command(_settings(DatabaseSettings).database_url, args))


async def incidents_command(database_url: str, args: argparse.Namespace) -> int:
    """`incidents [--status S]... [--limit N] [--json]`: newest first."""
    from sqlalchemy import select
    from sqlalchemy.orm import aliased

    from storage.models import Incident, IncidentPriority, IndividualContact, Project

    commander = aliased(IndividualContact)
    query = (select(Incident, Project.name, IncidentPriority.name, commander.slack_user_id, commander.name)
             .join(Project, Project.id == Incident.project_id)
             .join(IncidentPriority, IncidentPriority.id == Incident.incident_priority_id)
             .outerjoin(commander, commander.id == Incident.commander_id)
             .order_by(Incident.id.desc()).limit(args.limit))
    if args.status:
        query = query.where(Incident.status.in_(args.status))
    async with operator_session(database_url) as session:
        rows = (await session.execute(query)).all()

    def when(value) -> str | None:
        return value.isoformat(timespec="seconds") if value else None

    items = [{"name": i.name, "status": i.status, "title": i.title, "project": project, "priority": priority,
              "visibility": i.visibility, "commander": commander_id, "commander_name": commander_name or None,
              "channel_id": i.channel_id, "channel_name": i.channel_name, "setup_state": i.setup_state,
              "reported_at": when(i.reported_at), "stable_at": when(i.stable_at), "closed_at": when(i.closed_at)}
             for i, project, priority, commander_id, commander_name in rows]
    if args.json:
        print(json.dumps(items, indent=2))
        return 0
    for item in items:
        channel = f"#{item['channel_name']}" if item["channel_name"] else f"(set-up {item['setup_state']})"
        print(f"{item['name']:<8} {item['status']:<7} {item['priority']:<8} {item['reported_at'][:16].replace('T', ' ')}Z  {channel}  "
              f"{item['title']}  [IC {item['commander_name'] or item['commander'] or '-'}]")
    print(f"{len(items)} incident(s)" + (f" with status {', '.join(args.status)}" if args.status else ""))
    return 0


@operator_errors()
def cmd_costs(args: argparse.Namespace) -> int:
    from bot.settings import ConfigFileSettings, DatabaseSettings
    from domain.config.loader import load_config

    currency = load_config(_settings(ConfigFileSettings).warroom_config).costs.currency
    return asyncio.run(costs_command(_settings(DatabaseSettings).database_url, args, currency=currency))


def since_date(text: str):
    """`--since`: a date (YYYY-MM-DD, midnight UTC) or an ISO time; a clear message otherwise."""
    from datetime import UTC, datetime

    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: write it as YYYY-MM-DD (e.g. 2026-11-01)") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


async def costs_command(database_url: str, args: argparse.Namespace, *, currency: str = "$") -> int:
    """`costs [--since DATE] [--format table|csv|json]`: every incident and case with its response cost
    by model and by participant."""
    import csv

    from domain.cost_report import cost_report

    async with operator_session(database_url) as session:
        subjects = await cost_report(session, since=args.since)
    if args.format == "json":
        print(json.dumps([{
            "kind": s.kind, "name": s.name, "title": s.title, "status": s.status,
            "created_at": s.created_at.isoformat(timespec="seconds"), "hours": round(s.hours, 4),
            "amount": round(s.amount, 2),
            "models": [{"model": m.model, "hours": round(m.hours, 4), "amount": round(m.amount, 2), "participants": [
                {"user_id": p.user_id, "name": p.name, "hours": round(p.hours, 4), "amount": round(p.amount, 2),
                 "activities": p.activities} for p in m.participants]} for m in s.models],
        } for s in subjects], indent=2))
        return 0
    if args.format == "csv":
        out = csv.writer(sys.stdout, lineterminator="\n")
        out.writerow(["kind", "name", "title", "status", "created_at", "model", "user_id", "participant", "hours",
                      "amount", "activities"])
        for s in subjects:
            head = [s.kind, s.name, s.title, s.status, s.created_at.isoformat(timespec="seconds")]
            if not s.models:
                out.writerow([*head, "", "", "", "0.0000", "0.00", ""])
            for m in s.models:  # the model's total (user_id empty), then each participant's share
                out.writerow([*head, m.model, "", "", f"{m.hours:.4f}", f"{m.amount:.2f}", ""])
                for p in m.participants:
                    out.writerow([*head, m.model, p.user_id, p.name, f"{p.hours:.4f}", f"{p.amount:.2f}", p.activities])
        return 0
    for s in subjects:
        print(f"{s.name:<9} {s.status:<9} {s.created_at:%Y-%m-%d}  {currency}{s.amount:>12,.2f}  {s.hours:>8.2f} h  "
              f"{s.title}")
        for m in s.models:
            print(f"    {m.model:<16} {currency}{m.amount:>12,.2f}  {m.hours:>8.2f} h")
            for p in m.participants:
                who = f"{p.name} ({p.user_id})" if p.name else p.user_id
                print(f"        {who:<28} {currency}{p.amount:>12,.2f}  {p.hours:>8.2f} h  {p.activities} activities")
    total = sum(s.amount for s in subjects)
    print(f"{len(subjects)} incident(s) and case(s)" + (f" since {args.since:%Y-%m-%d}" if args.since else "")
          + f", response cost {currency}{total:,.2f}")
    return 0


@operator_errors()
def cmd_cases(args: argparse.Namespace) -> int:
    from bot.settings import DatabaseSettings

    return asyncio.run(cases_command(_settings(DatabaseSettings).database_url, args))


def _when(value) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


async def cases_command(database_url: str, args: argparse.Namespace) -> int:
    """`cases [--status S]... [--type T] [--limit N] [--json]`: newest first; `cases CASE-n`: one case in full."""
    from sqlalchemy import func, select

    from storage.case_models import Case

    async with operator_session(database_url) as session:
        if args.name:
            return await _show_case(session, args)
        query = select(Case).order_by(Case.id.desc()).limit(args.limit)
        if args.status:
            query = query.where(Case.status.in_(args.status))
        if args.type:
            query = query.where(func.lower(Case.case_type) == args.type.lower())
        cases = (await session.execute(query)).scalars().all()
    items = [_case_item(c) for c in cases]
    if args.json:
        print(json.dumps(items, indent=2))
        return 0
    for c in items:
        where = f"#{c['channel_name']}" if c["channel_name"] else (c["card_channel_id"] or "(no card yet)")
        print(f"{c['name']:<9} {c['status']:<9} {c['priority']:<8} {c['created_at'][:16].replace('T', ' ')}Z  "
              f"{c['case_type']}  {where}  {c['title']}  [assignee {c['assignee'] or '-'}]"
              + (f"  alerts {c['alert_count']}" if c["alert_count"] else ""))
    filters = [f"status {', '.join(args.status)}" if args.status else "", f"type {args.type}" if args.type else ""]
    shown = " and ".join(f for f in filters if f)
    print(f"{len(items)} case(s)" + (f" with {shown}" if shown else ""))
    return 0


def _case_item(c) -> dict[str, Any]:
    return {"name": c.name, "status": c.status, "title": c.title, "case_type": c.case_type, "priority": c.priority,
            "severity": c.severity, "assignee": c.assignee, "reporter": c.reporter,
            "signal_definition": c.signal_definition, "alert_count": c.alert_count,
            "card_channel_id": c.card_channel_id, "card_ts": c.card_ts, "channel_id": c.channel_id,
            "channel_name": c.channel_name, "created_at": _when(c.created_at), "triage_at": _when(c.triage_at),
            "escalated_at": _when(c.escalated_at), "closed_at": _when(c.closed_at)}


async def _show_case(session, args: argparse.Namespace) -> int:
    from sqlalchemy import func, select

    from storage.case_models import Case, CaseEvent, CaseParticipant
    from storage.models import Incident
    from storage.ticket_models import CaseTicket

    name = args.name.strip().upper()
    case = (await session.execute(select(Case).where(func.upper(Case.name) == name))).scalar_one_or_none()
    if case is None:
        print(f"no case named {args.name} (python -m bot cases lists them)", file=sys.stderr)
        return 1
    item = _case_item(case)
    item["description"], item["resolution_reason"], item["resolution"] = (case.description, case.resolution_reason,
                                                                          case.resolution)
    incident = await session.get(Incident, case.incident_id) if case.incident_id else None
    item["incident"] = incident.name if incident else None
    ticket = (await session.execute(select(CaseTicket).where(CaseTicket.case_id == case.id))).scalar_one_or_none()
    item["ticket"] = ({"key": ticket.key, "url": ticket.url, "error": ticket.error} if ticket is not None else None)
    people = (await session.execute(select(CaseParticipant).where(CaseParticipant.case_id == case.id)
                                    .order_by(CaseParticipant.id))).scalars().all()
    item["participants"] = [{"user": p.user_id, "reason": p.reason} for p in people]
    events = (await session.execute(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                    .order_by(CaseEvent.started_at, CaseEvent.id))).scalars().all()
    item["timeline"] = [{"at": _when(e.started_at), "source": e.source, "description": e.description,
                         "author": e.author} for e in events]
    if args.json:
        print(json.dumps(item, indent=2))
        return 0
    print(f"{item['name']}: {item['title']}")
    for label, key in (("Status", "status"), ("Type", "case_type"), ("Priority", "priority"),
                       ("Severity", "severity"), ("Assignee", "assignee"), ("Reporter", "reporter"),
                       ("Signal", "signal_definition"), ("Alerts", "alert_count"), ("Channel", "channel_name"),
                       ("Card", "card_channel_id"), ("Incident", "incident"), ("Created", "created_at"),
                       ("Closed", "closed_at"), ("Resolution", "resolution_reason")):
        if item[key] not in (None, "", 0):
            print(f"  {label + ':':<11} {item[key]}")
    if item["ticket"]:
        t = item["ticket"]
        shown = f"{t['key']} {t['url']}" if t["key"] else "not created yet"
        print(f"  {'Ticket:':<11} {shown}" + (f" (last error: {t['error'][:200]})" if t["error"] else ""))
    if case.description:
        print("  " + case.description.replace("\n", "\n  "))
    people_shown = [f"{p['user']} ({p['reason']})" if p["reason"] else p["user"] for p in item["participants"]]
    print(f"  participants: {', '.join(people_shown) or 'none'}")
    print("  timeline:")
    for e in item["timeline"]:
        print(f"    {e['at'][:19].replace('T', ' ')}Z  {e['description']}")
    return 0


@operator_errors()
def cmd_jobs_list(_: argparse.Namespace) -> int:
    from bot.settings import ConfigFileSettings
    from domain.config.loader import load_config
    from jobs import SCHEDULE

    config = load_config(_settings(ConfigFileSettings).warroom_config)  # the daily time and zone it sets
    width = max(len(n) for n in SCHEDULE)
    for name, job in SCHEDULE.items():
        print(f"{name:<{width}}  {job.describe(name, config):<22}  {job.description}")
    return 0


@operator_errors()
def cmd_jobs_run(args: argparse.Namespace) -> int:
    from bot.logging_setup import configure_logging
    from jobs import SCHEDULE

    if args.name not in SCHEDULE:
        print(f"unknown job {args.name!r}; known: {', '.join(SCHEDULE)}", file=sys.stderr)
        return 2
    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    return asyncio.run(run_one_job(settings, args.name))


async def run_one_job(settings, name: str) -> int:
    """Run one job now, under the same cross-process lease the scheduler uses."""
    from bot.runtime import Runtime
    from jobs import SCHEDULE
    from jobs.runner import run_job

    runtime = Runtime(settings)
    try:
        await runtime.connect()
        outcome = await run_job(name, SCHEDULE[name].func, runtime.deps)
    finally:
        await runtime.stop()
    print(f"{name}: {outcome}")
    return 0 if outcome == "ran" else 1


@operator_errors()
def cmd_signals(args: argparse.Namespace) -> int:
    from bot.settings import DatabaseSettings

    return asyncio.run(signals_command(_settings(DatabaseSettings).database_url, args))


async def signals_command(database_url: str, args: argparse.Namespace) -> int:
    """`signals status|parked|retry`: what operators need when alerts stop turning into cases."""
    from sqlalchemy import select

    from domain.core.vocabulary import SignalStatus
    from domain.signals.queue import parked_instances, queue_depth, requeue
    from storage.signal_models import SignalInstance

    async with operator_session(database_url) as session:
        if args.signals_command == "status":
            depth = await queue_depth(session)
            age = depth["oldest_pending_seconds"]
            oldest = f" (oldest {age:g} s)" if age is not None else ""
            print(f"pending {depth['pending']}{oldest}, parked {depth['parked']}")
        elif args.signals_command == "parked":
            rows = await parked_instances(session, args.limit)
            for row in rows:
                print(f"{row.id}  {row.received_at:%Y-%m-%d %H:%M:%S}  {row.definition or '(no definition)'}  "
                      f"attempts {row.attempts}: {row.last_error or '(no error recorded)'}")
            print(f"{len(rows)} parked signal(s) shown")
        else:
            if not args.ids and not args.all:
                print("name the signal ids to retry, or --all", file=sys.stderr)
                return 2
            problems = []
            if not args.all:
                found = dict((await session.execute(
                    select(SignalInstance.id, SignalInstance.status).where(SignalInstance.id.in_(args.ids)))).all())
                problems = [f"{i}: no such signal" if i not in found else f"{i}: not parked ({found[i]})"
                            for i in dict.fromkeys(args.ids) if found.get(i) != SignalStatus.PARKED]
            count = await requeue(session, None if args.all else args.ids)
            print(f"{count} signal(s) queued again")
            if problems:
                print("not queued again:\n" + "\n".join(f"  {p}" for p in problems), file=sys.stderr)
                return 1
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    return asyncio.run(run_demo(pagerduty=args.pagerduty))


def build_parser() -> argparse.ArgumentParser:
    from bot import __version__
    from domain.core.vocabulary import CaseStatus, IncidentStatus

    prog = "warroom" if Path(sys.argv[0]).name == "warroom" else "python -m bot"
    parser = argparse.ArgumentParser(prog=prog, description="warroom: incident management in Slack. "
                                     "Settings come from the environment or .env (see README).")
    parser.add_argument("--version", action="version", version=f"warroom {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("run", help="run the bot (default)").set_defaults(func=cmd_run)

    db = sub.add_parser("db", help="database migrations").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="apply every pending migration (creates an SQLite file)").set_defaults(
        func=cmd_db_upgrade)
    db.add_parser("current", help="show the database's migration and whether it is the latest").set_defaults(
        func=cmd_db_current)
    down = db.add_parser("downgrade", help="undo migrations down to REV (drops what later ones added)")
    down.add_argument("revision", metavar="REV", help="migration to go back to (an id from `db current`, or base)")
    down.set_defaults(func=cmd_db_downgrade)

    config = sub.add_parser("config", help="config file operations").add_subparsers(dest="config_command", required=True)
    validate = config.add_parser("validate", help="report every error in a config file")
    validate.add_argument("file", help="the YAML config file to check")
    validate.set_defaults(func=cmd_config_validate)
    sub.add_parser("manifest", help="print the Slack app manifest (follows WARROOM_CONFIG)").set_defaults(
        func=cmd_manifest)

    incidents = sub.add_parser("incidents", help="list incidents, newest first")
    incidents.add_argument("--status", action="append", choices=[str(s) for s in IncidentStatus],
                           help="only incidents with this status (repeat for several)")
    incidents.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    incidents.add_argument("--json", action="store_true", help="print a JSON array instead of lines")
    incidents.set_defaults(func=cmd_incidents)

    costs = sub.add_parser("costs", help="every incident and case with its response cost, by model and participant")
    costs.add_argument("--since", type=since_date, metavar="DATE",
                       help="only those created on or after DATE (YYYY-MM-DD, UTC)")
    costs.add_argument("--format", choices=["table", "csv", "json"], default="table",
                       help="table (default), csv (one row per model and per participant) or json")
    costs.set_defaults(func=cmd_costs)
    cases = sub.add_parser("cases", help="list cases, newest first, or show one (cases CASE-n)")
    cases.add_argument("name", nargs="?", metavar="CASE-n", help="show this case in full (fields, people, timeline)")
    cases.add_argument("--status", action="append", choices=[str(s) for s in CaseStatus],
                       help="only cases with this status (repeat for several)")
    cases.add_argument("--type", help="only cases of this case type (ignoring case)")
    cases.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    cases.add_argument("--json", action="store_true", help="print JSON instead of lines")
    cases.set_defaults(func=cmd_cases)

    jobs = sub.add_parser("jobs", help="scheduled jobs").add_subparsers(dest="jobs_command", required=True)
    jobs.add_parser("list", help="show every job and its schedule").set_defaults(func=cmd_jobs_list)
    run_job = jobs.add_parser("run", help="run one job now (same cross-process lock as the scheduler)")
    run_job.add_argument("name", help="job name, as `jobs list` shows it")
    run_job.set_defaults(func=cmd_jobs_run)

    signals = sub.add_parser("signals", help="the signal queue").add_subparsers(dest="signals_command", required=True)
    signals.add_parser("status", help="pending (and the oldest's age) and parked counts").set_defaults(
        func=cmd_signals)
    parked = signals.add_parser("parked", help="list parked signals with their last error")
    parked.add_argument("--limit", type=int, default=50, help="at most this many, newest first (default 50)")
    parked.set_defaults(func=cmd_signals)
    retry = signals.add_parser("retry", help="queue parked signals again (attempts reset)")
    retry.add_argument("ids", nargs="*", metavar="ID", help="ids of parked signals, as `signals parked` shows them")
    retry.add_argument("--all", action="store_true", help="every parked signal")
    retry.set_defaults(func=cmd_signals)
    demo = sub.add_parser("demo", help="play a scripted incident against a local Slack emulator")
    demo.add_argument("--pagerduty", action="store_true", help="also page through a local PagerDuty emulator")
    demo.set_defaults(func=cmd_demo)
    _name_choices(parser)
    return parser


def _name_choices(parser: argparse.ArgumentParser) -> None:
    """Sub-command groups show their choices in errors (`required: {upgrade,current,downgrade}`), not their
    internal `dest` such as `db_command`."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            if action.metavar is None:
                action.metavar = "{" + ",".join(action.choices) + "}"
            for sub in action.choices.values():
                _name_choices(sub)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args) if hasattr(args, "func") else cmd_run(args)
