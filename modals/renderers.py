"""The one place renderer modules are imported: importing this fills the `render` registry.

Adapters render with `from modals.renderers import render`; renderer modules import `render`
from modals.render (never from here), so nothing imports back.
"""

from __future__ import annotations

from modals import (  # noqa: F401  (imported for their @render.register side effect)
    case_card,
    case_messages,
    command_messages,
    feedback,
    incident_messages,
    reports,
    signal_list,
    snooze,
    tasks,
    ticket_messages,
    timeline,
)
from modals.render import Rendered, render

__all__ = ["Rendered", "render"]
