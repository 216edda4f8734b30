"""The render registry, alone: `render(notice)` gives (fallback text, Block Kit blocks).

Renderer modules register on it (`@render.register`); modals/renderers.py imports them all,
so adapters render with `from modals.renderers import render`. Nothing here imports a renderer.
"""

from __future__ import annotations

from functools import singledispatch
from typing import Any

from domain.core.notices import Notice

Rendered = tuple[str, list[dict[str, Any]]]  # (fallback text, blocks)


@singledispatch
def render(notice: Notice) -> Rendered:
    """(fallback text, blocks) for a notice."""
    raise TypeError(f"no renderer for {type(notice).__name__}")
