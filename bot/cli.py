"""Command line: run (default), db, config validate, manifest, incidents, jobs, signals, demo.

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


def cmd_jobs_list(_: argparse.Namespace) -> int:
    from jobs import SCHEDULE

    width = max(len(n) for n in SCHEDULE)
    for name, job in SCHEDULE.items():
        print(f"{name:<{width}}  {job.describe():<22}  {job.description}")
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


def cmd_demo(_: argparse.Namespace) -> int:
    from bot.demo import run_demo

    return asyncio.run(run_demo())


def build_parser() -> argparse.ArgumentParser:
    from bot import __version__
    from domain.core.vocabulary import IncidentStatus

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
    sub.add_parser("demo", help="play a scripted incident against a local Slack emulator").set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args) if hasattr(args, "func") else cmd_run(args)
