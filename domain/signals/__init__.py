"""Signals: alerts received over HTTP, stored at once, then turned into cases by a worker."""
