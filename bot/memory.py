"""The garbage collector, tuned for a long-running process once it has started."""

from __future__ import annotations

import gc

# Objects allocated (net) before a young collection; CPython's default is 700. Requests, batches and set-ups
# allocate tens of thousands of short-lived objects, so the default collects every few milliseconds.
YOUNG_THRESHOLD = 10_000


def settle_after_start() -> None:
    """Put what start-up built (modules, mappers, the config, the app) where the cyclic collector no longer
    scans it, and collect the young generation less often. Full collections then walk only what the work
    since has left, instead of every object of the process: with the defaults they held the event loop for
    ≈ 120 ms at a time under load (`BENCH_GC=1 bench/signals.py`)."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
