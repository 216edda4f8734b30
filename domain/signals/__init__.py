"""Signals: alerts received over HTTP, turned into cases by a worker."""
