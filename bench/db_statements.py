"""Database statements a bench run sends, by kind (verb and table) or, with BENCH_STATEMENT_SITES=1, by the
warroom function that sent them; and the connections it checked out of the pools."""

from __future__ import annotations

import os
import re
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import greenlet
from sqlalchemy import event

SITES = bool(os.environ.get("BENCH_STATEMENT_SITES"))  # name warroom's function that sent each statement
OWN = tuple(f"{os.sep}{d}{os.sep}" for d in ("domain", "handlers", "storage", "jobs", "bot"))


def _site() -> str:
    """The innermost warroom function that sent the statement. SQLAlchemy runs it in a greenlet, whose
    parent (the event loop's) holds the awaiting coroutines' frames."""
    here = greenlet.getcurrent()
    frame, root = (here.parent.gr_frame if here.parent else None) or sys._getframe(2), str(Path(__file__).parents[1])
    while frame is not None:
        path = frame.f_code.co_filename
        if path.startswith(root) and any(d in path for d in OWN) and not path.endswith(("db.py", "rows.py")):
            return f"{Path(path).stem}.{frame.f_code.co_name}"
        frame = frame.f_back
    return "?"


@contextmanager
def counted_statements(engines: list) -> Iterator[Counter[str]]:
    """Statements sent to the database while inside, by kind (verb and table, `COMMIT` and `BEGIN` included),
    and connections checked out of the pools."""
    seen: Counter[str] = Counter()

    def statement(conn, cursor, text, parameters, context, executemany) -> None:
        words = re.sub(r"\s+", " ", text.strip()).split(" ")
        verb = words[0].upper()
        table = next((w for w in words[1:] if w.upper() not in {"INTO", "FROM", "DISTINCT", "OR", "IGNORE"}
                      and not w.startswith(("(", "*"))), "") if verb in {"INSERT", "UPDATE", "DELETE"} else ""
        if verb == "SELECT":
            found = re.search(r"\bFROM (\w+)", text)
            table = found.group(1) if found else ""
        seen[f"{verb} {table}".strip() + (f" <{_site()}>" if SITES else "")] += 1

    def ended(conn) -> None:
        seen["COMMIT"] += 1

    def checkout(dbapi_conn, record, proxy) -> None:
        seen["(connection checkout)"] += 1

    listeners = [("before_cursor_execute", statement), ("commit", ended), ("checkout", checkout)]
    for engine in engines:
        for name, fn in listeners:
            event.listen(engine.sync_engine, name, fn)
    try:
        yield seen
    finally:
        for engine in engines:
            for name, fn in listeners:
                event.remove(engine.sync_engine, name, fn)


def describe(seen: Counter[str], per: int, unit: str) -> str:
    """One line: checkouts and statements per `unit` (`per` of them), the commonest kinds first."""
    counts = Counter(seen)
    checkouts = counts.pop("(connection checkout)", 0)
    return (f"per {unit}: {checkouts / per:.2f} connection checkouts, {sum(counts.values()) / per:.2f} statements: "
            + ", ".join(f"{kind} {n / per:.2f}" for kind, n in counts.most_common(80 if SITES else 25)))
