"""What a case form checks again when it is submitted: the case may be gone, closed or escalated since the
form opened, or the person may no longer be let in. A refusal (a sentence) keeps the modal open."""

from __future__ import annotations

from typing import Literal

from domain.cases.access import access_of
from domain.cases.escalate import plan_escalation
from domain.cases.service import CaseRuleError
from domain.core.deps import Deps
from domain.core.vocabulary import CaseStatus

GONE = "That case no longer exists."
CaseForm = Literal["edit", "resolve", "escalate"]


async def case_submit_refusal(deps: Deps, case_id: int, actor: str, form: CaseForm, *,
                              assignee: str | None = None) -> str | None:
    """Why `actor` may not submit `form` on the case now, or None.

    The answers give nothing of a Restricted incident away (`plan_escalation` says only "already
    escalated" to outsiders); `assignee` (the edit form's) is checked against who may reassign a sealed case.
    """
    found = await access_of(deps.sessions, case_id, actor, deps.config, deps.ports.conversation)
    if found is None:
        return GONE
    case, access = found
    if form == "escalate":
        # An escalation still being set up (someone pressed at the same moment) is not refused: the
        # submission joins it and its submitter is told where the incident is.
        async with deps.sessions() as session:
            try:
                await plan_escalation(session, case_id, deps.config, user=actor)
            except CaseRuleError as exc:
                return str(exc)
        return None
    if case.status == CaseStatus.CLOSED and form == "resolve":
        return f"{case.name} is already Closed."  # (an edit form stays usable: a Closed card keeps its Edit)
    if form == "edit" and assignee != case.assignee and access.shut_out:
        return f"Only the people working {case.name} can reassign it."
    return None
