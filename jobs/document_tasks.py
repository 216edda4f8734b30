"""Tasks from incident document comments, both ways (Google Drive comments <-> warroom tasks)."""

from __future__ import annotations

from domain.core.deps import Deps
from domain.response.task_sync import sync_document_tasks


async def run(deps: Deps) -> int:
    """Read new comments of ongoing incidents' documents; push task changes made in Slack to their comments."""
    return await sync_document_tasks(deps)
