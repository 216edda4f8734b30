"""Signals: alerts posted by other systems, stored, then turned into cases."""
