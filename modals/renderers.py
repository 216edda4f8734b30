"""The one place renderer modules are imported: importing this fills the `render` registry.

Adapters render with `from modals.renderers import render`; renderer modules import `render`
from modals.render (never from here), so nothing imports back.
"""

from __future__ import annotations

from modals import (  # noqa: F401  (imported for their @render.register side effect)
    ai,
    case_card,
    case_messages,
    command_messages,
    document_messages,
    feedback,
    follow_up,
    incident_messages,
    paging_messages,
    reports,
    signal_list,
    snooze,
    tasks,
    ticket_messages,
    timeline,
    workflows,
)
from modals.render import Rendered, render

__all__ = ["Rendered", "render"]
