"""Prometheus metrics of one warroom process (`GET /metrics`), in a registry of its own.

- acks and their latency by listener (a Bolt middleware times each request until its `ack()`);
- Slack Web API calls by method and outcome, each HTTP attempt counted (a 429 that is retried is
  one `rate_limited` call, the retry another), observed by a retry handler that never retries;
- job runs by outcome (APScheduler events);
- incidents by status, unfinished channel set-ups, and the signal queue, read from the database
  when scraped.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from sqlalchemy import func, select

from domain.core.vocabulary import IncidentStatus, SetupState
from domain.signals.queue import queue_depth
from handlers.registry import WrappedAck
from storage.models import Incident

if TYPE_CHECKING:
    from handlers.registry import Registry

log = logging.getLogger(__name__)
disable_created_metrics()  # no `*_created` series: process start time says the same
CONTENT_TYPE = CONTENT_TYPE_LATEST
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 3.0, 5.0)


class Metrics:
    """Every metric warroom exports, registered in `self.registry` (one per runtime)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.ack_latency = Histogram(
            "warroom_ack_latency_seconds", "Time from receiving a Slack request to acknowledging it, by listener",
            ["listener"], buckets=ACK_BUCKETS, registry=r)
        self.slack_calls = Counter(
            "warroom_slack_api_calls", "Slack Web API HTTP attempts by method and outcome "
            "(ok, a Slack error code, rate_limited, http_<status>, connection_error)", ["method", "outcome"], registry=r)
        self.job_runs = Counter("warroom_job_runs", "Scheduled job runs by outcome (ran, skipped, failed)",
                                ["job", "outcome"], registry=r)
        self.incidents = Gauge("warroom_incidents", "Incidents by status", ["status"], registry=r)
        self.setups = Gauge("warroom_incident_setups_unfinished",
                            "Incidents whose channel set-up is not finished: pending (in progress or queued) or "
                            "failed (last attempt failed; the resume job retries)", ["state"], registry=r)
        self.signal_queue = Gauge("warroom_signal_queue_depth", "Stored alert signals waiting (pending) or given up "
                                  "on (parked)", ["status"], registry=r)
        self.signal_age = Gauge("warroom_signal_queue_oldest_pending_seconds",
                                "Age of the oldest pending signal (0 when none)", registry=r)

    # ------------------------------------------------------------------ exposition
    async def render(self, sessions: Any | None) -> bytes:
        """The text exposition, database gauges refreshed first (skipped if the database fails)."""
        if sessions is not None:
            try:
                await self.refresh_from_database(sessions)
            except Exception as exc:  # a scrape must still answer with the process metrics
                log.warning("metrics: database gauges not refreshed: %s", exc)
        return generate_latest(self.registry)

    async def refresh_from_database(self, sessions: Any) -> None:
        async with sessions() as session:
            by_status = (await session.execute(select(Incident.status, func.count()).group_by(Incident.status))).all()
            has_error = Incident.setup_error.is_not(None)
            setups = (await session.execute(
                select(Incident.setup_state, has_error, func.count()).where(Incident.setup_state != SetupState.READY)
                .group_by(Incident.setup_state, has_error))).all()
            depth = await queue_depth(session)
        counts = dict.fromkeys(IncidentStatus, 0) | dict(by_status)
        self.incidents.clear()
        for status, count in counts.items():
            self.incidents.labels(status).set(count)
        failed = sum(count for state, errored, count in setups if state == SetupState.FAILED or errored)
        self.setups.labels("pending").set(sum(count for *_, count in setups) - failed)
        self.setups.labels("failed").set(failed)
        self.signal_queue.labels("pending").set(depth["pending"])
        self.signal_queue.labels("parked").set(depth["parked"])
        self.signal_age.set(depth["oldest_pending_seconds"] or 0)

    # ------------------------------------------------------------------ hooks
    def slack_observer(self) -> AsyncRetryHandler:
        """A retry handler, placed first, that counts every attempt and never asks for a retry."""
        return _SlackCallObserver(self.slack_calls)

    def job_listener(self, event: Any) -> None:
        """APScheduler listener (EVENT_JOB_EXECUTED | EVENT_JOB_ERROR): `run_job` returns its outcome."""
        outcome = "failed" if getattr(event, "exception", None) else str(getattr(event, "retval", None) or "ran")
        self.job_runs.labels(event.job_id, outcome).inc()

    def ack_middleware(self, registry: Registry):
        """Bolt global middleware timing each request from here to its `ack()`, labelled by listener."""
        labels = _ListenerLabels(registry)

        async def time_ack(req, next_):
            ack = req.context.get("ack")
            if ack is not None:
                req.context["ack"] = _TimedAck(ack, labels.of(req.body), self.ack_latency, time.perf_counter())
            return await next_()

        return time_ack


class _TimedAck(WrappedAck):
    """Bolt's `ack`, observing the latency of its first call."""

    def __init__(self, inner: AsyncAck, label: str, histogram: Histogram, started: float) -> None:
        self._inner, self._label, self._histogram, self._started = inner, label, histogram, started
        self._timed = False

    async def __call__(self, *args: Any, **kwargs: Any):
        result = await self._inner(*args, **kwargs)
        if not self._timed:
            self._timed = True
            self._histogram.labels(self._label).observe(time.perf_counter() - self._started)
        return result


class _ListenerLabels:
    """A bounded label per request: the command, shortcut, view callback, action or event its listener
    was registered for (actions registered by pattern, such as a task's resolve_<id>, share one)."""

    def __init__(self, registry: Registry) -> None:
        self.commands = {c.command for c in registry.commands}
        self.shortcuts = {s.callback_id for s in registry.shortcuts}
        self.events = set(registry.events)
        self.views = {i.removeprefix("view:") for i in registry.interactions if i.startswith("view:")}
        self.actions = [i.removeprefix("action:") for i in registry.interactions if i.startswith("action:")]

    def _action(self, action_id: str) -> str:
        if action_id in self.actions:
            return action_id
        for pattern in self.actions:
            try:
                if re.fullmatch(pattern, action_id):
                    return pattern.removeprefix("^").removesuffix("$")
            except re.error:
                continue
        return "other"

    def of(self, body: dict) -> str:
        if body.get("command"):
            return f"command:{body['command'] if body['command'] in self.commands else 'other'}"
        kind = body.get("type")
        if kind in ("view_submission", "view_closed"):
            callback = (body.get("view") or {}).get("callback_id", "")
            return f"view:{callback if callback in self.views else 'other'}"
        if kind == "block_actions":
            actions = body.get("actions") or [{}]
            return f"action:{self._action(actions[0].get('action_id', ''))}"
        if kind in ("shortcut", "message_action"):
            callback = body.get("callback_id", "")
            return f"shortcut:{callback if callback in self.shortcuts else 'other'}"
        if kind == "event_callback":
            event = (body.get("event") or {}).get("type", "")
            return f"event:{event if event in self.events else 'other'}"
        if kind == "block_suggestion":
            return "options"
        return "other"


_METHOD = re.compile(r"/api/([A-Za-z0-9_.]+)")


class _SlackCallObserver(AsyncRetryHandler):
    """Sees every response (and connection error) of the client before the real retry handlers."""

    def __init__(self, counter: Counter) -> None:
        super().__init__(max_retry_count=0)
        self._counter = counter

    async def _can_retry_async(self, *, state: RetryState, request: HttpRequest,
                               response: HttpResponse | None = None, error: Exception | None = None) -> bool:
        match = _METHOD.search(request.url)
        method = match[1] if match else "other"
        if error is not None and response is None:
            outcome = "connection_error"
        elif response is None:
            outcome = "unknown"
        elif response.status_code == 429:
            outcome = "rate_limited"
        elif response.status_code != 200:
            outcome = f"http_{response.status_code}"
        else:
            body = response.body if isinstance(response.body, dict) else {}
            outcome = "ok" if body.get("ok") else str(body.get("error") or "not_ok")
        self._counter.labels(method, outcome).inc()
        return False

    async def can_retry_async(self, *, state: RetryState, request: HttpRequest,
                              response: HttpResponse | None = None, error: Exception | None = None) -> bool:
        return await self._can_retry_async(state=state, request=request, response=response, error=error)


def add_metrics_route(app: web.Application, metrics: Metrics, sessions: Callable[[], Any | None]) -> None:
    """`GET /metrics` on the HTTP server; `sessions()` gives the session factory (None: no database yet)."""

    async def scrape(_: web.Request) -> web.Response:
        body = await metrics.render(sessions())
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    app.router.add_get("/metrics", scrape)
