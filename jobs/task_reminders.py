"""DM assignees of overdue open tasks, at most once a day per task."""

from __future__ import annotations

from domain.core.deps import Deps
from domain.tasks import TaskOverdue, add_card, claim_overdue


async def run(deps: Deps) -> int:
    """Returns how many direct messages were sent."""
    async with deps.sessions() as session:
        tasks = await claim_overdue(session)
    sent = 0
    for task in tasks:
        for user in task.assignees or [task.creator]:
            ref = await deps.ports.conversation.send_direct(user, TaskOverdue(task))
            async with deps.sessions() as session:  # the reminder is a card too: it follows the task
                await add_card(session, task.id, ref.channel_id, ref.ts)
            sent += 1
    return sent
