"""Shared steps of case tests: open a case as a person, find its card, read what the database holds."""

from __future__ import annotations

from sqlalchemy import select

from storage.case_models import Case, CaseEvent, CaseParticipant

CREATE, UPDATE, ESCALATE = "/dispatch-create-case", "/dispatch-update-case", "/dispatch-escalate-case"


async def new_view(slack, user, start):
    """The modal `start()` opens for `user`."""
    before = set(slack.views)
    await start()
    return (await slack.wait_for(lambda: [v for v in slack.open_views(user) if v.id not in before]))[-1]


def block(view, prefix):
    return next(b for b in view.view["blocks"] if (b.get("block_id") or "").startswith(prefix))


def cards(slack, channel):
    return [m for m in slack.channels[channel].messages if m.text.startswith("CASE-") and not m.thread_ts]


def buttons(message):
    return [e["text"]["text"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]]


def card_text(message) -> str:
    return " ".join(b["text"]["text"] if b.get("text") else " ".join(f["text"] for f in b.get("fields", []))
                    for b in message.blocks if b["type"] == "section")


def thread_text(slack, channel, ts) -> str:
    return " ".join(f"{m.text} {m.blocks}" for m in slack.channels[channel].replies(ts))


async def open_case(slack, warroom, user, channel, target, title="Odd logins from TOR", **values):
    """`user` runs the create command in `channel` and submits; returns the card once posted in `target`
    and its ts stored."""
    view = await new_view(slack, user, lambda: slack.slash_command(user, CREATE, channel=channel, text=title))
    await slack.submit_view(user, view.id, {"description": "Three accounts, one exit node", **values})
    card = await slack.wait_for(lambda: next((m for m in reversed(cards(slack, target)) if title in m.text), None))

    async def stored():
        async with warroom.deps.sessions() as session:
            return (await session.execute(select(Case).where(Case.card_ts == card.ts))).scalar_one_or_none()

    await slack.wait_for(stored)
    return card


async def case_row(warroom, number=1) -> Case:
    async with warroom.deps.sessions() as session:
        return (await session.execute(select(Case).where(Case.number == number))).scalar_one_or_none()


async def case_events(warroom, case_id) -> list[str]:
    async with warroom.deps.sessions() as session:
        return list((await session.execute(select(CaseEvent.description).where(CaseEvent.case_id == case_id)
                                           .order_by(CaseEvent.id))).scalars())


async def case_participants(warroom, case_id) -> set[str]:
    async with warroom.deps.sessions() as session:
        return set((await session.execute(select(CaseParticipant.user_id)
                                           .where(CaseParticipant.case_id == case_id))).scalars())
