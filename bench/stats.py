"""Figures shared by the benchmarks."""


def pct(values: list[float], q: float) -> float:
    """The `q` quantile of `values` (seconds), in milliseconds (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000
