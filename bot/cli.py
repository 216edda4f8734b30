"""Command line: run (default), db upgrade, config validate, manifest, jobs, signals, demo."""

from __future__ import annotations

import argparse
import asyncio
import functools
import sys


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


def cmd_config_validate(args: argparse.Namespace) -> int:
    from domain.config.loader import load_config, validate_config_file
    from domain.config.rules import config_warnings

    errors = validate_config_file(args.file)
    if not errors:
        print(f"{args.file}: valid")
        for warning in config_warnings(load_config(args.file)):
            print(f"  warning: {warning}")
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
    from bot.preflight import check_database
    from domain.signals.queue import parked_instances, queue_depth, requeue
    from storage.db import create_engine, session_factory

    await check_database(database_url)
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            if args.signals_command == "status":
                depth = await queue_depth(session)
                print(f"pending {depth['pending']} (oldest {depth['oldest_pending_seconds']} s), parked {depth['parked']}")
            elif args.signals_command == "parked":
                rows = await parked_instances(session, args.limit)
                for row in rows:
                    print(f"{row.id}  {row.received_at:%Y-%m-%d %H:%M:%S}  {row.definition}  attempts {row.attempts}: {row.last_error}")
                print(f"{len(rows)} parked signal(s) shown")
            else:
                if not args.ids and not args.all:
                    print("name the signal ids to retry, or --all", file=sys.stderr)
                    return 2
                count = await requeue(session, None if args.all else args.ids)
                print(f"{count} signal(s) queued again")
    finally:
        await engine.dispose()
    return 0


def cmd_demo(_: argparse.Namespace) -> int:
    from bot.demo import run_demo

    return asyncio.run(run_demo())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="warroom: incident management in Slack")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (default)").set_defaults(func=cmd_run)
    db = sub.add_parser("db", help="database operations").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="apply every pending migration").set_defaults(func=cmd_db_upgrade)
    config = sub.add_parser("config", help="config file operations").add_subparsers(dest="config_command", required=True)
    validate = config.add_parser("validate", help="report every error in a config file")
    validate.add_argument("file")
    validate.set_defaults(func=cmd_config_validate)
    sub.add_parser("manifest", help="print the Slack app manifest").set_defaults(func=cmd_manifest)
    jobs = sub.add_parser("jobs", help="scheduled jobs").add_subparsers(dest="jobs_command", required=True)
    jobs.add_parser("list", help="show every job and its schedule").set_defaults(func=cmd_jobs_list)
    run_job = jobs.add_parser("run", help="run one job now")
    run_job.add_argument("name")
    run_job.set_defaults(func=cmd_jobs_run)
    signals = sub.add_parser("signals", help="the signal queue").add_subparsers(dest="signals_command", required=True)
    signals.add_parser("status", help="pending and parked counts").set_defaults(func=cmd_signals)
    parked = signals.add_parser("parked", help="list parked signals with their last error")
    parked.add_argument("--limit", type=int, default=50)
    parked.set_defaults(func=cmd_signals)
    retry = signals.add_parser("retry", help="queue parked signals again")
    retry.add_argument("ids", nargs="*")
    retry.add_argument("--all", action="store_true")
    retry.set_defaults(func=cmd_signals)
    sub.add_parser("demo", help="play a scripted incident against a local Slack emulator").set_defaults(func=cmd_demo)
    args = parser.parse_args(argv)
    return args.func(args) if hasattr(args, "func") else cmd_run(args)
